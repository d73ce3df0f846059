"""Benchmark of the working-day calendar (DESIGN §3, §7).

Measures in one run:
1. 1,000,000 `WorkingCalendar.add_working_days` calls (target ≤ 1 s);
2. the same kind of call done day by day with `chinese_calendar.is_workday` on a 10,000 sample,
   with identical answers asserted, and the per-call ratio (target ≥ 100×);
3. `gongkai deadline --batch` end to end on 1,000,000 lines (target ≤ 5 s), answers spot-checked.

Run: `.venv/bin/python bench/bench_calendar.py` (add `--strict` to exit 1 when a target is missed).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from engine.config import PROJECT_ROOT
from engine.rules.calendar import load_calendar

CALLS = 1_000_000
SAMPLE = 10_000
BATCH_LINES = 1_000_000
SEED = 20260925


def slow_add_working_days(start: date, n: int) -> date:
    """The day-by-day way: step one day at a time and ask chinese_calendar."""
    day = start
    while n:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def main() -> int:
    strict = "--strict" in sys.argv
    holidays_dir = PROJECT_ROOT / "holidays"
    began = time.perf_counter()
    cal = load_calendar(holidays_dir)
    load_seconds = time.perf_counter() - began

    rng = random.Random(SEED)
    # Starts whose 60-working-day due dates stay inside 2026, where chinese_calendar has data.
    span_days = (date(2026, 9, 30) - date(2008, 1, 1)).days
    first = date(2008, 1, 1).toordinal()
    starts = [date.fromordinal(first + rng.randrange(span_days)) for _ in range(CALLS)]
    counts = [rng.randrange(1, 61) for _ in range(CALLS)]

    add = cal.add_working_days
    began = time.perf_counter()
    results = [add(s, n) for s, n in zip(starts, counts, strict=True)]
    fast_seconds = time.perf_counter() - began
    fast_per_call = fast_seconds / CALLS

    began = time.perf_counter()
    slow_results = [
        slow_add_working_days(s, n) for s, n in zip(starts[:SAMPLE], counts[:SAMPLE], strict=True)
    ]
    slow_seconds = time.perf_counter() - began
    slow_per_call = slow_seconds / SAMPLE
    mismatches = [i for i in range(SAMPLE) if slow_results[i] != results[i]]
    ratio = slow_per_call / fast_per_call

    with tempfile.TemporaryDirectory() as tmp:
        batch_in = Path(tmp) / "batch.txt"
        with batch_in.open("w", encoding="ascii") as fh:
            fh.writelines(
                f"{s.isoformat()} {n}\n"
                for s, n in zip(starts[:BATCH_LINES], counts[:BATCH_LINES], strict=True)
            )
        gongkai = str(Path(sys.executable).parent / "gongkai")
        env = {**os.environ, "GONGKAI_HOLIDAYS_DIR": str(holidays_dir)}
        with batch_in.open("rb") as stdin:
            began = time.perf_counter()
            done = subprocess.run([gongkai, "deadline", "--batch"], stdin=stdin, capture_output=True, env=env)
            batch_seconds = time.perf_counter() - began
    if done.returncode != 0:
        print(done.stderr.decode("utf-8", "replace"), file=sys.stderr)
        return 1
    batch_lines = done.stdout.decode("ascii").splitlines()
    batch_wrong = len(batch_lines) != BATCH_LINES or any(
        batch_lines[i] != results[i].isoformat() for i in range(0, BATCH_LINES, 997)
    )

    def verdict(ok: bool) -> str:
        return "达标" if ok else "未达标"

    print(
        f"calendar load ({len(cal.covered_years)} year files, arrays to {cal.provisional_until}): {load_seconds * 1000:.1f} ms"
    )
    print(
        f"add_working_days x {CALLS:,}: {fast_seconds:.3f} s ({fast_per_call * 1e9:.0f} ns/call)"
        f"  target <= 1 s: {verdict(fast_seconds <= 1.0)}"
    )
    print(
        f"day by day with chinese_calendar.is_workday x {SAMPLE:,}: {slow_seconds:.3f} s"
        f" ({slow_per_call * 1e6:.1f} us/call); identical answers: {SAMPLE - len(mismatches):,}/{SAMPLE:,}"
    )
    print(f"speed-up per call: {ratio:,.0f}x  target >= 100x: {verdict(ratio >= 100)}")
    print(
        f"gongkai deadline --batch, {BATCH_LINES:,} lines end to end: {batch_seconds:.3f} s"
        f"  target <= 5 s: {verdict(batch_seconds <= 5.0)}; answers {'wrong' if batch_wrong else 'match'}"
    )
    if mismatches or batch_wrong:
        print(f"WRONG ANSWERS: first mismatch at sample {mismatches[:1]}", file=sys.stderr)
        return 1
    if strict and not (fast_seconds <= 1.0 and ratio >= 100 and batch_seconds <= 5.0):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
