"""An archival case file (案卷) as one PDF/A-3b: cover, 卷内目录, the documents, process record and 备考表.

The generated pages (the cover and the 卷内目录 in front; the registration form, the process record, the
exemption log and the 备考表 behind the documents) are forms, set straight into PDF by `letters.typeset`
from plain data. The original documents' pages (frozen letters, uploaded scans) then go in between with
pypdf, exactly as they are. Page numbers are worked out before anything is drawn: the back matter is laid
out first, the 卷内目录 is laid out until its own page count is stable, so every 页号, footer and the total
on the cover is the final page number of 案卷.pdf.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, NameObject

from letters.assets import FALLBACK_FAMILIES, AssetConfig, FontConfig, default_assets, default_font_dir
from letters.catalogue import LETTER_TYPES
from letters.errors import LetterDataError, LetterRenderError
from letters.pdfa_convert import convert_to_pdfa
from letters.typeset import (
    MM,
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

MANIFEST_NAME = "manifest.json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp")
A4_MM = (210, 297)
GREY = (0.2, 0.2, 0.2)
LIGHT_GREY = (1 / 3, 1 / 3, 1 / 3)

# Page geometry (GB/T 9705-2008 文书档案案卷格式: binding edge on the left).
LEFT, RIGHT, TOP, BOTTOM = 28 * MM, (210 - 18) * MM, 22 * MM, (297 - 22) * MM


@dataclass(frozen=True)
class RenderedCaseFile:
    """The assembled 案卷.pdf and where each document landed (1-based page ranges, None = not in the PDF)."""

    pdf: bytes
    sha256: str
    page_count: int
    document_pages: tuple[tuple[int, int] | None, ...]
    pdfa: bool = True  # whether 案卷.pdf declares PDF/A-3b (not when an upload could not be converted)
    not_pdfa: tuple[str, ...] = ()  # the paths of the uploads whose pages are not PDF/A, with the reason


def render_casefile(data: Mapping, contents: Sequence[bytes], *, manifest: bytes,
                    assets: AssetConfig | None = None) -> RenderedCaseFile:
    """案卷.pdf from the case file's plain data and the bytes of its documents (in `data["documents"]` order)."""
    documents = [{**document, "title": document_title(document)} for document in _field(data, "documents")]
    if len(documents) != len(contents):
        raise LetterDataError("documents", f"案卷文件数（{len(documents)}）与提供的原件数（{len(contents)}）不一致")
    pdfs = [_as_pdf(document, content) for document, content in zip(documents, contents, strict=True)]
    counts = [_page_count(document, pdf) for document, pdf in zip(documents, pdfs, strict=True)]
    pdfs, documents = _uploads_as_pdfa(documents, contents, pdfs)
    data = {**data, "documents": documents}
    styles = _styles(assets or default_assets())
    placed = [{**document, "anchor": f"doc-{n}", "page_count": count}
              for n, (document, count) in enumerate(zip(documents, counts, strict=True), start=1)]
    front, back, starts = _lay_out(data, placed, styles)
    attachment = Attachment(name=MANIFEST_NAME, content=manifest, mime="application/json",
                            description="案卷清单（机读）：案件元数据、各文件 SHA-256、审计链哈希")
    not_pdfa = tuple(f"{d.get('path') or d['title']}：{d['pdfa_problem']}" for d in documents if d.get("pdfa_problem"))
    base = write_pdfa([*front, *back], _metadata(data, not_pdfa), [attachment])
    pdf = _insert_documents(base, len(front), placed, pdfs, starts)
    page_count = len(front) + sum(counts) + len(back)
    ranges = tuple((starts[f"doc-{n}"] + 1, starts[f"doc-{n}"] + count) if count else None
                   for n, count in enumerate(counts, start=1))
    return RenderedCaseFile(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), page_count=page_count,
                            document_pages=ranges, pdfa=not not_pdfa, not_pdfa=not_pdfa)


