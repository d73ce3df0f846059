"""Benchmark of a large case load (issue 14): pages, search, statistics, annual report, API registration and reads,
ledger import and worker memory — each beside a reference measured in the same run.

The cases come from `bench/generate_cases.py`, generated once into a template database and copied from it
(`CREATE DATABASE … TEMPLATE …`), so a second run does not regenerate. PostgreSQL when `--database-url` (or
GONGKAI_BENCH_DATABASE_URL) names one — its database is dropped and re-created from the template; otherwise a
SQLite file in a temporary directory (generated every time; the goals are set for PostgreSQL).

- pages: server time in process (Flask test client), p50/p95 over `--requests` requests after a warm-up, beside a
  trivial route that runs one query (`SELECT 1`) in the same app;
- annual report: `engine.services.reports.annual_report` in process, one agency and all agencies (best of 3);
- API: gunicorn, 2 workers × 8 threads, `--clients` clients: `POST /api/v1/cases` beside the minimal reference app
  (`bench/reference_app.py`: a gap-free number under the same row lock and one insert) in the same database,
  measured just before and again after the engine's run (the ratio is to their mean; two figures far apart say
  the machine's speed changed during the run),
  with the background worker (`gongkai worker`, embedded mode) running — warm: it has rendered a receipt before
  the measurement starts — and rendering the receipts meanwhile; the CPU each party spent per registration (web
  workers, PostgreSQL, the background worker, the load client), and how long after the run the last receipt was
  frozen; then the API floor (`bench/api_floor.py`: the same `POST /api/v1/cases` with its authentication, token
  limit and body validation, but the reference's two statements in place of the registration) as a ratio to the
  reference, which splits the distance to the reference into what any API write costs and what registering adds;
  then `GET /api/v1/cases/{id}`; then the RSS of each worker after 1,000 mixed requests;
- ledger import: `gongkai ledger import` of a `--ledger-rows` CSV into an empty database.

Run: `.venv/bin/python bench/bench_scale.py [--cases 5000] [--database-url postgresql+psycopg://…/gk_bench]`
(`make bench` runs the small default); the figures of the README: `--cases 100000` on SQLite (no URL) and
`--cases 1000000 --database-url …` on PostgreSQL — or `--template gk_1m_v1` to copy an existing generated database
instead of generating (the count is then the template's). The table is printed and written to `--output`
(docs/bench/scale.md; `--output ''` writes nothing) with the command, date, data size and load average.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

import requests
from sqlalchemy import func, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ledger import write_csv  # noqa: E402
from bench.generate_cases import PASSWORD, RARE_WORD, from_template, generate_url  # noqa: E402
from engine.persistence import db as dbmod  # noqa: E402
from engine.persistence.models import Agency, Applicant, Case, Letter, User  # noqa: E402
from engine.services.accounts import add_agency, create_token  # noqa: E402
from tests.gunicorn_server import gunicorn_server as test_gunicorn_server  # noqa: E402

TODAY = date(2026, 3, 2)
PAGE_TARGET_MS = 100.0
REPORT_TARGET_MS = 300.0
REGISTRATION_RATIO_TARGET = 0.3
REGISTRATION_P99_TARGET_MS = 250.0
READS_TARGET = 500.0
LEDGER_TARGET_S = 10.0
RSS_TARGET_MIB = 120.0
GUNICORN = ("--workers", "2", "--threads", "8", "--log-level", "warning")


def gunicorn_server(database_url: str, var_dir: Path, *, app: str, ready_path: str, options=GUNICORN,
                    secret: str = "bench", startup_seconds: float = 180.0):
    """tests.gunicorn_server's server, with a longer start-up allowance: on a busy machine two workers importing
    the app take more than half a minute."""
    return test_gunicorn_server(database_url, var_dir, app=app, ready_path=ready_path, options=options,
                                secret=secret, startup_seconds=startup_seconds)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Table:
    """The rows of the result table, printed as they come and written as Markdown at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, measure: str, value: str, reference: str, goal: str, met: bool | None) -> None:
        verdict = "—" if met is None else ("met" if met else "MISSED")
        self.rows.append((measure, value, reference, goal, verdict))
        print(f"  {measure:44s} {value:30s} {reference:28s} {goal:22s} {verdict}", flush=True)

    def markdown(self) -> str:
        lines = ["| measure | value | reference (same run) | goal | |", "|---|---|---|---|---|"]
        lines += [f"| {' | '.join(row)} |" for row in self.rows]
        return "\n".join(lines)


