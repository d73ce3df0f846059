"""Bulk case-file export: N archived cases → N ZIPs; throughput (cases/s) and peak memory (RSS, MB).

One real case is walked through the services and signed (a real frozen letter); its rows are then copied
N-1 times with bulk inserts, reusing the frozen letter bytes, so the benchmark measures export, not setup.
Peak memory is the largest sum of the resident sets of the exporting process and its worker processes.

    .venv/bin/python bench/bench_archive.py --cases 1000 --jobs 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 3, 2)


def build_database(url: str, count: int) -> int:
    """A migrated database with `count` archived cases of one agency; returns the agency id."""
    from sqlalchemy import insert, select

    from engine import services
    from engine.persistence import db as dbmod
    from engine.persistence.models import (
        ArchiveNote,
        AuditEvent,
        Case,
        CaseItem,
        Delivery,
        ExemptionRecord,
        Letter,
    )
    from engine.rules.vocabulary import ROLES
    from engine.services.accounts import add_agency, add_department, add_user
    from tests.integration.helpers_cases import accept, decide_partial, register, review_and_sign

    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    session = dbmod.session_factory(engine)()
    agency = add_agency(session, "BENCH", "基准市人民政府办公室", letter_no_prefix="基政办公开", review_body="基准市人民政府",
                        court="基准市中级人民法院", contact="基准市人民路1号", topics=["城乡规划"],
                        settings={"seal_placeholder": True})  # a seal is required to sign
    add_department(session, agency, "规划科")
    session.commit()
    users = {role: add_user(session, agency, role, "bench-password-1", [role], display_name=f"{role}用户")
             for role in ROLES}
    session.commit()
    case, _ = register(session, users, TODAY)
    accept(session, users, case, TODAY)
    decide_partial(session, users, case, TODAY)
    review_and_sign(session, users, case, TODAY)
    services.record_delivery(session, case.id, method="POST", delivered_on=date(2026, 3, 4), tracking_no="EMS1",
                             actor=users["clerk"], today=date(2026, 3, 4))
    services.archive(session, case.id, actor=users["archivist"], today=date(2026, 3, 10))
    session.commit()

    template = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key != "id"}
    item = {c.key: getattr(case.items[0], c.key) for c in CaseItem.__table__.columns if c.key not in ("id", "case_id")}
    letter = session.scalar(select(Letter).where(Letter.case_id == case.id))
    letter_row = {c.key: getattr(letter, c.key) for c in Letter.__table__.columns if c.key not in ("id", "case_id")}
    record = session.scalar(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id))
    record_row = {c.key: getattr(record, c.key) for c in ExemptionRecord.__table__.columns
                  if c.key not in ("id", "case_id", "item_id")}
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    event_rows = [{c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns if c.key not in ("id", "case_id")}
                  for e in events]
    next_id = case.id + 1
    batch = 500
    for start in range(1, count, batch):
        ids = list(range(next_id, next_id + min(batch, count - start)))
        next_id += len(ids)
        session.execute(insert(Case), [{**template, "id": i, "reg_seq": i, "reg_no": f"依申请〔2026〕{i}号",
                                        "archive_no": f"BENCH-2026-XXGK-D30-{i}", "version": 1} for i in ids])
        session.execute(insert(CaseItem), [{**item, "id": i, "case_id": i} for i in ids])
        session.execute(insert(Letter), [{**letter_row, "case_id": i, "doc_number": f"基政办公开〔2026〕{i}号"}
                                         for i in ids])
        session.execute(insert(ExemptionRecord), [{**record_row, "case_id": i, "item_id": i} for i in ids])
        session.execute(insert(Delivery), [{"case_id": i, "method": "POST", "delivered_on": date(2026, 3, 4),
                                            "tracking_no": f"EMS{i}", "returned": False, "note": "",
                                            "created_at": datetime.now(UTC)} for i in ids])
        # Copies of the events, off the agency's chain (seq far beyond it): the export only reads them.
        session.execute(insert(AuditEvent), [{**row, "case_id": i, "seq": 1_000_000 + i * 100 + n}
                                             for i in ids for n, row in enumerate(event_rows)])
        session.execute(insert(ArchiveNote), [{"case_id": i, "noted_on": date(2026, 4, 1), "text": "复议维持。",
                                               "created_at": datetime.now(UTC) - timedelta(days=1)} for i in ids])
        session.commit()
    agency_id = agency.id
    session.close()
    engine.dispose()
    return agency_id


class MemorySampler(threading.Thread):
    """Samples the summed resident memory of this process and its worker processes every 0.1 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self.stopping = threading.Event()

    @staticmethod
    def rss_mb(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def run(self) -> None:
        while not self.stopping.wait(0.1):
            pids = [os.getpid(), *(child.pid for child in multiprocessing.active_children())]
            self.peak_mb = max(self.peak_mb, sum(self.rss_mb(pid) for pid in pids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--setup-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup_only:
        print(build_database(args.setup_only, args.cases))
        return

    from engine.persistence.db import make_engine, session_factory
    from engine.services.casefile_collect import archived_case_ids
    from webui.archive_export.bulk import export_cases
    from webui.archive_export.verify import verify_case_zip

    folder = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    started = time.perf_counter()
    # The setup renders a letter; it runs in its own process so it does not count towards the export's memory.
    setup = subprocess.run([sys.executable, __file__, "--cases", str(args.cases), "--setup-only", url],
                           capture_output=True, text=True, check=True)
    agency_id = int(setup.stdout.split()[-1])
    print(f"setup: {args.cases} archived cases in {time.perf_counter() - started:.1f} s")
    engine = make_engine(url)
    with session_factory(engine)() as session:
        ids = archived_case_ids(session, agency_id, 2026)
    engine.dispose()
    out = folder / "out"
    sampler = MemorySampler()
    sampler.start()
    cpu_before = os.times()
    started = time.perf_counter()
    failures = [r for r in export_cases(url, agency_id, ids, out, jobs=args.jobs) if r.error]
    elapsed = time.perf_counter() - started
    cpu_after = os.times()
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("user", "system", "children_user", "children_system"))
    sampler.stopping.set()
    sampler.join()
    zips = sorted(out.glob("*.zip"))
    size_mb = sum(p.stat().st_size for p in zips) / 1e6
    print(f"exported {len(zips)} case files with {args.jobs} process(es) in {elapsed:.1f} s: "
          f"{len(zips) / elapsed:.1f} cases/s; {size_mb:.0f} MB written; failures {len(failures)}")
    print(f"CPU time: {cpu / max(1, len(zips)) * 1000:.0f} ms per case (all processes; "
          f"{len(zips) / cpu:.1f} cases per CPU-second; the machine's load average was {os.getloadavg()[0]:.1f})")
    print(f"peak memory (RSS of the exporting process and its workers together): {sampler.peak_mb:.0f} MB")
    sample = zips[len(zips) // 2]
    print(f"verify {sample.name}: {'intact' if not verify_case_zip(sample) else verify_case_zip(sample)}")
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
