"""An independently generated client: openapi-python-client builds a Python client from the served
/api/v1/openapi.json (offline, into a temporary directory, without a single warning), and that client — not our
own code — drives a request through its whole life against the app served by werkzeug on loopback: register,
accept, decide, record the exemption, confidentiality review, submit, review, sign, download the frozen PDF,
deliver, archive; the applicant's status lookup; idempotent replay and a problem answer parsed as ProblemOut."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine.persistence import db as dbmod
from tests.conftest import PASSWORD, TODAY
from tests.integration.api_harness import make_app, online_registration

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# The generator reads JSON bodies for application/json and +json; a PDF it takes as a file once told so.
CONFIG = "content_type_overrides:\n  application/pdf: application/octet-stream\n"
FACTS = "批复附件二载有被征收人的姓名、身份证号码和补偿金额，属于个人隐私，公开会损害其合法权益"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A migrated SQLite database with an agency that can sign, one user per role with a token each, served on
    an ephemeral loopback port."""
    from engine.persistence.audit import utcnow
    from engine.services.accounts import add_agency, add_department, add_user, create_token
    from engine.services.signing_keys import create_signing_key

    url = f"sqlite:///{tmp_path_factory.mktemp('client') / 'api.sqlite3'}"
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    session = dbmod.session_factory(engine)()
    agency = add_agency(session, "GEN", "生成客户端市人民政府办公室", letter_no_prefix="生政办公开",
                        review_body="生成客户端市人民政府", court="生成客户端市中级人民法院", contact="0571-12345678",
                        settings={"seal_placeholder": True})
    add_department(session, agency, "规划科")
    create_signing_key(session, agency, now=utcnow())
    tokens = {}
    for role in ("clerk", "handler", "legal_reviewer", "archivist"):
        user = add_user(session, agency, f"gen_{role}", PASSWORD, [role], display_name=f"{role} 用户")
        tokens[role] = create_token(session, user, "生成的客户端")
    session.commit()
    session.close()
    app = make_app(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", tokens
    finally:
        server.shutdown()
        thread.join(timeout=5)
        engine.dispose()


@pytest.fixture(scope="module")
def generated(served, tmp_path_factory):
    """The client package generated from the served document; the generator's full output must be warning-free."""
    base, _ = served
    where = tmp_path_factory.mktemp("generated")
    with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=30) as answer:  # noqa: S310 - loopback
        (where / "openapi.json").write_bytes(answer.read())
    (where / "config.yml").write_text(CONFIG)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([str(GENERATOR), "generate", "--path", str(where / "openapi.json"), "--output-path",
                          str(where / "gongkai_client"), "--meta", "none", "--config", str(where / "config.yml")],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("gongkai_client")
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == "gongkai_client" or m.startswith("gongkai_client.")]:
            del sys.modules[name]


def _op(package: str, name: str):
    return importlib.import_module(f"gongkai_client.api.{package}.{name}")


def test_the_generated_client_drives_a_request_from_registration_to_archive(served, generated):
    base, tokens = served
    models = importlib.import_module("gongkai_client.models")
    clients = {role: generated.AuthenticatedClient(base_url=base + "/api/v1", token=token, timeout=60)
               for role, token in tokens.items()}

    def act(role: str, case, action: str, **fields):
        module = _op("办理操作", f"action_{action}")
        body_model = module.sync_detailed.__annotations__["body"]
        body_model = getattr(models, body_model) if isinstance(body_model, str) else body_model
        answer = module.sync_detailed(case.id, client=clients[role],
                                      body=body_model.from_dict({"version": case.version, **fields}))
        assert answer.status_code == 200, (action, answer.content)
        return answer.parsed.case, answer.parsed.created

    registered = _op("申请", "register_request").sync_detailed(
        client=clients["clerk"], body=models.RegisterIn.from_dict(online_registration()), idempotency_key="gen-1")
    assert registered.status_code == 201
    case, query_code = registered.parsed.case, registered.parsed.query_code
    assert case.stage == "registered" and case.received_on == TODAY and case.updated_at.tzinfo is not None
    replay = _op("申请", "register_request").sync_detailed(
        client=clients["clerk"], body=models.RegisterIn.from_dict(online_registration()), idempotency_key="gen-1")
    assert replay.status_code == 201 and replay.parsed.case.id == case.id
    assert replay.headers["Idempotent-Replayed"] == "true"

    me = _op("机关", "whoami").sync(client=clients["clerk"])
    case, _ = act("clerk", case, "accept", department_id=me.departments[0].id, handler_id=me.handlers[0].id)
    item_id = case.items[0].id
    case, _ = act("handler", case, "record_decision", decisions=[{
        "item_id": item_id, "outcome": "PARTIAL", "reason": "批复正文予以公开，附件中的个人信息不予公开",
        "how_to_obtain": "随本答复书邮寄批复文件复印件（已作区分处理）"}])
    case, created = act("handler", case, "record_exemption", item_id=item_id, ground="WITHHELD_THIRD_PARTY",
                        facts=FACTS, scope="批复附件二第3—5页“被征收人名单”中的姓名、身份证号码和补偿金额栏",
                        no_consultation_reason="所涉为身份证号码等个人敏感信息，依法不应公开，无需征求意见",
                        public_interest="删除个人信息后的批复正文已足以满足公众监督需要")
    record_id = created["record_id"]
    case, _ = act("handler", case, "record_confidentiality_review", item_id=item_id,
                  conclusion="CLEARED_AFTER_REDACTION", basis="删除个人信息后不涉及国家秘密",
                  reviewed_on=TODAY.isoformat())
    case, _ = act("handler", case, "submit_for_review")
    assert case.stage == "in_review"

    stale = _op("办理操作", "action_sign").sync_detailed(
        case.id, client=clients["legal_reviewer"], body=models.ActionIn.from_dict({"version": case.version - 1}))
    assert stale.status_code == 409 and isinstance(stale.parsed, models.ProblemOut)
    assert stale.parsed.code == "stale" and stale.parsed.request_id == stale.headers["X-Request-Id"]

    case, _ = act("legal_reviewer", case, "review_exemption", record_id=record_id, confirm=True)
    case, created = act("legal_reviewer", case, "sign")
    assert case.stage == "signed"
    letter = next(x for x in case.letters if x.id == created["letter_id"])
    pdf = _op("申请", "download_letter").sync_detailed(case.id, letter.id, client=clients["clerk"])
    body = pdf.parsed.payload.read()
    assert pdf.status_code == 200 and body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == letter.sha256 == pdf.headers["X-Content-SHA256"]
    # download_url is relative to the API base: the client's own HTTP session resolves it.
    assert clients["clerk"].get_httpx_client().get(letter.download_url).content == body

    case, _ = act("clerk", case, "record_delivery", method="POST", delivered_on=TODAY.isoformat(),
                  tracking_no="EMS1234567890")
    assert case.stage == "replied" and case.report_outcome == "PARTIAL"
    case, _ = act("archivist", case, "archive")
    assert case.stage == "archived" and case.archive_no

    status = _op("申请人", "status_lookup").sync(
        client=generated.Client(base_url=base + "/api/v1"),
        body=models.StatusLookupIn.from_dict({"reg_no": case.reg_no, "query_code": query_code}))
    assert status.stage_label == "已归档"
    listed = _op("申请", "list_cases").sync(client=clients["clerk"], updated_since=case.updated_at)
    assert [c.id for c in listed.items] == [case.id] and listed.next_cursor is None
    json.dumps(case.to_dict())  # the parsed model round-trips to plain JSON