def _uploads_as_pdfa(documents: list[dict], contents: Sequence[bytes],
                     pdfs: list[bytes | None]) -> tuple[list[bytes | None], list[dict]]:
    """Uploaded PDFs converted to PDF/A (Ghostscript); each document marked `pdfa` "converted" or with the
    `pdfa_problem` that kept it as it is. Frozen letters are PDF/A-3b as signed, and a scanned image is placed
    on a page of ours, so neither is touched."""
    uploads = [n for n, (document, content) in enumerate(zip(documents, contents, strict=True))
               if _is_pdf(document, content) and not document.get("letter_type")]
    pdfs, documents = list(pdfs), [dict(document) for document in documents]
    for n, conversion in zip(uploads, convert_to_pdfa([pdfs[n] for n in uploads]), strict=True):
        if conversion.pdf is not None:
            pdfs[n], documents[n]["pdfa"] = conversion.pdf, "converted"
        else:
            documents[n]["pdfa_problem"] = conversion.problem
    return pdfs, documents


def embedded_manifest(pdf: bytes) -> bytes | None:
    """The manifest.json attached to a case-file PDF (PDF/A-3 associated file), or None."""
    reader = PdfReader(io.BytesIO(pdf))
    found = reader.attachments.get(MANIFEST_NAME)
    return found[0] if found else None


def _metadata(data: Mapping, not_pdfa: Sequence[str] = ()) -> Metadata:
    exported = data.get("exported_at")
    moment = datetime.fromisoformat(exported) if exported else datetime.now().astimezone()
    if moment.tzinfo is None:
        moment = moment.astimezone()
    subject = ("本案卷 PDF 不声明 PDF/A 符合性：以下上传文件未能转换为 PDF/A，照原样编入（原件另存于案卷包）："
               + "；".join(not_pdfa)) if not_pdfa else ""
    return Metadata(title=f"{_field(data, 'title')}（{_field(data, 'archive_no')}）", author=_field(data, "agency_name"),
                    keywords=f"{data['archive_no']}, {_field(data, 'reg_no')}, 政府信息公开, 案卷", created=moment,
                    creator="Gongkai casefile", pdfa=not not_pdfa, subject=subject)


# ---------------------------------------------------------------- styles

@dataclass(frozen=True)
class _Styles:
    body: FontStack   # 宋体 text
    title: FontStack  # bold Song titles and table headings

    def text(self, size: float, leading: float = 1.5, **extra) -> Style:
        return Style(self.body, size, leading, **extra)

    def heading(self, size: float, leading: float = 1.5, **extra) -> Style:
        return Style(self.title, size, leading, **extra)


@functools.lru_cache(maxsize=8)
def _styles(assets: AssetConfig) -> _Styles:
    """The font stacks of the case file: the configured (or bundled FandolSong) faces, then fallbacks."""
    fonts = casefile_fonts(assets)
    for path in (fonts.song, fonts.title):
        if path is not None and not Path(path).is_file():
            raise LetterRenderError(f"案卷字体文件不存在：{path}")
    fallbacks = [face for face in (system_face(family) for family in FALLBACK_FAMILIES) if face is not None]

    def stack(path: Path | None) -> FontStack:
        first = [load_face(str(Path(path).resolve()))] if path is not None else []
        return FontStack([*first, *(face for face in fallbacks if not first or face is not first[0])])

    return _Styles(body=stack(fonts.song), title=stack(fonts.title or fonts.song))


# ---------------------------------------------------------------- layout

SECTIONS = (("registration", "政府信息公开申请登记表"), ("record", "办理过程记录（审计轨迹）"),
            ("exemptions", "不予公开理由审查记录"), ("notes", "卷内备考表"))
INDEXED_SECTIONS = ("registration", "record", "exemptions")  # the 备考表 is never listed in the 卷内目录


def _lay_out(data: Mapping, placed: list[dict], styles: _Styles) -> tuple[list[Page], list[Page], dict[str, int]]:
    """The front pages (cover, 卷内目录), the back pages, and the 0-based first page of every document and
    section in the assembled PDF."""
    archive_no = _field(data, "archive_no")
    back = _Pages(styles, archive_no)
    anchors = _back_matter(data, back, styles)
    doc_pages = sum(d["page_count"] for d in placed)
    rows = _index_rows(data, placed)
    index_pages = 1
    for _ in range(4):  # the index's own length moves every later page number; settle it
        starts = _starts(placed, anchors, front=1 + index_pages)
        front = _Pages(styles, archive_no)
        total = 1 + index_pages + doc_pages + len(back.flow.pages)
        cover = _cover(data, styles, documents=len(rows), total=total)
        _index(data, rows, starts, total, front, styles)
        if len(front.flow.pages) == index_pages:
            break
        index_pages = len(front.flow.pages)
    else:
        raise LetterRenderError("卷内目录的页数无法确定")
    front.number(2)
    back.number(2 + index_pages + doc_pages)
    return [cover, *front.flow.pages], back.flow.pages, starts


