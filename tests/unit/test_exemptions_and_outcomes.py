"""Minimal exemption: what each ground must record; and the case's single report outcome."""

from __future__ import annotations

import pytest

from engine.rules.exemptions import GROUND_ARTICLES, ExemptionDraft, missing_elements
from engine.rules.outcomes import OUTCOMES, REPORT_ROWS, case_report_outcome, outcome_by_code_or_label

FACTS = "投标文件中含有该企业的成本构成和技术参数，公开会损害其竞争地位"


def _complete(ground, **extra):
    base = dict(ground=ground, article=GROUND_ARTICLES[ground], facts=FACTS, scope="投标文件第二卷第1—20页",
                severability="技术标全部为商业秘密，删除后无可提供内容")
    base.update(extra)
    return ExemptionDraft(**base)


def test_a_third_party_refusal_needs_the_consultation_and_the_public_interest_assessment():
    missing = missing_elements(_complete("WITHHELD_THIRD_PARTY"), "WITHHELD_THIRD_PARTY")
    assert any("征求第三方意见" in m for m in missing)
    assert any("公共利益" in m for m in missing)
    ok = _complete("WITHHELD_THIRD_PARTY", consultation_answered=True, public_interest="合同金额已公开，不影响公共利益")
    assert missing_elements(ok, "WITHHELD_THIRD_PARTY") == []


def test_a_law_prohibited_refusal_names_the_law_and_its_article():
    assert any("具体法律" in m for m in missing_elements(_complete("WITHHELD_LAW_PROHIBITED"), "WITHHELD_LAW_PROHIBITED"))
    ok = _complete("WITHHELD_LAW_PROHIBITED", law_citation="《中华人民共和国税收征收管理法》第八条")
    assert missing_elements(ok, "WITHHELD_LAW_PROHIBITED") == []


def test_a_state_secret_refusal_states_the_classification_basis():
    assert any("定密依据" in m for m in missing_elements(_complete("WITHHELD_STATE_SECRET"), "WITHHELD_STATE_SECRET"))


@pytest.mark.parametrize("ground", ["WITHHELD_INTERNAL", "WITHHELD_PROCESS", "WITHHELD_ENFORCEMENT_FILE"])
def test_a_discretionary_refusal_explains_why_withholding_is_warranted(ground):
    assert any("裁量理由" in m for m in missing_elements(_complete(ground), ground))
    assert missing_elements(_complete(ground, discretion_reason="无规定要求公开，且公开会影响内部决策"), ground) == []


def test_withholding_a_whole_item_needs_the_severability_assessment():
    draft = _complete("WITHHELD_SECURITY", severability="")
    assert any("区分处理" in m for m in missing_elements(draft, "WITHHELD_SECURITY"))


def test_a_reason_that_only_copies_the_article_is_refused():
    draft = _complete("WITHHELD_INTERNAL", facts="行政机关的内部事务信息，包括人事管理、后勤管理、内部工作流程等方面的信息",
                      discretion_reason="内部事务")
    assert any("照抄条文" in m for m in missing_elements(draft, "WITHHELD_INTERNAL"))


def test_not_held_needs_the_search_record():
    draft = ExemptionDraft(ground="NOT_HELD", article=GROUND_ARTICLES["NOT_HELD"], facts=FACTS)
    assert any("检索记录" in m for m in missing_elements(draft, "NOT_HELD"))


def test_a_part_withheld_under_partial_must_cite_an_exemption_of_articles_14_to_16():
    draft = _complete("SPECIAL_REGIME", whole_item=False, law_citation="不动产登记暂行条例第27条")
    assert any("第十四至十六条" in m for m in missing_elements(draft, "PARTIAL"))


def test_a_ground_that_differs_from_the_items_outcome_is_refused():
    assert any("不一致" in m for m in missing_elements(_complete("WITHHELD_INTERNAL"), "WITHHELD_PROCESS"))


@pytest.mark.parametrize(("items", "primary", "expected"), [
    (["DISCLOSED"], 0, "DISCLOSED"),
    (["DISCLOSED", "WITHHELD_PROCESS"], 0, "PARTIAL"),
    # SPECIAL_REGIME withholds nothing (条例36(七) points to another procedure): no 区分处理, the primary item counts
    (["ALREADY_PUBLIC", "SPECIAL_REGIME"], 0, "ALREADY_PUBLIC"),
    (["ALREADY_PUBLIC", "SPECIAL_REGIME"], 1, "SPECIAL_REGIME"),
    (["NOT_HELD", "PARTIAL"], 0, "PARTIAL"),
    (["NOT_HELD", "NOT_HELD"], 1, "NOT_HELD"),
    (["NOT_HELD", "PETITION"], 0, "NOT_HELD"),
    (["NOT_HELD", "PETITION"], 1, "PETITION"),
    (["WITHHELD_PROCESS", "NOT_RESPONSIBLE"], 1, "NOT_RESPONSIBLE"),
])
def test_a_case_has_one_report_outcome(items, primary, expected):
    assert case_report_outcome(items, primary) == expected


def test_every_outcome_maps_to_one_result_row_and_is_found_by_code_or_label():
    assert len(OUTCOMES) == 23
    for code, outcome in OUTCOMES.items():
        assert outcome.report_row in REPORT_ROWS
        assert outcome_by_code_or_label(code.lower()) is outcome
        assert outcome_by_code_or_label(outcome.label) is outcome
    assert outcome_by_code_or_label("随便") is None


def test_labels_are_found_whatever_quotes_or_brackets_are_typed():
    assert outcome_by_code_or_label('危及"三安全一稳定"').code == "WITHHELD_SECURITY"
    assert outcome_by_code_or_label("危及“三安全一稳定”").code == "WITHHELD_SECURITY"
    assert outcome_by_code_or_label("部分公开(区分处理)").code == "PARTIAL"


def test_outcome_labels_and_rows_are_those_of_the_design_table():
    import re
    from pathlib import Path

    design = Path(__file__).resolve().parents[3] / "shared" / "DESIGN.md"
    if not design.exists():
        import pytest

        pytest.skip("shared/DESIGN.md is not beside the checkout")
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| .*? \| (\w+) \|$", design.read_text(encoding="utf-8"), re.M)
    listed = {code: (label, row) for code, label, row in rows if code in OUTCOMES}
    assert len(listed) == 23
    # The design writes "三安全一稳定" with ASCII quotes; labels people read use Chinese quotation marks (issue 13).
    assert listed == {code: (o.label.replace("“", '"').replace("”", '"'), o.report_row) for code, o in OUTCOMES.items()}


def test_the_report_row_labels_are_verbatim_from_the_legal_reference():
    import re
    from pathlib import Path

    from engine.services.reports import ROW_LABELS

    ref = Path(__file__).resolve().parents[3] / "shared" / "reference" / "legal-reference.md"
    if not ref.exists():
        import pytest

        pytest.skip("shared/reference is not beside the checkout")
    rows = dict(re.findall(r"^\| ROW_(\w+) \| (.+?) \|$", ref.read_text(encoding="utf-8"), re.M))
    assert len(rows) == 25
    # The reference writes "三安全一稳定" with ASCII quotes; the published table uses Chinese quotation marks.
    assert {k: ROW_LABELS[k].replace("“", '"').replace("”", '"') for k in rows} == rows
