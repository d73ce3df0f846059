"""What every API view needs: the request's database session, the token's user, today's date, the letter
renderer, and request bodies and query strings parsed by the models of schemas.py."""

from __future__ import annotations

import hashlib
import random
import time
from functools import wraps

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from engine.persistence.audit import utcnow
from engine.persistence.models import ApiToken, User
from engine.services.accounts import token_row
from webui import db, localtime
from webui.api.errors import ApiError, pointer, validation_problems

DEFAULT_MAX_BODY_BYTES = 256 * 1024
LAST_USED_EVERY_SECONDS = 300
LAST_USED_REMEMBERED = 10_000  # tokens whose last use this process remembers before it forgets the stale ones
TRANSIENT_ATTEMPTS = 4
# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back as a whole and
# running it again is the documented remedy.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})

_last_used: dict[str, float] = {}


def session() -> Session:
    return db.get_session()


def today():
    return localtime.today()


def actor() -> User:
    return g.api_user


def renderer(agency):
    from webui.letters_adapter import renderer_for

    return renderer_for(agency)


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200 or not token.isascii():
        raise ApiError(401, "缺少 API 令牌：请在请求头中提供 Authorization: Bearer <令牌>",
                       headers={"WWW-Authenticate": 'Bearer realm="gongkai"'})
    return token


def authenticate_token() -> None:
    """Bearer token → its user (role and agency); sessions and cookies never authenticate the API."""
    token = bearer_token()
    row = token_row(session(), token)
    if row is not None and row.personal_data and db.is_read_only():
        # Its reads write: each answer with personal data in full is an audited reveal (`shows_personal_data`),
        # kept only if the request's transaction commits.
        db.writable()
        row = token_row(session(), token)
    if row is None:
        raise ApiError(401, "API 令牌无效、已撤销或其用户已停用",
                       headers={"WWW-Authenticate": 'Bearer realm="gongkai", error="invalid_token"'})
    digest = hashlib.sha256(token.encode()).hexdigest()  # the rate limit per token: webui.limits
    g.api_user = row.user
    g.api_token_id = row.id
    g.api_scope = row.scope
    g.api_personal_data = row.personal_data
    _note_use(digest)
    enforce_scope()


# What a portal token may call besides the public operations (DESIGN §7: register online requests, look up status).
PORTAL_ENDPOINTS = frozenset({"api.register_request"})
SCOPE_REFUSALS = {
    "read": "只读令牌（scope=read）只能查询（GET），不能登记或办理",
    "portal": "门户令牌（scope=portal）只能登记网络申请（POST /cases）和查询办理进度（POST /public/status）",
}


def scope() -> str:
    return g.get("api_scope", "full")


def enforce_scope() -> None:
    """The token's scope before its user's roles: read = GET only, portal = registration only (403 `scope`)."""
    granted = scope()
    if granted == "full":
        return
    if granted == "read" and request.method in ("GET", "HEAD"):
        return
    if granted == "portal" and request.endpoint in PORTAL_ENDPOINTS:
        return
    raise ApiError(403, SCOPE_REFUSALS[granted], code="scope")


def shows_personal_data(case_id: int) -> bool:
    """Whether this answer may carry the case's ID number and phone in full: only for a token created with
    `--personal-data`, and each such answer is an audited `reveal_personal_data` event (个人信息保护法第51条)."""
    if not g.get("api_personal_data"):
        return False
    from engine.services import reveal_applicant

    reveal_applicant(session(), case_id, actor=actor(), today=today())
    g.db_commit_read = True  # a GET commits too, so the event is kept (webui.db)
    return True


def _note_use(digest: str) -> None:
    """Record when a token was last used (at most every few minutes, in its own short transaction)."""
    now = time.monotonic()
    if now - _last_used.get(digest, -LAST_USED_EVERY_SECONDS) < LAST_USED_EVERY_SECONDS:
        return
    if len(_last_used) >= LAST_USED_REMEMBERED:  # bounded: forget the tokens not seen within the interval
        for stale in [d for d, at in list(_last_used.items()) if now - at >= LAST_USED_EVERY_SECONDS]:
            _last_used.pop(stale, None)
    _last_used[digest] = now
    try:
        with db.get_engine().begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.token_hash == digest).values(last_used_at=utcnow()))
    except SQLAlchemyError:  # a busy database must not fail the request over a convenience field
        current_app.logger.warning("could not record API token use", exc_info=True)


def retry_transient(view):
    """Run a writing view again (fresh transaction, short random pause) when PostgreSQL aborted it as a
    deadlock victim or a serialization failure; the body is cached, so it is parsed again from the same bytes."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) not in TRANSIENT_SQLSTATES or attempt == TRANSIENT_ATTEMPTS:
                    raise
                session().rollback()
                current_app.logger.info("retrying %s after %s (attempt %d)", request.path, exc.orig, attempt)
                time.sleep(random.uniform(0.005, 0.03) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapped


def json_body(model: type[BaseModel]):
    """The request body validated by `model` (strict JSON types; unknown fields refused)."""
    if not request.mimetype or request.mimetype != "application/json":
        raise ApiError(415)
    raw = request.get_data(cache=True)
    return model.model_validate_json(raw or b"", strict=True)


def query_args(model: type[BaseModel]):
    """The query string validated by `model`; problems point at `/query/NAME`."""
    args = {}
    repeated = []
    for name in request.args:
        values = request.args.getlist(name)
        if len(values) > 1:
            repeated.append({"pointer": pointer("query", name), "detail": "只能给出一次"})
        args[name] = values[0]
    if repeated:
        raise ApiError(400, "请求数据无效：" + "；".join(p["pointer"] for p in repeated) + "：只能给出一次",
                       code="invalid", errors=repeated)
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        message, problems = validation_problems(exc, root=("query",))
        raise ApiError(400, message, code="invalid", errors=problems) from None