def _starts(placed: list[dict], anchors: dict[str, int], *, front: int) -> dict[str, int]:
    """0-based first pages: documents after the front matter, sections after the documents."""
    starts, at = {}, front
    for document in placed:
        if document["page_count"]:
            starts[document["anchor"]] = at
            at += document["page_count"]
    for name, offset in anchors.items():
        starts[name] = at + offset
    return starts


class _Pages:
    """A flow of A4 pages with the running header (档号) and the page-number footer."""

    def __init__(self, styles: _Styles, archive_no: str) -> None:
        self.header = styles.text(8, 1.2, color=LIGHT_GREY)
        self.footer = styles.text(9, 1.2, color=GREY)
        self.archive_no = archive_no
        self.flow = Flow(self._new_page, top=TOP, bottom=BOTTOM, left=LEFT, right=RIGHT)

    def _new_page(self) -> Page:
        page = Page()
        page.text(LEFT, 8 * MM, f"档号：{self.archive_no}", self.header, align="right", width=RIGHT - LEFT)
        return page

    def number(self, first: int) -> None:
        """The footer with each page's final page number."""
        for number, page in enumerate(self.flow.pages, start=first):
            page.text(LEFT, (297 - 14) * MM, f"第 {number} 页", self.footer, align="center", width=RIGHT - LEFT)


def _part_title(flow: Flow, text: str, styles: _Styles) -> None:
    flow.start_page()
    style = styles.heading(20, 1.3, spacing=3 * MM)
    flow.page.text(flow.x, flow.y, text, style, align="center", width=flow.width)
    flow.y += style.line_height + 5 * MM


def _meta(flow: Flow, left: str, right: str, styles: _Styles) -> None:
    flow.split_line(left, right, styles.text(10, 1.5), after=3 * MM)


def _grid(styles: _Styles, size: float = 10) -> tuple[Style, Style]:
    return styles.text(size, 1.4), styles.heading(size, 1.4)


def _form(rows: list[tuple[str, str]], styles: _Styles, *, label_width: float = 32 * MM) -> Table:
    """A two-column form (label | value) as in a 登记表."""
    text, head = _grid(styles)
    return Table(widths=[label_width, 0],
                 rows=[[Cell(label, head, "center"), Cell(value, text)] for label, value in rows])


# ---------------------------------------------------------------- the front: cover and 卷内目录

def _cover(data: Mapping, styles: _Styles, *, documents: int, total: int) -> Page:
    """案卷封面: the fonds, 档号 box, title fields with rules, inside a double frame."""
    page = Page()
    left, top, right, bottom = 28 * MM, 18 * MM, (210 - 18) * MM, (297 - 24) * MM
    page.rect(left, top, right - left, bottom - top, width=0.4 * MM)
    page.rect(left + 0.8 * MM, top + 0.8 * MM, right - left - 1.6 * MM, bottom - top - 1.6 * MM, width=0.4 * MM)
    inner_left, inner_right = left + 14 * MM, right - 14 * MM
    box = styles.text(11, 1.4)
    label_w = 15 * MM
    value_w = max(40 * MM, box.width(data["archive_no"]) + 6 * MM)
    box_x, box_y, box_h = inner_right - label_w - value_w, top + 10 * MM, 11 * 1.4 + 3 * MM
    page.rect(box_x, box_y, label_w, box_h)
    page.rect(box_x + label_w, box_y, value_w, box_h)
    page.text(box_x, box_y + 1.5 * MM, "档号", styles.heading(11, 1.4), align="center", width=label_w)
    page.text(box_x + label_w, box_y + 1.5 * MM, data["archive_no"], box, align="center", width=value_w)

    fonds = styles.heading(18, 1.5, spacing=1 * MM)
    y = top + 10 * MM + 34 * MM
    for line in wrap(data["agency_name"], fonds, inner_right - inner_left):
        page.text(inner_left, y, line, fonds, align="center", width=inner_right - inner_left)
        y += fonds.line_height
    title = styles.heading(30, 1.3, spacing=6 * MM)
    y += 8 * MM
    page.text(inner_left, y, "案卷", title, align="center", width=inner_right - inner_left)
    y += title.line_height + 18 * MM

    field_style = styles.text(14, 1.45)
    label_width, gap = 30 * MM, 4 * MM
    x_label = inner_left + 4 * MM
    x_value = x_label + label_width + gap
    value_width = inner_right - 4 * MM - x_value
    fields = [("全宗名称", data["agency_name"]), ("类目名称", "政府信息公开·依申请公开"),
              ("案卷题名", data["title"]), ("登记编号", data["reg_no"]),
              ("起止日期", f"{long_date(data['start_on'])}至{long_date(data['end_on'])}"),
              ("保管期限", data["retention_label"]), ("件数/页数", f"本卷共 {documents} 件，共 {total} 页"),
              ("立卷人", data["archivist"]), ("归档日期", long_date(data["archived_on"]))]
    for label, value in fields:
        lines = wrap(value or "", field_style, value_width)
        page.text(x_label, y, label, field_style, align="justify", width=label_width)
        page.lines(x_value, y, lines, field_style)
        y += len(lines) * field_style.line_height + 0.8 * MM
        page.line(x_label, y, inner_right - 4 * MM, y)
        y += 4.5 * MM
    footer = styles.text(11, 1.5)
    page.text(inner_left, bottom - 10 * MM - footer.line_height, f"{data['agency_name']}　立卷", footer,
              align="center", width=inner_right - inner_left)
    return page


