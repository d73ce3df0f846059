"""The Flask application factory: blueprints per area, CSRF, login, security headers, engine errors → pages."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, current_app, flash, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.routing import IntegerConverter

from engine.errors import GongkaiError
from webui import db
from webui.refusals import RETRY_AFTER_SECONDS, database_unavailable, status_for

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
csrf = CSRFProtect()



def _secret_key(var_dir: Path) -> str:
    """GONGKAI_SECRET_KEY, or one generated once under var/ and shared by every worker on this machine."""
    from engine.config import load_settings

    configured = load_settings().secret_key
    if configured:
        return configured
    path = var_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        key = secrets.token_hex(32)
        fh.write(key)
    return key


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """The signed cookie session for the pages; the API gets an empty one that is never saved (Flask's null
    session): tokens authenticate it and it keeps nothing between calls (DESIGN §7), so a call neither checks the
    cookie's signature nor writes one — a twentieth of a case read's CPU."""

    API_PREFIX = "/api/"

    def open_session(self, app, request):
        if request.path.startswith(self.API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


class BoundedInt(IntegerConverter):
    """An <int:…> that only matches 0 … 2³¹-1 by its pattern (a converter that raised instead would stop
    werkzeug's matcher, so the API's catch-all could not answer in JSON)."""

    regex = (r"\d{1,9}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}|214748[0-2]\d{3}"
             r"|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7]")


def create_app(config: dict | None = None) -> Flask:
    """Build the web application; `config` overrides (tests pass DATABASE_URL, TESTING, GONGKAI_TODAY)."""
    from engine.config import load_settings

    app = Flask(__name__)
    # Every <int:…> in a URL is a database id or a year: beyond 32 bits it cannot exist, so it does not match (404)
    # instead of reaching PostgreSQL as an out-of-range integer.
    app.url_map.converters["int"] = BoundedInt
    settings = load_settings()
    production = os.environ.get("GONGKAI_PRODUCTION", "") not in ("", "0") or bool(settings.extra.get("production"))
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="gongkai_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        PRODUCTION=production,
        WTF_CSRF_TIME_LIMIT=None,  # a form left open over lunch must still submit; the session bounds it
        SEAL_DIR=str(settings.var_dir / "seals"),
        DRAFT_DIR=str(settings.var_dir / "drafts"),  # 样稿 shown on confirmation pages, kept one hour
        JSON_AS_ASCII=False,
    )
    # Anything under [web] in gongkai.toml, e.g. API_RATE_LIMIT_PER_TOKEN = 600 or PROXY_FIX_HOPS = 1.
    app.config.update({key.upper(): value for key, value in settings.extra.get("web", {}).items()})
    app.config.update(config or {})
    if app.config.get("PROXY_FIX_HOPS"):
        # Behind N trusted reverse proxies: client address and scheme from X-Forwarded-* (the per-IP
        # rate limit of the public status lookup depends on it).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["PRODUCTION"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(settings.var_dir)
    app.json.ensure_ascii = False

    app.session_interface = PagesOnlySessionInterface()
    db.init_app(app)
    csrf.init_app(app)
    from webui import auth

    auth.login_manager.init_app(app)
    app.before_request(auth.require_login)
    app.after_request(db.commit_successful_writes)
    app.after_request(_security_headers)

    from webui import (
        admin,
        api,
        archive,
        archive_export,
        background,
        cases,
        dashboard,
        drafting,
        drafts,
        handling,
        intake,
        jobs,
        legal_review,
        limits,
        notifications,
        portal,
        reports,
        signatures,
    )
    from webui.presentation import register_filters

    for blueprint in (auth.bp, dashboard.bp, cases.bp, intake.bp, handling.bp, drafting.bp, drafts.bp, legal_review.bp,
                      archive.bp, archive_export.bp, reports.bp, admin.bp, jobs.bp, signatures.bp, notifications.bp,
                      api.bp, portal.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # token-authenticated; sessions do not authenticate the API
    background.configure()  # jobs committed by a request go to Redis when it is configured
    api.apply_limits(app, limits.init_app(app))
    register_filters(app)
    _register_error_pages(app)
    return app


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'self'; frame-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors {ancestors}")


def _security_headers(response):
    """CSP without inline script, nosniff, no framing except the same-origin PDF preview, no referrer leaks."""
    framable = bool(g.get("framable"))
    # The framed PDF preview gets only frame-ancestors: a document CSP on a PDF can stop the browser's viewer.
    csp = "frame-ancestors 'self'" if framable else CSP.format(ancestors="'none'")
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if framable else "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("PRODUCTION"):
        # Production is served over HTTPS only (README); browsers must not fall back to plain HTTP.
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(GongkaiError)
    def engine_refusal(error: GongkaiError):
        if request.blueprint == "portal":  # the applicant's refusal is shown once, on the public page
            return render_template(_error_template(), status=status_for(error), message=error.message), \
                status_for(error)
        flash(error.message, "error")
        return render_template("error.html", status=status_for(error), message=error.message), status_for(error)

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError):
        if not database_unavailable(error):
            raise error
        app.logger.error("database unavailable: %s", error.orig)
        page = render_template(_error_template(), status=503, message="数据库暂时无法连接，请稍后重试（您的输入未保存）")
        return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.errorhandler(CSRFError)
    def csrf_refused(error):
        message = "表单已过期或来源无效，请刷新页面后重新提交"
        return render_template(_error_template(), status=400, message=message), 400

    messages = {400: "请求无效", 403: "您没有执行此操作的权限", 404: "页面不存在或您无权查看",
                405: "不支持该请求方式", 413: "上传的文件过大（不超过 20 MB）", 500: "系统内部错误，请联系管理员"}
    for status, message in messages.items():
        app.register_error_handler(status, _error_page(status, message))


def _error_template() -> str:
    """The public pages have their own layout (no staff navigation, no login link)."""
    return "portal/error.html" if request.blueprint == "portal" else "error.html"


def _error_page(status: int, message: str):
    def handler(error):
        return render_template(_error_template(), status=status, message=message), status

    return handler
