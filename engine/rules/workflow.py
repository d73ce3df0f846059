"""The workflow chart (条例45: 登记、审核、办理、答复、归档) as one table and one shared state machine.

Every case is fired through the same `transitions.Machine(model=None)`. A use case calls `authorize()` once
(agency, role, read-only states, and whether the machine has the action from the case's stage — the table is
the only source) and, after its own data rules, `advance()`, which fires the machine with the facts its
conditions read. Data rules that need the database or the calendar (the 7-working-day supplement window,
extension limits, exemption validity) stay in the services: they are refusals with their own reasons,
checked before anything changes, not branches of the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import Machine

from engine.errors import PermissionDenied, WorkflowError
from engine.rules.vocabulary import ACTION_LABELS, ROLE_LABELS, STAGE_LABELS, STAGES

# Stages in which the reply clock runs or is paused; replied/closed/archived have a fixed end.
OPEN_STAGES = ("registered", "awaiting_supplement", "in_handling", "consulting", "awaiting_fee", "drafting",
               "in_review", "signed")
FINISHED_STAGES = ("replied", "closed", "archived")
_WORKING = ("registered", "in_handling", "consulting", "awaiting_fee", "drafting", "in_review")
_WITHDRAWABLE = ("received", "registered", "awaiting_supplement", "in_handling", "consulting", "awaiting_fee",
                 "drafting", "in_review")


@dataclass(frozen=True)
class Action:
    name: str
    roles: tuple[str, ...]

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.name]


# Who may take each action (DESIGN §2 "who acts"; 条例33② the office head approves an extension).
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("confirm_receipt", ("clerk",)),
        Action("request_supplement", ("clerk",)),
        Action("receive_supplement", ("clerk",)),
        Action("close_lapsed_supplement", ("clerk",)),
        Action("accept", ("clerk", "office_head")),
        Action("assign", ("clerk", "office_head")),
        Action("open_consultation", ("handler",)),
        Action("record_consultation_answer", ("handler", "clerk")),
        Action("issue_fee_notice", ("handler", "clerk")),
        Action("record_payment", ("clerk",)),
        Action("close_lapsed_fee", ("clerk",)),
        Action("extend", ("office_head",)),
        # 条例35: the office asks for reasons and, once they are found reasonable, fixes a later deadline.
        Action("request_reasons", ("handler", "office_head")),
        Action("record_reasons", ("handler", "clerk")),
        Action("set_delayed_reply", ("office_head",)),
        Action("record_decision", ("handler",)),
        Action("record_confidentiality_review", ("handler", "legal_reviewer", "office_head")),
        Action("notify_third_party", ("handler",)),
        Action("submit_for_review", ("handler",)),
        Action("review_exemption", ("legal_reviewer",)),
        Action("return_for_revision", ("legal_reviewer",)),
        Action("sign", ("legal_reviewer",)),
        Action("record_delivery", ("clerk",)),
        Action("withdraw", ("clerk",)),
        Action("archive", ("archivist",)),
    )
}

# The chart. `dest: None` is an internal transition: the stage stays, the action is still checked.
# A row with a condition has its twin with `unless`, so every branch is reached and none is a fallback.
TRANSITIONS: list[dict] = [
    {"trigger": "confirm_receipt", "source": "received", "dest": "registered"},
    {"trigger": "request_supplement", "source": "registered", "dest": "awaiting_supplement"},
    {"trigger": "receive_supplement", "source": "awaiting_supplement", "dest": "registered"},
    {"trigger": "close_lapsed_supplement", "source": "awaiting_supplement", "dest": "closed"},
    {"trigger": "accept", "source": "registered", "dest": "in_handling"},
    {"trigger": "assign", "source": ["in_handling", "consulting", "awaiting_fee", "drafting"], "dest": None},
    # A consultation found necessary while drafting (e.g. a third party's rights, 条例32) is still possible.
    {"trigger": "open_consultation", "source": ["in_handling", "consulting", "drafting"], "dest": "consulting"},
    {"trigger": "record_consultation_answer", "source": "consulting", "dest": "in_handling",
     "conditions": "no_consultation_left_open"},
    {"trigger": "record_consultation_answer", "source": "consulting", "dest": None,
     "unless": "no_consultation_left_open"},
    {"trigger": "issue_fee_notice", "source": "in_handling", "dest": "awaiting_fee"},
    {"trigger": "record_payment", "source": "awaiting_fee", "dest": "in_handling"},
    {"trigger": "close_lapsed_fee", "source": "awaiting_fee", "dest": "closed"},
    {"trigger": "extend", "source": list(_WORKING), "dest": None},
    # 条例35 pauses nothing by itself (the setting `reason_request_pauses_clock` may say otherwise): the stage stays.
    {"trigger": "request_reasons", "source": ["in_handling", "consulting", "awaiting_fee", "drafting"], "dest": None},
    {"trigger": "record_reasons", "source": ["in_handling", "consulting", "awaiting_fee", "drafting", "in_review"],
     "dest": None},
    {"trigger": "set_delayed_reply", "source": ["in_handling", "consulting", "awaiting_fee", "drafting"],
     "dest": None},
    {"trigger": "record_decision", "source": ["in_handling", "drafting"], "dest": "drafting"},
    {"trigger": "record_confidentiality_review", "source": ["drafting", "in_review"], "dest": None},
    {"trigger": "notify_third_party", "source": ["in_handling", "drafting", "in_review"], "dest": None},
    {"trigger": "submit_for_review", "source": "drafting", "dest": "in_review"},
    {"trigger": "review_exemption", "source": "in_review", "dest": None},
    {"trigger": "return_for_revision", "source": "in_review", "dest": "drafting"},
    {"trigger": "sign", "source": "in_review", "dest": "signed"},
    {"trigger": "record_delivery", "source": "signed", "dest": "replied"},
    {"trigger": "withdraw", "source": list(_WITHDRAWABLE), "dest": "closed"},
    {"trigger": "archive", "source": ["replied", "closed"], "dest": "archived"},
]

def _condition(name: str):
    def check(event) -> bool:
        if name not in event.kwargs:
            raise TypeError(f"the action {event.event.name} needs the fact {name!r}")
        return bool(event.kwargs[name])

    check.__name__ = name
    return check


def _build_machine() -> Machine:
    table = []
    for row in TRANSITIONS:
        row = dict(row)
        for key in ("conditions", "unless"):
            if key in row:
                row[key] = [_condition(row[key])]
        table.append(row)
    return Machine(model=None, states=list(STAGES), transitions=table, initial=None, auto_transitions=False,
                   model_attribute="stage", send_event=True)


MACHINE = _build_machine()
# What the machine allows from each stage, asked once.
_TRIGGERS = {stage: frozenset(MACHINE.get_triggers(stage)) for stage in STAGES}


def stages_allowing(action: str) -> list[str]:
    """The stages from which `action` may be taken, in chart order (read from the machine)."""
    return [stage for stage in STAGES if action in _TRIGGERS[stage]]


def authorize(case, action: str, actor) -> None:
    """Refuse, saying why, unless this actor may take this action on this case now: the actor's agency and role,
    then the case's state (archived and imported cases are read-only) and the chart. Every action calls it
    once, before looking at its input."""
    if action not in ACTIONS:
        raise WorkflowError(f"未知的操作「{action}」")
    authorize_role(case, actor, ACTIONS[action].roles, ACTIONS[action].label)
    refuse_read_only(case)
    if action not in _TRIGGERS[case.stage]:
        raise WorkflowError(
            f"案件当前处于「{STAGE_LABELS.get(case.stage, case.stage)}」阶段，不能执行「{ACTIONS[action].label}」"
        )


def authorize_role(case, actor, roles: tuple[str, ...], label: str) -> None:
    """Another agency's actor, or one without any of `roles`, may not do `label` on this case."""
    if actor is None or getattr(actor, "agency_id", None) != case.agency_id:
        raise PermissionDenied("您不属于办理此申请的机关，无权操作")
    if not any(actor.has_role(role) for role in roles):
        names = "、".join(ROLE_LABELS.get(r, r) for r in roles)
        raise PermissionDenied(f"「{label}」只能由{names}执行")


