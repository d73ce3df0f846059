"""Property-based contract test: schemathesis generates requests from /api/v1/openapi.json and sends them to a
live server (werkzeug in a thread on 127.0.0.1, SQLite). No 5xx, no response outside the documented status
codes, media types, headers and schemas — for valid and for invalid requests (which must be refused with a 4xx),
with a fixed seed."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from engine.persistence import db as dbmod
from tests.conftest import PASSWORD, TODAY
from tests.integration.api_harness import make_app

# negative_data_rejection: a request that breaks the schema (type, enum, length, pattern, unknown field) is a 4xx.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
POSITIVE_EXAMPLES = 25
NEGATIVE_EXAMPLES = 15
SEED = 20261122


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    """A migrated SQLite database with an agency, a user holding every working role, a few cases in several
    stages, and the app served on an ephemeral port."""
    from engine.persistence.audit import utcnow
    from engine.services.accounts import add_agency, add_department, add_user, create_token
    from engine.services.signing_keys import create_signing_key
    from tests.integration import helpers_cases as walk

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'api.sqlite3'}"
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    session = dbmod.session_factory(engine)()
    # One user holds every working role, so the agency is a one-person office (separation of duties relaxed).
    agency = add_agency(session, "FUZZ", "模糊测试市人民政府办公室", letter_no_prefix="模政办公开",
                        review_body="模糊测试市人民政府", court="模糊测试市中级人民法院", contact="0571-12345678",
                        settings={"seal_placeholder": True, "one_person_office": True})
    add_department(session, agency, "规划科")
    create_signing_key(session, agency, now=utcnow())
    roles = ["clerk", "handler", "legal_reviewer", "office_head", "archivist"]
    everyone = add_user(session, agency, "fuzzer", PASSWORD, roles, display_name="全角色用户")
    token = create_token(session, everyone, "schemathesis")
    session.commit()
    users = dict.fromkeys(roles, everyone)
    for n in range(4):
        case, _ = walk.register(session, users, TODAY, name=f"申请人{n}")
        if n >= 1:
            walk.accept(session, users, case, TODAY)
        if n >= 2:
            walk.decide_partial(session, users, case, TODAY)
        if n >= 3:
            walk.review_and_sign(session, users, case, TODAY)
    session.close()

    app = make_app(url, API_LOOKUP_LIMIT_PER_MINUTE=100_000)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", token
    finally:
        server.shutdown()
        thread.join(timeout=5)
        engine.dispose()


def _exercise(operation, base_url: str, token: str, mode: GenerationMode, examples: int) -> int:
    sent = 0

    @seed(SEED)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal sent
        sent += 1
        case.call_and_validate(base_url=base_url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                               checks=CHECKS, timeout=30)

    run()
    return sent


def test_generated_requests_never_get_a_server_error_or_an_undocumented_answer(live_api):
    base_url, token = live_api
    schema = schemathesis.openapi.from_url(base_url + "/api/v1/openapi.json")
    sent = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        sent += _exercise(operation, base_url, token, GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
        sent += _exercise(operation, base_url, token, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
    print(f"schemathesis: {sent} generated requests over {len(operations)} operations")
    assert sent >= 1000
