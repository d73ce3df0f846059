"""The workflow chart against an oracle written by hand from DESIGN §2 and the statute, not from the chart.

The tables below say, for every action, which roles may take it and from which stage it leads where. They
were written from DESIGN.md §2 (the stage table and its rules), §1 (who the users are), §4 (legal review)
and the 政府信息公开条例 (2019) articles 29–45 and 国办函〔2020〕109号 — never from `TRANSITIONS`. Only the
vocabulary (action names, role names, the action's label) is taken from the engine, because it is the API.

Where the engine disagrees with the oracle and the oracle is right by DESIGN or the law, the row stays in the
oracle and its test is marked `xfail(strict=True)` in DISCREPANCIES with the precise disagreement, so the
suite is green while the disagreement stays visible (and turns red once the engine is fixed, to drop the mark).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

import pytest

from engine.errors import PermissionDenied, WorkflowError
from engine.rules.vocabulary import ROLES, STAGES
from engine.rules.workflow import ACTIONS, available_actions, take

# ---------------------------------------------------------------------------------------------------- oracle

# DESIGN §2, the stage table: code and 中文, in the order a case passes through them.
STAGE_LABEL = {
    "received": "收件待确认",
    "registered": "已登记",
    "awaiting_supplement": "补正中",
    "in_handling": "办理中",
    "consulting": "征求意见中",
    "awaiting_fee": "待缴费",
    "drafting": "拟稿",
    "in_review": "法制审核",
    "signed": "已签发",
    "replied": "已答复",
    "closed": "已办结（无答复书）",
    "archived": "已归档",
}
# DESIGN §1: the users. `admin` manages users, settings and the calendar and takes no action on a case.
ROLE_NAMES = ("clerk", "handler", "legal_reviewer", "office_head", "archivist", "admin")

# Who may take each action.
MAY_ACT: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    # DESIGN §1 intake clerks register requests; §2 received: clerk confirms the receipt date (条例31(二)(三))
    "confirm_receipt": {"clerk"},
    # DESIGN §1 clerks "ask for supplements (补正)"; §2 registered: clerk (条例30)
    "request_supplement": {"clerk"},
    # DESIGN §2 awaiting_supplement: clerk (条例30: the clock restarts on the supplement's receipt)
    "receive_supplement": {"clerk"},
    # DESIGN §2 awaiting_supplement: clerk; 条例30 逾期不补正 → 视为放弃, LAPSED_SUPPLEMENT
    "close_lapsed_supplement": {"clerk"},
    # DESIGN §2 registered: clerk; 分办 is also the head of the 公开工作机构's call (条例29: the office receives)
    "accept": {"clerk", "office_head"},
    # re-assigning the handling department: same people as 分办
    "assign": {"clerk", "office_head"},
    # DESIGN §2 consulting: handler (条例32 third party, 条例34 co-author agency)
    "open_consultation": {"handler"},
    # DESIGN §2 consulting: handler; the clerk may log an answer that arrives by post like any mail
    "record_consultation_answer": {"handler", "clerk"},
    # 109号: the department proposes the fee, the office issues the notice — handler (in_handling) or clerk
    "issue_fee_notice": {"handler", "clerk"},
    # DESIGN §2 awaiting_fee: clerk
    "record_payment": {"clerk"},
    # DESIGN §2 awaiting_fee: clerk; 109号 逾期未缴费 → 视为放弃, LAPSED_FEE
    "close_lapsed_fee": {"clerk"},
    # 条例33②: 经政府信息公开工作机构负责人同意 — the office head only (DESIGN §2 extension rule)
    "extend": {"office_head"},
    # 条例35: the handling side (or the office head) asks the applicant to state reasons
    "request_reasons": {"handler", "office_head"},
    # 条例35: the answer is logged by whoever receives it — the handler, or the clerk for mail
    "record_reasons": {"handler", "clerk"},
    # 条例35 确定延迟答复的合理期限: like an extension (条例33②), the office head's call
    "set_delayed_reply": {"office_head"},
    # DESIGN §1 handlers draft the decision; §2 in_handling/drafting: handler
    "record_decision": {"handler"},
    # DESIGN §2 保密审查 (who, when, conclusion) before signing: the drafter, the reviewer or the office head
    "record_confidentiality_review": {"handler", "legal_reviewer", "office_head"},
    # 条例32 末句: the handling side writes to the objecting third party
    "notify_third_party": {"handler"},
    # DESIGN §2 drafting: handler
    "submit_for_review": {"handler"},
    # DESIGN §4: the legal reviewer confirms or rejects each exemption record
    "review_exemption": {"legal_reviewer"},
    # DESIGN §4: a rejection goes back to drafting with the reviewer's comment
    "return_for_revision": {"legal_reviewer"},
    # DESIGN §2: "A reply can only be signed by a legal reviewer"
    "sign": {"legal_reviewer"},
    # DESIGN §2 signed: clerk (delivers); §1 clerks record delivery (送达)
    "record_delivery": {"clerk"},
    # DESIGN §2 closed (withdrawn): the clerk records the applicant's withdrawal
    "withdraw": {"clerk"},
    # 条例45 归档; DESIGN §1 archivists archive; §2 replied: archivist
    "archive": {"archivist"},
}.items()}

SAME = "(stage kept)"  # an internal action: checked and recorded, the stage does not change


@dataclass(frozen=True)
class Branch:
    """A conditional destination: where the case goes when no consultation is left open, and otherwise."""

    none_left_open: str
    some_left_open: str


# Every allowed (stage, action) → destination. Anything not listed is refused in that stage.
CHART: dict[tuple[str, str], str | Branch] = {
    # 条例31(二)(三): plain letter / online / fax — the confirmation date is the receipt date
    ("received", "confirm_receipt"): "registered",
    # 条例30: 自收到申请之日起7个工作日内一次性告知补正 — needs a receipt date, so not from `received`
    ("registered", "request_supplement"): "awaiting_supplement",
    # 条例30: 答复期限自收到补正的申请之日起计算 — back to registered, clock from 0 (DESIGN §2)
    ("awaiting_supplement", "receive_supplement"): "registered",
    # 条例30: 逾期不补正 → 不再处理 → closed (DESIGN §2 rule, 年报(六)1)
    ("awaiting_supplement", "close_lapsed_supplement"): "closed",
    # 条例45 登记→审核→办理: the registered request goes to a department
    ("registered", "accept"): "in_handling",
    # re-assignment while the department still handles or drafts (not once the draft is in legal review)
    ("in_handling", "assign"): SAME,
    ("consulting", "assign"): SAME,
    ("awaiting_fee", "assign"): SAME,
    ("drafting", "assign"): SAME,
    # 条例32 (third party, 应当书面征求) / 条例34 (co-author agency): the clock pauses (条例33③, DESIGN §2)
    ("in_handling", "open_consultation"): "consulting",
    # a further consultation while one is open
    ("consulting", "open_consultation"): "consulting",
    # 条例32 is mandatory (应当) whenever disclosure may harm a third party; the need can surface while
    # drafting, or when the legal reviewer sends a WITHHELD_THIRD_PARTY draft back to drafting for the missing
    # consultation (DESIGN §4) — the case must be able to consult from drafting
    ("drafting", "open_consultation"): "consulting",
    # 条例33③ / DESIGN §2 consulting: paused "while any consultation is open" — back to handling after the last
    ("consulting", "record_consultation_answer"): Branch(none_left_open="in_handling", some_left_open="consulting"),
    # 109号: the fee notice is sent within the handling period, by the handling side
    ("in_handling", "issue_fee_notice"): "awaiting_fee",
    # 109号: paid → handling continues
    ("awaiting_fee", "record_payment"): "in_handling",
    # 109号: 逾期未缴纳 → 视为放弃 → closed (年报(六)2)
    ("awaiting_fee", "close_lapsed_fee"): "closed",
    # 条例33②: extension while the reply period runs or is paused and no reply is signed yet; not while the
    # supplement is awaited (no period runs: 条例30 restarts it at 0), not once the reply is signed
    ("registered", "extend"): SAME,
    ("in_handling", "extend"): SAME,
    ("consulting", "extend"): SAME,
    ("awaiting_fee", "extend"): SAME,
    ("drafting", "extend"): SAME,
    ("in_review", "extend"): SAME,
    # 条例35: asked while the request is being handled (before review); nothing pauses, the stage stays
    ("in_handling", "request_reasons"): SAME,
    ("consulting", "request_reasons"): SAME,
    ("awaiting_fee", "request_reasons"): SAME,
    ("drafting", "request_reasons"): SAME,
    # the answer may arrive at any time until the reply is signed
    ("in_handling", "record_reasons"): SAME,
    ("consulting", "record_reasons"): SAME,
    ("awaiting_fee", "record_reasons"): SAME,
    ("drafting", "record_reasons"): SAME,
    ("in_review", "record_reasons"): SAME,
    # a later deadline is fixed before drafting is finished
    ("in_handling", "set_delayed_reply"): SAME,
    ("consulting", "set_delayed_reply"): SAME,
    ("awaiting_fee", "set_delayed_reply"): SAME,
    ("drafting", "set_delayed_reply"): SAME,
    # DESIGN §4: the handler gives each item an outcome; the first one starts the draft, later ones revise it
    ("in_handling", "record_decision"): "drafting",
    ("drafting", "record_decision"): "drafting",
    # DESIGN §2 保密审查: before signing, on the drafted outcomes, by the drafter or in review
    ("drafting", "record_confidentiality_review"): SAME,
    ("in_review", "record_confidentiality_review"): SAME,
    # 条例32 末句: after the objecting third party's answer, before the reply is signed (DESIGN §2: signing
    # requires it), so the third party learns of the disclosure before it happens
    ("in_handling", "notify_third_party"): SAME,
    ("drafting", "notify_third_party"): SAME,
    ("in_review", "notify_third_party"): SAME,
    # 条例45 审核 / DESIGN §2 in_review
    ("drafting", "submit_for_review"): "in_review",
    # DESIGN §4: each exemption record confirmed or rejected in review
    ("in_review", "review_exemption"): SAME,
    # DESIGN §4: a rejection goes back to drafting
    ("in_review", "return_for_revision"): "drafting",
    # DESIGN §2: signing by the legal reviewer freezes the letter
    ("in_review", "sign"): "signed",
    # 条例45 答复 / DESIGN §2: delivering the signed reply fixes the reply date
    ("signed", "record_delivery"): "replied",
    # DESIGN §2 closed = 已办结（无答复书）: the applicant may withdraw until a reply is signed (a signed case has
    # a reply letter and cannot end "without a reply letter")
    ("received", "withdraw"): "closed",
    ("registered", "withdraw"): "closed",
    ("awaiting_supplement", "withdraw"): "closed",
    ("in_handling", "withdraw"): "closed",
    ("consulting", "withdraw"): "closed",
    ("awaiting_fee", "withdraw"): "closed",
    ("drafting", "withdraw"): "closed",
    ("in_review", "withdraw"): "closed",
    # 条例45 归档; DESIGN §2: replied → archivist; closed cases are archived too
    ("replied", "archive"): "archived",
    ("closed", "archive"): "archived",
    # archived: nothing (DESIGN §2 "nobody edits"; post-archive records are append-only notes, not actions)
}

# Rows where the engine is wrong against DESIGN / the law: the lead engineer decides.
DISCREPANCIES: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------------------------- fakes, in ONE place


@dataclass
class FakeConsultation:
    kind: str = "THIRD_PARTY"
    answer: str | None = None
    answered_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.answered_on is None


@dataclass
class FakeCase:
    stage: str
    agency_id: int = 1
    imported: bool = False
    consultations: list = field(default_factory=list)
    reason_requested_on: date | None = None
    reason_answer: str | None = None
    delay_due_on: date | None = None


@dataclass
class FakeUser:
    roles: list = field(default_factory=list)
    agency_id: int = 1
    id: int = 7

    def has_role(self, role):
        return role in self.roles


def make_case(stage: str, *, still_open: int = 0, agency_id: int = 1, imported: bool = False) -> FakeCase:
    """A case in `stage` with one answered third-party consultation (an objection) and `still_open` open ones.

    `still_open=0` is the state right after the last answer is recorded (the service records the answer, then
    fires the action)."""
    answered = FakeConsultation(kind="THIRD_PARTY", answer="OBJECTION", answered_on=date(2026, 3, 2))
    return FakeCase(stage, agency_id=agency_id, imported=imported,
                    consultations=[answered, *(FakeConsultation(kind="AGENCY") for _ in range(still_open))])


def guard_flags(case: FakeCase) -> dict:
    """What the chart's guards receive, computed from the case's data. The ONE place to adapt when the engine
    changes how guards get their data (today: the flag `no_consultation_left_open`)."""
    return {"no_consultation_left_open": not any(c.is_open for c in case.consultations)}


def fire(case: FakeCase, action: str, actor) -> str:
    """Take `action` on `case` as the services do."""
    return take(case, action, actor=actor, **guard_flags(case))


def expected_destination(stage: str, action: str, *, still_open: int = 0) -> str | None:
    """The oracle: the stage after `action` from `stage` (for a permitted role), or None when refused."""
    dest = CHART.get((stage, action))
    if isinstance(dest, Branch):
        dest = dest.some_left_open if still_open else dest.none_left_open
    if dest == SAME:
        dest = stage
    return dest


def label(action: str) -> str:
    return ACTIONS[action].label


def _discrepancy_mark(stage: str, action: str) -> list:
    reason = DISCREPANCIES.get((stage, action))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


# -------------------------------------------------------------------------------------------------- tests


def test_the_oracle_speaks_the_engines_vocabulary():
    assert tuple(STAGE_LABEL) == tuple(STAGES)
    assert set(ROLE_NAMES) == set(ROLES)
    assert set(MAY_ACT) == set(ACTIONS), "every engine action needs a row in the oracle, and only those"
    for (stage, action), dest in CHART.items():
        assert stage in STAGE_LABEL and action in MAY_ACT
        dests = (dest.none_left_open, dest.some_left_open) if isinstance(dest, Branch) else (dest,)
        assert all(d == SAME or d in STAGE_LABEL for d in dests)
    assert all(roles <= set(ROLE_NAMES) and roles for roles in MAY_ACT.values())
    assert all(label(action) for action in ACTIONS)
    assert not any(stage == "archived" for stage, _ in CHART)


def _every_combination():
    for stage, action, role in itertools.product(STAGE_LABEL, MAY_ACT, ROLE_NAMES):
        marks = _discrepancy_mark(stage, action) if role in MAY_ACT[action] else []
        yield pytest.param(stage, action, role, marks=marks, id=f"{stage}-{action}-{role}")


@pytest.mark.parametrize(("stage", "action", "role"), list(_every_combination()))
def test_every_action_from_every_stage_by_every_role_matches_the_oracle(stage, action, role):
    case = make_case(stage)
    user = FakeUser([role])
    dest = expected_destination(stage, action)
    if role not in MAY_ACT[action]:
        # The actor is checked before the case (DESIGN §2: every action checks the actor's role).
        with pytest.raises(PermissionDenied) as refused:
            fire(case, action, user)
        assert label(action) in refused.value.message
    elif dest is None:
        with pytest.raises(WorkflowError) as refused:
            fire(case, action, user)
        assert STAGE_LABEL[stage] in refused.value.message
    else:
        assert fire(case, action, user) == dest
        assert case.stage == dest
        return
    assert case.stage == stage


@pytest.mark.parametrize("role", sorted(MAY_ACT["record_consultation_answer"]))
@pytest.mark.parametrize("still_open", [0, 1, 2])
def test_a_consultation_answer_returns_to_handling_only_when_none_is_left_open(role, still_open):
    case = make_case("consulting", still_open=still_open)
    expected = expected_destination("consulting", "record_consultation_answer", still_open=still_open)
    assert expected == ("in_handling" if still_open == 0 else "consulting")
    assert fire(case, "record_consultation_answer", FakeUser([role])) == expected
    assert case.stage == expected


@pytest.mark.parametrize("action", list(MAY_ACT))
def test_an_archived_case_refuses_every_action_even_to_every_role(action):
    case = make_case("archived")
    with pytest.raises(WorkflowError) as refused:
        fire(case, action, FakeUser(list(ROLE_NAMES)))
    assert STAGE_LABEL["archived"] in refused.value.message
    assert case.stage == "archived"


@pytest.mark.parametrize("imported", [False, True], ids=["own", "imported"])
@pytest.mark.parametrize("stage", list(STAGE_LABEL))
def test_another_agencys_actor_is_refused_before_anything_else(stage, imported):
    for action in MAY_ACT:
        for actor in (FakeUser(list(ROLE_NAMES), agency_id=2), None):
            case = make_case(stage, agency_id=1, imported=imported)
            with pytest.raises(PermissionDenied) as refused:
                fire(case, action, actor)
            assert "机关" in refused.value.message, (action, refused.value.message)
            assert case.stage == stage


@pytest.mark.parametrize("stage", list(STAGE_LABEL))
def test_a_case_imported_from_the_ledger_refuses_every_action(stage):
    for action, roles in MAY_ACT.items():
        case = make_case(stage, imported=True)
        with pytest.raises(WorkflowError) as refused:
            fire(case, action, FakeUser(sorted(roles)))
        assert case.stage == stage
        if stage != "archived":
            assert "台账" in refused.value.message, (action, refused.value.message)


def _stage_role_pairs():
    for stage, role in itertools.product(STAGE_LABEL, ROLE_NAMES):
        reasons = [why for (s, a), why in DISCREPANCIES.items() if s == stage and role in MAY_ACT[a]]
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
        yield pytest.param(stage, role, marks=marks, id=f"{stage}-{role}")


# 条例35 runs in order, so each step is offered only in its turn: asking once, then logging the answer, then
# (reasons answered) fixing a later deadline once.
REASON_STEPS = {
    "not asked": ({"reason_requested_on": None, "reason_answer": None}, {"request_reasons"}),
    "asked": ({"reason_requested_on": date(2026, 3, 2), "reason_answer": None}, {"record_reasons"}),
    "answered": ({"reason_requested_on": date(2026, 3, 2), "reason_answer": "ANSWERED"}, {"set_delayed_reply"}),
    "lapsed": ({"reason_requested_on": date(2026, 3, 2), "reason_answer": "LAPSED"}, set()),
}


@pytest.mark.parametrize("step", list(REASON_STEPS))
@pytest.mark.parametrize(("stage", "role"), list(_stage_role_pairs()))
def test_available_actions_are_exactly_what_the_oracle_allows(stage, role, step):
    # The case has an objecting third party, so notifying it of a disclosure is relevant (条例32).
    case = make_case(stage)
    facts, offered = REASON_STEPS[step]
    for name, value in facts.items():
        setattr(case, name, value)
    names = {a.name for a in available_actions(case, FakeUser([role]))}
    allowed = {action for (s, action) in CHART if s == stage and role in MAY_ACT[action]}
    assert names == {a for a in allowed if a not in _REASON_ACTIONS or a in offered}


_REASON_ACTIONS = {"request_reasons", "record_reasons", "set_delayed_reply"}
