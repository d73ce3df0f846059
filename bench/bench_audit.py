"""`gongkai audit verify` over a large database: the keyed chain, every case's state digest, every letter's and
upload's bytes, streamed in batches. Run: `.venv/bin/python bench/bench_audit.py [--count N] [--url URL]`
(default: 100,000 generated cases, 300,000 events, in a temporary SQLite file; goal ≤ 60 s, memory bounded)."""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate_cases import after_bulk_insert, generate  # noqa: E402
from engine.persistence.audit_verify import verify_audit  # noqa: E402
from engine.persistence.db import make_engine, session_factory, upgrade  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        with session_factory(engine)() as session:
            generate(session, count=args.count)
            after_bulk_insert(session)
        print(f"generated {args.count} cases in {time.perf_counter() - started:.1f} s")
        with session_factory(engine)() as session:
            started = time.perf_counter()
            report = verify_audit(session)
            elapsed = time.perf_counter() - started
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"audit verify: {report.events} events, {report.cases} cases in {elapsed:.1f} s "
          f"({report.cases / elapsed:,.0f} cases/s), {len(report.problems)} problems, peak RSS {peak_mb:.0f} MB")
    return 0 if report.intact and elapsed <= 60 else 1


if __name__ == "__main__":
    raise SystemExit(main())
