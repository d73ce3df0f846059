"""In-process cost of one API call (issue 14): CPU and wall time per call, statements per call, and — on a local
PostgreSQL — the server's CPU per call, through Flask's test client (no HTTP, no other process on the CPU), so
that a change of a few percent shows where the HTTP benchmark (`bench_scale.py`) drowns it in the machine's noise.

    .venv/bin/python bench/profile_api.py register --database-url postgresql+psycopg://…/gk_prof [--calls 300]
    .venv/bin/python bench/profile_api.py read --database-url … [--calls 3000] [--profile cumulative]

The database is one `bench/generate_cases.py` made (its `bench_clerk` registers and reads; copy the template
first: each `register` run adds cases). `--first N` numbers the applicants registered (`申请人N`…): a number used
before finds them again as earlier requests. To compare two versions of the code, run this file of each checkout
in turn (`git worktree add /tmp/old REV`), several times alternately: the figures of one run vary by 10–20 %.
`--profile SORT` prints cProfile's table (CPU time) of the timed calls, sorted by SORT; `--statements CHARS` the last
call's SQL, each statement cut to CHARS characters.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import TODAY, _body, _token  # noqa: E402
from engine.persistence import db as dbmod  # noqa: E402
from engine.persistence.models import Case, User  # noqa: E402

WARM_UP = 20


def _postgres_cpu_ms() -> float:
    """CPU time of the local PostgreSQL server's processes so far, in milliseconds (0 where there is none)."""
    out = subprocess.run(["ps", "-eo", "pid=,comm="], capture_output=True, text=True).stdout
    ticks = 0
    for line in out.splitlines():
        pid, _, comm = line.strip().partition(" ")
        if comm.strip() != "postgres":
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks * 1000 / 100  # USER_HZ


def _case_ids(url: str) -> list[int]:
    engine = dbmod.make_engine(url)
    with dbmod.session_factory(engine)() as session:
        agency_id = session.scalar(select(User.agency_id).where(User.username == "bench_clerk"))
        ids = session.scalars(select(Case.id).where(Case.agency_id == agency_id).order_by(Case.id.desc())
                              .limit(500)).all()
    engine.dispose()
    return list(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("call", choices=("register", "read", "me"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--calls", type=int, default=None, help="timed calls (300 registrations, 3,000 reads)")
    parser.add_argument("--first", type=int, default=None, help="first applicant number (default: from the clock)")
    parser.add_argument("--statements", type=int, metavar="CHARS", default=0,
                        help="print the last call's SQL statements, each cut to CHARS characters")
    parser.add_argument("--profile", metavar="SORT", help="print cProfile's table sorted by SORT (e.g. cumulative)")
    args = parser.parse_args()
    calls = args.calls or (300 if args.call == "register" else 3000)

    from webui.app import create_app

    app = create_app({"DATABASE_URL": args.database_url, "GONGKAI_TODAY": TODAY.isoformat(),
                      "API_RATE_LIMIT_PER_TOKEN": 10_000_000, "SECRET_KEY": "profile-api-" + "x" * 32})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {_token(args.database_url)}"}
    statements = [0]
    last_call: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:
        statements[0] += 1
        last_call.append(" ".join(statement.split()))

    event.listen(app.extensions["gongkai_db"][0], "before_cursor_execute", count)

    if args.call == "register":
        first = args.first if args.first is not None else int(time.time() * 1000) % 10**8

        def call(n: int):
            return client.post("/api/v1/cases", json=_body(first + n), headers=headers), 201
    else:
        paths = [f"/api/v1/cases/{i}" for i in _case_ids(args.database_url)] if args.call == "read" \
            else ["/api/v1/me"]

        def call(n: int):
            return client.get(paths[n % len(paths)], headers=headers), 200

    for n in range(WARM_UP):
        response, expected = call(calls + n)
        if response.status_code != expected:
            sys.exit(f"{args.call}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    statements[0] = 0
    profile = cProfile.Profile(time.process_time) if args.profile else None
    server_before = _postgres_cpu_ms()
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    for n in range(calls):
        last_call.clear()
        response, expected = call(n)
        if response.status_code != expected:
            sys.exit(f"{args.call}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    server = _postgres_cpu_ms() - server_before
    print(f"{args.call}: {calls} calls; per call CPU {cpu * 1000 / calls:.2f} ms, wall {wall * 1000 / calls:.2f} ms, "
          f"{statements[0] / calls:.1f} statements, PostgreSQL CPU {server / calls:.2f} ms")
    if args.statements:
        for number, statement in enumerate(last_call, 1):
            print(f"{number:3d}. {statement[:args.statements]}")
    if profile:
        pstats.Stats(profile).sort_stats(args.profile).print_stats(60)


if __name__ == "__main__":
    main()
