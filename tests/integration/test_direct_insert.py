"""`insert_new` writes new rows without a flush and leaves the objects as a flush would: persistent, every column
loaded (no read when one is used), nothing left to write, the rows what a flush of the same objects writes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, select

from engine.errors import InvalidInput
from engine.persistence.direct_insert import insert_new
from engine.persistence.models import Applicant, Case, CaseItem

from .helpers_cases import sql_statements

MON = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


_statements = sql_statements


def _new_case(agency, reg_no: str, n_items: int, *, name: str = "张三") -> tuple[Applicant, Case]:
    applicant = Applicant(agency_id=agency.id, kind="NATURAL", name=name, phone="13800000000")
    case = Case(agency_id=agency.id, reg_no=reg_no, reg_year=2026, reg_seq=int(reg_no.rsplit("-", 1)[1]),
                applicant=applicant, applicant_kind="NATURAL", channel="in_person", submitted_on=MON,
                created_at=NOW, updated_at=NOW)
    for n in range(1, n_items + 1):
        case.items.append(CaseItem(seq=n, description=f"第{n}项", is_primary=n == 1))
    return applicant, case


def _plain(values: dict) -> dict:
    """Moments as UTC without a zone (SQLite hands them back naive)."""
    return {k: v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v
            for k, v in values.items()}


def _columns(record) -> dict:
    return {attr.key: getattr(record, attr.key) for attr in inspect(record).mapper.column_attrs}


@pytest.mark.parametrize("n_items", [1, 3])
def test_the_rows_are_what_a_flush_writes_and_the_objects_are_persistent_and_clean(session, agency, n_items):
    applicant, case = _new_case(agency, "直接-1", n_items)
    written = _statements(session, lambda: insert_new(session, [[applicant], [case], case.items]))
    if session.get_bind().dialect.name == "postgresql":
        assert len(written) == 3  # one INSERT per class, the items in one
    else:  # SQLite returns keys in the rows' order one row at a time
        assert len(written) == 2 + n_items
    assert all(inspect(r).persistent for r in (applicant, case, *case.items))
    assert not session.new and not session.dirty
    assert _statements(session, session.flush) == []
    # every column is loaded: reading them all asks the database nothing
    direct = _statements(session, lambda: [_columns(r) for r in (applicant, case, *case.items)])
    assert direct == []
    assert case.applicant_id == applicant.id and [i.case_id for i in case.items] == [case.id] * n_items
    assert case.version == 1 and case.stage == "received" and case.supplement_items == [] and case.imported is False
    assert [i.seq for i in case.items] == list(range(1, n_items + 1))  # keys in the order given
    assert len({i.id for i in case.items}) == n_items

    flushed_applicant, flushed = _new_case(agency, "直接-2", n_items)
    session.add(flushed)
    session.flush()
    mine = [_plain(_columns(r)) for r in (applicant, case, *case.items)]
    session.expire_all()  # what the rows say, read back
    assert [_plain(_columns(r)) for r in (applicant, case, *case.items)] == mine
    theirs = [_plain(_columns(r)) for r in (flushed_applicant, flushed, *flushed.items)]
    for ours, flush_made in zip(mine, theirs, strict=True):
        different = {k for k in ours if ours[k] != flush_made[k]}
        assert different <= {"id", "applicant_id", "case_id", "reg_no", "reg_seq"}


def test_a_later_change_is_flushed_as_an_update(session, agency):
    applicant, case = _new_case(agency, "直接-3", 1)
    insert_new(session, [[applicant], [case], case.items])
    case.purpose = "科研"
    session.flush()
    assert case.version == 2  # the optimistic lock counts from the first version
    session.expire_all()
    assert session.scalar(select(Case.purpose).where(Case.id == case.id)) == "科研"


def test_text_a_flush_would_refuse_is_refused_before_anything_is_written(session, agency):
    applicant, case = _new_case(agency, "直接-4", 2, name="张\x00三")
    count = session.scalar(select(Applicant.id).order_by(Applicant.id.desc()).limit(1))
    with pytest.raises(InvalidInput, match="控制字符"):
        insert_new(session, [[applicant], [case], case.items])
    assert session.scalar(select(Applicant.id).order_by(Applicant.id.desc()).limit(1)) == count


def test_objects_already_in_the_session_or_referring_to_unwritten_rows_are_refused(session, agency):
    applicant, case = _new_case(agency, "直接-5", 1)
    with pytest.raises(ValueError, match="not yet written"):
        insert_new(session, [[case]])
    session.add(applicant)
    with pytest.raises(ValueError, match="not transient"):
        insert_new(session, [[applicant]])
    with pytest.raises(ValueError, match="different classes"):
        insert_new(session, [[Applicant(agency_id=agency.id, kind="NATURAL", name="李四"), case]])


def test_a_record_inserted_for_a_new_case_is_held_by_its_note_as_after_a_flush(session, agency):
    """The state of a case registered in this action is taken from the session's objects: a letter `insert_new`
    writes for it must be among them, or the events' digests would leave it out."""
    from engine.persistence import audit_state
    from engine.persistence.models import Letter

    applicant, case = _new_case(agency, "直接-6", 1)
    insert_new(session, [[applicant], [case], case.items])
    with audit_state.new_case_records(session, case.id, may_hold=("items", "letters"), holding={"items": case.items}):
        letter = Letter(case_id=case.id, letter_type="receipt", issued_on=MON, pdf=b"", sha256="", size_bytes=0,
                        template_version="t1", data_snapshot={}, created_at=NOW)
        insert_new(session, [[letter]])
        assert _statements(session, lambda: audit_state.case_states(session, [case.id])) == []  # not read …
        quick = audit_state.case_states(session, [case.id])[case.id]
    assert [row[0] for row in quick["letters"]] == [letter.id]
    assert audit_state.case_states(session, [case.id])[case.id] == quick  # … and what a full read gives


def test_a_rollback_leaves_the_objects_out_of_the_session_as_after_a_flush(session, agency):
    """An action that fails after inserting (a receipt that cannot render) rolls back: the objects leave the session
    as flushed ones do, so a later row that gets the same key (SQLite reuses it) is not taken for them."""
    applicant, case = _new_case(agency, "直接-7", 1)
    flushed_applicant, flushed = _new_case(agency, "直接-8", 1)
    session.commit()
    insert_new(session, [[applicant], [case], case.items])
    session.add(flushed)
    session.flush()
    session.rollback()
    for record in (applicant, case, *case.items, flushed_applicant, flushed, *flushed.items):
        assert record not in session and inspect(record).transient
    again_applicant, again = _new_case(agency, "直接-7", 1)
    insert_new(session, [[again_applicant], [again], again.items])
    session.flush()
    assert session.get(Case, again.id) is again
