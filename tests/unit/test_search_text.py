"""The one normal form of searched text: any bracket style, full-width digits, separators inside numbers."""

from engine.rules.search import SUMMARY_END, case_search_text, normalise_search_text, request_summary


def test_brackets_digits_and_separators_have_one_form():
    forms = ["依申请[2026]45号", "依申请【2026】45号", "依申请（2026）45号", "依申请(2026)45号", "依申请〔２０２６〕45号"]
    assert {normalise_search_text(f) for f in forms} == {"依申请〔2026〕45号"}
    assert normalise_search_text(" 138-0013 8000 ") == "13800138000"
    assert normalise_search_text("第3条 第2款") == "第3条 第2款"


def test_case_text_holds_what_people_quote_and_nothing_empty():
    text = case_search_text(applicant_name="赵六", id_number="11010519491231002X", phone="139-1234-5678",
                            reg_no="依申请〔2026〕7号", items=["地铁3号线环评报告"], letter_numbers=["江测公[2026]21号"])
    shown, searched = text.split(SUMMARY_END)
    assert shown == "赵六 地铁3号线环评报告"  # the lists' summary: the request as typed, nothing else
    assert searched == "11010519491231002X 13912345678 依申请〔2026〕7号 江测公〔2026〕21号"
    assert request_summary(text, "赵六") == "地铁3号线环评报告"
    bracketed = case_search_text(applicant_name="李四", items=["（2025）年报"])
    assert bracketed == "李四 （2025）年报" + SUMMARY_END + "〔2025〕年报"