# 卷内目录 columns and widths (0: the rest of the line). 备注 is wide enough for a date, a delivery method and a
# tracking number to wrap between words at 9 pt, never inside a number.
INDEX_COLUMNS = {"序号": 9 * MM, "文号": 30 * MM, "责任者": 24 * MM, "题名": 0, "日期": 18 * MM, "页号": 10 * MM,
                 "备注": 30 * MM}
INDEX_NOTE_SIZE = 9


def _index(data: Mapping, rows: list[dict], starts: dict[str, int], total: int, pages: _Pages,
           styles: _Styles) -> None:
    """卷内目录: 序号, 文号, 责任者, 题名, 日期, 页号 (each item's first page in this PDF), 备注."""
    flow = pages.flow
    _part_title(flow, "卷内目录", styles)
    _meta(flow, f"档号：{data['archive_no']}", f"登记编号：{data['reg_no']}", styles)
    text, head = _grid(styles)
    small = styles.text(INDEX_NOTE_SIZE, 1.4)
    cells = []
    for row in rows:
        page = str(starts[row["anchor"]] + 1) if row["anchor"] in starts else "—"
        cells.append([Cell(str(row["seq"]), text, "center"), Cell(row["doc_number"], text), Cell(row["author"], text),
                     Cell(row["title"], text), Cell(compact_date(row["dated_on"]), text, "center"),
                     Cell(page, text, "center"), Cell(row["note"], small)])
    header = [Cell(label, head, "center") for label in INDEX_COLUMNS]
    flow.table(Table(widths=list(INDEX_COLUMNS.values()), rows=cells, header=header, min_row_height=10 * MM))
    flow.space(3 * MM)
    flow.paragraph(f"页号为各件首页在本案卷 PDF 中的页码（封面为第 1 页），本卷共 {total} 页。原件以原始文件形式另存于"
                   "案卷包“原件”目录，各文件 SHA-256 见卷内备考表和 manifest.json。", small)


# ---------------------------------------------------------------- the back: form, record, exemptions, 备考表

def _back_matter(data: Mapping, pages: _Pages, styles: _Styles) -> dict[str, int]:
    """Lays out the sections behind the documents; returns each one's first page (0-based, within them)."""
    flow = pages.flow
    anchors = {}
    for name, title, section in (("registration", "政府信息公开申请登记表", _registration),
                                 ("record", "办理过程记录", _record),
                                 ("exemptions", "不予公开理由审查记录", _exemptions),
                                 ("notes", "卷内备考表", _notes)):
        if name == "exemptions" and not data.get("exemptions"):
            continue
        _part_title(flow, title, styles)
        anchors[name] = len(flow.pages) - 1
        section(data, flow, styles)
    return anchors


