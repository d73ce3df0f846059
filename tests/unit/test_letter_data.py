"""Letter data: JSON-like mappings become frozen dataclasses, and every missing or bad field is named."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from letters import LETTER_TYPES, LetterDataError, build_letter_data, render_html, sample_data
from letters.outcomes import OUTCOME_FAMILIES, is_withholding
from letters.remedies import build_remedies, is_review_first
from letters.render import cn_date, cn_ordinal
from letters.samples import letter_type_of

REVIEW_FIRST = ("如对本答复不服，应当自收到本答复之日起60日内先向江南市人民政府申请行政复议；"
                "对行政复议决定不服的，可以依法向人民法院提起行政诉讼。")
REVIEW_OR_SUIT = ("如对本答复不服，可以自收到本答复之日起60日内向江南市人民政府申请行政复议，"
                  "也可以自收到本答复之日起6个月内向江南市东城区人民法院提起行政诉讼。")


def reply() -> dict:
    return sample_data()["reply_mixed"]


def data_error(letter_type: str, data: dict) -> LetterDataError:
    with pytest.raises(LetterDataError) as caught:
        build_letter_data(letter_type, data)
    return caught.value


def test_every_sample_builds_into_the_frozen_dataclass_of_its_type():
    for name, data in sample_data().items():
        letter = build_letter_data(letter_type_of(name), data)
        assert isinstance(letter, LETTER_TYPES[letter_type_of(name)].data_class)
        with pytest.raises(dataclasses.FrozenInstanceError):
            letter.recipient = "别人"


def test_the_samples_cover_every_type_every_outcome_family_and_a_mixed_reply():
    names = set(sample_data())
    assert set(LETTER_TYPES) <= names
    assert {f"reply_{family}" for family in OUTCOME_FAMILIES} | {"reply_mixed"} <= names
    outcomes = {item["outcome"] for name, data in sample_data().items() if name.startswith("reply")
                for item in data["items"]}
    assert outcomes == {code for codes in OUTCOME_FAMILIES.values() for code in codes}


def test_dates_in_iso_strings_become_dates_and_money_becomes_decimal():
    fee = build_letter_data("fee_notice", sample_data()["fee_notice"])
    assert fee.issued_on == date(2026, 11, 12)
    # 109号第四条: the 35th application of the month is billed at the 31–40 tier, ¥200 — not the month's ¥3,000.
    assert fee.amount_yuan == Decimal("200.00")
    assert fee.tiers[0].subtotal_yuan == Decimal("200.00")


def test_a_missing_item_basis_is_named_with_its_index():
    data = reply()
    del data["items"][2]["basis"]
    error = data_error("reply", data)
    assert error.field == "items[2].basis"
    assert str(error) == "字段 items[2].basis 缺失"


@pytest.mark.parametrize("field", ["recipient", "issued_on", "remedies", "agency_name", "items"])
def test_a_reply_without_recipient_date_remedies_or_items_does_not_build(field):
    data = reply()
    del data[field]
    assert data_error("reply", data).field == field


def test_a_blank_string_counts_as_missing():
    data = reply()
    data["recipient"] = "   "
    assert str(data_error("reply", data)) == "字段 recipient 缺失"


def test_a_missing_review_body_is_named_inside_remedies():
    data = reply()
    del data["remedies"]["review_body"]
    assert str(data_error("reply", data)) == "字段 remedies.review_body 缺失"


def test_an_ill_typed_date_is_named_with_the_expected_format():
    data = reply()
    data["issued_on"] = "2026/11/21"
    assert str(data_error("reply", data)) == "字段 issued_on 应为日期（YYYY-MM-DD）"


def test_an_unknown_outcome_code_is_refused_with_the_allowed_values():
    data = reply()
    data["items"][0]["outcome"] = "LAPSED_FEE"
    error = data_error("reply", data)
    assert error.field == "items[0].outcome"
    assert "不在允许范围内" in str(error)


def test_an_unknown_field_is_refused_so_typos_do_not_vanish():
    data = reply()
    data["recipent"] = "张三"
    assert str(data_error("reply", data)) == "字段 recipent 不是本文书的数据项"


def test_a_float_amount_of_money_is_refused():
    data = sample_data()["fee_notice"]
    data["amount_yuan"] = 3000.0
    assert data_error("fee_notice", data).field == "amount_yuan"


def test_an_amount_that_does_not_equal_the_tier_subtotals_is_refused():
    data = sample_data()["fee_notice"]
    data["amount_yuan"] = "2900.00"
    assert str(data_error("fee_notice", data)) == "字段 amount_yuan 与各档小计之和不符"


def test_a_tier_whose_subtotal_is_not_quantity_times_price_is_refused():
    data = sample_data()["fee_notice"]
    data["tiers"][0]["subtotal_yuan"] = "190.00"
    data["amount_yuan"] = "190.00"
    assert data_error("fee_notice", data).field == "tiers[0].subtotal_yuan"


@pytest.mark.parametrize("doc_number", ["江自然资公开〔2026〕037号", "江自然资公开[2026]37号",
                                        "江自然资公开〔2026〕第37号", "江自然资公开(2026)37号"])
def test_a_doc_number_against_gb_t_9704_is_refused(doc_number):
    data = reply()
    data["doc_number"] = doc_number
    assert data_error("reply", data).field == "doc_number"


def test_a_receipt_needs_no_doc_number():
    data = sample_data()["receipt"]
    assert "doc_number" not in data
    assert build_letter_data("receipt", data).doc_number is None


@pytest.mark.parametrize(("outcome", "field"), [
    ("DISCLOSED", "how_to_obtain"), ("ALREADY_PUBLIC", "how_to_obtain"), ("PARTIAL", "withheld_scope"),
    ("NOT_HELD", "search_record"), ("REPEAT", "earlier_reply_number")])
def test_an_outcome_without_its_required_detail_is_refused(outcome, field):
    data = sample_data()[f"reply_{next(f for f, codes in OUTCOME_FAMILIES.items() if outcome in codes)}"]
    index = next(i for i, item in enumerate(data["items"]) if item["outcome"] == outcome)
    del data["items"][index][field]
    error = data_error("reply", data)
    assert error.field == f"items[{index}].{field}"
    assert outcome in str(error)


def test_a_referral_agency_without_its_contact_is_refused():
    data = sample_data()["reply_unable"]
    del data["items"][1]["referral_contact"]
    assert data_error("reply", data).field == "items[1].referral_contact"


def test_online_delivery_without_an_online_review_channel_is_refused():
    data = reply()
    del data["remedies"]["online_review_channel"]
    error = data_error("reply", data)
    assert error.field == "remedies.online_review_channel"
    assert "行政复议法第二十二条" in str(error)


def test_half_width_brackets_in_a_citation_become_full_width():
    data = sample_data()["reply"]
    data["items"][0]["basis"] = "《中华人民共和国政府信息公开条例》第三十六条第(二)项"
    letter = build_letter_data("reply", data)
    assert letter.items[0].basis == "《中华人民共和国政府信息公开条例》第三十六条第（二）项"


def test_an_extension_beyond_twenty_working_days_is_refused():
    data = sample_data()["extension_notice"]
    data["extension_working_days"] = 21
    assert data_error("extension_notice", data).field == "extension_working_days"


def test_a_lapsed_supplement_termination_needs_the_supplement_notice_number():
    data = sample_data()["termination_notice"]
    del data["earlier_notice_number"]
    assert data_error("termination_notice", data).field == "earlier_notice_number"


def test_a_withdrawal_termination_needs_no_basis():
    data = sample_data()["termination_notice"]
    data.update(reason_code="OTHER", detail="你于2026年11月20日书面撤回申请")
    for field in ("basis", "earlier_notice_number", "deadline_on"):
        del data[field]
    assert build_letter_data("termination_notice", data).reason_code == "OTHER"


def test_an_unknown_letter_type_is_named():
    error = data_error("reply_letter", reply())
    assert error.field == "letter_type"
    assert "未知的文书类型：reply_letter" in str(error)


def test_any_withholding_item_makes_review_mandatory_first():
    assert is_review_first(["DISCLOSED", "WITHHELD_PROCESS"])
    assert is_review_first(["PARTIAL"])
    assert not is_review_first(["DISCLOSED", "NOT_HELD", "SPECIAL_REGIME", "REPEAT"])
    assert [code for codes in OUTCOME_FAMILIES.values() for code in codes if is_withholding(code)] == [
        "PARTIAL", "WITHHELD_STATE_SECRET", "WITHHELD_LAW_PROHIBITED", "WITHHELD_SECURITY",
        "WITHHELD_THIRD_PARTY", "WITHHELD_INTERNAL", "WITHHELD_PROCESS", "WITHHELD_ENFORCEMENT_FILE"]


def test_the_remedies_for_a_withholding_reply_require_review_first_with_the_review_body():
    sentences = build_remedies(outcomes=["PARTIAL", "WITHHELD_PROCESS"], review_body="江南市人民政府",
                               court="江南市东城区人民法院", online_delivery=False, online_review_channel=None)
    assert sentences == (REVIEW_FIRST,)


def test_a_mixed_reply_words_remedies_per_item_naming_the_items_by_number():
    # 行政复议法第23条第1款(四) covers only what is withheld; the other items may go to court directly.
    sentences = build_remedies(outcomes=["DISCLOSED", "PARTIAL", "NOT_HELD", "WITHHELD_THIRD_PARTY"],
                               review_body="江南市人民政府", court="江南市东城区人民法院", online_delivery=False,
                               online_review_channel=None)
    assert sentences == (
        "对本答复第二项、第四项不服的，应当自收到本答复之日起60日内先向江南市人民政府申请行政复议；"
        "对行政复议决定不服的，可以依法向人民法院提起行政诉讼。",
        "对本答复第一项、第三项不服的，可以自收到本答复之日起60日内向江南市人民政府申请行政复议，"
        "也可以自收到本答复之日起6个月内向江南市东城区人民法院提起行政诉讼。")


def test_an_agency_may_word_more_outcomes_as_review_first_where_the_law_is_unsettled():
    sentences = build_remedies(outcomes=["DISCLOSED", "NOT_HELD"], review_body="江南市人民政府",
                               court="江南市东城区人民法院", online_delivery=False, online_review_channel=None,
                               review_first_also=["NOT_HELD"])
    assert sentences[0].startswith("对本答复第二项不服的，应当")
    assert sentences[1].startswith("对本答复第一项不服的，可以")


def test_special_regime_is_one_rule_in_the_engine_and_the_letters():
    from engine.rules.outcomes import OUTCOMES, REPLY_CODES

    assert {code for code in REPLY_CODES if OUTCOMES[code].withholds} == {
        code for code in REPLY_CODES if is_withholding(code)}
    assert not OUTCOMES["SPECIAL_REGIME"].withholds and not is_withholding("SPECIAL_REGIME")


def test_the_remedies_for_a_disclosure_offer_review_or_suit_with_court():
    sentences = build_remedies(outcomes=["DISCLOSED"], review_body="江南市人民政府",
                               court="江南市东城区人民法院", online_delivery=False, online_review_channel=None)
    assert sentences == (REVIEW_OR_SUIT,)


def test_online_delivery_adds_the_online_review_channel():
    sentences = build_remedies(outcomes=["NOT_HELD"], review_body="江南市人民政府", court="江南市东城区人民法院",
                               online_delivery=True, online_review_channel="江南市人民政府网站“行政复议”栏目")
    assert sentences[0] == REVIEW_OR_SUIT
    assert sentences[1] == "本答复通过互联网渠道送达，你（单位）可以通过江南市人民政府网站“行政复议”栏目在线提交行政复议申请。"


def test_dates_are_written_in_arabic_numerals_without_leading_zeros():
    assert cn_date(date(2026, 1, 5)) == "2026年1月5日"
    assert [cn_ordinal(n) for n in (1, 9, 10, 11, 20, 23)] == ["一", "九", "十", "十一", "二十", "二十三"]


def test_case_data_is_escaped_in_the_html():
    data = sample_data()["reply"]
    data["recipient"] = '<img src="file:///etc/passwd">'
    html = render_html("reply", data)
    assert '<img src="file:///etc/passwd">' not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;：" in html


def test_the_template_version_names_the_type_and_is_stable():
    reply_version = LETTER_TYPES["reply"].version
    assert reply_version.startswith("reply@") and len(reply_version) == len("reply@") + 12
    assert reply_version == LETTER_TYPES["reply"].version
    assert len({spec.version.split("@")[1] for spec in LETTER_TYPES.values()}) == len(LETTER_TYPES)
