"""Benchmark: the annual report (tables 3 and 4) over 100,000 cases, on SQLite and on PostgreSQL (≤ 2 s each).

Cases are generated with bulk inserts across 2023–2026, every applicant type and outcome, some still
open; the report of 2025 is then computed for the agency and for every agency, and timed.

    .venv/bin/python bench/bench_report.py [--cases 100000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.persistence import db as dbmod  # noqa: E402
from engine.persistence.audit import utcnow  # noqa: E402
from engine.persistence.models import Applicant, Case, LegalChallenge  # noqa: E402
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOME_CODES, TERMINAL_CODES  # noqa: E402
from engine.services.accounts import add_agency  # noqa: E402
from engine.services.reports import annual_report  # noqa: E402

LIMIT_SECONDS = 2.0
BATCH = 10_000


def populate(url: str, cases: int, seed: int = 7) -> int:
    """Bulk-insert `cases` cases (and 2% legal challenges) for one agency; returns the agency id."""
    rng = random.Random(seed)
    engine = dbmod.make_engine(url)
    with dbmod.session_factory(engine)() as session:
        agency = add_agency(session, "BENCH", "基准测试机关")
        kinds = list(APPLICANT_TYPES)
        applicant_rows = [{"agency_id": agency.id, "kind": rng.choice(kinds), "name": f"申请人{i}"}
                          for i in range(20_000)]
        applicant_ids = session.scalars(
            insert(Applicant).returning(Applicant.id, sort_by_parameter_order=True), applicant_rows).all()
        kind_of = {applicant_id: row["kind"] for applicant_id, row in zip(applicant_ids, applicant_rows, strict=True)}
        now = utcnow()
        start = date(2023, 1, 1)
        case_ids: list[int] = []
        for offset in range(0, cases, BATCH):
            rows = []
            for n in range(offset, min(cases, offset + BATCH)):
                received_on = start + timedelta(days=rng.randrange(0, 4 * 365))
                finished = rng.random() < 0.9
                finished_on = received_on + timedelta(days=rng.randrange(0, 60)) if finished else None
                outcome = rng.choice(OUTCOME_CODES) if finished else None
                stage = ("closed" if outcome in TERMINAL_CODES else "replied") if finished else "in_handling"
                applicant_id = rng.choice(applicant_ids)
                rows.append({
                    "agency_id": agency.id, "reg_no": f"依申请〔{received_on.year}〕{n + 1}号",
                    "reg_year": received_on.year, "reg_seq": n + 1, "applicant_id": applicant_id,
                    "applicant_kind": kind_of[applicant_id],
                    "stage": stage, "channel": "online", "submitted_on": received_on, "received_on": received_on,
                    "finished_on": finished_on, "report_outcome": outcome, "version": 1, "supplement_items": [],
                    "created_at": now, "updated_at": now,
                })
            case_ids += session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), rows).all()
        session.execute(insert(LegalChallenge), [
            {"case_id": rng.choice(case_ids), "kind": rng.choice(("REVIEW", "SUIT_DIRECT", "SUIT_AFTER_REVIEW")),
             "filed_on": start + timedelta(days=rng.randrange(0, 4 * 365)),
             "result": rng.choice(("UPHELD", "CORRECTED", "OTHER")), "decided_on": None, "created_at": now}
            for _ in range(cases // 50)
        ])
        session.commit()
        agency_id = agency.id
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return agency_id


def time_report(url: str, agency_id: int, repeats: int = 3) -> tuple[float, float, dict]:
    engine = dbmod.make_engine(url)
    best_one = best_all = float("inf")
    report = None
    with dbmod.session_factory(engine)() as session:
        from engine.persistence.models import Agency

        agency = session.get(Agency, agency_id)
        for _ in range(repeats):
            t0 = time.perf_counter()
            report = annual_report(session, 2025, agency)
            best_one = min(best_one, time.perf_counter() - t0)
            t0 = time.perf_counter()
            annual_report(session, 2025)
            best_all = min(best_all, time.perf_counter() - t0)
    engine.dispose()
    assert report is not None and report.reconciles, report.failures
    return best_one, best_all, report.table3


def run(label: str, url: str, cases: int) -> bool:
    dbmod.upgrade(url)
    t0 = time.perf_counter()
    agency_id = populate(url, cases)
    generated = time.perf_counter() - t0
    one, every, table3 = time_report(url, agency_id)
    ok = one <= LIMIT_SECONDS and every <= LIMIT_SECONDS
    print(f"{label}: {cases} cases generated in {generated:.1f} s; annual report 2025 "
          f"(one agency) {one * 1000:.0f} ms, (all agencies) {every * 1000:.0f} ms "
          f"[limit {LIMIT_SECONDS:.0f} s] {'OK' if ok else 'TOO SLOW'}; "
          f"NEW={table3['NEW']['TOTAL']} CARRY_IN={table3['CARRY_IN']['TOTAL']} "
          f"R_TOTAL={table3['R_TOTAL']['TOTAL']} CARRY_OUT={table3['CARRY_OUT']['TOTAL']}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server to create a scratch database on ('' to skip)")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= run("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.cases)
    if args.pg:
        try:
            url = dbmod.create_database(args.pg, f"{make_url(args.pg).database}_bench_report")
        except Exception as exc:  # no server: report and carry on, the SQLite figure still stands
            print(f"PostgreSQL: skipped ({exc.__class__.__name__}: {exc})")
        else:
            try:
                ok &= run("PostgreSQL", url, args.cases)
            finally:
                dbmod.drop_database(url)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
