"""The dashboard's cases by stage: the finished stages' counts are kept between requests only while the agency's
audit chain stands still, so they are always those of counting case by case."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from engine import services
from engine.persistence.models import Case
from tests.conftest import TODAY
from webui.dashboard import stage_counts

from .helpers_cases import register, render


def _by_stage(session, agency_id) -> dict[str, int]:
    return dict(Counter(c.stage for c in session.scalars(select(Case).where(Case.agency_id == agency_id))))


def test_stage_counts_follow_every_action_of_the_agency(session, agency, users):
    cases = [register(session, users, TODAY, name=name, id_number="")[0] for name in ("张三", "李四", "王五")]
    assert stage_counts(session, agency.id) == _by_stage(session, agency.id)
    for case in cases[:2]:  # each withdrawal moves a case into a finished stage
        services.withdraw(session, case.id, reason="申请人书面撤回", renderer=render, actor=users["clerk"],
                          today=TODAY)
        session.commit()
        assert stage_counts(session, agency.id) == _by_stage(session, agency.id)
        assert stage_counts(session, agency.id) == _by_stage(session, agency.id)  # and when kept
    assert stage_counts(session, agency.id)["closed"] == 2
