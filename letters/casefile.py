"""An archival case file (案卷) as one PDF/A-3b: cover, 卷内目录, the documents, process record and 备考表.

The generated parts (cover and index, the registration form, the process record with the exemption log
and the 备考表) are laid out by WeasyPrint from plain data; the original documents' pages (frozen letters,
uploaded scans) are inserted with pypdf exactly as they are. The 页号 in the index are the final page
numbers of 案卷.pdf: the parts are laid out, their page counts measured, and the front matter laid out
again only when the index turned out longer than assumed.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from letters.assets import PACKAGE_DIR, AssetConfig, default_assets, font_css
from letters.errors import LetterDataError, LetterRenderError
from letters.fetcher import AssetFetcher
from letters.render import _RENDER_LOCK, cn_date

CASEFILE_DIR = PACKAGE_DIR / "casefile_templates"
MANIFEST_NAME = "manifest.json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp")
A4_MM = (210, 297)
_MAX_LAYOUT_PASSES = 4


@dataclass(frozen=True)
class RenderedCaseFile:
    """The assembled 案卷.pdf and where each document landed (1-based page ranges, None = not in the PDF)."""

    pdf: bytes
    sha256: str
    page_count: int
    front_pages: int
    document_pages: tuple[tuple[int, int] | None, ...]


def render_casefile(data: Mapping, contents: Sequence[bytes], *, manifest: bytes,
                    assets: AssetConfig | None = None) -> RenderedCaseFile:
    """案卷.pdf from the case file's plain data and the bytes of its documents (in `data["documents"]` order)."""
    documents = _field(data, "documents")
    if len(documents) != len(contents):
        raise LetterDataError("documents", f"案卷文件数（{len(documents)}）与提供的原件数（{len(contents)}）不一致")
    pdfs = [_as_pdf(document, content) for document, content in zip(documents, contents, strict=True)]
    counts = [_page_count(document, pdf) for document, pdf in zip(documents, pdfs, strict=True)]
    assets = assets or default_assets()
    try:
        with _RENDER_LOCK:
            pdf, layout = _lay_out(data, documents, pdfs, counts, manifest, assets)
    except FatalURLFetchingError as refusal:
        raise LetterRenderError(str(refusal.__cause__ or refusal)) from refusal
    return RenderedCaseFile(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), page_count=layout.total,
                            front_pages=layout.front, document_pages=tuple(layout.ranges))


def embedded_manifest(pdf: bytes) -> bytes | None:
    """The manifest.json attached to a case-file PDF (PDF/A-3 associated file), or None."""
    reader = PdfReader(io.BytesIO(pdf))
    found = reader.attachments.get(MANIFEST_NAME)
    return found[0] if found else None


# ---------------------------------------------------------------- layout

@dataclass
class _Layout:
    """Page numbers of every part for a given length of the front matter (cover + index)."""

    front: int
    registration_pages: int
    back_pages: dict[str, int]
    counts: list[int]
    registration_at: int

    def __post_init__(self) -> None:
        self.ranges: list[tuple[int, int] | None] = []
        page = self.front + 1
        for n, count in enumerate(self.counts):
            if n == self.registration_at:
                self.registration = (page, page + self.registration_pages - 1)
                page += self.registration_pages
            self.ranges.append((page, page + count - 1) if count else None)
            page += count
        if self.registration_at >= len(self.counts):
            self.registration = (page, page + self.registration_pages - 1)
            page += self.registration_pages
        self.back_start = page
        self.sections = {}
        for name in ("record", "exemptions", "notes"):
            pages = self.back_pages.get(name, 0)
            self.sections[name] = (page, page + pages - 1) if pages else None
            page += pages
        self.total = page - 1


def _lay_out(data, documents, pdfs, counts, manifest, assets):
    fetcher, font_config, stylesheets = _styles(assets)
    registration_at = sum(1 for d in documents if d.get("part") == "result")

    def render(template: str, **context):
        html = _environment().get_template(template).render(data=data, **context)
        return HTML(string=html, base_url=CASEFILE_DIR.as_uri() + "/", url_fetcher=fetcher).render(
            font_config=font_config, stylesheets=stylesheets)

    # The back matter and the registration form do not depend on page numbers except their own start
    # page (printed in the footer), so they are laid out once per guess of the front matter's length.
    front_guess = 2
    for _ in range(_MAX_LAYOUT_PASSES):
        probe = _Layout(front_guess, 0, {}, counts, registration_at)
        registration = render("registration.html", first_page=probe.registration[0])
        with_registration = _Layout(front_guess, len(registration.pages), {}, counts, registration_at)
        back = render("back.html", first_page=with_registration.back_start)
        layout = _Layout(front_guess, len(registration.pages), _section_pages(back), counts, registration_at)
        front = render("front.html", layout=layout, rows=_index_rows(data, documents, layout))
        if len(front.pages) == front_guess:
            break
        front_guess = len(front.pages)
    else:  # pragma: no cover - an index that keeps changing length would need a pathological title
        raise LetterRenderError("卷内目录的页数无法确定")
    generated = front.copy([*front.pages, *registration.pages, *back.pages])
    attachment = Attachment(file_obj=io.BytesIO(manifest), name=MANIFEST_NAME, relationship="Data",
                            description="案卷清单（机读）：案件元数据、各文件 SHA-256、审计链哈希")
    base = generated.write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment], uncompressed_pdf=False)
    return _insert_documents(base, pdfs, layout, documents), layout


