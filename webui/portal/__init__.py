"""The applicant's public pages (no login, DESIGN §7): 网上申请 `/apply` and 办件进度查询 `/progress` — with the
receipt, the public timeline, letters to download (the first download of an electronically delivered reply is its
送达), 补正 and 撤回. Every action is the clerk's engine use case, taken by the agency's system user."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("portal", __name__, template_folder="templates", static_folder="static",
               static_url_path="/public/static")

from webui.portal import views  # noqa: E402,F401  (registers the routes on bp)
