"""The HTTP status each engine refusal answers with, for pages and the JSON API alike."""

from __future__ import annotations

from flask import g

from engine.errors import (
    GongkaiError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PeriodLocked,
    PermissionDenied,
    RuleViolation,
    StaleCase,
    WorkflowError,
)

ERROR_STATUS: dict[type[GongkaiError], int] = {
    NotFound: 404,
    PermissionDenied: 403,
    WorkflowError: 409,
    StaleCase: 409,
    PeriodLocked: 409,
    IntegrityFailure: 409,
    RuleViolation: 422,
    InvalidInput: 400,
}


def status_for(error: GongkaiError) -> int:
    for kind in type(error).__mro__:
        if kind in ERROR_STATUS:
            return ERROR_STATUS[kind]
    return 400


def show_next_to_field(refusal: GongkaiError) -> None:
    """A refusal that names its field (`details["field"]`), or several (`details["fields"]`: field → message), is
    shown beside each field when the form is re-shown."""
    details = refusal.details if isinstance(refusal.details, dict) else {}
    if isinstance(details.get("fields"), dict):
        g.field_errors = dict(details["fields"])
    elif details.get("field"):
        g.field_errors = {details["field"]: refusal.message}


def discard_work(session) -> None:
    """After a refusal: roll back what the request did so far; the request boundary then commits nothing."""
    session.rollback()
    g.db_rollback = True


RETRY_AFTER_SECONDS = 30


def database_unavailable(error: BaseException) -> bool:
    """Whether a database error means the server cannot be reached (an outage: 503, retry later) rather than a
    conflict between transactions (a lock timeout, a deadlock, a lost insert race: 409, retry now)."""
    if getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", error)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")
    if type(orig).__module__.startswith("psycopg"):
        return True  # psycopg gives no SQLSTATE when the server could not be reached at all
    return "unable to open database" in str(orig)
