"""axe-core (tests/browser/package.json, installed by `scripts/install-system-deps.sh --with-browser`) on the main
pages of every role, with cases in each stage: no critical and no serious violation. Screenshots at 1400 px and
390 px go to the test's tmp dir, or to docs/img with GONGKAI_SCREENSHOTS=docs/img."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import services
from tests.browser.test_web_browser import DOCS_IMG, _sign_in, browser, served  # noqa: F401 - fixtures
from tests.conftest import TODAY
from tests.integration import helpers_cases as h

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def stages(session, users):
    """One case in each stage a role works on."""
    registered, _ = h.register(session, users, TODAY, name="陈静", id_number="",
                               items=[("2025年保障性租赁住房分配结果", "保障性住房")])
    handling, _ = h.register(session, users, TODAY, name="刘洋", id_number="", items=[("学区划分调整的会议纪要", "其他")])
    h.accept(session, users, handling, TODAY)
    review, _ = h.register(session, users, TODAY, name="某某律师事务所", id_number="", kind="LEGAL_SERVICE",
                           items=[("某地块征收补偿方案及批复", "城乡规划")])
    h.accept(session, users, review, TODAY)
    h.decide_partial(session, users, review, TODAY)
    services.submit_for_review(session, review.id, actor=users["handler"], today=TODAY)
    session.commit()
    replied, _ = h.register(session, users, TODAY, name="周建国", id_number="")
    h.accept(session, users, replied, TODAY)
    h.decide_disclosed(session, users, replied, TODAY)
    letter = h.review_and_sign(session, users, replied, TODAY)
    h.deliver(session, users, replied, letter, TODAY)
    session.commit()
    supplement, _ = h.register(session, users, TODAY, name="王芳", id_number="", items=[("某路段改造的环评批复", "其他")])
    services.request_supplement(session, supplement.id, items=["请写明所申请批复的文号"], renderer=h.render,
                                actor=users["clerk"], today=TODAY)
    fee, _ = h.register(session, users, TODAY, name="赵磊", id_number="", items=[("2020—2025年全部土地出让合同", "城乡规划")])
    h.accept(session, users, fee, TODAY)
    services.issue_fee_notice(session, fee.id, mode="PER_PAGE", units=150, renderer=h.render,
                              actor=users["handler"], today=TODAY)
    consulting, _ = h.register(session, users, TODAY, name="孙丽", id_number="", items=[("某企业的排污许可证副本", "其他")])
    h.accept(session, users, consulting, TODAY)
    services.open_consultation(session, consulting.id, kind="THIRD_PARTY", party_name="某某化工有限公司",
                               sent_on=TODAY, renderer=h.render, actor=users["handler"], today=TODAY)
    drafting, _ = h.register(session, users, TODAY, name="吴敏", id_number="", items=[("某项目的拆迁补偿名册", "城乡规划")])
    h.accept(session, users, drafting, TODAY)
    services.record_decision(session, drafting.id, decisions=[services.ItemDecision(
        item_id=drafting.items[0].id, outcome="PARTIAL", reason="名册中的汇总数据予以公开，个人信息不予公开",
        how_to_obtain="随本答复书邮寄")], actor=users["handler"], today=TODAY)
    session.commit()
    return {"registered": registered.id, "drafting": drafting.id, "drafting_item": drafting.items[0].id, "handling": handling.id, "review": review.id, "replied": replied.id,
            "reply_letter": letter.id, "supplement": supplement.id, "fee": fee.id, "consulting": consulting.id}


def _pages(c: dict) -> dict[str, list[str]]:
    return {
        "clerk": ["/", "/cases", "/cases?q=陈静", "/register", f"/cases/{c['registered']}",
                  f"/cases/{c['registered']}/do/accept", f"/cases/{c['registered']}/do/request_supplement",
                  f"/cases/{c['registered']}/do/withdraw", f"/cases/{c['replied']}/do/record_delivery",
                  f"/cases/{c['replied']}", f"/cases/{c['supplement']}/do/receive_supplement",
                  f"/cases/{c['supplement']}/do/close_lapsed", f"/cases/{c['fee']}/do/record_payment",
                  f"/cases/{c['replied']}/do/record_challenge", f"/cases/{c['consulting']}/do/record_delivery"],
        "handler": ["/", f"/cases/{c['handling']}", f"/cases/{c['handling']}/decide",
                    f"/cases/{c['handling']}/do/open_consultation", f"/cases/{c['handling']}/do/issue_fee_notice",
                    f"/cases/{c['consulting']}/do/record_consultation_answer",
                    f"/cases/{c['drafting']}/items/{c['drafting_item']}/exemption",
                    f"/cases/{c['drafting']}/items/{c['drafting_item']}/exemption?ground=WITHHELD_THIRD_PARTY"],
        "legal_reviewer": ["/", f"/cases/{c['review']}/review", "/exemptions",
                           f"/cases/{c['replied']}/letters/{c['reply_letter']}/correct",
                           f"/cases/{c['replied']}/do/record_challenge"],
        "office_head": ["/", "/reports/annual", f"/cases/{c['handling']}/do/extend"],
        "archivist": ["/", "/archive", "/archive/export", f"/cases/{c['replied']}/do/archive",
                      f"/cases/{c['replied']}/do/record_challenge"],
        "admin": ["/", "/admin", "/admin/users", "/admin/departments", "/admin/agency", "/admin/tokens",
                  "/admin/wording", "/admin/wording/reply", "/admin/jobs"],
    }


def _violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}});
        return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
            .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return result


def test_every_role_main_pages_have_no_serious_accessibility_violation(served, browser, stages, tmp_path):  # noqa: F811
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/install-system-deps.sh --with-browser)")
    app, base = served
    found = {}
    for role, urls in _pages(stages).items():
        page = _sign_in(browser, base, role, bypass_csp=True)  # axe is injected as a script tag
        for url in urls:
            response = page.goto(base + url)
            assert response.status == 200, (role, url, response.status)
            problems = _violations(page)
            if problems:
                found[f"{role} {url}"] = problems
        page.context.close()
    assert not found, json.dumps(found, ensure_ascii=False)


def test_pages_fit_a_phone_and_print_without_navigation(served, browser, stages, tmp_path):  # noqa: F811
    app, base = served
    shots = DOCS_IMG or tmp_path
    page = _sign_in(browser, base, "clerk")
    case_url = f"{base}/cases/{stages['replied']}"
    page.goto(case_url)
    page.screenshot(path=str(tmp_path / "case-1400.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    for url, name in ((f"{base}/", "dashboard-390.png"), (f"{base}/cases", "cases-390.png"), (case_url, "case-390.png")):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, (url, width)  # nothing pushes the page sideways; wide tables scroll inside
        page.screenshot(path=str((shots if name == "case-390.png" else tmp_path) / name), full_page=False)
    assert not page.is_visible("nav.mainnav")  # the header folds into a menu
    page.click("label.menu-button")
    assert page.is_visible("nav.mainnav")
    heights = page.eval_on_selector_all("nav.mainnav a", "links => links.map(a => a.getBoundingClientRect().height)")
    assert heights and max(heights) < 60  # one line per label, never a character per line
    page.screenshot(path=str(shots / "menu-390.png"))
    page.emulate_media(media="print")
    page.goto(case_url)
    assert not page.is_visible("header.topbar") and not page.is_visible(".casehead-actions")
    assert page.is_visible("#timeline") and page.is_visible(".casehead")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(case_url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link" and page.is_visible(".skip-link")
    assert page.is_visible("button[data-print]")
