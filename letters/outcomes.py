"""Item outcome codes a reply letter may carry (DESIGN §4), grouped by annual-report section."""

from __future__ import annotations

from typing import Literal

ReplyOutcome = Literal[
    "ALREADY_PUBLIC", "DISCLOSED", "PARTIAL",
    "WITHHELD_STATE_SECRET", "WITHHELD_LAW_PROHIBITED", "WITHHELD_SECURITY", "WITHHELD_THIRD_PARTY",
    "WITHHELD_INTERNAL", "WITHHELD_PROCESS", "WITHHELD_ENFORCEMENT_FILE", "SPECIAL_REGIME",
    "NOT_HELD", "NOT_RESPONSIBLE", "NEEDS_CREATION", "UNCLEAR_AFTER_SUPPLEMENT",
    "PETITION", "REPEAT", "PUBLICATION", "EXCESSIVE", "CONFIRM_REISSUE",
]

TerminationReason = Literal["LAPSED_SUPPLEMENT", "LAPSED_FEE", "OTHER"]

# One family per section of the annual report's table 3 (国办公开办函〔2021〕30号): the samples render
# one reply per family so that every outcome appears in some letter.
OUTCOME_FAMILIES: dict[str, tuple[str, ...]] = {
    "disclosed": ("ALREADY_PUBLIC", "DISCLOSED"),
    "partial": ("PARTIAL",),
    "withheld": ("WITHHELD_STATE_SECRET", "WITHHELD_LAW_PROHIBITED", "WITHHELD_SECURITY",
                 "WITHHELD_THIRD_PARTY", "WITHHELD_INTERNAL", "WITHHELD_PROCESS",
                 "WITHHELD_ENFORCEMENT_FILE", "SPECIAL_REGIME"),
    "unable": ("NOT_HELD", "NOT_RESPONSIBLE", "NEEDS_CREATION", "UNCLEAR_AFTER_SUPPLEMENT"),
    "not_processed": ("PETITION", "REPEAT", "PUBLICATION", "EXCESSIVE", "CONFIRM_REISSUE"),
}


def is_withholding(outcome: str) -> bool:
    """Whether an item withholds information (条例第14–16、37条), which makes review mandatory first (行政复议法第23条
    第1款第(四)项). SPECIAL_REGIME (条例第36条第(七)项) withholds nothing: it points to another law's procedure, so
    its remedies are ordinary. The engine states the same rule (`engine.rules.outcomes.WITHHELD_CODES`)."""
    return outcome == "PARTIAL" or outcome.startswith("WITHHELD_")


def gives_information(outcome: str) -> bool:
    """Whether an item provides information, so the letter must say how to obtain it (条例第36条(一)(二)、37条)."""
    return outcome in ("ALREADY_PUBLIC", "DISCLOSED", "PARTIAL")