def _registration(data: Mapping, flow: Flow, styles: _Styles) -> None:
    _meta(flow, f"登记编号：{data['reg_no']}", data["agency_name"], styles)
    applicant, request = data["applicant"], data["request"]
    rows = [("申请人", f"{applicant['name']}（{applicant['kind_label']}）"),
            ("证件", f"{applicant['id_type']} {applicant['id_number']}".strip()),
            ("联系方式", applicant["contact"]), ("申请渠道", request["channel_label"]),
            ("提交日期", long_date(request["submitted_on"])), ("收到申请日期", long_date(request["received_on"])),
            ("所需信息的形式", request["requested_form"]), ("获取方式", request["requested_delivery"])]
    if request.get("purpose"):
        rows.append(("用途说明", request["purpose"]))
    flow.table(_form(rows, styles))
    flow.heading("申请公开的政府信息及办理结果", styles.heading(12, 1.5), before=5 * MM, after=2 * MM)
    text, head = _grid(styles)
    small = styles.text(9, 1.4)
    flow.table(Table(
        widths=[9 * MM, 0, 45 * MM, 45 * MM],
        header=[Cell(label, head, "center") for label in ("序号", "申请内容", "办理结果", "依据")],
        rows=[[Cell(str(item["seq"]), text, "center"), Cell(item["description"], text),
               Cell(item["outcome_label"], text), Cell(item["article"], small)] for item in data["items"]]))
    flow.space(5 * MM)
    rows = [("办理结果（按件）", data["outcome_label"]), ("答复（办结）日期", long_date(data["finished_on"]))]
    if data.get("extension"):
        rows.append(("延期答复", data["extension"]))
    if data.get("closed_reason"):
        rows.append(("办结说明", data["closed_reason"]))
    rows.append(("承办部门/承办人", data["department"]))
    flow.table(_form(rows, styles))


def _record(data: Mapping, flow: Flow, styles: _Styles) -> None:
    _meta(flow, f"登记编号：{data['reg_no']}", "时间为北京时间", styles)
    text, head = _grid(styles, 8.5)
    details = styles.text(8, 1.4)
    rows = []
    for event in data["timeline"]:
        letter = letter_title(event["letter_type"]) if event.get("letter_type") else ""
        content = "；".join(p for p in (letter, event["details"]) if p)
        content += f"\n理由：{event['reason']}" if event.get("reason") else ""
        rows.append([Cell(str(event["seq"]), text, "center"), Cell(event["at"], text, "center"),
                     Cell(event["actor"], text), Cell(event["action"], text), Cell(event["stages"], text),
                     Cell(content, details)])
    flow.table(Table(widths=[8 * MM, 25 * MM, 20 * MM, 24 * MM, 24 * MM, 0], rows=rows,
                     header=[Cell(label, head, "center") for label in
                             ("序号", "时间", "操作人", "操作", "阶段", "内容及理由")]))
    audit = data["audit"]
    flow.space(3 * MM)
    flow.paragraph(f"审计链校验值：本案最后一条记录（第 {audit['case_last_seq']} 号）哈希 {audit['case_last_hash']}；"
                   f"导出时本机关审计链头（第 {audit['agency_head_seq']} 号）哈希 {audit['agency_head_hash']}。",
                   styles.text(8, 1.5))


def _exemptions(data: Mapping, flow: Flow, styles: _Styles) -> None:
    _meta(flow, f"登记编号：{data['reg_no']}", "每一处不予公开的内容及其理由（含历次修改版本）", styles)
    heading = styles.heading(11, 1.5)
    for record in data["exemptions"]:
        rows = [("不予公开情形", record["ground_label"]), ("法律依据", record["article"]),
                ("事实和理由", record["facts"])]
        if record.get("scope"):
            rows.append(("不予公开的范围", record["scope"]))
        whole = "是" if record["whole_item"] else "否（区分处理，部分公开）"
        if record.get("severability"):
            whole += f"；不能区分处理的理由：{record['severability']}"
        rows.append(("整项不予公开", whole))
        rows.extend((label, value) for label, value in record.get("extra", ()))
        review = record["review_state_label"]
        if record.get("reviewer"):
            review += f"（{record['reviewer']}" + (f"，{record['reviewed_at']}" if record.get("reviewed_at") else "") + "）"
        if record.get("review_comment"):
            review += f"：{record['review_comment']}"
        rows.append(("法制审核", review))
        rows.append(("记录人/时间", f"{record['created_by']}，{record['created_at']}"))
        table = _form(rows, styles, label_width=34 * MM)
        title = (f"第 {record['item_seq']} 项申请内容 · 第 {record['version']} 版"
                 + ("" if record["current"] else "（已被新版本取代）"))
        flow.ensure(heading.line_height + 1.5 * MM + flow.table_height(table))  # kept on one page if it fits
        flow.heading(title, heading, after=1.5 * MM)
        flow.table(table)
        flow.space(5 * MM)