# -- the data -----------------------------------------------------------------------------------------------------

def prepare_database(url: str | None, cases: int, agencies: int, tmp: Path, template: str | None = None) -> str:
    """PostgreSQL: `url`'s database dropped and copied from the template (which is generated only when it does not
    exist: an existing one, e.g. `--template gk_1m_v1`, is copied whatever `--cases` says); SQLite: generated."""
    if url and url.startswith("postgresql"):
        template = template or f"{make_url(url).database}_{cases}_template"
        started = time.perf_counter()
        made = from_template(url, template, lambda t: generate_url(t, cases, agencies=agencies, today=TODAY,
                                                                  log=print))
        dbmod.upgrade(url)  # a template from before a migration gains its indexes here
        print(f"database {make_url(url).database}: {'generated into' if made else 'copied from'} {template} "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        return url
    url = f"sqlite:///{tmp / 'scale.sqlite3'}"
    seconds = generate_url(url, cases, agencies=agencies, today=TODAY, log=print)
    print(f"SQLite: {cases} cases generated in {seconds:.0f} s", flush=True)
    return url


def data_size(url: str) -> tuple[int, int, str]:
    """(cases, agencies, size on disk) of the database the run measures."""
    engine = dbmod.make_engine(url)
    with engine.connect() as conn:
        cases = conn.execute(select(func.count()).select_from(Case)).scalar_one()
        agencies = conn.execute(select(func.count()).select_from(Agency)).scalar_one()
        if url.startswith("postgresql"):
            size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
        else:
            size = f"{Path(make_url(url).database).stat().st_size / 2**20:.0f} MB"
    engine.dispose()
    return cases, agencies, size


def samples(url: str) -> dict:
    """What the searches look for: a registration number, a 文号, an ID number and a phone of BENCH's cases."""
    engine = dbmod.make_engine(url)
    with dbmod.session_factory(engine)() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "BENCH"))
        ids = list(session.scalars(select(Case.id).where(Case.agency_id == agency.id).order_by(func.random())
                                   .limit(200)))
        rng = random.Random(3)
        case = session.get(Case, rng.choice(ids))
        letter = session.scalar(select(Letter).join(Case, Case.id == Letter.case_id).where(
            Case.agency_id == agency.id, Letter.doc_number != "").order_by(Letter.id.desc()).limit(1))
        person = session.scalar(select(Applicant).where(Applicant.agency_id == agency.id,
                                                        Applicant.id_number != "").order_by(Applicant.id.desc())
                                .limit(1))
        found = {"ids": ids, "reg_no": case.reg_no.replace("〔", "[").replace("〕", "]"),
                 "reg_no_lenticular": case.reg_no.replace("〔", "【").replace("〕", "】"),
                 "doc_number": letter.doc_number if letter else "", "id_number": person.id_number,
                 "phone": person.phone, "agency_id": agency.id}
    engine.dispose()
    return found


# -- pages in process ---------------------------------------------------------------------------------------------

