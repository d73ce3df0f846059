"""`Idempotency-Key` on every write (POST /cases and each action): the same key and the same body within 24 hours
get the first answer again (status, body, Location) without running the action twice; the same key with another
body is a 422. The key's row is inserted first, in the request's own transaction, under a unique (token, key)
constraint: a concurrent duplicate waits on that insert until the first commits, then replays its answer — so
two requests with one key never both run. A refused first request rolls back and leaves its key unused."""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import timedelta
from functools import wraps

from flask import Response, current_app, g, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from engine.persistence.audit import utcnow
from engine.persistence.models import IdempotencyKey
from webui import db
from webui.api.errors import ApiError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 200
KEY_PATTERN = re.compile(r"^[!-~]{1,200}\Z")
PRUNE_EVERY_SECONDS = 600

_last_pruned = [-PRUNE_EVERY_SECONDS]


def request_hash() -> str:
    """Method, path and body (JSON compared by content, not by spacing or key order)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        body = raw
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise ApiError(400, f"Idempotency-Key 须为 1 至 {MAX_KEY_LENGTH} 个可打印 ASCII 字符、不含空格（建议用 UUID）",
                       errors=[{"pointer": "/headers/Idempotency-Key", "detail": "格式无效"}])
    return key


def _replay(row: IdempotencyKey, digest: str) -> Response:
    if row.request_hash != digest:
        raise ApiError(422, "该 Idempotency-Key 已用于内容不同的请求；新的请求请使用新的键", code="idempotency_mismatch")
    response = Response(row.response_body, status=row.status_code, content_type=row.content_type)
    if row.location:
        response.headers["Location"] = row.location
    response.headers[REPLAYED_HEADER] = "true"
    return response


def prune_expired(now=None) -> int:
    """Delete the answers older than 24 hours (in a short transaction of its own); returns how many."""
    cutoff = (now or utcnow()) - KEEP
    with db.get_engine().begin() as conn:
        return conn.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount or 0


def _prune_now_and_then() -> None:
    if time.monotonic() - _last_pruned[0] < PRUNE_EVERY_SECONDS:
        return
    _last_pruned[0] = time.monotonic()
    try:
        prune_expired()
    except SQLAlchemyError:  # housekeeping must not fail a request
        current_app.logger.warning("could not prune expired idempotency keys", exc_info=True)


def idempotent(view):
    """Wrap a writing view: answer a repeated key from its stored first answer, else run and store the answer."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        from webui.api import context

        key = _key()
        if key is None:
            return view(*args, **kwargs)
        _prune_now_and_then()
        session, token_id, digest = context.session(), g.api_token_id, request_hash()
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key,
                                                     IdempotencyKey.created_at < utcnow() - KEEP))
        first = session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token_id,
                                                            IdempotencyKey.key == key))
        if first is not None:
            return _replay(first, digest)
        row = IdempotencyKey(token_id=token_id, key=key, request_hash=digest, created_at=utcnow())
        session.add(row)
        try:
            session.flush()  # a concurrent duplicate waits here until the first commits (or rolls back)
        except IntegrityError:
            session.rollback()
            first = session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token_id,
                                                                IdempotencyKey.key == key))
            if first is None or first.status_code is None:
                raise ApiError(409, "同一 Idempotency-Key 的请求正在处理，请稍后重试",
                               code="idempotency_in_progress") from None
            return _replay(first, digest)
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:  # a refusal rolls back at the request boundary, the key with it
            row.status_code = response.status_code
            row.response_body = response.get_data()
            row.content_type = response.content_type or ""
            row.location = response.headers.get("Location", "")[:300]
            session.flush()
        return response

    return wrapped
