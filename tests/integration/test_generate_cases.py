"""The benchmark's generated case load (issue 14) is data the engine accepts: its audit chains verify with the key
it was generated with, each case's search text is the one the engine builds from the case, and the number
counters stand after the numbers the cases took — on SQLite (batched inserts) and PostgreSQL (COPY from worker
processes)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bench.generate_cases import RARE_WORD, generate
from engine.persistence.audit import audit_key
from engine.persistence.audit_verify import verify_audit
from engine.persistence.models import Agency, Applicant, AuditEvent, Case, CaseItem, Letter, NumberSequence
from engine.rules.search import case_search_text
from engine.rules.workflow import OPEN_STAGES
from tests.conftest import TODAY


def _generated(session, count: int = 240, agencies: int = 3) -> Agency:
    """Generated with the configured audit key (`audit_key()`, as `gongkai audit verify` uses)."""
    agency = generate(session, count=count, today=TODAY, agencies=agencies, workers=2)
    session.expire_all()
    return agency


def test_the_generated_chains_verify_with_the_key_they_were_made_with_and_not_with_another(session):
    _generated(session)
    report = verify_audit(session, key=audit_key())
    assert report.problems == [] and report.agencies == 3
    # every case has its registration event, and every case that left `registered` an outcome event after it
    events = Counter(session.scalars(select(AuditEvent.case_id).where(AuditEvent.case_id.is_not(None))))
    stages = dict(session.execute(select(Case.id, Case.stage)).all())
    assert set(events) == set(stages)
    assert all(events[case_id] == (1 if stage in ("received", "registered") else 2)
               for case_id, stage in stages.items())
    assert not verify_audit(session, key=b"another-key-0123456789abcdef-xyz").intact


def test_each_case_has_the_search_text_the_engine_builds_from_it(session):
    _generated(session, count=120, agencies=2)
    cases = session.scalars(select(Case).order_by(Case.id)).all()
    assert len(cases) == 120
    for case in cases:
        applicant = session.get(Applicant, case.applicant_id)
        items = session.scalars(select(CaseItem.description).where(CaseItem.case_id == case.id)
                                .order_by(CaseItem.seq)).all()
        numbers = session.scalars(select(Letter.doc_number).where(Letter.case_id == case.id, Letter.doc_number != "")
                                  .order_by(Letter.id)).all()
        assert case.search_text == case_search_text(applicant_name=applicant.name, id_number=applicant.id_number,
                                                    phone=applicant.phone, reg_no=case.reg_no, items=items,
                                                    letter_numbers=numbers)
    assert sum(RARE_WORD in case.search_text for case in cases) == 2   # once per agency


def test_the_load_has_history_and_open_cases_and_the_counters_stand_after_the_numbers_taken(session):
    first = _generated(session, count=600, agencies=2)
    per_agency = dict(session.execute(select(Case.agency_id, func.count()).group_by(Case.agency_id)).all())
    assert per_agency[first.id] == 300 and sum(per_agency.values()) == 600
    years = {year for (year,) in session.execute(select(Case.reg_year).distinct())}
    assert len(years) >= 8
    stages = Counter(session.scalars(select(Case.stage)))
    assert stages["archived"] > 0 and stages["replied"] > 0 and sum(stages[s] for s in OPEN_STAGES) > 0
    for agency_id, year, last in session.execute(
            select(Case.agency_id, Case.reg_year, func.max(Case.reg_seq)).group_by(Case.agency_id, Case.reg_year)):
        counter = session.get(NumberSequence, (agency_id, "REG", year))
        assert counter is not None and counter.last_value == last
    # a second run continues the same agencies: new ids, the same chain, numbers after the first run's
    generate(session, count=40, today=TODAY, agencies=2, seed=9)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Case)) == 640
    assert verify_audit(session).intact


def test_the_command_refuses_a_database_that_already_holds_cases_unless_told_to_append(tmp_path, capsys):
    """Run twice into one database by mistake, a template of N cases held 2N and every figure measured on it was
    off: the second run stops before writing, and --append adds on purpose."""
    import pytest

    from bench.generate_cases import cases_in, main

    url = f"sqlite:///{tmp_path / 'generated.sqlite3'}"
    assert cases_in(url) == 0  # no schema yet
    arguments = ["--count", "30", "--agencies", "1", "--workers", "1", "--today", TODAY.isoformat(), "--url", url]
    main(arguments)
    assert cases_in(url) == 30
    with pytest.raises(SystemExit) as refused:
        main(arguments)
    assert refused.value.code == 2 and "already holds 30 cases" in capsys.readouterr().err
    assert cases_in(url) == 30
    main([*arguments, "--append"])
    assert cases_in(url) == 60
