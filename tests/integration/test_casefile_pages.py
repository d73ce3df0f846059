"""The case file's generated pages (letters.typeset, letters.casefile) without a database: line breaking,
tables over pages, fonts and fallbacks, PDF/A-3b, and page numbers that hold however long a case gets."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from letters import AssetConfig, FontConfig, LetterRenderError, default_assets
from letters.casefile import _styles, casefile_fonts, embedded_manifest, render_casefile
from letters.typeset import (
    MM,
    NO_LINE_END,
    NO_LINE_START,
    Attachment,
    Cell,
    Flow,
    FontStack,
    Metadata,
    Page,
    Style,
    Table,
    load_face,
    system_face,
    wrap,
    write_pdfa,
)
from tests.pdf_glyphs import notdef_uses

SHANGHAI = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 4, 22, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def styles():
    return _styles(default_assets())


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text().replace("\n", "").replace(" ", "") for page in PdfReader(io.BytesIO(pdf)).pages]


def simple_pdf(lines_per_page: list[str], styles) -> bytes:
    """A small PDF whose pages carry recognisable text (stands in for a letter or a scan)."""
    pages = []
    for line in lines_per_page:
        page = Page()
        page.text(30 * MM, 40 * MM, line, styles.text(14))
        pages.append(page)
    return write_pdfa(pages, Metadata(title="原件", author="测试", keywords="", created=MOMENT))


# ---------------------------------------------------------------- line breaking

CJK_TEXT = st.text(alphabet=st.sampled_from(list("政府信息公开申请答复书依条例第十条规定") + list("，。、；：）（《》“”")
                                            + list("0123456789ab -")), min_size=0, max_size=120)


@settings(max_examples=150, deadline=None)
@given(text=CJK_TEXT, width_mm=st.integers(min_value=12, max_value=120))
def test_wrapped_lines_keep_every_character_fit_the_width_and_obey_the_punctuation_rules(styles, text, width_mm):
    style = styles.text(10)
    width = width_mm * MM
    lines = wrap(text, style, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for n, line in enumerate(lines):
        if style.width(line) > width + 0.01:
            # Only a closing mark may hang past the edge, and only when nothing could move down with it.
            assert line[-1] in NO_LINE_START and style.width(line[:-1]) <= width + 0.01, line
        if n > 0 and line and line[0] in NO_LINE_START:
            assert len(lines[n - 1]) <= 1 or lines[n - 1][-1] in NO_LINE_START, (lines[n - 1], line)
        if n < len(lines) - 1 and len(line) > 1:
            assert line[-1] not in NO_LINE_END, line


def test_numbers_and_words_stay_whole_and_a_hash_longer_than_a_line_is_broken(styles):
    style = styles.text(10)
    assert wrap("答复期限为2026年12月31日", style, 30 * MM)[1].startswith("2026") or \
        "2026" in wrap("答复期限为2026年12月31日", style, 30 * MM)[0]
    digest = "1451778c4a56f1431dc3cc77cebc4f764190827b07e47cce8f40525877cc865e"
    lines = wrap(f"SHA-256 {digest}", style, 30 * MM)
    assert len(lines) > 2 and "".join(lines).replace(" ", "") == f"SHA-256{digest}"
    assert all(style.width(line) <= 30 * MM + 0.01 for line in lines)


# ---------------------------------------------------------------- fonts

def test_a_character_missing_from_the_song_face_falls_back_and_still_extracts(styles):
    song = styles.body.primary
    rare = "堃"
    if song.gid(rare) is not None:
        pytest.skip("the configured Song face has 堃; no fallback to show")
    page = Page()
    page.text(30 * MM, 30 * MM, f"申请人刘{rare}", styles.text(12))
    pdf = write_pdfa([page], Metadata(title="t", author="a", keywords="k", created=MOMENT))
    assert text_of(pdf)[0] == f"申请人刘{rare}"
    assert styles.body.glyph(rare).face is not song


@pytest.mark.parametrize("rare", ["\U00030000", "\ue000"])  # a Plane-3 ideograph (Ext-G), a private-use code
def test_a_character_in_no_font_is_drawn_and_extracted_as_geta_never_as_notdef(styles, rare):
    assert all(face.gid(rare) is None for face in styles.body.faces)
    page = Page()
    page.text(30 * MM, 30 * MM, f"申请人张{rare}三", styles.text(12))
    pdf = write_pdfa([page], Metadata(title="t", author="a", keywords="k", created=MOMENT))
    assert text_of(pdf)[0] == "申请人张〓三"
    assert notdef_uses(pdf) == []


def test_a_variation_selector_no_font_maps_is_left_out_rather_than_drawn():
    stack = _styles(default_assets()).body
    page = Page()
    page.text(30 * MM, 30 * MM, "甲\U000e01ef乙", Style(stack, 12))  # a variation selector no font draws alone
    pdf = write_pdfa([page], Metadata(title="t", author="a", keywords="k", created=MOMENT))
    assert text_of(pdf)[0] == "甲乙"
    assert notdef_uses(pdf) == []


def test_a_truetype_face_embeds_as_a_cid_truetype_font(tmp_path):
    face = system_face("LXGW WenKai")
    if face is None or face.outlines != "truetype":
        pytest.skip("LXGW WenKai (TrueType outlines) is not installed")
    style = Style(FontStack([face]), 12)
    page = Page()
    page.text(30 * MM, 30 * MM, "霞鹜文楷 TrueType 字形", style)
    pdf = write_pdfa([page], Metadata(title="t", author="a", keywords="k", created=MOMENT))
    (tmp_path / "t.pdf").write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "t.pdf")], capture_output=True, text=True, check=True).stdout
    assert "CID TrueType" in fonts and " yes yes yes " in fonts
    assert text_of(pdf)[0] == "霞鹜文楷TrueType字形"


def test_a_configured_font_file_that_does_not_exist_is_refused_in_chinese(tmp_path):
    assets = AssetConfig(fonts=FontConfig(song=tmp_path / "missing.otf"))
    with pytest.raises(LetterRenderError, match="案卷字体文件不存在"):
        _styles(assets)


def test_the_bundled_song_faces_are_used_when_present():
    fonts = casefile_fonts(default_assets())
    if fonts.song is None:
        pytest.skip("FandolSong not extracted (scripts/install-system-deps.sh)")
    assert fonts.song.name == "FandolSong-Regular.otf" and fonts.title.name == "FandolSong-Bold.otf"
    assert load_face(str(fonts.song)).outlines == "cff"


# ---------------------------------------------------------------- tables over pages

def test_a_long_table_repeats_its_header_and_a_row_taller_than_a_page_is_split_without_losing_text(styles):
    pages: list[Page] = []
    flow = Flow(Page, top=20 * MM, bottom=277 * MM, left=25 * MM, right=185 * MM)
    text, head = styles.text(10, 1.4), styles.heading(10, 1.4)
    giant = "".join(f"第{n}句话。" for n in range(1, 700))
    rows = [[Cell(str(n), text, "center"), Cell(f"事项{n}", text)] for n in range(1, 60)]
    rows.insert(30, [Cell("巨", text, "center"), Cell(giant, text)])
    flow.table(Table(widths=[15 * MM, 0], rows=rows, header=[Cell("序号", head), Cell("内容", head)]))
    pages = flow.pages
    assert len(pages) >= 4
    pdf = write_pdfa(pages, Metadata(title="t", author="a", keywords="k", created=MOMENT))
    texts = text_of(pdf)
    assert all(page.startswith("序号内容") for page in texts)  # the header opens every page
    assert all(len(page) > len("序号内容") for page in texts)  # and no page holds nothing else
    everything = "".join(texts)
    assert all(f"第{n}句话。" in everything for n in (1, 350, 699))
    assert all(f"事项{n}" in everything for n in range(1, 60))


# ---------------------------------------------------------------- PDF/A-3b

def test_the_pdf_is_pdfa_3b_with_matching_metadata_and_an_associated_file(tmp_path, styles):
    page = Page()
    page.text(30 * MM, 30 * MM, "卷内目录", styles.heading(20))
    metadata = Metadata(title="关于张三“规划许可”的办理案卷（A-1）", author="测试市人民政府办公室", keywords="A-1, 案卷",
                        created=MOMENT, creator="Gongkai casefile")
    manifest = b'{"format": "gongkai-casefile/1"}\n'
    pdf = write_pdfa([page], metadata, [Attachment("manifest.json", manifest, "application/json", "清单")])
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert metadata.title in xmp and metadata.author in xmp and "2026-04-22T10:00:00+08:00" in xmp
    info = reader.metadata
    assert info.title == metadata.title and info.author == metadata.author and info.creator == "Gongkai casefile"
    assert info["/CreationDate"] == "D:20260422100000+08'00'"
    root = reader.trailer["/Root"]
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert root["/AF"][0].get_object()["/AFRelationship"] == "/Data"
    assert embedded_manifest(pdf) == manifest
    assert len(reader.trailer["/ID"]) == 2
    (tmp_path / "a.pdf").write_bytes(pdf)
    info_text = subprocess.run(["pdfinfo", str(tmp_path / "a.pdf")], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info_text
    # The same pages and metadata give the same bytes: a re-export is reproducible.
    assert write_pdfa([page], metadata, [Attachment("manifest.json", manifest, "application/json", "清单")]) == pdf


# ---------------------------------------------------------------- a long case file

def case_data(documents: list[dict], *, events: int, notes: int, exemptions: int) -> dict:
    digest = "ab" * 32
    return {
        "agency_name": "测试市人民政府办公室", "agency_code": "T", "archive_no": "T-2026-XXGK-Y-7", "reg_no": "依申请〔2026〕7号",
        "title": "关于张三“2025年度规划许可”政府信息公开申请的办理案卷", "retention": "permanent",
        "retention_label": "永久", "retention_reason": "涉及重大项目", "start_on": "2026-03-02", "end_on": "2026-05-10",
        "registered_on": "2026-03-02", "archived_on": "2026-05-10", "archivist": "档案员 王", "checker": "",
        "applicant": {"name": "张三", "kind": "citizen", "kind_label": "自然人", "id_type": "居民身份证",
                      "id_number": "110101199001011234", "contact": "13800000000；测试市人民路1号"},
        "request": {"channel_label": "当面", "submitted_on": "2026-03-02", "received_on": "2026-03-02",
                    "requested_form": "纸质", "requested_delivery": "邮寄", "purpose": ""},
        "items": [{"seq": n, "description": f"第{n}项：2025年度规划许可文件", "topic": "城乡规划", "outcome": "x",
                   "outcome_label": "予以公开", "article": "《条例》第三十六条第（二）项"} for n in range(1, 4)],
        "outcome_label": "予以公开", "finished_on": "2026-03-20", "extension": "", "closed_reason": "",
        "department": "规划科／承办人 李", "documents": documents,
        "timeline": [{"seq": n, "event_seq": n, "at": "2026-03-02 10:15:06", "actor": "登记员 王", "action": "登记申请",
                      "action_code": "register_request", "stages": "收件待确认", "details": f"第{n}条记录的内容" * 3,
                      "reason": "理由" if n % 5 == 0 else ""} for n in range(1, events + 1)],
        "exemptions": [{"item_seq": 1, "version": v, "current": v == exemptions, "ground": "g",
                        "ground_label": "第三方合法权益", "article": "《条例》第十五条", "facts": "涉及商业秘密。" * 10,
                        "scope": "", "whole_item": True, "severability": "", "extra": [], "review_state": "confirmed",
                        "review_state_label": "法制审核确认", "reviewer": "赵", "reviewed_at": "2026-03-10 09:00",
                        "review_comment": "", "created_by": "李", "created_at": "2026-03-09 09:00"}
                       for v in range(1, exemptions + 1)],
        "notes": [{"noted_on": "2026-06-01", "text": f"追加记录{n}", "author": "档案员 王"} for n in range(1, notes + 1)],
        "audit": {"agency_head_seq": 900, "agency_head_hash": digest, "case_event_count": events, "case_last_seq": 880,
                  "case_last_hash": digest},
        "exported_at": "2026-06-02T09:00:00+08:00",
    }


@pytest.mark.parametrize("document_count, events", [(2, 8), (40, 160)])
def test_every_page_number_in_the_index_and_footers_is_the_final_page_of_the_pdf(styles, document_count, events):
    documents, contents = [], []
    for n in range(1, document_count + 1):
        pages = 1 + n % 3
        contents.append(simple_pdf([f"原件{n}第{p}页" for p in range(1, pages + 1)], styles))
        documents.append({"part": "process", "path": f"原件/{n:02d}_文书.pdf", "title": f"文书{n}", "doc_number": "",
                          "author": "测试市人民政府办公室", "dated_on": "2026-03-02", "content_type": "application/pdf",
                          "sha256": "cd" * 32, "size_bytes": len(contents[-1]), "note": f"注{n}"})
    data = case_data(documents, events=events, notes=3, exemptions=2)
    rendered = render_casefile(data, contents, manifest=b"{}")
    pages = text_of(rendered.pdf)
    assert rendered.page_count == len(pages)
    index_pages = [n for n, text in enumerate(pages)
                   if "卷内目录" in text or text.startswith("档号：T-2026-XXGK-Y-7序号文号责任者")]
    index = "".join(pages[n] for n in index_pages)
    for n in range(1, document_count + 1):
        at = next(p for p, text in enumerate(pages, start=1) if f"原件{n}第1页" in text)
        assert rendered.document_pages[n - 1][0] == at
        assert f"文书{n}20260302{at}注{n}" in index, (n, at)
    header = "档号：T-2026-XXGK-Y-7"
    record_at = next(p for p, text in enumerate(pages, start=1) if text.removeprefix(header).startswith("办理过程记录"))
    assert re.search(rf"办理过程记录（审计轨迹）20260510{record_at}系统生成", index)
    assert f"本卷共{len(pages)}页" in index and f"共{len(pages)}页" in pages[0]
    for number, text in enumerate(pages, start=1):
        if text.startswith(header):
            assert text.endswith(f"第{number}页"), number
    notes_at = next(p for p, text in enumerate(pages, start=1) if text.removeprefix(header).startswith("卷内备考表"))
    assert notes_at > record_at and "立卷人：档案员王" in pages[-1]  # the 备考表 closes the file


def test_the_index_note_column_wraps_a_delivery_note_between_words_never_inside_a_number(styles):
    from letters.casefile import INDEX_COLUMNS, INDEX_NOTE_SIZE

    note = "邮寄送达 2026-03-02，单号 SF1234567890123；邮寄送达 2026-03-09，被退回；上传人：登记员用户"
    lines = wrap(note, styles.text(INDEX_NOTE_SIZE, 1.4), INDEX_COLUMNS["备注"] - 2 * Table.padding)
    assert "".join(lines).replace(" ", "") == note.replace(" ", "")
    latin = re.compile(r"[0-9A-Za-z]")
    for line, following in zip(lines, lines[1:], strict=False):
        assert not (latin.fullmatch(line.rstrip()[-1:]) and latin.fullmatch(following.lstrip()[:1])), (line, following)
    for number in ("2026-03-02", "SF1234567890123", "2026-03-09"):
        assert any(number in line for line in lines), number