def measure_pages(url: str, found: dict, n: int, table: Table) -> None:
    from webui.app import create_app
    from webui.db import get_session

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "GONGKAI_TODAY": TODAY})

    @app.get("/_bench/one-query")
    def one_query():
        return {"one": get_session().execute(text("SELECT 1")).scalar_one()}

    rng = random.Random(1)
    pages = {
        "reference: one-query route": ("bench_clerk", lambda: "/_bench/one-query"),
        "dashboard (clerk)": ("bench_clerk", lambda: "/"),
        "dashboard (handler)": ("bench_handler", lambda: "/"),
        "list: in_handling, due soon, by due": ("bench_clerk", lambda: "/cases?stage=in_handling&due=due_soon"
                                                "&sort=due_asc"),
        "list: 自然人, received range, page 3": ("bench_clerk", lambda: "/cases?applicant_kind=NATURAL"
                                             "&received_from=2025-06-01&received_to=2026-03-02&page=3"),
        "search: common term 征收补偿": ("bench_clerk", lambda: "/cases?q=征收补偿"),
        f"search: rare term {RARE_WORD}": ("bench_clerk", lambda: f"/cases?q={RARE_WORD}"),
        "search: 登记编号 with [] brackets": ("bench_clerk", lambda: f"/cases?q={found['reg_no']}"),
        "search: 登记编号 with 【】 brackets": ("bench_clerk", lambda: f"/cases?q={found['reg_no_lenticular']}"),
        "search: 文号": ("bench_clerk", lambda: f"/cases?q={found['doc_number']}"),
        "search: ID number": ("bench_clerk", lambda: f"/cases?q={found['id_number']}"),
        "search: phone": ("bench_clerk", lambda: f"/cases?q={found['phone']}"),
        "case page": ("bench_clerk", lambda: f"/cases/{rng.choice(found['ids'])}"),
        "statistics page": ("bench_office_head", lambda: "/reports/statistics?year=2025"),
    }
    clients = {}
    reference = None
    for label, (username, make_url_) in pages.items():
        client = clients.get(username)
        if client is None:
            client = clients[username] = app.test_client()
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, (username, response.status_code)
        for _ in range(3):
            client.get(make_url_())
        timings = []
        for _ in range(n):
            started = time.perf_counter()
            response = client.get(make_url_())
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        if reference is None:
            reference = p95
            table.add(label, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms", "", "", None)
            continue
        table.add(label, f"p50 {p50:.0f} ms, p95 {p95:.0f} ms", f"{p95 / reference:.1f}× the one-query route",
                  f"p95 ≤ {PAGE_TARGET_MS:.0f} ms", p95 <= PAGE_TARGET_MS)
    from webui.db import get_engine

    with app.app_context():
        get_engine().dispose()


def measure_report(url: str, agency_id: int, table: Table) -> None:
    from engine.services.reports import annual_report

    engine = dbmod.make_engine(url)
    with dbmod.session_factory(engine)() as session:
        one_query = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            session.execute(text("SELECT 1"))
            one_query = min(one_query, (time.perf_counter() - started) * 1000)
        agency = session.get(Agency, agency_id)
        for label, who in (("annual report 2025 (one agency)", agency), ("annual report 2025 (all agencies)", None)):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                annual_report(session, 2025, who)
                best = min(best, (time.perf_counter() - started) * 1000)
            table.add(label, f"{best:.0f} ms (best of 3)", f"one query {one_query:.2f} ms",
                      f"≤ {REPORT_TARGET_MS:.0f} ms", best <= REPORT_TARGET_MS)
    engine.dispose()


# -- over HTTP ----------------------------------------------------------------------------------------------------

def _token(url: str) -> str:
    engine = dbmod.make_engine(url)
    with dbmod.session_factory(engine)() as session:
        clerk = session.scalar(select(User).where(User.username == "bench_clerk"))
        token = create_token(session, clerk, "bench-scale")
        session.commit()
    engine.dispose()
    return token


def _body(n: int) -> dict:
    return {"applicant": {"kind": "NATURAL", "name": f"申请人{n}", "phone": f"139{n % 10**8:08d}", "address": "基准市人民路1号"},
            "channel": "online", "submitted_on": TODAY.isoformat(),
            "items": [{"description": f"2025年度第{n}号项目的立项批复文件及附件"}],
            "requested_form": "电子", "requested_delivery": "电子邮件"}


def _post(http: requests.Session, url: str, **kwargs) -> requests.Response:
    """POST, sent once more on a fresh connection when the server closed the kept-alive one as it was reused
    (gunicorn drops idle connections after 2 s; a client thread starved that long on the loaded machine meets it);
    the same for the reference app and the engine."""
    try:
        return http.post(url, **kwargs)
    except requests.ConnectionError:
        http.close()
        return http.post(url, **kwargs)


def _hammer(clients: int, count: int, call, on_start=None) -> tuple[float, list[float], list]:
    """`count` calls from `clients` threads, after `clients` warm-up calls: (wall seconds, latencies, results) of
    the timed calls. `on_start()` is called when the timed calls start (after the warm-up)."""
    local = threading.local()

    def one(n):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        started = time.perf_counter()
        result = call(local.http, n)
        return time.perf_counter() - started, result

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(-clients, 0)))  # warm-up
        if on_start is not None:
            on_start()
        started = time.perf_counter()
        timed = list(pool.map(one, range(count)))
        wall = time.perf_counter() - started
    return wall, [t for t, _ in timed], [r for _, r in timed]


