"""Webhooks (推送): an integrator's endpoint receives every stage change, letter issued and delivery recorded of
the agency's cases as a signed JSON POST.

- The subscriber runs inside the action (`case_events`): it writes one `WebhookDelivery` row per matching active
  endpoint, with the exact body to send, and enqueues a job for it — an outbox, so a rolled-back dry run or a
  refused action sends nothing.
- The job POSTs the body (no transaction is open while it waits for the network) with the header
  `Gongkai-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; anything but a 2xx answer
  within the timeout is a failed attempt, retried with exponential backoff (`retry_after`, see `jobs`).
  Delivery is at least once: a receiver deduplicates by the event's `id` (also in `Gongkai-Event-Id`).
- SSRF: only `http`/`https` URLs with a host and no user name are accepted, redirects are never followed, and
  the answer's body is not read beyond 64 KB nor shown. Endpoints are set by the agency's administrators only;
  intranet addresses stay allowed because integrators usually sit in the government network.
- The payload names the case by id, 登记编号 and stage only — never the applicant.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session, object_session

from engine.errors import InvalidInput, NotFound
from engine.persistence.audit import jsonable, record_event, utcnow
from engine.persistence.db import session_factory
from engine.persistence.direct_read import flush_unwritten
from engine.persistence.models import Agency, Job, WebhookDelivery, WebhookEndpoint
from engine.rules.text_input import has_control_characters
from engine.services.case_events import CaseEvent, prepares, subscribe
from engine.services.jobs import JobContext, JobOutput, enqueue, job_kind

EVENT_TYPES = {
    "case.stage_changed": "案件阶段变化",
    "letter.issued": "文书印发",
    "delivery.recorded": "送达登记",
}
SIGNATURE_HEADER = "Gongkai-Signature"
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 3600
MAX_URL_LENGTH = 500
MAX_RESPONSE_BYTES = 64 * 1024
JOB_KIND = "webhook_delivery"


class WebhookFailed(Exception):
    """One attempt did not get a 2xx answer (the job is retried with backoff)."""


# ---------------------------------------------------------------- signing (documented in README, "Webhooks")

def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of `Gongkai-Signature`: `t=<timestamp>,v1=<hex HMAC-SHA256 over "<timestamp>." + body>`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(header: str, body: bytes, secret: str, *, now: float | None = None,
                     tolerance_seconds: int = 300) -> bool:
    """What a receiver does: recompute v1 over the raw body and refuse stale timestamps (replays)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def backoff_seconds(failed_attempt: int) -> float:
    """30 s, 1 min, 2 min … doubling up to an hour (`GONGKAI_WEBHOOK_RETRY_SECONDS` sets the first wait)."""
    base = float(os.environ.get("GONGKAI_WEBHOOK_RETRY_SECONDS", "30"))
    return min(base * 2 ** (failed_attempt - 1), MAX_BACKOFF_SECONDS)


def timeout_seconds() -> float:
    return float(os.environ.get("GONGKAI_WEBHOOK_TIMEOUT_SECONDS", "10"))


# ---------------------------------------------------------------- endpoints (administrators)

def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials; anything else is refused (SSRF)."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput("请填写接收地址", details={"field": "url"})
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"接收地址不能超过 {MAX_URL_LENGTH} 个字符", details={"field": "url"})
    if has_control_characters(url, multiline=False) or any(ch.isspace() for ch in url):
        raise InvalidInput("接收地址不能包含空格或控制字符", details={"field": "url"})
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("接收地址只能是 http:// 或 https:// 开头的网址", details={"field": "url"})
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput("接收地址的端口号无效", details={"field": "url"}) from None
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        raise InvalidInput("接收地址缺少主机名", details={"field": "url"})
    if parts.username or parts.password:
        raise InvalidInput("接收地址不能包含用户名或密码（请用签名密钥验证来源）", details={"field": "url"})
    if parts.fragment:
        raise InvalidInput("接收地址不能包含 # 片段", details={"field": "url"})
    return url


def _check_events(events) -> list[str]:
    chosen = sorted({e for e in events if e})
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise InvalidInput("未知的事件类型：" + "、".join(unknown), details={"field": "events"})
    if not chosen:
        raise InvalidInput("请至少选择一种事件", details={"field": "events"})
    return chosen


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def mask_secret(secret: str) -> str:
    return secret[:8] + "…" + secret[-4:] if len(secret) > 12 else "…"


