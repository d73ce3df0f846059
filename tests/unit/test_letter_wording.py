"""Slots of every letter type (letters.wording): defaults are today's wording, placeholders fill from the letter's
data, and anything that is not plain text with known placeholders is refused naming the slot."""

from __future__ import annotations

import re

import pytest

from letters import LETTER_TYPES, LetterDataError, render_html, sample_data, wording
from letters.wording_preview import check, preview_text

TYPES = sorted(LETTER_TYPES)
# The value each placeholder takes on the sample letter of its type (the sample data of letters/samples.py).
SAMPLE = sample_data()
EXPECTED_VALUE = {
    "机关名称": lambda d: d["agency_name"], "收件人": lambda d: d["recipient"], "申请人": lambda d: d["recipient"],
    "登记编号": lambda d: d["registration_number"], "联系方式": lambda d: d["contact"],
    "联系电话": lambda d: d["contact_phone"], "文号": lambda d: d["doc_number"], "申请渠道": lambda d: d["channel"],
    "收到日期": lambda d: _cn(d["received_on"]), "成文日期": lambda d: _cn(d["issued_on"]),
}


def _cn(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


def _with(letter_type: str, slots: dict) -> dict:
    return {**SAMPLE[letter_type], "wording": {"version": 3, "slots": slots}}


def _body_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html.partition("<body")[2])


@pytest.mark.parametrize("letter_type", TYPES)
def test_the_default_wording_renders_exactly_the_letter_without_a_version(letter_type):
    plain = render_html(letter_type, SAMPLE[letter_type])
    assert render_html(letter_type, _with(letter_type, wording.default_slots(letter_type))) == plain
    assert set(wording.default_slots(letter_type)) == {slot.name for slot in wording.slots(letter_type)}


@pytest.mark.parametrize("letter_type", TYPES)
def test_every_slot_of_every_type_prints_the_agency_wording(letter_type):
    custom = {slot.name: f"{slot.label}的本机关措辞{index}，{{机关名称}}" + "".join(f"{{{name}}}" for name in slot.required)
              for index, slot in enumerate(wording.slots(letter_type))}
    text = _body_text(render_html(letter_type, _with(letter_type, custom)))
    agency = SAMPLE[letter_type]["agency_name"]
    for index, slot in enumerate(wording.slots(letter_type)):
        assert f"{slot.label}的本机关措辞{index}，{agency}" in text, slot.name
    for default in ("特此告知。", "特此函询。"):
        assert default not in text


@pytest.mark.parametrize("letter_type", TYPES)
def test_every_placeholder_of_every_type_is_filled_from_the_letter_data(letter_type):
    data = SAMPLE[letter_type]
    names = wording.placeholder_names(letter_type)
    assert {"机关名称", "收件人", "登记编号", "收到日期", "成文日期", "联系方式", "联系电话"} <= set(names)
    assert ("申请人" in names) == (letter_type not in {"third_party_consultation", "third_party_disclosure_notice",
                                                     "agency_consultation"})
    for name in names:
        text = _body_text(render_html(letter_type, _with(letter_type, {"additional": f"{name}为{{{name}}}。"})))
        if data.get(_field(name)):
            assert f"{name}为{EXPECTED_VALUE[name](data)}。" in text, name
        else:  # no value in this letter (a receipt has no 文号): the slot is left out
            assert f"{name}为" not in text, name


def _field(name: str) -> str:
    return {"机关名称": "agency_name", "收件人": "recipient", "申请人": "recipient", "登记编号": "registration_number",
            "联系方式": "contact", "联系电话": "contact_phone", "文号": "doc_number", "申请渠道": "channel",
            "收到日期": "received_on", "成文日期": "issued_on"}[name]


