"""The workflow chart (条例45: 登记、审核、办理、答复、归档) as one table and one shared state machine.

Every case is fired through the same `transitions.Machine(model=None)`; `advance()` checks the actor's
agency and role, then the chart, and raises `WorkflowError` saying why an action is not possible.
Rules that need data (7-working-day supplement window, extension limits, exemption validity) are
checked by the services before they call `advance()`.
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
    label: str
    roles: tuple[str, ...]


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("confirm_receipt", ACTION_LABELS["confirm_receipt"], ("clerk",)),
        Action("request_supplement", ACTION_LABELS["request_supplement"], ("clerk",)),
        Action("receive_supplement", ACTION_LABELS["receive_supplement"], ("clerk",)),
        Action("close_lapsed_supplement", ACTION_LABELS["close_lapsed_supplement"], ("clerk",)),
        Action("accept", ACTION_LABELS["accept"], ("clerk", "office_head")),
        Action("assign", ACTION_LABELS["assign"], ("clerk", "office_head")),
        Action("open_consultation", ACTION_LABELS["open_consultation"], ("handler",)),
        Action("record_consultation_answer", ACTION_LABELS["record_consultation_answer"], ("handler", "clerk")),
        Action("issue_fee_notice", ACTION_LABELS["issue_fee_notice"], ("handler", "clerk")),
        Action("record_payment", ACTION_LABELS["record_payment"], ("clerk",)),
        Action("close_lapsed_fee", ACTION_LABELS["close_lapsed_fee"], ("clerk",)),
        Action("extend", ACTION_LABELS["extend"], ("office_head",)),
        Action("record_decision", ACTION_LABELS["record_decision"], ("handler",)),
        Action("record_confidentiality_review", ACTION_LABELS["record_confidentiality_review"], ("handler", "legal_reviewer", "office_head")),
        Action("notify_third_party", ACTION_LABELS["notify_third_party"], ("handler",)),
        Action("submit_for_review", ACTION_LABELS["submit_for_review"], ("handler",)),
        Action("review_exemption", ACTION_LABELS["review_exemption"], ("legal_reviewer",)),
        Action("return_for_revision", ACTION_LABELS["return_for_revision"], ("legal_reviewer",)),
        Action("sign", ACTION_LABELS["sign"], ("legal_reviewer",)),
        Action("record_delivery", ACTION_LABELS["record_delivery"], ("clerk",)),
        Action("withdraw", ACTION_LABELS["withdraw"], ("clerk",)),
        Action("archive", ACTION_LABELS["archive"], ("archivist",)),
    )
}

# The chart. `dest: None` is an internal transition: the stage stays, the action is still checked.
TRANSITIONS: list[dict] = [
    {"trigger": "confirm_receipt", "source": "received", "dest": "registered"},
    {"trigger": "request_supplement", "source": "registered", "dest": "awaiting_supplement"},
    {"trigger": "receive_supplement", "source": "awaiting_supplement", "dest": "registered"},
    {"trigger": "close_lapsed_supplement", "source": "awaiting_supplement", "dest": "closed"},
    {"trigger": "accept", "source": "registered", "dest": "in_handling"},
    {"trigger": "assign", "source": ["in_handling", "consulting", "awaiting_fee", "drafting"], "dest": None},
    {"trigger": "open_consultation", "source": ["in_handling", "consulting"], "dest": "consulting"},
    {"trigger": "record_consultation_answer", "source": "consulting", "dest": "in_handling",
     "conditions": "no_consultation_left_open"},
    {"trigger": "record_consultation_answer", "source": "consulting", "dest": None},
    {"trigger": "issue_fee_notice", "source": "in_handling", "dest": "awaiting_fee"},
    {"trigger": "record_payment", "source": "awaiting_fee", "dest": "in_handling"},
    {"trigger": "close_lapsed_fee", "source": "awaiting_fee", "dest": "closed"},
    {"trigger": "extend", "source": list(_WORKING), "dest": None},
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
    """Conditions read flags the service passes in; transitions returns False when one fails."""

    def check(event) -> bool:
        return bool(event.kwargs.get(name, False))

    check.__name__ = name
    return check


def _build_machine() -> Machine:
    table = []
    for row in TRANSITIONS:
        row = dict(row)
        if "conditions" in row:
            row["conditions"] = [_condition(row["conditions"])]
        table.append(row)
    return Machine(model=None, states=list(STAGES), transitions=table, initial=None, auto_transitions=False,
                   model_attribute="stage", send_event=True)


MACHINE = _build_machine()


def _sources(action: str) -> set[str]:
    sources: set[str] = set()
    for row in TRANSITIONS:
        if row["trigger"] == action:
            src = row["source"]
            sources.update([src] if isinstance(src, str) else src)
    return sources


_SOURCES = {name: _sources(name) for name in ACTIONS}


def stages_allowing(action: str) -> list[str]:
    """The stages from which `action` may be taken, in chart order."""
    return [stage for stage in STAGES if stage in _SOURCES.get(action, ())]


def allowed_in_stage(action: str, stage: str) -> bool:
    return stage in _SOURCES.get(action, ())


def check_actor(case, action: str, actor) -> None:
    """Refuse another agency's case and an actor without the action's role (checked for every action)."""
    if action not in ACTIONS:
        raise WorkflowError(f"未知的操作「{action}」")
    if actor is None or getattr(actor, "agency_id", None) != case.agency_id:
        raise PermissionDenied("您不属于办理此申请的机关，无权操作")
    wanted = ACTIONS[action].roles
    if not any(actor.has_role(role) for role in wanted):
        names = "、".join(_role_label(r) for r in wanted)
        raise PermissionDenied(f"「{ACTIONS[action].label}」只能由{names}执行")


def _role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def check_stage(case, action: str) -> None:
    if case.stage == "archived":
        raise WorkflowError("案件已归档，只读，不能再修改（归档后收到的复议、诉讼结果请作为备考记录追加）")
    if getattr(case, "imported", False):
        raise WorkflowError("该案件由历史台账导入，只读，不能在系统中继续办理")
    if not allowed_in_stage(action, case.stage):
        raise WorkflowError(
            f"案件当前处于「{STAGE_LABELS.get(case.stage, case.stage)}」阶段，不能执行「{ACTIONS[action].label}」"
        )


def advance(case, action: str, *, actor, **flags) -> str:
    """Fire `action` on `case` through the shared machine; return the new stage or raise why not."""
    check_actor(case, action, actor)
    check_stage(case, action)
    fired = MACHINE.events[action].trigger(case, **flags)
    if not fired:
        raise WorkflowError(f"「{ACTIONS[action].label}」的条件不满足")
    return case.stage


def available_actions(case, actor) -> list[Action]:
    """Actions this actor may try on this case now (role, agency and stage; data rules are checked on use)."""
    if case.stage == "archived" or getattr(case, "imported", False):
        return []
    if actor is None or actor.agency_id != case.agency_id:
        return []
    return [
        a for a in ACTIONS.values()
        if allowed_in_stage(a.name, case.stage) and any(actor.has_role(r) for r in a.roles) and _relevant(case, a.name)
    ]


def _relevant(case, action: str) -> bool:
    """Actions that only make sense with certain data: a decision to disclose is notified only to a third
    party that objected (条例32)."""
    if action == "notify_third_party":
        return bool(objecting_third_parties(case))
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