def add_endpoint(session: Session, agency: Agency, *, url: str, events, description: str = "",
                 actor=None) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (shown to the administrator once, then masked)."""
    description = (description or "").strip()
    if len(description) > 200:
        raise InvalidInput("说明不能超过 200 个字符", details={"field": "description"})
    if has_control_characters(description, multiline=False):
        raise InvalidInput("说明不能包含控制字符", details={"field": "description"})
    endpoint = WebhookEndpoint(agency_id=agency.id, url=check_url(url), secret=new_secret(),
                               events=_check_events(events), description=description, active=True,
                               created_by_id=getattr(actor, "id", None), created_at=utcnow())
    session.add(endpoint)
    session.flush()
    record_event(session, agency_id=agency.id, action="add_webhook", actor=actor,
                 changes={"endpoint_id": endpoint.id, "url": endpoint.url, "events": endpoint.events})
    return endpoint


def endpoint_of_agency(session: Session, agency_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.agency_id != agency_id:
        raise NotFound("没有找到该推送地址")
    return endpoint


def set_active(session: Session, agency_id: int, endpoint_id: int, active: bool, *, actor=None) -> WebhookEndpoint:
    endpoint = endpoint_of_agency(session, agency_id, endpoint_id)
    if endpoint.active != active:
        endpoint.active = active
        session.flush()
        record_event(session, agency_id=agency_id, action="enable_webhook" if active else "disable_webhook",
                     actor=actor, changes={"endpoint_id": endpoint.id, "url": endpoint.url})
    return endpoint


def rotate_secret(session: Session, agency_id: int, endpoint_id: int, *, actor=None) -> WebhookEndpoint:
    endpoint = endpoint_of_agency(session, agency_id, endpoint_id)
    endpoint.secret = new_secret()
    session.flush()
    record_event(session, agency_id=agency_id, action="rotate_webhook_secret", actor=actor,
                 changes={"endpoint_id": endpoint.id, "url": endpoint.url})
    return endpoint


def endpoints(session: Session, agency_id: int) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.agency_id == agency_id)
                                .order_by(WebhookEndpoint.id)))


def delivery_log(session: Session, endpoint: WebhookEndpoint, *, limit: int = 100) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


def resend(session: Session, agency_id: int, delivery_id: int, *, actor=None) -> WebhookDelivery:
    """再次发送: the same body (same event id) once more, now; a retry still waiting for its backoff is replaced."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("没有找到该推送记录")
    endpoint = endpoint_of_agency(session, agency_id, delivery.endpoint_id)
    if not endpoint.active:
        raise InvalidInput("该推送地址已停用，请先启用")
    if delivery.job_id is not None:
        session.execute(update(Job).where(Job.id == delivery.job_id, Job.state == "queued")
                        .values(state="failed", finished_at=utcnow(), error="已由“再次发送”取代"))
    delivery.status = "pending"
    job = enqueue(session, JOB_KIND, agency_id=agency_id, requested_by=getattr(actor, "username", "") or "",
                  delivery_id=delivery.id)
    delivery.job_id = job.id
    session.flush()
    record_event(session, agency_id=agency_id, action="resend_webhook", actor=actor,
                 changes={"endpoint_id": endpoint.id, "delivery_id": delivery.id, "event_id": delivery.event_id,
                          "event_type": delivery.event_type})
    return delivery


# ---------------------------------------------------------------- the subscriber (inside the action)

def event_payloads(agency: Agency, event: CaseEvent, *, occurred_at: datetime) -> list[dict]:
    """The webhook events one case event makes: a stage change, a letter issued, a delivery recorded."""
    case = event.case
    base = {"occurred_at": occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "agency": {"code": agency.code, "name": agency.name},
            "case": {"id": case.id, "reg_no": case.reg_no,
                     "stage": {"before": event.stage_before, "after": event.stage_after}},
            "action": event.action}
    found = []
    if event.stage_before != event.stage_after:
        found.append({"type": "case.stage_changed", **base})
    # A letter rendered after its action's commit is announced when its bytes are frozen (its hash is known).
    if event.action in ("issue_letter", "render_letter") and event.letter is not None and event.letter.sha256:
        letter = event.letter
        found.append({"type": "letter.issued", **base,
                      "letter": {"id": letter.id, "type": letter.letter_type, "doc_number": letter.doc_number,
                                 "issued_on": jsonable(letter.issued_on), "sha256": letter.sha256}})
    if event.action == "record_delivery":
        changes = event.changes
        found.append({"type": "delivery.recorded", **base,
                      "delivery": {"letter_id": changes.get("letter_id"), "method": changes.get("method"),
                                   "delivered_on": jsonable(changes.get("delivered_on")),
                                   "returned": bool(changes.get("returned"))}})
    return found


class Target(NamedTuple):
    """An active endpoint as an event needs it: where its deliveries go, and the event types it takes."""

    id: int
    events: list[str]


# The agency's active endpoints as this transaction read them: (transaction, {agency id: targets}).
_TARGETS = "gongkai_webhook_targets"
_ENDPOINTS = WebhookEndpoint.__table__
# A Core query (`direct_read`): every registration asks and most agencies have no endpoint; loading nothing
# through the ORM cost a twentieth of the request.
_ACTIVE_TARGETS = (select(_ENDPOINTS.c.id, _ENDPOINTS.c.events)
                   .where(_ENDPOINTS.c.agency_id == bindparam("agency_id"), _ENDPOINTS.c.active.is_(True))
                   .order_by(_ENDPOINTS.c.id))


