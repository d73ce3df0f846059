"""Benchmark: importing a 100,000-row ledger (台账) through `gongkai ledger import`: ≤ 10 s on PostgreSQL (COPY,
issue 14), ≤ 60 s on SQLite (batched inserts).

A CSV (and, with --xlsx, an .xlsx) is generated with every applicant type, channel, date form and
outcome, a tenth of the rows still open; the real command runs in a subprocess against a fresh database.

    .venv/bin/python bench/bench_ledger.py [--rows 100000] [--xlsx] [--pg URL | --pg ''] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, make_url, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.persistence import db as dbmod  # noqa: E402
from engine.persistence.models import Case  # noqa: E402
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES  # noqa: E402
from engine.rules.vocabulary import CHANNEL_LABELS  # noqa: E402
from engine.services.accounts import add_agency  # noqa: E402

LIMIT_SECONDS = {"SQLite": 60.0, "PostgreSQL": 10.0}
HEADER = ["登记编号", "申请人类型", "申请人", "申请渠道", "收到日期", "申请内容", "答复日期", "办理结果"]


def ledger_rows(rows: int, seed: int = 11):
    rng = random.Random(seed)
    kinds = list(APPLICANT_TYPES.values())
    channels = list(CHANNEL_LABELS.values())
    outcomes = [o.label for o in OUTCOMES.values()] + list(OUTCOMES)
    for n in range(rows):
        received_on = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
        form = n % 3
        received = (received_on.isoformat() if form == 0 else f"{received_on.year}/{received_on.month}/{received_on.day}"
                    if form == 1 else f"{received_on.year}年{received_on.month}月{received_on.day}日")
        finished = rng.random() < 0.9
        finished_on = (received_on + timedelta(days=rng.randrange(0, 40))).isoformat() if finished else ""
        yield ["" if n % 2 else f"HIST-{n}", rng.choice(kinds), f"申请人{rng.randrange(30_000)}", rng.choice(channels),
               received, f"申请公开关于第{n}号项目的批复文件及相关材料", finished_on,
               rng.choice(outcomes) if finished else ""]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(ledger_rows(rows))


def write_xlsx(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in ledger_rows(rows):
        sheet.append(row)
    workbook.save(path)


def prepare(url: str) -> None:
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    with dbmod.session_factory(engine)() as session:
        add_agency(session, "BENCH", "基准测试机关")
        session.commit()
    engine.dispose()


def imported_cases(url: str) -> int:
    engine = dbmod.make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Case)).scalar_one()
    engine.dispose()
    return count


def run(label: str, url: str, ledger: Path, rows: int) -> bool:
    prepare(url)
    # this checkout's code, through the virtualenv's `gongkai`
    python_path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "GONGKAI_DATABASE_URL": url, "PYTHONPATH": python_path}
    t0 = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "gongkai"), "ledger", "import", str(ledger)], env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    count = imported_cases(url)
    limit = LIMIT_SECONDS[label]
    ok = done.returncode == 0 and count == rows and elapsed <= limit
    load = "/".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"{label}: {ledger.suffix} ledger of {rows} rows imported in {elapsed:.1f} s "
          f"[limit {limit:.0f} s; load average {load}] {'OK' if ok else 'FAILED'}; {count} cases; "
          f"{done.stdout.strip()}")
    if done.returncode != 0:
        print(done.stderr[-2000:])
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xlsx", action="store_true", help="also time an .xlsx ledger")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="time PostgreSQL only")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ledgers = [Path(tmp) / "ledger.csv"]
        write_csv(ledgers[0], args.rows)
        if args.xlsx:
            ledgers.append(Path(tmp) / "ledger.xlsx")
            write_xlsx(ledgers[1], args.rows)
        for n, ledger in enumerate(ledgers if args.sqlite else []):
            ok &= run("SQLite", f"sqlite:///{Path(tmp) / f'bench{n}.sqlite3'}", ledger, args.rows)
        if args.pg:
            for ledger in ledgers:
                name = f"{make_url(args.pg).database}_bench_ledger_{ledger.suffix.lstrip('.')}"
                try:
                    url = dbmod.create_database(args.pg, name)
                except Exception as exc:  # no server: the SQLite figure still stands
                    print(f"PostgreSQL: skipped ({exc.__class__.__name__}: {exc})")
                    break
                try:
                    ok &= run("PostgreSQL", url, ledger, args.rows)
                finally:
                    dbmod.drop_database(url)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