@pytest.mark.parametrize("text, problem", [
    ("{{ 7*7 }}", "含有模板语法“{{”"),
    ("{% for x in range(3) %}循环{% endfor %}", "含有模板语法“{%”"),
    ("{# 注释 #}", "含有模板语法“{#”"),
    ("<script>alert(1)</script>", "含有尖括号"),
    ('<a href="https://x">链接</a>', "含有尖括号"),
    ("请联系{经办人}", "含有未知的占位符“{经办人}”"),
    ("{登记编号.__class__}", "含有未知的占位符"),
    ("{ 登记编号 }", "含有未知的占位符"),
    ("请注意{", "不成对的花括号"),
    ("第一行\n第二行", "含有换行"),
    ("响铃\x07", "控制字符 U+0007"),
    ("零宽\u200b空格", "控制字符 U+200B"),
])
@pytest.mark.parametrize("letter_type", TYPES)
def test_template_syntax_markup_unknown_placeholders_and_control_characters_are_refused(letter_type, text, problem):
    problems = wording.slot_problems(letter_type, {"additional": text})
    assert list(problems) == ["additional"]
    assert problems["additional"].startswith("措辞“补充告知事项”（additional）") and problem in problems["additional"]


@pytest.mark.parametrize("letter_type", TYPES)
def test_unknown_slots_and_a_signature_without_the_agency_name_are_refused(letter_type):
    problems = wording.slot_problems(letter_type, {"footer": "页脚", "signature": "办公室"})
    assert "不是" in problems["footer"] and "可编辑的措辞栏目" in problems["footer"]
    assert "必须包含占位符 {机关名称}" in problems["signature"]


def test_the_receipt_opening_must_keep_the_receipt_date():
    problems = wording.slot_problems("receipt", {"opening": "你的申请已收到，现予登记。"})
    assert problems == {"opening": "措辞“开头语”（opening）必须包含占位符 {收到日期}"}


def test_the_third_party_consultation_note_must_keep_the_contact_to_answer_to():
    problems = wording.slot_problems("third_party_consultation", {"contact": "此致敬礼"})
    assert problems == {"contact": "措辞“联系方式（附注）”（contact）必须包含占位符 {联系方式}"}
    assert wording.slot_problems("third_party_consultation", {"contact": "请将书面意见寄至：{联系方式}"}) == {}


def test_wording_in_letter_data_is_checked_at_render_time_too():
    with pytest.raises(LetterDataError) as refused:
        render_html("reply", _with("reply", {"closing": "{{ 7*7 }}"}))
    assert refused.value.field == "wording.slots.closing"


def test_values_are_substituted_once_and_escaped_as_data():
    data = {**_with("receipt", {"additional": "收件人：{收件人}；编号：{登记编号}。"}),
            "recipient": "{登记编号}<b>&"}
    text = render_html("receipt", data)
    assert "收件人：{登记编号}&lt;b&gt;&amp;；编号：依申请〔2026〕37号。" in text


def test_a_slot_whose_placeholder_has_no_value_is_left_out():
    data = {**_with("receipt", {"contact": "电话：{联系电话}"}), "contact_phone": None}
    assert "电话：" not in render_html("receipt", data)
    assert 'class="note"' not in render_html("receipt", data)


def test_wording_that_adds_doubled_punctuation_or_ascii_quotes_is_refused_by_the_lint_of_its_preview():
    assert "特此告知。。" in preview_text("reply", {**wording.default_slots("reply"), "closing": "特此告知。。"})
    doubled = check("reply", {"closing": "特此告知。。"})
    assert list(doubled) == ["closing"] and "标点重复" in doubled["closing"]
    quoted = check("receipt", {"additional": '请在"办件查询"栏目输入查询码。'})
    assert "半角引号" in quoted["additional"]
    repeated = check("reply", {"additional": "如对本答复有疑问，请与本机关联系。如对本答复有疑问，请与本机关联系。"})
    assert "句子重复出现 2 次" in repeated["additional"]
    assert check("reply", {"additional": "如对本答复有疑问，请致电{联系电话}。"}) == {}


@pytest.mark.parametrize("letter_type", TYPES)
def test_the_built_in_wording_passes_its_own_checks(letter_type):
    assert check(letter_type, wording.default_slots(letter_type)) == {}
