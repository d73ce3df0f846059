"""案卷导出 pages (条例45 归档): export one case file or a whole year in the background, add 备考 notes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("archive_export", __name__, template_folder="templates")

from webui.archive_export import views  # noqa: E402,F401  (registers the routes on bp)
