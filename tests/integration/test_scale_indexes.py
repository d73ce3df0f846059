"""The indexes of a million cases (issue 14): made by the migration on SQLite and PostgreSQL, and the queries they
serve give the same answers as before (the dashboard's open cases, 登记编号 in any bracket style, statistics)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, select, text

from bench.generate_cases import generate
from engine.persistence.models import Case
from engine.rules.calendar import default_calendar
from engine.rules.workflow import OPEN_STAGES
from engine.services import statistics
from engine.services.case_list import CaseCriteria, cases_matching, text_match
from tests.conftest import TODAY


def _indexes(session, table: str) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(session.get_bind()).get_indexes(table)}


def test_the_migration_adds_the_indexes_for_open_cases_applicants_and_letter_numbers(session):
    assert _indexes(session, "cases")["ix_cases_open_due"] == ["agency_id", "due_on", "id"]
    assert _indexes(session, "applicants")["ix_applicants_name_phone"] == ["name", "phone"]
    assert _indexes(session, "letters")["ix_letters_doc_number"] == ["doc_number"]


def test_cases_keep_no_index_whose_work_a_wider_one_does(session):
    """Every case written updates every index of `cases`: none may be the head of another (issue 14)."""
    indexes = _indexes(session, "cases")
    assert not {"ix_cases_handler_id", "ix_cases_finished_on", "ix_cases_reg_no_trgm"} & set(indexes)
    assert indexes["ix_cases_handler_stage"][0] == "handler_id" and indexes["ix_cases_report"][0] == "finished_on"
    assert indexes["ix_cases_agency_received_channel"][:2] == ["agency_id", "received_on"]
    # SQLite reads the list's order from (agency_id, received_on) backwards; PostgreSQL has an index in that order
    assert ("ix_cases_agency_received" in indexes) == (session.get_bind().dialect.name == "sqlite")


def _definition(session, name: str) -> str:
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name})
    return session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name})


def _plan(session, sql: str, params: dict) -> str:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(session.scalars(text("EXPLAIN " + sql), params))
    return " | ".join(row[3] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql), params))


# An index that a wider one begins with, kept on purpose: SQLite reads the case list's order (received_on DESC,
# id DESC) from it backwards, which the channel index, ordered by channel within a day, cannot give.
_KEPT_PREFIXES = {("sqlite", "ix_cases_agency_received")}


def _keys(inspector, table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """(name, columns, may be dropped) of the table's primary key, unique constraints and whole-table indexes on
    plain columns; a partial index and an expression index are neither the redundant one nor the wider one."""
    keys = [("primary key", tuple(inspector.get_pk_constraint(table)["constrained_columns"]), False)]
    keys += [(uq["name"], tuple(uq["column_names"]), False) for uq in inspector.get_unique_constraints(table)]
    for ix in inspector.get_indexes(table):
        columns = tuple(ix["column_names"])
        options = ix.get("dialect_options", {})
        if None in columns or options.get("postgresql_where") is not None or options.get("sqlite_where") is not None:
            continue
        keys.append((ix["name"], columns, not ix["unique"]))
    return keys


def test_no_table_keeps_an_index_that_another_one_begins_with(session):
    """Every row written updates each index of its table: one whose columns begin another index, unique constraint
    or primary key does work the wider one already does, for every query by those columns and every foreign key's
    check (issue 14; ix_case_items_case_id was kept up for each of a ledger's 100,000 items)."""
    bind = session.get_bind()
    inspector = inspect(bind)
    redundant = []
    for table in inspector.get_table_names():
        keys = _keys(inspector, table)
        for name, columns, droppable in keys:
            wider = [other for other, cols, other_droppable in keys if other != name and cols[:len(columns)] == columns
                     and (len(cols) > len(columns) or not other_droppable or other < name)]
            if droppable and wider and (bind.dialect.name, name) not in _KEPT_PREFIXES:
                redundant.append(f"{table}.{name} ({', '.join(columns)}) ⊂ {wider}")
    assert redundant == []


def test_a_case_s_items_are_read_through_an_index_that_begins_with_the_case(session):
    """The items of a case are read (and the foreign key checked) through the unique (case_id, seq) index or
    (case_id, topic), now that the one on case_id alone went."""
    assert "ix_case_items_case_id" not in _indexes(session, "case_items")
    generate(session, count=20, today=TODAY)
    session.execute(text("ANALYZE"))
    plan = _plan(session, "SELECT id, description FROM case_items WHERE case_id = :c ORDER BY seq", {"c": 1})
    assert any(name in plan for name in ("uq_case_items_case_seq", "sqlite_autoindex_case_items",
                                         "ix_case_items_case_topic")), plan


def test_on_postgresql_an_audit_event_s_changes_are_compressed_with_lz4_where_the_server_has_it(session):
    """A ledger import's event holds 100,000 state digests, which pglz spent a fifth of a second failing to
    compress."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    has_lz4 = session.scalar(text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"))
    method = session.scalar(text("SELECT attcompression FROM pg_attribute "
                                 "WHERE attrelid = 'audit_events'::regclass AND attname = 'changes'"))
    assert method == ("l" if has_lz4 else "")


def test_cases_without_a_handler_or_department_are_not_indexed_by_them_and_the_queries_naming_one_still_are(session):
    """Each new case and every imported one has neither: the indexes leave them out (the predicate), and a query
    naming a handler or a department (the dashboard's tasks, the list's filter, a foreign key's check) implies it."""
    for name, column in (("ix_cases_handler_stage", "handler_id"), ("ix_cases_department_id", "department_id")):
        assert f"{column} IS NOT NULL" in " ".join(_definition(session, name).split()), name
    generate(session, count=60, today=TODAY)
    session.execute(text("ANALYZE"))
    tasks = _plan(session, "SELECT id FROM cases WHERE handler_id = :u AND stage IN ('in_handling', 'drafting')",
                  {"u": 1})
    assert "ix_cases_handler_stage" in tasks, tasks
    by_department = _plan(session, "SELECT id FROM cases WHERE department_id = :d", {"d": 1})
    assert "ix_cases_department_id" in by_department, by_department


def test_on_postgresql_a_registration_number_is_searched_through_the_search_text_index(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("pg_trgm exists on PostgreSQL only; SQLite searches its FTS5 table")
    agency = generate(session, count=60, today=TODAY)
    case = session.scalars(select(Case).where(Case.agency_id == agency.id).order_by(Case.id.desc())).first()
    session.execute(text("SET LOCAL enable_seqscan = off"))
    statement = select(Case.id).where(text_match(case.reg_no.replace("〔", "["), "postgresql"))
    compiled = statement.compile(dialect=session.get_bind().dialect)
    plan = "\n".join(row[0] for row in session.connection().exec_driver_sql("EXPLAIN " + str(compiled),
                                                                            compiled.params))
    assert "ix_cases_search_text_trgm" in plan, plan


def test_the_open_case_index_is_partial_and_the_planner_may_use_it_for_the_due_list(session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        definition = session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_open_due'"))
    else:
        definition = session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_cases_open_due'"))
    assert "WHERE" in definition.upper() and "'in_handling'" in definition and "'archived'" not in definition


def test_due_status_counts_in_one_query_agree_with_counting_the_open_cases_one_by_one(session):
    agency = generate(session, count=120, today=TODAY)
    table = statistics.open_cases_by_due_status(session, agency.id, TODAY, default_calendar())
    counted = dict(table.rows)
    open_cases = session.scalars(select(Case).where(Case.agency_id == agency.id, Case.stage.in_(OPEN_STAGES),
                                                    Case.received_on.is_not(None))).all()
    assert sum(counted.values()) == len(open_cases) > 0
    paused = sum(1 for c in open_cases if c.clock_paused)
    assert counted[statistics.DUE_STATUS_LABELS["paused"]] == paused
    overdue = sum(1 for c in open_cases if not c.clock_paused and c.due_on and c.due_on < TODAY)
    assert counted[statistics.DUE_STATUS_LABELS["overdue"]] == overdue


def test_grouped_reply_days_match_the_calendar_case_by_case(session):
    agency = generate(session, count=300, today=TODAY)
    cal = default_calendar()
    year = TODAY.year - 1
    days, on_time = statistics._reply_days(session, agency.id, year, cal)
    finished = session.execute(select(Case.received_on, Case.finished_on, Case.due_on).where(
        Case.agency_id == agency.id, Case.received_on.is_not(None), Case.finished_on >= date(year, 1, 1),
        Case.finished_on <= date(year, 12, 31))).all()
    assert sorted(cal.working_days_between(r, f) for r, f, _d in finished) == sorted(days.elements()) and days
    assert on_time == sum(1 for _r, f, d in finished if f <= d)


def test_a_registration_number_is_found_in_any_bracket_style(session):
    agency = generate(session, count=30, today=TODAY)
    case = session.scalars(select(Case).where(Case.agency_id == agency.id).order_by(Case.id.desc())).first()
    dialect = session.get_bind().dialect.name
    for typed in (case.reg_no, case.reg_no.replace("〔", "[").replace("〕", "]"),
                  case.reg_no.replace("〔", "【").replace("〕", "】")):
        found = session.scalars(cases_matching(agency.id, CaseCriteria(q=typed), TODAY, dialect)).all()
        assert [c.id for c in found] == [case.id], typed


def test_letters_to_deliver_looks_up_superseding_letters_by_index_when_none_are_superseded(session):
    """In a real ledger almost no letter is ever superseded, so the statistics see supersedes_id as one value (NULL)
    in every row; the dashboard's waiting-letter query must still look a letter's successor up by index, not scan
    every letter for every waiting letter (on SQLite at 100,000 cases that took a minute)."""
    from sqlalchemy import event

    from engine.services import next_steps

    agency = generate(session, count=120, today=TODAY)
    session.flush()
    dialect = session.get_bind().dialect.name
    session.execute(text("ANALYZE"))
    statements = []
    bind = session.connection()

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(bind, "before_cursor_execute", keep)
    try:
        next_steps.letters_to_deliver(session, agency.id, 50)
    finally:
        event.remove(bind, "before_cursor_execute", keep)
    statement, parameters = statements[-1]
    assert "supersedes_id" in statement
    if dialect == "sqlite":
        plan = " | ".join(row[3] for row in bind.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
        assert "ix_letters_supersedes_id" in plan and "SCAN letters_1" not in plan, plan
    else:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in bind.exec_driver_sql("EXPLAIN " + statement, parameters))
        assert "Seq Scan on letters letters_1" not in plan, plan


def test_the_oldest_queued_job_is_read_from_the_state_index_in_queue_order(session):
    """A burst of registrations leaves a render job each: the runner takes the oldest without sorting them all."""
    from engine.services import jobs

    assert _indexes(session, "jobs")["ix_jobs_state_id"] == ["state", "id"]
    assert "ix_jobs_state" not in _indexes(session, "jobs")
    queued = [jobs.enqueue(session, "purge_finished_jobs", requested_by="test").id for _ in range(60)]
    for job_id in queued[:20]:
        session.execute(text("UPDATE jobs SET state = 'done' WHERE id = :i"), {"i": job_id})
    session.execute(text("ANALYZE" if session.get_bind().dialect.name == "postgresql" else "ANALYZE jobs"))
    assert jobs.next_queued(session) == queued[20]
    plan = _plan(session, "SELECT id FROM jobs WHERE state = :s AND attempts < max_attempts "
                          "AND (run_after IS NULL OR run_after <= :now) ORDER BY id LIMIT 1",
                 {"s": "queued", "now": "2100-01-01"})
    assert "ix_jobs_state_id" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
