"""What keeps the public pages usable by people and costly for bots, without third-party services: a honeypot
field, a minimum fill time carried in a signed timestamp, rate limits per address and per ID number (Flask-Limiter's
store: Redis when configured), and the applicant's case session — the case id, a fingerprint of its current
查询码 hash (a renewed code ends the session) and an expiry, in the signed session cookie; never the code itself."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.rules.similarity import normalize_id_number
from webui import limits

HONEYPOT_FIELD = "homepage"
DEFAULT_MIN_FILL_SECONDS = 5
DEFAULT_APPLY_LIMIT_PER_HOUR = 10
DEFAULT_APPLY_LIMIT_PER_ID_PER_DAY = 5
DEFAULT_SESSION_MINUTES = 30
FORM_MAX_AGE_SECONDS = 24 * 3600
_CASE_KEY = "portal_case"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="gongkai-portal-form")


def form_started_token(at: float | None = None) -> str:
    """The signed moment the form was first shown (kept through the confirmation page)."""
    return _serializer().dumps({"t": time.time() if at is None else at})


def fill_time_problem(token: str) -> str | None:
    """Why the form's timing is not a person's: sent too fast, or the timestamp missing, forged or a day old."""
    try:
        started = float(_serializer().loads(token or "", max_age=FORM_MAX_AGE_SECONDS)["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return "表单已过期，请核对内容后重新提交"
    minimum = float(current_app.config.get("PORTAL_MIN_FILL_SECONDS", DEFAULT_MIN_FILL_SECONDS))
    if time.time() - started < minimum:
        return "提交过快，请核对填写的内容后再提交"
    return None


def honeypot_filled() -> bool:
    """The field people never see (hidden by the style sheet) has a value: a form-filling robot."""
    return bool((request.form.get(HONEYPOT_FIELD) or "").strip())


def apply_limit_wait(id_number: str) -> int | None:
    """Seconds to wait when this address or this ID number has submitted too many requests, else None."""
    per_ip = int(current_app.config.get("PORTAL_APPLY_LIMIT_PER_HOUR", DEFAULT_APPLY_LIMIT_PER_HOUR))
    wait = limits.over_limit("portal-apply-ip", f"{per_ip}/hour", limits.client_address())
    normalized = normalize_id_number(id_number)
    if wait is None and normalized:
        per_id = int(current_app.config.get("PORTAL_APPLY_LIMIT_PER_ID_PER_DAY", DEFAULT_APPLY_LIMIT_PER_ID_PER_DAY))
        # The counter store sees a digest, never the ID number.
        wait = limits.over_limit("portal-apply-id", f"{per_id}/day", hashlib.sha256(normalized.encode()).hexdigest())
    return wait


def lookup_limit_wait() -> int | None:
    """The progress lookup counts like the API's status lookup (API_LOOKUP_LIMIT_PER_MINUTE per address)."""
    return limits.over_limit("portal-lookup", limits.lookup_limit(), limits.client_address())


def review_limit_wait() -> int | None:
    """The confirmation page looks for the applicant's earlier requests: counted like a lookup, per address."""
    return limits.over_limit("portal-review", limits.lookup_limit(), limits.client_address())


def _fingerprint(query_code_hash: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (query_code_hash or "").encode(), hashlib.sha256).hexdigest()[:32]


def sign_in_to_case(case) -> None:
    minutes = int(current_app.config.get("PORTAL_SESSION_MINUTES", DEFAULT_SESSION_MINUTES))
    session[_CASE_KEY] = {"id": case.id, "until": int(time.time()) + minutes * 60,
                          "code": _fingerprint(case.query_code_hash)}


def signed_in_case_id() -> int | None:
    value = session.get(_CASE_KEY)
    if not isinstance(value, dict) or not isinstance(value.get("id"), int):
        return None
    if int(value.get("until", 0)) < time.time():
        session.pop(_CASE_KEY, None)
        return None
    return value["id"]


def still_valid_for(case) -> bool:
    """The session's case still has the 查询码 it was opened with."""
    value = session.get(_CASE_KEY) or {}
    return hmac.compare_digest(str(value.get("code", "")), _fingerprint(case.query_code_hash))


def sign_out() -> None:
    session.pop(_CASE_KEY, None)
