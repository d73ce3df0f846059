"""What the case list's full-text search sees: one normal form for the stored text and the query alike.

People quote numbers the way they typed or read them: 依申请[2026]45号, 依申请【2026】45号, 依申请（2026）45号,
１３８-0013-8000. Brackets of every style become 〔〕, full-width letters and digits become half-width (NFKC), and
separators between digits (spaces, hyphens) disappear, in the stored text and in the query, so any of these finds
the case. The query code is never part of the text (only its hash is stored).

A case's stored text has two parts separated by `SUMMARY_END`: first the applicant's name and the request as typed
(the lists show it as the request summary, without loading the items), then, for the search only, the identifiers
people quote and the normal form of the request where it differs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

SUMMARY_END = "\x1f"  # ASCII unit separator: never typed, never shown

_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "(": "〔", ")": "〕", "〖": "〔", "〗": "〕",
                           "{": "〔", "}": "〕", "［": "〔", "］": "〕", "（": "〔", "）": "〕", "﹝": "〔", "﹞": "〕"})
_DIGIT_SEPARATORS = re.compile(r"(?<=\d)[\s\-‐‑–—]+(?=\d)")
_SPACES = re.compile(r"\s+")


def normalise_search_text(text: str) -> str:
    """The one form both the stored search text and a query are compared in."""
    text = unicodedata.normalize("NFKC", text or "").translate(_BRACKETS)
    text = _DIGIT_SEPARATORS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def case_search_text(*, applicant_name: str, id_number: str = "", phone: str = "", contact_person: str = "",
                     email: str = "", reg_no: str = "", items: Iterable[str] = (),
                     letter_numbers: Iterable[str] = ()) -> str:
    """A case's searchable text: who asked (name, ID number, phone, contact, e-mail), its 登记编号, what was asked
    and the 文号 of every letter issued in it — the things a caller or a 复议机关 quotes."""
    items = [_SPACES.sub(" ", i).strip() for i in items if i and i.strip()]
    shown = " ".join([_SPACES.sub(" ", applicant_name or "").strip(), *items])
    searched = [normalise_search_text(p) for p in (applicant_name, id_number, phone, contact_person, email, reg_no,
                                                   *items, *letter_numbers) if p]
    extra = [p for p in searched if p and p not in shown]
    return shown + SUMMARY_END + " ".join(extra)


def request_summary(search_text: str, applicant_name: str) -> str:
    """The request as typed, from a case's stored text (what follows the name, before the search-only part)."""
    shown = (search_text or "").split(SUMMARY_END, 1)[0]
    return shown[len(applicant_name) + 1:] if shown.startswith(applicant_name) else shown
