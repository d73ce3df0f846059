"""The workflow chart: spot checks, available actions and the diagram (the full oracle is test_workflow_oracle)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine.errors import PermissionDenied, WorkflowError
from engine.rules.vocabulary import ROLES, STAGES
from engine.rules.workflow import (
    ACTIONS,
    STAGE_LABELS,
    available_actions,
    mermaid_diagram,
    take,
)


@dataclass
class FakeCase:
    stage: str
    agency_id: int = 1
    imported: bool = False


@dataclass
class FakeUser:
    roles: list = field(default_factory=list)
    agency_id: int = 1

    def has_role(self, role):
        return role in self.roles


def test_an_archived_case_refuses_every_action_even_for_the_right_role():
    for action in ACTIONS.values():
        case = FakeCase("archived")
        with pytest.raises(WorkflowError, match="已归档"):
            take(case, action.name, actor=FakeUser(list(action.roles)))


def test_another_agencys_user_is_refused_before_anything_else():
    case = FakeCase("registered", agency_id=2)
    with pytest.raises(PermissionDenied, match="不属于"):
        take(case, "accept", actor=FakeUser(["clerk"], agency_id=1))


def test_the_last_consultation_answer_returns_the_case_to_handling_and_an_earlier_one_does_not():
    case = FakeCase("consulting")
    take(case, "record_consultation_answer", actor=FakeUser(["handler"]), no_consultation_left_open=False)
    assert case.stage == "consulting"
    take(case, "record_consultation_answer", actor=FakeUser(["handler"]), no_consultation_left_open=True)
    assert case.stage == "in_handling"


def test_available_actions_lists_only_what_this_user_may_do_in_this_stage():
    names = {a.name for a in available_actions(FakeCase("in_review"), FakeUser(["legal_reviewer"]))}
    assert names == {"review_exemption", "return_for_revision", "sign", "record_confidentiality_review"}
    assert available_actions(FakeCase("in_review"), FakeUser(["clerk"])) == [
        ACTIONS["withdraw"]]
    assert available_actions(FakeCase("archived"), FakeUser(list(ROLES))) == []


def test_an_imported_case_is_read_only():
    with pytest.raises(WorkflowError, match="台账导入"):
        take(FakeCase("registered", imported=True), "accept", actor=FakeUser(["clerk"]))


def test_every_stage_has_a_chinese_label_and_appears_in_the_diagram():
    diagram = mermaid_diagram()
    for stage in STAGES:
        assert STAGE_LABELS[stage]
        assert stage in diagram
    assert "signed --> replied : record_delivery" in diagram
