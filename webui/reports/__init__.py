"""Annual report, ledger upload and statistics pages (条例44、49–50)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates",
               static_folder="static", static_url_path="/static")

from webui.reports import views  # noqa: E402,F401  (registers the routes on bp)
