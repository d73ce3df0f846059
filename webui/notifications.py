"""The digest's unsubscribe link: no login, it is followed from an e-mail (administrators switch it back on)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.config import load_settings
from engine.errors import InvalidInput
from engine.persistence.models import User
from engine.services import notifications
from webui import db

bp = Blueprint("notifications", __name__)


@bp.get("/notifications/unsubscribe")
def unsubscribe():
    """A confirmation page, not the change itself: mail scanners follow links, they do not press buttons."""
    token = request.args.get("token", "")
    user = _user_of(token)
    return render_template("notifications/unsubscribe.html", token=token, user=user, done=False)


@bp.post("/notifications/unsubscribe")
def unsubscribe_confirm():
    token = request.form.get("token", "")
    user = _user_of(token)
    notifications.set_digest(db.get_session(), user.id, False)
    return render_template("notifications/unsubscribe.html", token=token, user=user, done=True)


def _user_of(token: str):
    user_id = notifications.user_of_unsubscribe_token(load_settings(), token)
    user = db.get_session().get(User, user_id) if user_id else None
    if user is None:
        raise InvalidInput("退订链接无效或已损坏，请从最新的提醒邮件中重新打开")
    return user
