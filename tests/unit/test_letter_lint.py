"""The wording lint (issue 13): each kind of defect found in the sample letters is caught, clean text passes."""

from letters.lint import normalise, wording_problems

CLEAN = """江南市自然资源和规划局
政府信息公开申请答复书
张喆：
本机关于2026年11月2日收到你（单位）提出的政府信息公
开申请，申请内容为：“出让合同”。经审查，现答复如下：
一、关于“出让合同”
根据《中华人民共和国政府信息公开条例》第三十六条第（二）项的规定，予以公开。
二、关于“宗地图”
根据《中华人民共和国政府信息公开条例》第三十六条第（二）项的规定，予以公开。
查询网址：https://www.jiangnan.gov.cn/ysqgk/cx_2026.html
— 1 —
特此告知。
"""


def test_clean_letter_passes_and_items_may_cite_the_same_article():
    assert wording_problems(CLEAN) == []


def test_line_breaks_inside_a_chinese_line_are_joined_but_item_headings_start_a_line():
    text = normalise("收到你（单位）提出的政府信息公\n开申请。\n二、关于“宗地图”\n— 2 —\n经审查")
    assert text.splitlines() == ["收到你（单位）提出的政府信息公开申请。", "二、关于“宗地图”", "经审查"]
    # A page break inside a sentence is joined too.
    assert normalise("根据《中华人民\n— 1 —\n\f共和国政府信息公开条例》") == "根据《中华人民共和国政府信息公开条例》"


def test_a_repeated_default_sentence_within_one_item_is_caught():
    text = "一、关于“考勤记录”\n属于本机关内部事务信息，不予公开。属于本机关内部事务信息，不予公开。\n"
    assert any("重复出现 2 次" in p for p in wording_problems(text))


def test_doubled_punctuation_and_doubled_quotes_are_caught():
    problems = wording_problems("四、关于““土地相关的所有文件””\n告知如下：。请补正，，谢谢")
    assert sum("引号或括号重复" in p for p in problems) == 2
    assert sum("标点重复" in p for p in problems) == 2


def test_ascii_quotes_in_chinese_text_are_caught():
    assert any("半角引号" in p for p in wording_problems('申请内容为"出让合同"。'))
    assert any("半角引号" in p for p in wording_problems("涉及'三安全一稳定'的信息"))


def test_internal_keys_file_names_and_hashes_are_caught():
    problems = wording_problems("第三方类型THIRD_PARTY，record_id为2，见送达回证（01-receipt-1.png），"
                                "模板receipt@0123456789ab，哈希" + "ab" * 32)
    kinds = " ".join(problems)
    for what in ("THIRD_PARTY", "record_id", "01-receipt-1.png", "receipt@0123456789ab", "哈希值"):
        assert what in kinds
