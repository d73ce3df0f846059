"""Annual report, ledger upload and statistics pages (条例44、49–50)."""

from __future__ import annotations

from flask import Blueprint

from webui.reports.exports import TEMPLATE_FILTERS, TEMPLATE_TESTS

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.record_once
def _register_template_helpers(state) -> None:
    """The report templates' filters and tests, shared with the PDF's own environment."""
    state.app.jinja_env.filters.update(TEMPLATE_FILTERS)
    state.app.jinja_env.tests.update(TEMPLATE_TESTS)


from webui.reports import views  # noqa: E402,F401  (registers the routes on bp)
