"""The dashboard's cases by stage: the finished stages' counts are kept between requests only while the agency's
audit chain stands still, so they are always those of counting case by case."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from bench.generate_cases import generate
from engine.persistence.models import Agency, Case, User
from engine.services.archiving import archive_case
from tests.conftest import TODAY
from webui.dashboard import stage_counts


def _by_stage(session, agency_id) -> dict[str, int]:
    return dict(Counter(c.stage for c in session.scalars(select(Case).where(Case.agency_id == agency_id))))


def test_stage_counts_follow_every_action_of_the_agency(session):
    generate(session, count=40, today=TODAY, agencies=2)
    agency = session.scalar(select(Agency).where(Agency.code == "BENCH"))
    other = session.scalar(select(Agency).where(Agency.code == "BENCH2"))
    assert stage_counts(session, agency.id) == _by_stage(session, agency.id)
    assert stage_counts(session, other.id) == _by_stage(session, other.id)
    archivist = session.scalar(select(User).where(User.agency_id == agency.id, User.username == "bench_archivist"))
    finished = session.scalars(select(Case).where(Case.agency_id == agency.id, Case.stage.in_(("replied", "closed")))
                               .order_by(Case.id)).all()[:2]
    assert finished, "the generated history holds finished cases"
    before = stage_counts(session, agency.id)
    for case in finished:  # each archiving moves a finished case to another finished stage
        archive_case(session, case.id, actor=archivist, today=TODAY)
        session.commit()
        counts = stage_counts(session, agency.id)
        assert counts == _by_stage(session, agency.id)
    assert counts["archived"] == before.get("archived", 0) + len(finished)
    assert stage_counts(session, other.id) == _by_stage(session, other.id)
