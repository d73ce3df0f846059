"""The HTTP status each engine refusal answers with, for pages and the JSON API alike."""

from __future__ import annotations

from flask import g

from engine.errors import (
    GongkaiError,
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
    RuleViolation: 422,
    InvalidInput: 400,
}


def status_for(error: GongkaiError) -> int:
    for kind in type(error).__mro__:
        if kind in ERROR_STATUS:
            return ERROR_STATUS[kind]
    return 400


def discard_work(session) -> None:
    """After a refusal: roll back what the request did so far; the request boundary then commits nothing."""
    session.rollback()
    g.db_rollback = True
