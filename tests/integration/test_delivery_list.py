"""The dashboard's letters waiting for delivery come from an index of the letters flagged as waiting: the flag is
cleared by a delivery that arrived (not by a returned one) and by archiving, and migration 0017 sets it on existing
letters by the same rule. The list must be exactly the letters the rule names, in date order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine import services
from engine.persistence.models import Agency, Case, Delivery, Letter
from engine.services.demo import create_demo
from engine.services.next_steps import letters_to_deliver

from .helpers_cases import accept, migrate_again_from, register, render

DEMO_DAY = date(2026, 11, 20)


def _waiting_by_rule(session, agency_id: int) -> list[int]:
    """The letters waiting for delivery, letter by letter: every notice but the 登记回执, no delivery of it that
    arrived, no correction superseding it, its case not archived; oldest first."""
    letters = session.scalars(select(Letter).join(Case, Case.id == Letter.case_id)
                              .where(Case.agency_id == agency_id)).all()
    arrived = set(session.scalars(select(Delivery.letter_id).where(Delivery.returned.is_(False))))
    superseded = {letter.supersedes_id for letter in session.scalars(select(Letter))}
    waiting = [letter for letter in letters if letter.letter_type != "receipt" and letter.id not in arrived
               and letter.id not in superseded and session.get(Case, letter.case_id).stage != "archived"]
    return [letter.id for letter in sorted(waiting, key=lambda letter: (letter.issued_on, letter.id))]


def _flag_follows_the_rule(session) -> None:
    arrived = set(session.scalars(select(Delivery.letter_id).where(Delivery.returned.is_(False))))
    for letter in session.scalars(select(Letter).where(Letter.letter_type != "receipt")):
        archived = session.get(Case, letter.case_id).stage == "archived"
        assert letter.awaiting_delivery == (letter.id not in arrived and not archived), letter.id


def test_the_list_is_exactly_the_letters_the_rule_names_after_a_years_work(session):
    create_demo(session, renderer=render, today=DEMO_DAY)
    session.commit()
    agency = session.scalar(select(Agency))
    assert session.scalar(select(Case).where(Case.stage == "archived")) is not None
    assert session.scalar(select(Delivery).where(Delivery.letter_id.is_not(None))) is not None
    _flag_follows_the_rule(session)
    listed, total, more = letters_to_deliver(session, agency.id, 1000)
    assert [item.letter.letter_id for item in listed] == _waiting_by_rule(session, agency.id)
    assert total == len(listed) and not more
    # The count is of every waiting letter, however few are shown.
    assert letters_to_deliver(session, agency.id, 2) == (listed[:2], total, False)
    assert letters_to_deliver(session, agency.id, 0) == ([], total, False)


def test_a_returned_delivery_keeps_the_letter_on_the_list_and_one_that_arrived_takes_it_off(session, users, today):
    case, _ = register(session, users, today)
    accept(session, users, case, today)
    services.extend(session, case.id, working_days=10, reason="所涉文件数量较多，需要逐页区分处理", renderer=render,
                    actor=users["office_head"], today=today)
    notice = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "extension_notice"))
    assert notice.awaiting_delivery
    services.record_delivery(session, case.id, method="POST", delivered_on=today, letter_id=notice.id,
                             returned=True, actor=users["clerk"], today=today)
    assert notice.awaiting_delivery
    assert [i.letter.letter_id for i in letters_to_deliver(session, case.agency_id, 50)[0]] == [notice.id]
    services.record_delivery(session, case.id, method="POST", delivered_on=today, letter_id=notice.id,
                             actor=users["clerk"], today=today)
    assert not notice.awaiting_delivery
    assert letters_to_deliver(session, case.agency_id, 50) == ([], 0, False)


def test_the_migration_sets_the_flag_on_existing_letters_by_the_rule(db_url, session):
    create_demo(session, renderer=render, today=DEMO_DAY)
    session.commit()
    agency_id = session.scalar(select(Agency.id))
    expected = _waiting_by_rule(session, agency_id)
    session.close()
    migrate_again_from(db_url, "case_applicant_kind")
    _flag_follows_the_rule(session)
    assert [item.letter.letter_id for item in letters_to_deliver(session, agency_id, 1000)[0]] == expected
