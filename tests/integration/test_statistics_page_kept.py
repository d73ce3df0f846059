"""The statistics page keeps its tables while the agency's audit chain stands still: after any action they are
computed again, and a kept page is always the page computed afresh."""

from __future__ import annotations

import re

from tests.conftest import TODAY
from tests.integration.test_web_support import logged_in, web_app  # noqa: F401
from webui.reports import views

from .helpers_cases import register


def _page(browser) -> str:
    """The statistics page, its per-request CSRF token left out (the token carries the second it was made, so two
    requests a second apart differ there and only there)."""
    html = browser.get(f"/reports/statistics?year={TODAY.year}").get_data(as_text=True)
    return re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1"', html)


def _fresh(browser) -> str:
    views._statistics_pages.clear()
    return _page(browser)


def test_a_kept_statistics_page_is_the_page_computed_afresh(web_app, session, users):  # noqa: F811
    register(session, users, TODAY, name="张三", id_number="")  # the agency's chain has begun
    browser = logged_in(web_app, "office_head")
    first = _fresh(browser)
    assert _page(browser) == first == _fresh(browser)  # kept while nothing happened
    kept = dict(views._statistics_pages)
    assert kept and all(head[0] > 0 for head, _calendar, _tables in kept.values())
    register(session, users, TODAY, name="李四", id_number="", items=[("幸福小区房屋征收补偿方案", "房屋征收")])
    after = _page(browser)
    assert after != first  # one more application this month: the page was computed again
    assert after == _fresh(browser)