def _notes(data: Mapping, flow: Flow, styles: _Styles) -> None:
    """卷内备考表: what the file holds, every original's SHA-256, records appended after archiving, signatures."""
    _meta(flow, f"档号：{data['archive_no']}", f"登记编号：{data['reg_no']}", styles)
    documents = data["documents"]
    heading, body = styles.heading(12, 1.5), styles.text(12, 1.5)
    flow.begin_frame(7 * MM, 0.4 * MM)
    flow.heading("本卷情况说明", heading, after=2 * MM)
    generated = "、不予公开理由审查记录" if data.get("exemptions") else ""
    flow.paragraph(f"本卷共 {len(documents) + (3 if data.get('exemptions') else 2)} 件（其中原件 {len(documents)} 件，"
                   f"系统生成的登记表、办理过程记录{generated}），件数、页数见案卷封面。保管期限{data['retention_label']}"
                   + (f"（调整理由：{data['retention_reason']}）" if data.get("retention_reason") else "") + "。",
                   body, first_line=2 * body.size, after=2 * MM)
    flow.paragraph("签发的文书以冻结的原始文件归档，与签发时的 SHA-256 一致；扫描件按上传时的原始文件归档：", body,
                   first_line=2 * body.size, after=2 * MM)
    _conversion_note(documents, flow, body)
    item, digest = styles.text(10.5, 1.5), styles.text(7, 1.5)
    for n, document in enumerate(documents, start=1):
        flow.ensure(item.line_height + digest.line_height)
        flow.page.text(flow.x, flow.y, f"{n}.", item)
        flow.paragraph(f"{document['path']}（{document['size_bytes']} 字节）", item, indent=7 * MM)
        flow.paragraph(f"SHA-256 {document['sha256']}", digest, indent=7 * MM, after=1.5 * MM)
    flow.space(2.5 * MM)
    flow.heading("归档后追加记录", heading, after=2 * MM)
    if data.get("notes"):
        text, head = _grid(styles)
        flow.table(Table(
            widths=[9 * MM, 26 * MM, 0, 26 * MM],
            header=[Cell(label, head, "center") for label in ("序号", "日期", "内容", "记录人")],
            rows=[[Cell(str(n), text, "center"), Cell(long_date(note["noted_on"]), text, "center"),
                   Cell(note["text"], text), Cell(note.get("author") or "", text)]
                  for n, note in enumerate(data["notes"], start=1)]))
    else:
        flow.paragraph("无。", body)
    flow.space(10 * MM)
    flow.ensure(body.line_height)
    y, x, width = flow.y, flow.x, flow.width
    flow.page.text(x, y, f"立卷人：{data['archivist']}", body)
    flow.page.text(x, y, f"检查人：{data.get('checker') or '　　　　'}", body, align="center", width=width)
    flow.page.text(x, y, f"立卷时间：{long_date(data['archived_on'])}", body, align="right", width=width)
    flow.y += body.line_height
    flow.end_frame(min_height=200 * MM)


def _conversion_note(documents: Sequence[Mapping], flow: Flow, body: Style) -> None:
    """What became of uploaded PDFs in this PDF: converted to PDF/A, or kept as they are and why (no false claim)."""
    converted = [n for n, d in enumerate(documents, start=1) if d.get("pdfa") == "converted"]
    failed = [(n, d) for n, d in enumerate(documents, start=1) if d.get("pdfa_problem")]
    if converted:
        numbers = "、".join(f"第 {n} 件" for n in converted)
        flow.paragraph(f"上传的 PDF 文件（{numbers}）编入本案卷 PDF 时已转换为 PDF/A，原件照录于案卷包“原件”目录。", body,
                       first_line=2 * body.size, after=2 * MM)
    if failed:
        listed = "；".join(f"第 {n} 件（{d.get('path') or d.get('title')}）{d['pdfa_problem']}" for n, d in failed)
        flow.paragraph(f"{listed}，照原样编入。本案卷 PDF 因此不声明符合 PDF/A。", body, first_line=2 * body.size,
                       after=2 * MM)


