"""One database session per request, bound to the app's engine; committed once after a successful POST."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine.persistence.db import make_engine, session_factory

_EXTENSION_KEY = "gongkai_db"


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory; close (and roll back) the session after each request."""
    url = app.config.get("DATABASE_URL")
    if not url:
        from engine.config import load_settings

        url = load_settings().database_url
        app.config["DATABASE_URL"] = url
    engine = app.config.get("DATABASE_ENGINE") or make_engine(url)
    app.extensions[_EXTENSION_KEY] = (engine, session_factory(engine))
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions[_EXTENSION_KEY][0]


def get_session() -> Session:
    """The request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_EXTENSION_KEY][1]()
    return g.db_session


def commit() -> None:
    """Commit the request's work now (the request boundary does this; login failures need it early)."""
    if "db_session" in g:
        g.db_session.commit()


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if session.in_transaction():
            session.rollback()
    finally:
        session.close()


def commit_successful_writes(response):
    """after_request: a POST that ended in a success or a redirect commits; anything else rolls back (a read that
    wrote an audit event, e.g. personal data shown in full, sets `g.db_commit_read`)."""
    from flask import request

    session = g.get("db_session")
    if session is None:
        return response
    writes = request.method in ("POST", "PUT", "PATCH", "DELETE") or g.get("db_commit_read")
    if writes and response.status_code < 400 and not g.get("db_rollback"):
        session.commit()
    else:
        session.rollback()
    return response