def _rss_mib(pid: int) -> list[float]:
    """VmRSS of the children (workers) of a gunicorn master."""
    out = subprocess.run(["ps", "-o", "pid=,rss=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line.split()[1]) / 1024 for line in out.splitlines() if line.strip()]


def _master_pid(port_base: str) -> int | None:
    port = port_base.rsplit(":", 1)[1]
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "gunicorn" in line and f"127.0.0.1:{port}" in line and "--workers" in line:
            candidates = [int(line.split()[0])]
            return candidates[0] if _rss_mib(candidates[0]) else None
    return None


@contextmanager
def background_worker(database_url: str, var_dir: Path, nice: int | None = None) -> Iterator[subprocess.Popen]:
    """`gongkai worker` in its embedded mode (no Redis: the jobs table is the queue, as `gongkai serve` runs it)
    until the block ends: it renders the receipts that registrations leave to their `render_letter` jobs. `nice`:
    its GONGKAI_WORKER_NICE, how far below the web workers' its CPU priority is (None: the product's default)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GONGKAI_REDIS_URL", "GONGKAI_WORKER_NICE")}
    env.update(GONGKAI_DATABASE_URL=database_url, GONGKAI_VAR_DIR=str(var_dir), GONGKAI_SECRET_KEY="bench",
               PYTHONPATH=str(ROOT))
    if nice is not None:
        env["GONGKAI_WORKER_NICE"] = str(nice)
    log = (Path(var_dir) / "worker.log").open("wb")
    command = [str(Path(sys.executable).parent / "gongkai"), "worker"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _niceness(pid: int) -> str:
    """The process's nice value as the kernel has it ("?" once it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16]
    except (OSError, IndexError):
        return "?"


def _pending_receipts(engine, case_ids: list[int]) -> int:
    """Receipts of these cases not rendered yet (issued, bytes still to be frozen by their job)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Letter).where(
            Letter.case_id.in_(case_ids), Letter.sha256 == "")).scalar_one()


def _worker_ready(engine, worker: subprocess.Popen, register_one, seconds: float = 300.0) -> None:
    """Returns once the background worker has rendered a receipt: it is running and warm (imported, fonts loaded),
    as a deployment's long-running worker is. Started beside the measurement, its start-up (seconds of CPU)
    would be measured as registration's cost."""
    case_ids = [register_one()]
    deadline = time.perf_counter() + seconds
    while _pending_receipts(engine, case_ids):
        if worker.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError("后台任务进程未能在限定时间内生成登记回执")
        time.sleep(0.2)


def measure_registration(url: str, base: str, headers: dict, clients: int, registrations: int, tmp: Path,
                         table: Table, label: str, worker_nice: int | None = None, *,
                         reference) -> tuple[float, float]:
    """`POST /api/v1/cases` from `clients` clients while the background worker runs (the receipts are rendered
    after each commit by their jobs, on the same two cores), then how long the last receipt took to be frozen.
    `reference()`, called once every receipt is frozen (the worker idle again): the reference app's (rate, p99)
    measured before and after this run, so that the ratio is to their mean and a machine whose speed changed
    during the run shows it in the two figures. Returns the registrations per second and the reference's mean."""
    engine = dbmod.make_engine(url)
    try:
        with background_worker(url, tmp, worker_nice) as worker:
            def register(http, n):
                response = _post(http, base + "/cases", json=_body(n), headers=headers, timeout=120)
                assert response.status_code == 201, response.text[:500]
                return response.json()["case"]["id"]

            with requests.Session() as http:
                _worker_ready(engine, worker, lambda: register(http, -1))
            cpu = CpuShares(url, base, worker)
            wall, lat, ids = _hammer(clients, registrations, register, on_start=cpu.start)
            ended = time.perf_counter()
            worker_niceness = _niceness(worker.pid)
            cpu_ms = cpu.per_call(registrations)
            pending_at_end = _pending_receipts(engine, ids)
            while (pending := _pending_receipts(engine, ids)) and worker.poll() is None \
                    and time.perf_counter() - ended < 900:
                time.sleep(0.5)
            drained = time.perf_counter() - ended
        (first_rate, first_p99), (then_rate, then_p99) = reference()
        ref_rate = (first_rate + then_rate) / 2
        rate, p99 = registrations / wall, percentile(lat, 0.99) * 1000
        table.add(f"API registration, {clients} clients ({label})",
                  f"{rate:.1f}/s, p99 {p99:.0f} ms",
                  f"reference app {first_rate:.0f}/s before, {then_rate:.0f}/s after (p99 {first_p99:.0f}/"
                  f"{then_p99:.0f} ms) → {rate / ref_rate:.2f}×",
                  f"≥ {REGISTRATION_RATIO_TARGET}×, p99 ≤ {REGISTRATION_P99_TARGET_MS:.0f} ms",
                  rate / ref_rate >= REGISTRATION_RATIO_TARGET and p99 <= REGISTRATION_P99_TARGET_MS)
        table.add(f"… CPU per registration ({label})", "; ".join(f"{name} {ms:.1f} ms" for name, ms in cpu_ms.items()),
                  f"{sum(cpu_ms.values()) * rate / 1000:.2f} of {os.cpu_count()} cores busy", "", None)
        table.add(f"receipts rendered by the worker ({label})",
                  f"{pending_at_end} of {len(ids)} pending at the end" + (f", all frozen {drained:.1f} s later"
                                                                          if not pending else f", {pending} left"),
                  f"worker {'running' if worker.returncode in (None, 0, -15) else 'DIED'} during the run"
                  f" (nice {worker_niceness})", "", None)
        return rate, ref_rate
    finally:
        engine.dispose()


class CpuShares:
    """The CPU each party spends from `start()` on: the server's web workers (the gunicorn at `base`), the background
    worker (when given), PostgreSQL's processes (when the database is PostgreSQL) and this process (the load client)."""

    def __init__(self, url: str, base: str, worker: subprocess.Popen | None = None) -> None:
        self.parties = {"web workers": lambda: _worker_pids(base.split("/api/")[0])}
        if worker is not None:
            self.parties["receipts worker"] = lambda: [worker.pid]
        if url.startswith("postgresql"):
            self.parties["PostgreSQL"] = _postgres_pids
        self.before: dict[str, dict[int, float]] = {}
        self.client_before = 0.0

    def start(self) -> None:
        self.before = {name: _cpu_by_pid(pids()) for name, pids in self.parties.items()}
        self.client_before = time.process_time()

    def per_call(self, calls: int) -> dict[str, float]:
        """Milliseconds of CPU per call of each party since `start()`."""
        # A process started during the run (a new database backend) counts from zero.
        cpu_ms = {name: sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in _cpu_by_pid(pids()).items())
                  * 1000 / calls for name, pids in self.parties.items()}
        cpu_ms["client"] = (time.process_time() - self.client_before) * 1000 / calls
        return cpu_ms


def measure_http(url: str, found: dict, clients: int, registrations: int, tmp: Path, table: Table,
                 label: str, worker_nice: int | None = None) -> None:
    token = _token(url)
    settings = {"GONGKAI_TODAY": TODAY.isoformat(), "API_RATE_LIMIT_PER_TOKEN": 10_000_000}
    before = _reference_registrations(url, clients, registrations, tmp)
    with ExitStack() as stack:
        server = stack.enter_context(gunicorn_server(
            url, tmp, app=f"webui.app:create_app({settings!r})", ready_path="/api/v1/openapi.json", secret="bench",
            options=GUNICORN))
        base = server.base + "/api/v1"
        headers = {"Authorization": f"Bearer {token}"}
        rate, ref_rate = measure_registration(
            url, base, headers, clients, registrations, tmp, table, label, worker_nice,
            reference=lambda: (before, _reference_registrations(url, clients, registrations, tmp)))
    measure_floor(url, headers, clients, registrations, tmp, table, label, rate=rate, ref_rate=ref_rate)


def measure_floor(url: str, headers: dict, clients: int, registrations: int, tmp: Path, table: Table, label: str, *,
                  rate: float, ref_rate: float) -> None:
    """The API floor (`bench/api_floor.py`: the product's authentication, token limit, transaction and body
    validation around the reference app's two statements), right after the reference's second measurement: its
    ratio to the reference's mean, and the registration's ratio to it — how much of the distance to the reference
    every authenticated API write here costs, and how much the registration's own work adds."""
    settings = {"GONGKAI_TODAY": TODAY.isoformat(), "API_RATE_LIMIT_PER_TOKEN": 10_000_000}
    with gunicorn_server(url, tmp, app=f"bench.api_floor:create_app({settings!r})",
                         ready_path="/api/v1/openapi.json", secret="bench", options=GUNICORN) as server:
        def register(http, n):
            response = _post(http, server.base + "/api/v1/cases", json=_body(n), headers=headers, timeout=60)
            assert response.status_code == 201, response.text[:500]

        cpu = CpuShares(url, server.base)
        wall, lat, _ = _hammer(clients, registrations, register, on_start=cpu.start)
        cpu_ms = cpu.per_call(registrations)
    floor = registrations / wall
    table.add(f"… API floor: token, limit, validation + the reference's two statements ({label})",
              f"{floor:.1f}/s, p99 {percentile(lat, 0.99) * 1000:.0f} ms",
              f"{floor / ref_rate:.2f}× the reference app; registration {rate / floor:.2f}× the floor", "", None)
    table.add(f"… CPU per call of the floor ({label})", "; ".join(f"{name} {ms:.1f} ms" for name, ms in cpu_ms.items()),
              f"{sum(cpu_ms.values()) * floor / 1000:.2f} of {os.cpu_count()} cores busy", "", None)


def _reference_registrations(url: str, clients: int, registrations: int, tmp: Path) -> tuple[float, float]:
    """The reference app's registrations per second and p99 (ms) from `clients` clients, alone on the machine."""
    with gunicorn_server(url, tmp, app="bench.reference_app:create_app()", ready_path="/ping",
                         options=GUNICORN) as ref:
        wall, lat, _ = _hammer(clients, registrations, lambda http, n: _post(
            http, ref.base + "/cases", json=_body(n), timeout=60).raise_for_status())
    return registrations / wall, percentile(lat, 0.99) * 1000


def _worker_rss(base: str) -> list[float]:
    master = _master_pid(base)
    return _rss_mib(master) if master else []


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (/proc/PID/stat; 0 for one that has gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """Each live process's CPU seconds so far (`_cpu_seconds`)."""
    return {pid: _cpu_seconds([pid]) for pid in pids}


def _postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (its backends and its writers): what the database spends."""
    out = subprocess.run(["ps", "-eo", "pid=,comm="], capture_output=True, text=True).stdout
    return [int(pid) for pid, _, comm in (line.strip().partition(" ") for line in out.splitlines())
            if comm.strip() == "postgres"]


def _worker_pids(base: str) -> list[int]:
    master = _master_pid(base)
    if master is None:
        return []
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


READ_ROUNDS = 3


def measure_reads(url: str, found: dict, clients: int, reads: int, tmp: Path, table: Table) -> None:
    """GET /api/v1/cases/{id} with `clients` keep-alive connections from a light multi-process client
    (bench/load_client.py), beside the client's ceiling against the reference app's /ping and the API's cheapest
    authenticated call (/api/v1/me) in the same run: both servers run side by side and the three are measured in
    turn, READ_ROUNDS times, so that a change in the machine's load affects them alike (median rate of each; and
    the CPU the gunicorn workers spent per request, which does not depend on the load). Then each worker's RSS
    after start and after 1,000 mixed requests (case reads, lists, a common-term search), and after registrations
    too (each renders a receipt)."""
    import json

    from bench.load_client import drive

    token = _token(url)
    headers = {"Authorization": f"Bearer {token}"}
    settings = {"GONGKAI_TODAY": TODAY.isoformat(), "API_RATE_LIMIT_PER_TOKEN": 10_000_000}
    case_paths = [f"/api/v1/cases/{case_id}" for case_id in found["ids"]]
    with ExitStack() as servers:
        ref = servers.enter_context(gunicorn_server(url, tmp, app="bench.reference_app:create_app()",
                                                    ready_path="/ping"))
        server = servers.enter_context(gunicorn_server(url, tmp, app=f"webui.app:create_app({settings!r})",
                                                       ready_path="/api/v1/openapi.json", secret="bench"))
        started_rss = _worker_rss(server.base)
        runs = {"ping": (ref.base, ["/ping"], {}), "me": (server.base, ["/api/v1/me"], headers),
                "cases": (server.base, case_paths, headers)}
        rates: dict[str, list[float]] = {name: [] for name in runs}
        cpu_ms: dict[str, list[float]] = {name: [] for name in runs}
        latencies: list[float] = []
        for base, paths, extra in runs.values():  # warm-up: connections, prepared statements
            drive(base, paths, headers=extra, connections=clients, total=min(reads, 4 * clients * 10))
        for _ in range(READ_ROUNDS):
            for name, (base, paths, extra) in runs.items():
                workers = _worker_pids(base)
                cpu_before = _cpu_seconds(workers)
                got = drive(base, paths, headers=extra, connections=clients, total=reads)
                assert not got.failures, got.failures[:3]
                rates[name].append(got.rate)
                if workers:
                    cpu_ms[name].append((_cpu_seconds(workers) - cpu_before) * 1000 / got.requests)
                if name == "cases":
                    latencies += got.latencies
        rate = {name: statistics.median(values) for name, values in rates.items()}
        cpu = {name: f"{statistics.median(values):.1f}" if values else "?" for name, values in cpu_ms.items()}
        p99 = percentile(latencies, 0.99) * 1000
        table.add(f"API reads GET /cases/{{id}}, {clients} clients", f"{rate['cases']:.0f}/s, p99 {p99:.0f} ms",
                  f"client ceiling: reference /ping {rate['ping']:.0f}/s; /api/v1/me {rate['me']:.0f}/s "
                  f"({rate['me'] / rate['ping']:.2f}×) → {rate['cases'] / rate['ping']:.2f}× /ping",
                  f"≥ {READS_TARGET:.0f}/s", rate["cases"] >= READS_TARGET)
        table.add("… gunicorn worker CPU per request", f"/cases/{{id}} {cpu['cases']} ms; /api/v1/me {cpu['me']} ms",
                  f"reference /ping {cpu['ping']} ms", "", None)
        mixed = case_paths[:12] + ["/api/v1/cases?stage=in_handling", "/api/v1/cases?q=批复", "/api/v1/me",
                                   "/api/v1/cases?page=3"]
        done = drive(server.base, [requests.utils.requote_uri(path) for path in mixed], headers=headers,
                     connections=clients, total=1000)
        assert not done.failures, done.failures[:3]
        rss = _worker_rss(server.base)
        if rss:
            table.add("gunicorn worker RSS after 1,000 mixed requests", " / ".join(f"{r:.0f} MiB" for r in rss),
                      "after start: " + " / ".join(f"{r:.0f} MiB" for r in started_rss),
                      f"≤ {RSS_TARGET_MIB:.0f} MiB", max(rss) <= RSS_TARGET_MIB)
        # Registrations as well: a letter rendered in the web worker (WeasyPrint, fonts) is what grows it.
        register = ("/api/v1/cases", json.dumps(_body(0), ensure_ascii=False).encode())
        done = drive(server.base, [register], headers=headers, connections=clients, total=4 * clients)
        assert not done.failures, done.failures[:3]
        rss = _worker_rss(server.base)
        if rss:
            table.add(f"… and then {done.requests} registrations", " / ".join(f"{r:.0f} MiB" for r in rss), "",
                      f"≤ {RSS_TARGET_MIB:.0f} MiB", max(rss) <= RSS_TARGET_MIB)


def measure_ledger(url_base: str | None, rows: int, tmp: Path, table: Table) -> None:
    ledger = tmp / "ledger.csv"
    write_csv(ledger, rows)
    if url_base and url_base.startswith("postgresql"):
        url = dbmod.create_database(url_base, f"{make_url(url_base).database}_ledger")
    else:
        url = f"sqlite:///{tmp / 'ledger.sqlite3'}"
    try:
        dbmod.upgrade(url)
        engine = dbmod.make_engine(url)
        with dbmod.session_factory(engine)() as session:
            add_agency(session, "BENCH", "基准测试机关")
            session.commit()
        engine.dispose()
        started = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "gongkai"), "ledger", "import", str(ledger)],
                              env=checkout_env(url), capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout[-1000:], done.stderr[-2000:])
        table.add(f"ledger import, {rows} rows (.csv)", f"{seconds:.1f} s" + ("" if done.returncode == 0
                                                                              else " (FAILED)"), "",
                  f"≤ {LEDGER_TARGET_S:.0f} s (100k rows)", done.returncode == 0 and seconds <= LEDGER_TARGET_S)
    finally:
        if url.startswith("postgresql"):
            dbmod.drop_database(url)


def checkout_env(database_url: str) -> dict:
    """The environment of a `gongkai` subprocess that runs this checkout's code against `database_url`."""
    python_path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return {**os.environ, "GONGKAI_DATABASE_URL": database_url, "PYTHONPATH": python_path}


def empty_database(url_base: str | None, tmp: Path) -> str:
    """A database with only the benchmark agencies (for registration on an empty database)."""
    if url_base and url_base.startswith("postgresql"):
        url = make_url(url_base).set(database=f"{make_url(url_base).database}_empty").render_as_string(False)
        from_template(url, f"{make_url(url_base).database}_0_template",
                      lambda t: generate_url(t, 0, agencies=1, today=TODAY))
        dbmod.upgrade(url)
        return url
    url = f"sqlite:///{tmp / 'empty.sqlite3'}"
    generate_url(url, 0, agencies=1, today=TODAY)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000,
                        help="cases to generate (default small, for `make bench`; the README's figures: 100000 on "
                             "SQLite, 1000000 on PostgreSQL)")
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("GONGKAI_BENCH_DATABASE_URL"))
    parser.add_argument("--template", default=None, help="PostgreSQL template database (default: NAME_CASES_template)")
    parser.add_argument("--requests", type=int, default=40, help="requests per page")
    parser.add_argument("--registrations", type=int, default=64)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--reads", type=int, default=4000, help="API reads (and /ping, /me) per measurement")
    parser.add_argument("--worker-nice", type=int, default=None,
                        help="GONGKAI_WORKER_NICE of the background worker that renders receipts during registration "
                             "(how far below the web workers' its CPU priority is; default: the product's, 10; 0: "
                             "the same as the web workers)")
    parser.add_argument("--ledger-rows", type=int, default=100_000)
    parser.add_argument("--skip", default="", help="comma-separated: pages,report,http,reads,empty,ledger")
    parser.add_argument("--output", default=str(ROOT / "docs" / "bench" / "scale.md"))
    args = parser.parse_args()
    if args.cases < 1 and not args.template:
        # The pages and searches are measured on cases found in the data; registration on an empty database is
        # the `empty` step of every run.
        parser.error("--cases 至少为 1（空数据库上的登记由每次运行的 empty 一步测量）")
    skip = set(filter(None, args.skip.split(",")))
    table = Table()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = prepare_database(args.database_url, args.cases, args.agencies, tmp, args.template)
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        cases, agencies, size = data_size(url)
        found = samples(url)
        load = "/".join(f"{n:.1f}" for n in os.getloadavg())
        print(f"== {database}, {cases} cases in {agencies} agencies ({size}); load average {load}", flush=True)
        if "pages" not in skip:
            measure_pages(url, found, args.requests, table)
        if "report" not in skip:
            measure_report(url, found["agency_id"], table)
        if "http" not in skip:
            measure_http(url, found, args.clients, args.registrations, tmp, table, f"at {args.cases} cases",
                         args.worker_nice)
        if "reads" not in skip:
            measure_reads(url, found, args.clients, args.reads, tmp, table)
        if "empty" not in skip:
            measure_http(empty_database(args.database_url, tmp), {}, args.clients, args.registrations, tmp, table,
                         "empty database", args.worker_nice)
        if "ledger" not in skip:
            measure_ledger(args.database_url, args.ledger_rows, tmp, table)
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        # A database URL is shown as its dialect and database name only (it may hold a password).
        command = " ".join(["bench/bench_scale.py", *(a if "://" not in a else
                                                      f"{make_url(a).drivername}://…/{make_url(a).database}"
                                                      for a in sys.argv[1:])])
        out.write_text(f"# Scale benchmark: {database}, {cases} cases\n\n"
                       f"`.venv/bin/python {command}` on {date.today().isoformat()}: {database}, {cases} cases in "
                       f"{agencies} agencies ({size}); load average {load} at the start, "
                       f"{'/'.join(f'{n:.1f}' for n in os.getloadavg())} at the end, on {os.cpu_count()} cores "
                       f"shared with other work: compare the ratios, not the absolute times.\n\n"
                       f"{table.markdown()}\n", encoding="utf-8")
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