# ---------------------------------------------------------------- assembly

def _insert_documents(base: bytes, at: int, placed: list[dict], pdfs: list[bytes | None],
                      starts: dict[str, int]) -> bytes:
    """Each original's pages after the front matter, as they are; an outline for navigation."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    position = at
    for document, pdf in zip(placed, pdfs, strict=True):
        if pdf is None or not document["page_count"]:
            continue
        for page in PdfReader(io.BytesIO(pdf)).pages:
            _flatten_signatures(writer.insert_page(page, position))
            position += 1
    outline = [(0, "案卷封面"), (1, "卷内目录")]
    outline += [(starts[d["anchor"]], d.get("title") or "文件") for d in placed if d["anchor"] in starts]
    outline += [(starts[name], title) for name, title in SECTIONS if name in starts]
    for page, title in sorted(outline, key=lambda entry: entry[0]):
        writer.add_outline_item(title=title, page_number=page)
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _flatten_signatures(page) -> None:
    """A signed letter's visible signature becomes part of its page in 案卷.pdf. The signature itself belongs to the
    original, kept byte for byte in the package; copied into the case file it could only be a broken one (its byte
    range names another file), which a reader would report as tampering."""
    annotations = page.get("/Annots")
    if not annotations:
        return
    kept, drawn = ArrayObject(), []
    for reference in annotations:
        annotation = reference.get_object()
        field = annotation.get("/Parent", annotation).get_object()
        if annotation.get("/FT", field.get("/FT")) != "/Sig":
            kept.append(reference)
            continue
        appearance = annotation.get("/AP", {}).get("/N")
        if appearance is None:
            continue
        x0, y0, x1, y1 = _rectangle(annotation["/Rect"])
        bx0, by0, bx1, by1 = _rectangle(appearance.get_object()["/BBox"])
        if bx1 == bx0 or by1 == by0:
            continue
        name = NameObject(f"/GongkaiSignature{len(drawn)}")
        resources = page.setdefault(NameObject("/Resources"), DictionaryObject()).get_object()
        resources.setdefault(NameObject("/XObject"), DictionaryObject()).get_object()[name] = appearance
        sx, sy = (x1 - x0) / (bx1 - bx0), (y1 - y0) / (by1 - by0)
        drawn.append(b"q %g 0 0 %g %g %g cm %s Do Q" % (sx, sy, x0 - bx0 * sx, y0 - by0 * sy, name.encode()))
    if not drawn:
        return
    page[NameObject("/Annots")] = kept
    content = page.get_contents()
    stream = ContentStream(None, None)
    stream.set_data(b"q\n" + (content.get_data() if content is not None else b"") + b"\nQ\n" + b"\n".join(drawn))
    page.replace_contents(stream)


def _rectangle(values) -> tuple[float, float, float, float]:
    """A PDF rectangle normalised to (left, bottom, right, top): writers may give any two opposite corners."""
    ax, ay, bx, by = (float(v) for v in values)
    return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def _index_rows(data: Mapping, placed: list[dict]) -> list[dict]:
    """卷内目录: every document in archival order, then the generated records; 页号 is each one's first page."""
    agency_name = _field(data, "agency_name")
    rows = []
    for document in placed:
        note = document.get("note") or ""
        anchor = document["anchor"] if document["page_count"] else None
        if anchor is None:  # e.g. an OFD scan: kept byte for byte in the package, not reproducible as PDF pages
            note = "；".join(p for p in (note, f"原件另存（{document.get('path', '')}），未编入本 PDF") if p)
        elif document.get("pdfa_problem"):
            note = "；".join(p for p in (note, "未能转换为PDF/A，照原样编入（见备考表）") if p)
        elif document.get("pdfa") == "converted":
            note = "；".join(p for p in (note, "已转换为PDF/A编入") if p)
        rows.append({**document, "anchor": anchor, "note": note})
    dated = {"registration": _field(data, "registered_on"), "record": _field(data, "archived_on"),
             "exemptions": _field(data, "archived_on")}
    for name, title in SECTIONS:
        if name in INDEXED_SECTIONS and (name != "exemptions" or _field(data, "exemptions")):
            rows.append({"doc_number": _field(data, "reg_no") if name == "registration" else "",
                         "author": agency_name, "title": title, "dated_on": dated[name], "anchor": name,
                         "note": "系统生成"})
    for n, row in enumerate(rows, start=1):
        row["seq"] = n
    return rows


