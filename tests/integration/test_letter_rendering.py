"""Rendered letters: text, fonts, PDF/A-3b metadata, the GB/T 9704 grid, and no way for case data to fetch."""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pypdf import PdfReader

from letters import (
    AssetConfig,
    FontConfig,
    LetterDataError,
    LetterRenderError,
    default_assets,
    issue_problems,
    render_letter,
    sample_data,
)
from letters.assets import installed_family
from letters.render import render_pdf
from letters.samples import letter_type_of
from tests.pdf_glyphs import handmade_pdf, notdef_uses

REVIEW_FIRST = "应当自收到本答复之日起60日内先向江南市人民政府申请行政复议"
REVIEW_OR_SUIT = "也可以自收到本答复之日起6个月内向江南市东城区人民法院提起行政诉讼"


def pdf_text(pdf: bytes, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def flat(text: str) -> str:
    """Extracted text without line breaks and page numbers, so that phrases broken across lines can be found."""
    return re.sub(r"\s+", "", re.sub(r"(?m)^\s*—\s*\d+\s*—\s*$", "", text))


@pytest.fixture(scope="session")
def rendered():
    """Every sample rendered once per test session."""
    return {name: render_letter(letter_type_of(name), data) for name, data in sample_data().items()}


@pytest.fixture(scope="session")
def texts(rendered):
    return {name: flat(pdf_text(letter.pdf)) for name, letter in rendered.items()}


@pytest.fixture
def http_server():
    """A local HTTP server that counts the requests it gets (none must arrive)."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"root:x:0:0:fetched")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_every_sample_carries_agency_title_recipient_number_and_date(rendered, texts):
    for name, data in sample_data().items():
        text = texts[name]
        issued = data["issued_on"]
        year, month, day = (int(part) for part in issued.split("-"))
        assert data["agency_name"] in text, name
        assert data["recipient"] + "：" in text, name
        assert f"{year}年{month}月{day}日" in text, name
        if "doc_number" in data:
            assert data["doc_number"] in text, name
        assert re.search(r"—\s*1\s*—", pdf_text(rendered[name].pdf)), name
        assert rendered[name].page_count >= 1


def test_each_letter_type_states_what_the_regulation_requires(texts):
    assert "查询码：7KQ3-M2XD" in texts["receipt"] and "于2026年11月30日前作出答复" in texts["receipt"]
    assert "一次性告知" in texts["supplement_notice"] and "视为放弃申请" in texts["supplement_notice"]
    # Periods the addressee is given run from its receipt of the letter: no date computed from sending.
    assert "自收到本告知书之日起15个工作日内" in texts["supplement_notice"]
    assert "第三十五条" in texts["reason_request"] and "自收到本告知书之日起10个工作日内" in texts["reason_request"]
    assert "不计算在答复期限内" in texts["consultation_notice"]
    assert "2026年11月30日" in texts["extension_notice"] and "2026年12月28日前作出答复" in texts["extension_notice"]
    assert "政府信息公开工作机构负责人同意" in texts["extension_notice"]
    assert "2027年1月29日" in texts["delay_notice"]
    assert "15个工作日内" in texts["third_party_consultation"]
    assert "逾期未提出意见的，由本机关依照该条例的规定决定是否公开" in texts["third_party_consultation"]
    assert "第十五条、第三十二条" in texts["third_party_disclosure_notice"]
    assert "也可以自收到本决定之日起6个月内" in texts["third_party_disclosure_notice"]
    assert "视为同意公开" in texts["agency_consultation"]
    fee = texts["fee_notice"]
    assert "国办函〔2020〕109号" in fee and "按件计收" in fee and "200.00元" in fee
    assert "自收到本通知书之日起20个工作日内" in fee and "3,000.00元" not in fee
    assert "第31—40件" in fee and "逾期未缴纳的，视为放弃申请" in fee
    assert "江自然资补〔2026〕12号" in texts["termination_notice"] and "不再处理" in texts["termination_notice"]


def test_a_refusal_reply_names_the_review_body_and_says_review_comes_first(texts):
    assert REVIEW_FIRST in texts["reply_partial"] and REVIEW_OR_SUIT not in texts["reply_partial"]
    # Mixed replies word the remedies per item: review first only for what is withheld (复议法23①(四)).
    assert "对本答复第二项、第三项不服的，应当自收到本答复之日起60日内先向江南市人民政府申请行政复议" in texts["reply_mixed"]
    assert "对本答复第一项、第四项、第五项不服的，可以自收到本答复之日起60日内" in texts["reply_mixed"]
    # The withheld family ends with a SPECIAL_REGIME item (条例36(七)), which withholds nothing.
    assert "对本答复第一项、第二项、第三项、第四项、第五项、第六项、第七项不服的，应当" in texts["reply_withheld"]
    assert "对本答复第八项不服的，可以" in texts["reply_withheld"]


def test_a_disclosure_reply_offers_review_or_suit(texts):
    for name in ("reply", "reply_disclosed", "reply_unable", "reply_not_processed"):
        assert "可以自收到本答复之日起60日内向江南市人民政府申请行政复议" in texts[name], name
        assert REVIEW_OR_SUIT in texts[name], name
        assert REVIEW_FIRST not in texts[name], name


def test_an_online_reply_offers_the_online_review_channel(texts):
    assert "可以通过江南市人民政府网站“行政复议”栏目" in texts["reply_disclosed"]
    assert "在线提交行政复议申请" not in texts["reply"]


def test_every_reply_item_shows_its_article_reason_and_follow_up(texts):
    for name, data in sample_data().items():
        if not name.startswith("reply"):
            continue
        for item in data["items"]:
            assert flat(item["basis"]) in texts[name], (name, item["outcome"])
            assert flat(item["reason"]).rstrip("，。") in texts[name], (name, item["outcome"])
            for optional in ("how_to_obtain", "search_record", "referral_agency", "referral_contact",
                             "earlier_reply_number", "withheld_scope"):
                if optional in item:
                    assert flat(item[optional]) in texts[name], (name, optional)
    assert "第三十六条第（二）项" in texts["reply"]


def test_fonts_are_embedded_and_subset(rendered):
    report = subprocess.run(["pdffonts", "-"], input=rendered["reply_mixed"].pdf, capture_output=True,
                            check=True).stdout.decode()
    rows = report.splitlines()[2:]
    assert rows
    for row in rows:
        columns = row.split()
        assert columns[-5:-2] == ["yes", "yes", "yes"], row  # emb sub uni
    if default_assets().fonts.fangsong is not None:
        assert "GK-fangsong" in report  # FandolFang, the body face


def test_the_pdf_is_pdf_a_3b(rendered):
    reader = PdfReader(io.BytesIO(rendered["reply"].pdf))
    assert reader.xmp_metadata.pdfaid_part == "3"
    assert reader.xmp_metadata.pdfaid_conformance == "B"
    assert "/OutputIntents" in reader.trailer["/Root"]
    info = subprocess.run(["pdfinfo", "-meta", "-"], input=rendered["reply"].pdf, capture_output=True,
                          check=True).stdout.decode()
    assert 'pdfaid:part="3"' in info and 'pdfaid:conformance="B"' in info


def test_the_one_page_reply_is_one_page_and_its_hash_matches(rendered):
    import hashlib

    letter = rendered["reply"]
    assert letter.page_count == 1
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()
    assert letter.template_version.startswith("reply@")


def test_the_snapshot_is_json_and_renders_the_same_letter_again(rendered):
    letter = rendered["reply_mixed"]
    snapshot = json.loads(json.dumps(letter.data_snapshot, ensure_ascii=False))
    again = render_letter("reply", snapshot)
    assert again.data_snapshot == letter.data_snapshot
    assert flat(pdf_text(again.pdf)) == flat(pdf_text(letter.pdf))


def test_page_numbers_stand_right_on_odd_pages_and_left_on_even_pages(rendered):
    boxes = pdf_text(rendered["reply_mixed"].pdf, "-bbox")
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', boxes, re.S)
    assert len(pages) >= 2
    for number, (width, height, words) in enumerate(pages, start=1):
        in_bottom_margin = [(float(x_min), float(x_max)) for x_min, y_min, x_max, text in
                            re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<',
                                       words)
                            if float(y_min) > float(height) - 35 * 72 / 25.4 and str(number) in text]
        assert in_bottom_margin, number
        x_min, x_max = in_bottom_margin[0]
        if number % 2:
            assert x_min > float(width) / 2, number
        else:
            assert x_max < float(width) / 2, number


def test_the_body_grid_is_28_characters_by_22_lines():
    html = '<html><body><main class="body"><div>' + "国" * (28 * 30) + "</div></main></body></html>"
    pdf, page_count = render_pdf(html)
    first_page = pdf_text(pdf).split("\f")[0]
    lines = [line for line in first_page.splitlines() if "国" in line]
    assert len(lines) == 22
    assert {len(line) for line in lines} == {28}
    assert page_count == 2


def test_rare_characters_in_names_render_with_a_fallback_font():
    data = sample_data()["reply"]
    data["recipient"] = "张喆、李堃、王镕、𠮷田商事"
    letter = render_letter("reply", data)
    assert "张喆、李堃、王镕、𠮷田商事：" in flat(pdf_text(letter.pdf))
    fonts = subprocess.run(["pdffonts", "-"], input=letter.pdf, capture_output=True, check=True).stdout.decode()
    # FandolFang has none of these; the Noto CJK fallbacks (Debian's, with Ext-B) must carry them.
    assert "GK-fangsong" not in fonts or re.search(r"Noto-(Serif|Sans)-CJK-SC", fonts)


def test_markup_urls_and_css_in_case_data_stay_literal_text_and_fetch_nothing(http_server):
    base_url, hits = http_server
    data = sample_data()["reply"]
    data["recipient"] = '<img src="file:///etc/passwd">'
    data["request_summary"] = f'<link rel=attachment href="file:///etc/passwd"><img src="{base_url}/x.png">'
    data["items"][0]["reason"] = 'background: url("file:///etc/passwd"); <style>@import "http://127.0.0.1/";</style>'
    data["items"][0]["how_to_obtain"] = f"{base_url}/leak"
    letter = render_letter("reply", data)
    text = flat(pdf_text(letter.pdf))
    assert '<imgsrc="file:///etc/passwd">：' in text
    assert "<linkrel=attachmenthref=" in text
    assert 'url("file:///etc/passwd")' in text
    assert "root:" not in text
    assert b"/EmbeddedFile" not in letter.pdf and b"/Filespec" not in letter.pdf
    assert hits == []


@pytest.mark.parametrize("tag", [
    '<img src="file:///etc/passwd">',
    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==">',
    '<link rel="attachment" href="file:///etc/passwd">',
])
def test_a_refused_fetch_aborts_the_render(tag):
    with pytest.raises(LetterRenderError, match="拒绝加载"):
        render_pdf(f"<html><body><p>{tag}</p></body></html>")


def test_a_remote_stylesheet_aborts_the_render_without_a_request(http_server):
    base_url, hits = http_server
    with pytest.raises(LetterRenderError, match="拒绝加载外部资源"):
        render_pdf(f'<html><head><link rel="stylesheet" href="{base_url}/x.css"></head><body>正文</body></html>')
    assert hits == []


def test_a_letter_without_remedies_does_not_render():
    data = sample_data()["reply"]
    del data["remedies"]
    with pytest.raises(LetterDataError, match="字段 remedies 缺失"):
        render_letter("reply", data)


def test_a_draft_is_marked_as_such_in_the_margin():
    letter = render_letter("reply", sample_data()["reply"], draft=True)
    assert "样稿（未签发）" in flat(pdf_text(letter.pdf))
    assert "样稿" not in flat(pdf_text(render_letter("reply", sample_data()["reply"]).pdf))


def test_a_configured_seal_is_drawn_without_interpolation(tmp_path):
    from PIL import Image, ImageDraw

    seal = tmp_path / "seal.png"
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 290, 290), outline=(200, 0, 0, 255), width=12)
    image.save(seal)
    assets = AssetConfig(fonts=default_assets().fonts, seal_image=seal)
    letter = render_letter("reply", sample_data()["reply"], assets=assets)
    reader = PdfReader(io.BytesIO(letter.pdf))
    images = [xobject.get_object() for page in reader.pages
              for xobject in page["/Resources"].get("/XObject", {}).values()
              if xobject.get_object().get("/Subtype") == "/Image"]
    assert images
    # PDF/A: an image may carry /Interpolate only with the value false.
    assert all(str(image.get("/Interpolate", "false")).lower() == "false" for image in images)
    assert b"/Interpolate true" not in letter.pdf


def pdffonts(pdf: bytes) -> str:
    return subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_a_numbered_letter_is_refused_naming_a_missing_configured_font_and_its_preview_falls_back_marked_draft(
        tmp_path):
    assets = AssetConfig(fonts=FontConfig(fangsong=tmp_path / "仿宋_GB2312.ttf"))
    with pytest.raises(LetterRenderError, match=r"缺少正文仿宋字体文件 \S*仿宋_GB2312\.ttf"):
        render_letter("reply", sample_data()["reply"], assets=assets)
    preview = render_letter("reply", sample_data()["reply"], assets=assets, draft=True)
    assert "样稿（未签发）" in flat(pdf_text(preview.pdf))
    fonts = pdffonts(preview.pdf)
    assert "GK-fangsong" not in fonts and "Noto-Serif-CJK-SC" in fonts  # the fallback, in a marked preview only


def test_a_missing_configured_title_font_is_refused_by_its_file_name(tmp_path):
    assets = AssetConfig(fonts=FontConfig(fangsong=default_assets().fonts.fangsong, title=tmp_path / "方正小标宋.ttf"))
    with pytest.raises(LetterRenderError, match=r"缺少标题字体文件 \S*方正小标宋\.ttf"):
        render_letter("supplement_notice", sample_data()["supplement_notice"], assets=assets)


def test_without_fandolfang_a_numbered_letter_names_the_font_file_and_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_FONT_DIR", str(tmp_path))
    assert issue_problems(default_assets()) == [
        f"缺少正文仿宋字体文件 {tmp_path / 'FandolFang-Regular.otf'}（Debian 软件包 texlive-lang-chinese 中的 FandolFang，"
        "以 root 运行 scripts/install-system-deps.sh 即可提取）"]
    with pytest.raises(LetterRenderError, match="FandolFang-Regular.otf.*texlive-lang-chinese"):
        render_letter("reply", sample_data()["reply"])
    assert "样稿（未签发）" in flat(pdf_text(render_letter("reply", sample_data()["reply"], draft=True).pdf))


def test_the_receipt_without_a_number_still_issues_in_a_fallback_font_so_registration_never_stops(tmp_path,
                                                                                                  monkeypatch):
    monkeypatch.setenv("GONGKAI_FONT_DIR", str(tmp_path))
    data = sample_data()["receipt"]
    assert not data.get("doc_number")
    receipt = render_letter("receipt", data)
    assert "样稿" not in flat(pdf_text(receipt.pdf)) and "GK-fangsong" not in pdffonts(receipt.pdf)


def test_the_default_title_face_is_looked_up_by_family_and_style_in_fontconfig():
    assert installed_family("Noto Serif CJK SC", "Bold")
    assert not installed_family("Gongkai No Such Family", "Bold")


@pytest.mark.parametrize("rare", ["\U00030000", "\ue000"])  # a Plane-3 ideograph (Ext-G), a private-use code
def test_a_character_in_no_font_is_drawn_as_geta_never_as_notdef(rare):
    data = sample_data()["reply"]
    data["recipient"] = f"张{rare}三"
    data["agency_name"] = f"江南市{rare}局"  # in the title too, set in the title face
    letter = render_letter("reply", data)
    text = flat(pdf_text(letter.pdf))
    assert "张〓三：" in text and text.count("江南市〓局") == 2 and rare not in text
    assert notdef_uses(letter.pdf) == []
    assert letter.data_snapshot["recipient"] == f"张{rare}三"  # the record keeps the real name


def test_the_notdef_check_finds_cid_0_shown_through_a_composite_font():
    font = b"<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-H >>"
    assert notdef_uses(handmade_pdf(b"BT /F1 12 Tf 72 720 Td <00000041> Tj ET", font)) == [(1, "/Test")]
    assert notdef_uses(handmade_pdf(b"BT /F1 12 Tf 72 720 Td <00410042> Tj ET", font)) == []


def test_the_seal_placeholder_is_printed_where_the_seal_goes_over_the_signature():
    assets = replace(default_assets(), seal_placeholder=True)
    data = sample_data()["reply"]
    letter = render_letter("reply", data, assets=assets)
    words = {word: box for box, word in word_boxes(letter.pdf)}
    placeholder, signer, dated = words["（印章）"], words[data["agency_name"]], words["2026年11月21日"]
    centre = (placeholder[0] + placeholder[2]) / 2
    assert abs(centre - (signer[0] + signer[2]) / 2) < 1  # centred on the 署名, as the seal is
    assert abs(centre - (dated[0] + dated[2]) / 2) < 12   # the 成文日期 sits under it too (§7.3.5.1)
    gap = signer[1] - placeholder[3]
    assert 0 < gap < 16  # the line above the 署名: in the seal's upper half, the name still legible
    assert not letter_images(letter.pdf)
    plain = render_letter("reply", data)
    assert "（印章）" not in flat(pdf_text(plain.pdf))


def test_the_placeholder_wins_over_an_uploaded_seal_image(tmp_path):
    from PIL import Image

    seal = tmp_path / "seal.png"
    Image.new("RGBA", (64, 64), (200, 0, 0, 255)).save(seal)
    sealed = render_letter("reply", sample_data()["reply"], assets=replace(default_assets(), seal_image=seal))
    assert letter_images(sealed.pdf) and "（印章）" not in flat(pdf_text(sealed.pdf))
    by_hand = render_letter("reply", sample_data()["reply"],
                            assets=replace(default_assets(), seal_image=seal, seal_placeholder=True))
    assert not letter_images(by_hand.pdf) and "（印章）" in flat(pdf_text(by_hand.pdf))


def test_a_missing_seal_image_refuses_a_numbered_letter(tmp_path):
    assets = replace(default_assets(), seal_image=tmp_path / "seal.png")
    with pytest.raises(LetterRenderError, match="印章图片文件不存在"):
        render_letter("reply", sample_data()["reply"], assets=assets)


def word_boxes(pdf: bytes) -> list[tuple[tuple[float, float, float, float], str]]:
    """(xMin, yMin, xMax, yMax) in points from the top-left, and the word, from `pdftotext -bbox`."""
    markup = pdf_text(pdf, "-bbox")
    return [((float(a), float(b), float(c), float(d)), html.unescape(word)) for a, b, c, d, word in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', markup)]


def letter_images(pdf: bytes) -> list:
    reader = PdfReader(io.BytesIO(pdf))
    return [xobject for page in reader.pages for xobject in page["/Resources"].get("/XObject", {}).values()
            if xobject.get_object().get("/Subtype") == "/Image"]
