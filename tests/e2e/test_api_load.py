"""16 concurrent clients against gunicorn (2 workers) + PostgreSQL: registrations get unique, gap-free numbers;
concurrent actions on one case never lose an update (every success is exactly one version step and one audit
event); every refusal is a clean 409. Needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from engine.persistence.models import AuditEvent, Case, Department
from engine.services.accounts import add_department, create_token
from tests.conftest import PG_URL, TODAY
from tests.gunicorn_server import gunicorn_server
from tests.integration.api_harness import online_registration

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")]

THREADS = 16
REGISTRATIONS_PER_THREAD = 8
ASSIGNMENTS_PER_THREAD = 4
CLEAN_REFUSALS = {"stale", "workflow", "conflict"}


@pytest.fixture
def gunicorn(db_url, tmp_path):
    settings = {"GONGKAI_TODAY": TODAY.isoformat(), "API_RATE_LIMIT_PER_TOKEN": 1_000_000}
    with gunicorn_server(db_url, tmp_path, app=f"webui.app:create_app({settings!r})",
                         ready_path="/api/v1/openapi.json", secret="load-test",
                         options=("--workers", "2", "--threads", "8", "--log-level", "warning")) as server:
        yield server.base + "/api/v1"
    assert "Traceback" not in server.log(), server.log()


def _client(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def _refusal(response) -> str:
    assert response.status_code == 409, (response.status_code, response.text)
    code = response.json()["code"]
    assert code in CLEAN_REFUSALS, response.text
    return code


def test_sixteen_clients_register_and_advance_cases_without_lost_updates_or_duplicate_numbers(
        gunicorn, session, agency, users):
    clerk_token = create_token(session, users["clerk"])
    head_token = create_token(session, users["office_head"])
    second = add_department(session, agency, "征收科")
    session.commit()
    first = session.scalar(select(Department.id).where(Department.agency_id == agency.id, Department.name == "规划科"))
    departments = [first, second.id]

    conflicts: list[str] = []

    def until_accepted(http: requests.Session, url: str, body: dict, expected: int):
        # A deadlock victim or a lock timeout comes back as a clean 409 "conflict": the client simply retries.
        while True:
            response = http.post(url, json=body, timeout=60)
            if response.status_code == expected:
                return response.json()
            assert _refusal(response) == "conflict", response.text
            conflicts.append(url)

    def register_and_accept(n: int) -> list[int]:
        http = _client(clerk_token)
        case_ids = []
        for k in range(REGISTRATIONS_PER_THREAD):
            body = online_registration(applicant={"kind": "NATURAL", "name": f"申请人{n}-{k}", "phone": "13800000000"})
            case = until_accepted(http, gunicorn + "/cases", body, 201)["case"]
            until_accepted(http, f"{gunicorn}/cases/{case['id']}/actions/accept",
                           {"version": case["version"], "department_id": departments[0]}, 200)
            case_ids.append(case["id"])
        return case_ids

    with ThreadPoolExecutor(THREADS) as pool:
        registered = [cid for ids in pool.map(register_and_accept, range(THREADS)) for cid in ids]
    total = THREADS * REGISTRATIONS_PER_THREAD
    assert len(set(registered)) == total
    session.expire_all()
    numbers = session.execute(select(Case.reg_no, Case.reg_seq).where(Case.agency_id == agency.id)).all()
    assert len({reg_no for reg_no, _ in numbers}) == total
    assert sorted(seq for _, seq in numbers) == list(range(1, total + 1))  # unique and gap-free

    # All clients now fight over one case: each re-reads and retries after a 409 until it has made its changes.
    target = registered[0]
    refusals: list[str] = []
    based_on: list[int] = []

    def reassign(n: int) -> int:
        http = _client(head_token)
        done = 0
        while done < ASSIGNMENTS_PER_THREAD:
            version = http.get(f"{gunicorn}/cases/{target}", timeout=60).json()["version"]
            response = http.post(f"{gunicorn}/cases/{target}/actions/assign",
                                 json={"version": version, "department_id": departments[(n + done) % 2]}, timeout=60)
            if response.status_code == 200:
                based_on.append(version)
                done += 1
            else:
                refusals.append(_refusal(response))
        return done

    with ThreadPoolExecutor(THREADS) as pool:
        successes = sum(pool.map(reassign, range(THREADS)))
    session.expire_all()
    assert successes == THREADS * ASSIGNMENTS_PER_THREAD
    # No lost update: no two successful writes started from the same version, and each left one audit event.
    assert len(set(based_on)) == successes
    assigned_events = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == target, AuditEvent.action == "assign"))
    assert assigned_events == successes
    assert session.get(Case, target).version > max(based_on)
    assert refusals, "the clients never collided; the test proved nothing about concurrency"
    print(f"load: {total} registrations, {len(conflicts)} retried conflicts, {successes} contended writes, "
          f"{len(refusals)} clean refusals ({', '.join(sorted(set(refusals)))})")

    # The same stale version sent by everyone at once: exactly one wins.
    version = _client(clerk_token).get(f"{gunicorn}/cases/{target}", timeout=60).json()["version"]

    def withdraw(_n: int) -> int:
        response = _client(clerk_token).post(f"{gunicorn}/cases/{target}/actions/withdraw",
                                             json={"version": version, "reason": "申请人书面撤回"}, timeout=60)
        if response.status_code == 200:
            return 1
        _refusal(response)
        return 0

    with ThreadPoolExecutor(THREADS) as pool:
        assert sum(pool.map(withdraw, range(THREADS))) == 1
    assert re.fullmatch(r"依申请〔2026〕\d+号", numbers[0][0])
