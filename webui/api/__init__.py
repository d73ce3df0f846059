"""The JSON API under /api/v1 for portals and integrations (issue 6): token authentication, one pydantic model
per request body (also the source of the OpenAPI document), engine refusals as JSON."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.routing import PathConverter

from webui import db
from webui.api import errors
from webui.api.openapi import Operation, declare

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates", static_folder="static")
errors.register(bp)

# Reachable without a token: the applicant's status lookup (rate-limited per address) and the documentation.
PUBLIC_ENDPOINTS = frozenset({"api.status_lookup", "api.openapi_json", "api.docs", "api.static", "api.not_found"})


def endpoint(rule: str, op: Operation, **options):
    """Register a view under `rule` and document it as `op` (the OpenAPI document lists exactly these)."""
    declare(op)

    def decorate(view):
        bp.add_url_rule(rule, view.__name__, view, methods=[op.method], **options)
        return view

    return decorate


class AnyPath(PathConverter):
    """Like `path`, but also across control characters, so every URL under /api/v1 gets a JSON answer."""

    regex = r"[\s\S]*?"
    part_isolating = False


@bp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters.setdefault("api_any", AnyPath)


@bp.record_once
def _ensure_database(state) -> None:
    if "gongkai_db" not in state.app.extensions:  # a bare Flask app (tests, tools) gets the request session too
        db.init_app(state.app)


@bp.before_request
def _prepare():
    from webui.api import context

    request.max_content_length = int(_config("API_MAX_BODY_BYTES", context.DEFAULT_MAX_BODY_BYTES))
    if request.endpoint not in PUBLIC_ENDPOINTS:
        if request.method in ("GET", "HEAD"):
            db.read_only()  # a GET writes nothing, except a personal-data token's reveal (authenticate_token)
        context.authenticate_token()


def apply_limits(app, limiter) -> None:
    """The status lookup per client address; every other call per token (PUBLIC_ENDPOINTS aside)."""
    from webui import limits

    # Flask-Limiter checks a decorated view's limit when the view runs: this app serves the wrapped view.
    app.view_functions["api.status_lookup"] = limiter.limit(limits.lookup_limit, key_func=limits.client_address,
                                                            scope="lookup")(public.status_lookup)
    limiter.limit(limits.token_limit, key_func=limits.token_key, scope="token",
                  exempt_when=lambda: request.endpoint in PUBLIC_ENDPOINTS
                  or not request.headers.get("Authorization"))(bp)


def _config(key: str, default):
    from flask import current_app

    return current_app.config.get(key, default)


from webui.api import actions, cases, docs, exemption_log, me, public  # noqa: E402,F401  (routes register on import)