def _targets(session: Session, agency_id: int) -> list[Target]:
    """The agency's active endpoints, read once per transaction: an action announces up to three events (a
    registration two stage changes), each told while the agency's chain head is locked. An endpoint the session
    writes (added, switched, deleted: `_forget_targets`) or has yet to write makes the next event read them again;
    one it has yet to write is written first, as the ORM's autoflush would before a query."""
    flush_unwritten(session, (WebhookEndpoint,))  # before the cache is checked: the flush may invalidate it
    transaction = session.get_transaction()
    known = session.info.get(_TARGETS)
    if known is None or known[0] is not transaction:
        known = session.info[_TARGETS] = (transaction, {})
    if agency_id not in known[1]:
        rows = session.connection().execute(_ACTIVE_TARGETS, {"agency_id": agency_id})  # flushed above
        known[1][agency_id] = [Target(row.id, list(row.events or [])) for row in rows]
    return known[1][agency_id]


@event.listens_for(WebhookEndpoint, "after_insert")
@event.listens_for(WebhookEndpoint, "after_update")
@event.listens_for(WebhookEndpoint, "after_delete")
def _forget_targets(_mapper, _connection, endpoint: WebhookEndpoint) -> None:
    session = object_session(endpoint)
    if session is not None:
        session.info.pop(_TARGETS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_targets_rolled_back(session: Session, _previous) -> None:
    """A rollback (a savepoint's too) may have undone an endpoint the transaction wrote after reading them."""
    session.info.pop(_TARGETS, None)


@prepares
def read_targets_early(session: Session, event: CaseEvent) -> None:
    """The endpoints an event will be announced to, read before it is told (`case_events.prepare`)."""
    agency = session.get(Agency, event.case.agency_id)
    if event_payloads(agency, event, occurred_at=utcnow()):
        _targets(session, event.case.agency_id)


@subscribe
def on_case_event(session: Session, event: CaseEvent) -> None:
    agency = session.get(Agency, event.case.agency_id)
    payloads = event_payloads(agency, event, occurred_at=utcnow())
    if not payloads:  # most events announce nothing: the endpoints are not read for them
        return
    targets = _targets(session, event.case.agency_id)
    if not targets:
        return
    for payload in payloads:
        payload = {"id": "evt_" + uuid.uuid4().hex, **payload}
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        for endpoint in targets:
            if payload["type"] not in endpoint.events:
                continue
            delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=payload["id"], event_type=payload["type"],
                                       case_id=event.case.id, body=body, status="pending", attempts=0,
                                       last_error="", created_at=utcnow())
            session.add(delivery)
            session.flush()
            delivery.job_id = enqueue(session, JOB_KIND, agency_id=agency.id, requested_by="webhooks",
                                      delivery_id=delivery.id).id


# ---------------------------------------------------------------- sending (the job)

@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, secret: str, body: str, *, event_id: str, event_type: str, timeout: float) -> Answer:
    """One POST, no redirects followed; the answer's status, or why there was none."""
    parts = urlsplit(url)
    data = body.encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Gongkai-Webhooks/1",
               SIGNATURE_HEADER: sign(secret, int(time.time()), data), "Gongkai-Event-Id": event_id,
               "Gongkai-Event-Type": event_type}
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=data,
                           headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
    except TimeoutError:
        return Answer(None, f"超时：{timeout:g} 秒内没有应答")
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"连接失败：{type(error).__name__} {error}"[:500])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Answer(response.status, "")
    return Answer(response.status, f"接收方应答 HTTP {response.status}")


@job_kind(JOB_KIND, "推送事件", max_attempts=MAX_ATTEMPTS, retry_after=backoff_seconds)
def deliver(ctx: JobContext) -> JobOutput:
    """Send one delivery; the attempt is logged on the delivery whatever its outcome, then a failure raises so
    that the job is retried after its backoff (after the last attempt the delivery stays 发送失败)."""
    delivery_id = int(ctx.args["delivery_id"])
    with session_factory(ctx.engine)() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if delivery.status == "delivered":
            return JobOutput({"message": "已送达，无需再发"})
        if not endpoint.active:
            return _log_attempt(ctx, delivery_id, Answer(None, "推送地址已停用，未发送"), final=True)
        url, secret, body = endpoint.url, endpoint.secret, delivery.body
        event_id, event_type = delivery.event_id, delivery.event_type
    answer = post(url, secret, body, event_id=event_id, event_type=event_type, timeout=timeout_seconds())
    output = _log_attempt(ctx, delivery_id, answer, final=ctx.attempt >= MAX_ATTEMPTS)
    if not answer.ok:
        raise WebhookFailed(answer.error)
    return output


def _log_attempt(ctx: JobContext, delivery_id: int, answer: Answer, *, final: bool) -> JobOutput:
    with ctx.transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        now = utcnow()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = answer.status
        delivery.last_error = answer.error
        if answer.ok:
            delivery.status, delivery.delivered_at = "delivered", now
        else:
            delivery.status = "failed" if final else "retrying"
    return JobOutput({"status": answer.status, "message": "已送达" if answer.ok else answer.error})