def refuse_read_only(case) -> None:
    """Archived cases and cases imported from a ledger are read-only (DESIGN §2)."""
    if case.stage == "archived":
        raise WorkflowError("案件已归档，只读，不能再修改（归档后收到的复议、诉讼结果请作为备考记录追加）")
    if getattr(case, "imported", False):
        raise WorkflowError("该案件由历史台账导入，只读，不能在系统中继续办理")


def advance(case, action: str, **facts) -> str:
    """Fire an authorized `action` on `case` through the shared machine with the facts its conditions read;
    return the new stage."""
    if not MACHINE.events[action].trigger(case, **facts):
        raise WorkflowError(f"「{ACTIONS[action].label}」的条件不满足")  # pragma: no cover - rows come in pairs
    return case.stage


def take(case, action: str, *, actor, **facts) -> str:
    """Authorize and fire in one step, for callers that have nothing to check in between."""
    authorize(case, action, actor)
    return advance(case, action, **facts)


def available_actions(case, actor) -> list[Action]:
    """Actions this actor may try on this case now (role, agency and stage; data rules are checked on use)."""
    if case.stage == "archived" or getattr(case, "imported", False):
        return []
    if actor is None or actor.agency_id != case.agency_id:
        return []
    triggers = _TRIGGERS[case.stage]
    return [
        a for a in ACTIONS.values()
        if a.name in triggers and any(actor.has_role(r) for r in a.roles) and _relevant(case, a.name)
    ]


def _relevant(case, action: str) -> bool:
    """Actions that only make sense with certain data: a decision to disclose is notified only to a third
    party that objected (条例32); the 条例35 steps follow each other."""
    if action == "notify_third_party":
        return bool(objecting_third_parties(case))
    # 条例35 runs in order: ask once, log the answer (or its lapse), then fix a later deadline once.
    if action == "request_reasons":
        return getattr(case, "reason_requested_on", None) is None
    if action == "record_reasons":
        return getattr(case, "reason_requested_on", None) is not None and not getattr(case, "reason_answer", None)
    if action == "set_delayed_reply":
        return getattr(case, "reason_answer", None) == "ANSWERED" and getattr(case, "delay_due_on", None) is None
    return True


def objecting_third_parties(case) -> list:
    """Third parties consulted on this case that answered they do not consent to disclosure (条例32)."""
    return [c for c in getattr(case, "consultations", ()) if c.kind == "THIRD_PARTY" and c.answer == "OBJECTION"]


def mermaid_diagram() -> str:
    """The chart as a Mermaid state diagram (README), generated from TRANSITIONS."""
    lines = ["stateDiagram-v2", "    [*] --> received"]
    for stage in STAGES:
        lines.append(f"    {stage} : {stage} {STAGE_LABELS[stage]}")
    seen = set()
    for row in TRANSITIONS:
        if row["dest"] is None:
            continue
        sources = [row["source"]] if isinstance(row["source"], str) else row["source"]
        for src in sources:
            key = (src, row["dest"], row["trigger"])
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"    {src} --> {row['dest']} : {row['trigger']}")
    lines.append("    archived --> [*]")
    return "\n".join(lines) + "\n"
