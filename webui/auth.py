"""Login and logout (Flask-Login, argon2 via `engine.services.accounts.authenticate`), roles and the signed-in user."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from engine.errors import PermissionDenied
from engine.persistence.limits import MAX_ID
from engine.persistence.login_throttle import DatabaseThrottleStore, ThrottleStore
from engine.persistence.models import User
from engine.services.accounts import authenticate, log_out
from webui import db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "info"

# Endpoints reachable without a signed-in user; the JSON API authenticates by token on its own.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "notifications.unsubscribe", "notifications.unsubscribe_confirm"})
PUBLIC_BLUEPRINTS = frozenset({"api", "portal"})  # portal: the applicant's pages (DESIGN §7)


def throttle_store() -> ThrottleStore:
    """Where login failures are counted: the database by default; an app may configure another store (e.g. a
    shared Redis-backed one) as `app.extensions["gongkai_login_throttle"]`."""
    from flask import current_app

    return current_app.extensions.get("gongkai_login_throttle") or DatabaseThrottleStore(db.get_engine())


class SignedInUser(UserMixin):
    """The engine's `User` row as Flask-Login wants it; every other attribute is the row's own."""

    def __init__(self, row: User):
        self._row = row

    def __getattr__(self, name):
        return getattr(self._row, name)

    @property
    def row(self) -> User:
        return self._row

    def get_id(self) -> str:
        # The session generation travels with the id: logout, password reset, deactivation and role changes bump it,
        # and every cookie issued before no longer loads a user.
        return f"{self._row.id}.{self._row.session_generation or 0}"

    @property
    def is_active(self) -> bool:
        return bool(self._row.active)

    def has_role(self, role: str) -> bool:
        return self._row.has_role(role)

    def has_any_role(self, *roles: str) -> bool:
        return any(self._row.has_role(r) for r in roles)


@login_manager.user_loader
def load_user(user_id: str):
    try:
        raw_id, _, raw_generation = str(user_id).partition(".")
        wanted_id, generation = int(raw_id), int(raw_generation)
    except (TypeError, ValueError):
        return None
    if not 1 <= wanted_id <= MAX_ID:
        return None
    row = db.get_session().get(User, wanted_id)
    if row is None or not row.active or (row.session_generation or 0) != generation:
        return None
    return SignedInUser(row)


def require_login():
    """before_request: every page but the login page needs a signed-in user."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def requires_role(*roles: str):
    """The view answers 403 unless the user holds one of `roles` (the engine checks again on every action)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_any_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def safe_next(target: str | None) -> str | None:
    """A `next` that stays on this site: a relative path only (no scheme, host, `//` or backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("dashboard.index"))
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        session = db.get_session()
        try:
            row = authenticate(session, username, password, address=request.remote_addr,
                               throttle=throttle_store())
        except PermissionDenied as refusal:
            flash(refusal.message, "error")
            return render_template("auth/login.html", username=username, next_url=next_url), 401
        login_user(SignedInUser(row))
        return redirect(next_url or url_for("dashboard.index"))
    return render_template("auth/login.html", username="", next_url=next_url)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        log_out(db.get_session(), current_user.row)
    logout_user()
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))