# ---------------------------------------------------------------- documents

def _as_pdf(document: Mapping, content: bytes) -> bytes | None:
    """A PDF as it is, an image scan as one A4 page (fit, no resampling), anything else stays out of the PDF."""
    content_type = (document.get("content_type") or "").lower()
    title = document.get("title") or document.get("path") or "文件"
    if _is_pdf(document, content):
        return content
    if content_type in IMAGE_TYPES:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(content)) as image:
                image.load()
                rgb = image.convert("RGB")
        except (UnidentifiedImageError, OSError) as error:
            raise LetterRenderError(f"扫描件「{title}」无法读取：{error}") from error
        out = io.BytesIO()
        rgb.save(out, "PDF", resolution=72.0)
        return _on_a4(out.getvalue())
    return None


def _is_pdf(document: Mapping, content: bytes) -> bool:
    return (document.get("content_type") or "").lower() == "application/pdf" or content[:5] == b"%PDF-"


def _on_a4(pdf: bytes) -> bytes:
    """A one-page image PDF centred on an A4 page within 10 mm margins, scaled to fit (the pixels untouched)."""
    from pypdf import PageObject, Transformation

    source = PdfReader(io.BytesIO(pdf)).pages[0]
    width, height = (mm * 72 / 25.4 for mm in A4_MM)
    margin = 10 * 72 / 25.4
    image_w, image_h = float(source.mediabox.width), float(source.mediabox.height)
    scale = min((width - 2 * margin) / image_w, (height - 2 * margin) / image_h)
    page = PageObject.create_blank_page(width=width, height=height)
    page.merge_transformed_page(source, Transformation().scale(scale).translate(
        (width - image_w * scale) / 2, (height - image_h * scale) / 2))
    writer = PdfWriter()
    writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_count(document: Mapping, pdf: bytes | None) -> int:
    if pdf is None:
        return 0
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise LetterRenderError(f"文件「{document.get('title') or document.get('path')}」已加密，无法编入案卷")
        return len(reader.pages)
    except PyPdfError as error:
        raise LetterRenderError(f"文件「{document.get('title') or document.get('path')}」不是有效的 PDF：{error}") from error


# ---------------------------------------------------------------- data helpers

def document_title(document: Mapping) -> str:
    """题名 of a document: a letter's from the letter catalogue, as printed on the letter; an upload's as given."""
    if document.get("letter_type"):
        return letter_title(document["letter_type"])
    return document.get("title") or ""


def letter_title(letter_type: str) -> str:
    """The one official title of a letter type (the letter catalogue's), the title its letters carry."""
    try:
        return LETTER_TYPES[letter_type].title
    except KeyError:
        raise LetterDataError("letter_type", f"案卷中有未知的文书类型：{letter_type}") from None


def _field(data: Mapping, name: str):
    try:
        return data[name]
    except (KeyError, TypeError):
        raise LetterDataError(name, f"案卷数据缺少字段：{name}") from None


def compact_date(value) -> str:
    """卷内目录 dates as eight digits (20260302), the archival convention."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return day.strftime("%Y%m%d")


def long_date(value) -> str:
    """2026年3月2日 (GB/T 9704: Arabic numerals, no leading zeros)."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def casefile_fonts(assets: AssetConfig) -> FontConfig:
    """Song (宋体) text and a bold Song title: the agency's files if configured, else FandolSong beside FandolFang.

    Noto Serif CJK, Noto Sans CJK and LXGW WenKai (Debian packages) follow for characters these lack."""
    fonts = assets.fonts
    font_dir = default_font_dir()

    def bundled(name: str) -> Path | None:
        path = font_dir / name
        return path if path.is_file() else None

    return FontConfig(fangsong=fonts.fangsong, song=fonts.song or bundled("FandolSong-Regular.otf"),
                      title=fonts.title or bundled("FandolSong-Bold.otf"))
