"""An archival case file (案卷) as one PDF/A-3b: cover, 卷内目录, the documents, process record and 备考表.

The generated parts (cover and index, the registration form, the process record with the exemption log
and the 备考表) are laid out by WeasyPrint from plain data; the original documents' pages (frozen letters,
uploaded scans) take the place of empty stand-in pages with pypdf, exactly as they are. Because the
stand-ins are laid out with everything else, the 页号 of the 卷内目录 (CSS target-counter) and every page
footer are the final page numbers of 案卷.pdf after a single layout pass.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
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

from letters.assets import PACKAGE_DIR, PROJECT_ROOT, AssetConfig, FontConfig, default_assets, font_css
from letters.errors import LetterDataError, LetterRenderError
from letters.fetcher import AssetFetcher
from letters.render import _RENDER_LOCK, cn_date

CASEFILE_DIR = PACKAGE_DIR / "casefile_templates"
MANIFEST_NAME = "manifest.json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp")
A4_MM = (210, 297)


@dataclass(frozen=True)
class RenderedCaseFile:
    """The assembled 案卷.pdf and where each document landed (1-based page ranges, None = not in the PDF)."""

    pdf: bytes
    sha256: str
    page_count: int
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
            pdf, starts = _lay_out(data, documents, pdfs, counts, manifest, assets)
    except FatalURLFetchingError as refusal:
        raise LetterRenderError(str(refusal.__cause__ or refusal)) from refusal
    page_count = len(PdfReader(io.BytesIO(pdf)).pages)
    ranges = tuple((starts[f"doc-{n}"] + 1, starts[f"doc-{n}"] + count) if count else None
                   for n, count in enumerate(counts, start=1))
    return RenderedCaseFile(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), page_count=page_count,
                            document_pages=ranges)


def embedded_manifest(pdf: bytes) -> bytes | None:
    """The manifest.json attached to a case-file PDF (PDF/A-3 associated file), or None."""
    reader = PdfReader(io.BytesIO(pdf))
    found = reader.attachments.get(MANIFEST_NAME)
    return found[0] if found else None


# ---------------------------------------------------------------- layout

SECTIONS = (("registration", "政府信息公开申请登记表"), ("record", "办理过程记录（审计轨迹）"),
            ("exemptions", "不予公开理由审查记录"), ("notes", "卷内备考表"))
INDEXED_SECTIONS = ("registration", "record", "exemptions")  # the 备考表 is never listed in the 卷内目录


def _lay_out(data, documents, pdfs, counts, manifest, assets) -> tuple[bytes, dict[str, int]]:
    """One WeasyPrint pass: the originals stand in as empty pages, so every 页号 (target-counter) and
    footer is final; then pypdf swaps each stand-in for the original's own pages."""
    fetcher, font_config, stylesheets = _styles(assets)
    placed = [{**document, "anchor": f"doc-{n}", "page_count": count}
              for n, (document, count) in enumerate(zip(documents, counts, strict=True), start=1)]
    html = _environment().get_template("casefile.html").render(
        data=data, documents=[d for d in placed if d["page_count"]], rows=_index_rows(data, placed))
    document = HTML(string=html, base_url=CASEFILE_DIR.as_uri() + "/", url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=stylesheets)
    starts = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            starts.setdefault(anchor, number)
    attachment = Attachment(file_obj=io.BytesIO(manifest), name=MANIFEST_NAME, relationship="Data",
                            description="案卷清单（机读）：案件元数据、各文件 SHA-256、审计链哈希")
    base = document.write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment], uncompressed_pdf=False)
    return _swap_in_documents(base, placed, pdfs, starts), starts


def _swap_in_documents(base: bytes, placed: list[dict], pdfs: list[bytes | None], starts: dict[str, int]) -> bytes:
    """Each original's pages in place of its stand-ins, as they are; an outline for navigation."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    # Back to front, so the page indices of the documents not yet swapped stay valid.
    for document, pdf in reversed(list(zip(placed, pdfs, strict=True))):
        if pdf is None or not document["page_count"]:
            continue
        first = starts[document["anchor"]]
        for _ in range(document["page_count"]):
            writer.remove_page(first)
        for offset, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
            writer.insert_page(page, first + offset)
    outline = [(0, "案卷封面"), (1, "卷内目录")]
    outline += [(starts[d["anchor"]], d.get("title") or "文件") for d in placed if d["anchor"] in starts]
    outline += [(starts[name], title) for name, title in SECTIONS if name in starts]
    for page, title in sorted(outline, key=lambda entry: entry[0]):
        writer.add_outline_item(title=title, page_number=page)
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _index_rows(data: Mapping, placed: list[dict]) -> list[dict]:
    """卷内目录: every document in archival order, then the generated records; 页号 is each one's first page."""
    agency_name = _field(data, "agency_name")
    rows = []
    for document in placed:
        note = document.get("note") or ""
        anchor = document["anchor"] if document["page_count"] else None
        if anchor is None:  # e.g. an OFD scan: kept byte for byte in the package, not reproducible as PDF pages
            note = "；".join(p for p in (note, f"原件另存（{document.get('path', '')}），未编入本 PDF") if p)
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
        out = io.BytesIO()
        rgb.save(out, "PDF", resolution=72.0)
        return _on_a4(out.getvalue())
    return None


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


def casefile_fonts(assets: AssetConfig) -> FontConfig:
    """Song (宋体) text and a bold Song title: the agency's files if configured, else FandolSong beside FandolFang.

    FandolSong subsets and embeds about four times faster than Noto Serif CJK's collection, which is what
    makes bulk export of thousands of case files practical; Noto stays in the stack for rare characters.
    """
    fonts = assets.fonts
    font_dir = Path(os.environ.get("GONGKAI_FONT_DIR") or PROJECT_ROOT / "var" / "fonts")

    def bundled(name: str) -> Path | None:
        path = font_dir / name
        return path if path.is_file() else None

    return FontConfig(fangsong=fonts.fangsong, song=fonts.song or bundled("FandolSong-Regular.otf"),
                      title=fonts.title or bundled("FandolSong-Bold.otf"))


@functools.lru_cache(maxsize=8)
def _styles(assets: AssetConfig) -> tuple[AssetFetcher, FontConfiguration, list[CSS]]:
    """The fetcher (bundled case-file CSS, configured fonts only), fonts and parsed CSS, reused per config."""
    fonts = casefile_fonts(assets)
    allowed = frozenset(fonts.files())
    for path in allowed:
        if not path.is_file():
            raise LetterRenderError(f"案卷字体文件不存在：{path}")
    fetcher = AssetFetcher(allowed, assets_dir=CASEFILE_DIR)
    font_config = FontConfiguration()
    base_url = CASEFILE_DIR.as_uri() + "/"
    song = '"GK song", ' if fonts.song is not None else ""
    # One text face and the title face: every further font costs a subset and an embedding per file.
    title = '"GK title", ' if fonts.title is not None else ""
    text_fonts = (f'html, body, table {{ font-family: {song}"Noto Serif CJK SC", "Noto Sans CJK SC", "LXGW WenKai"; }}\n'
                  f'th, h3 {{ font-family: {title}"Noto Serif CJK SC", "Noto Sans CJK SC", "LXGW WenKai"; }}\n')
    sheets = [CSS(filename=str(CASEFILE_DIR / "casefile.css"), url_fetcher=fetcher, font_config=font_config),
              CSS(string=font_css(fonts) + text_fonts, base_url=base_url, url_fetcher=fetcher,
                  font_config=font_config)]
    return fetcher, font_config, sheets
