"""样稿 shown before an irreversible action: the letters an action would issue, rendered with draft=True from a
dry run that is rolled back, kept a short while for the confirmation page's frame and only for the user who asked.

The number a letter would get is never shown: it is taken only when the action is confirmed, so the 样稿 carries
「文号待出具时编定」 where the 文号 will stand (letters/templates/base.html).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g
from flask_login import current_user

KEEP_SECONDS = 3600

bp = Blueprint("drafts", __name__)


def _dir() -> Path:
    path = Path(current_app.config["DRAFT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def capturing(renderer, captured: list):
    """A renderer for a dry run: every letter rendered as a 样稿 without its number, and remembered."""

    def render(letter_type: str, data: dict, *, draft: bool = False, signing=None):
        # A 样稿 is never signed: the signing request (the agency's key) is not used in a dry run.
        pending = {**data, "doc_number": None} if "doc_number" in data else data
        rendered = renderer(letter_type, pending, draft=True)
        captured.append((letter_type, rendered.pdf))
        return rendered

    return render


def keep(pdf: bytes) -> str:
    """Store one 样稿 for the current user; returns the token its URL carries. Old ones are removed."""
    folder = _dir()
    now = time.time()
    for old in folder.glob("*.pdf"):
        try:
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(16)
    (folder / f"{current_user.id}-{token}.pdf").write_bytes(pdf)
    return token


@bp.get("/drafts/<token>.pdf")
def show(token: str):
    if not token.replace("-", "").replace("_", "").isalnum():
        abort(404)
    path = _dir() / f"{current_user.id}-{token}.pdf"
    if not path.is_file():
        abort(404)
    g.framable = True
    return Response(path.read_bytes(), mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename*=UTF-8''%E6%A0%B7%E7%A8%BF.pdf"})