def _section_pages(back) -> dict[str, int]:
    """Pages of each back-matter section, found by the anchor its heading carries."""
    starts = {}
    for number, page in enumerate(back.pages):
        for name in ("record", "exemptions", "notes"):
            if name in page.anchors and name not in starts:
                starts[name] = number
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    pages = {}
    for n, (name, start) in enumerate(ordered):
        end = ordered[n + 1][1] if n + 1 < len(ordered) else len(back.pages)
        pages[name] = end - start
    return pages


def _insert_documents(base: bytes, pdfs: list[bytes | None], layout: _Layout, documents) -> bytes:
    """The documents' pages spliced in after the front matter (and around the registration form)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    outline = [(1, "案卷封面"), (2, "卷内目录")]
    for document, pdf, pages in zip(documents, pdfs, layout.ranges, strict=True):
        if pdf is None or pages is None:
            continue
        reader = PdfReader(io.BytesIO(pdf))
        for offset, page in enumerate(reader.pages):
            writer.insert_page(page, pages[0] - 1 + offset)
        outline.append((pages[0], document.get("title") or "文件"))
    outline.append((layout.registration[0], "政府信息公开申请登记表"))
    for name, label in (("record", "办理过程记录"), ("exemptions", "不予公开理由审查记录"), ("notes", "卷内备考表")):
        if layout.sections[name]:
            outline.append((layout.sections[name][0], label))
    for page, title in sorted(outline):
        writer.add_outline_item(title, page - 1)
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _index_rows(data: Mapping, documents, layout: _Layout) -> list[dict]:
    """卷内目录: every document in archival order, with the generated records, at their final pages."""
    agency_name = _field(data, "agency_name")
    rows = [{**document, "pages": pages} for document, pages in zip(documents, layout.ranges, strict=True)]
    registration = {"doc_number": _field(data, "reg_no"), "author": agency_name, "title": "政府信息公开申请登记表",
                    "dated_on": _field(data, "registered_on"), "pages": layout.registration, "note": "系统生成"}
    rows.insert(layout.registration_at, registration)
    for name, title in (("record", "办理过程记录（审计轨迹）"), ("exemptions", "不予公开理由审查记录")):
        if layout.sections[name]:
            rows.append({"doc_number": "", "author": agency_name, "title": title,
                         "dated_on": _field(data, "archived_on"), "pages": layout.sections[name], "note": "系统生成"})
    for n, row in enumerate(rows, start=1):
        row["seq"] = n
    return rows


# ---------------------------------------------------------------- documents

def _as_pdf(document: Mapping, content: bytes) -> bytes | None:
    """A PDF as it is, an image scan as one A4 page (fit, no resampling), anything else stays out of the PDF."""
    content_type = (document.get("content_type") or "").lower()
    title = document.get("title") or document.get("path") or "文件"
    if content_type == "application/pdf" or content[:5] == b"%PDF-":
        return content
    if content_type in IMAGE_TYPES:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(content)) as image:
                image.load()
                rgb = image.convert("RGB")
        except (UnidentifiedImageError, OSError) as error:
            raise LetterRenderError(f"扫描件「{title}」无法读取：{error}") from error
        width_in, height_in = (mm / 25.4 for mm in A4_MM)
        dpi = max(rgb.width / width_in, rgb.height / height_in, 72.0)
        out = io.BytesIO()
        rgb.save(out, "PDF", resolution=dpi)
        return out.getvalue()
    return None


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


# ---------------------------------------------------------------- templates, styles

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
    if not value:
        return ""
    return cn_date(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))


def page_range(pages) -> str:
    if not pages:
        return "—"
    start, end = pages
    return str(start) if start == end else f"{start}—{end}"


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CASEFILE_DIR), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(compact_date=compact_date, long_date=long_date, page_range=page_range)
    return environment


@functools.lru_cache(maxsize=8)
def _styles(assets: AssetConfig) -> tuple[AssetFetcher, FontConfiguration, list[CSS]]:
    """The fetcher (bundled case-file CSS, configured fonts only), fonts and parsed CSS, reused per config."""
    for path in assets.allowed_files():
        if not Path(path).is_file():
            raise LetterRenderError(f"案卷资源文件不存在：{path}")
    fetcher = AssetFetcher(assets.allowed_files(), assets_dir=CASEFILE_DIR)
    font_config = FontConfiguration()
    base_url = CASEFILE_DIR.as_uri() + "/"
    song = '"GK song", ' if assets.fonts.song is not None else ""
    table_fonts = f'.song, table {{ font-family: {song}"Noto Serif CJK SC", "Noto Sans CJK SC", "LXGW WenKai"; }}\n'
    sheets = [CSS(filename=str(CASEFILE_DIR / "casefile.css"), url_fetcher=fetcher, font_config=font_config),
              CSS(string=font_css(assets.fonts) + table_fonts, base_url=base_url, url_fetcher=fetcher,
                  font_config=font_config)]
    return fetcher, font_config, sheets
