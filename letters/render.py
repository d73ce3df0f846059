"""Renders a letter's plain data to a GB/T 9704-2012 PDF/A-3b with WeasyPrint, fetching only allowed assets."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from letters import fields, font_data, wording
from letters.assets import ASSETS_DIR, AssetConfig, default_assets, font_css, issue_problems
from letters.catalogue import LETTER_TYPES, TEMPLATES_DIR, LetterSpec
from letters.errors import LetterDataError, LetterRenderError
from letters.fetcher import AssetFetcher
from letters.missing_glyphs import draw_missing_as_geta
from letters.seal import SEAL_SIZE_PT, SealBox

font_data.install()  # a face's file is copied only if WeasyPrint reads the copy (a third of a letter's render)

# Pango's font map is shared by every render of a configuration and is not safe across threads.
_RENDER_LOCK = threading.Lock()
_CHINESE_NUMERALS = "零一二三四五六七八九"


@dataclass(frozen=True)
class RenderedLetter:
    """A rendered letter, ready to be frozen at signing: bytes, hash, template version and data."""

    pdf: bytes
    sha256: str
    template_version: str
    data_snapshot: dict
    page_count: int


def cn_date(value: date) -> str:
    """A date in Arabic numerals without leading zeros (GB/T 9704 §7.3.5): 2026年11月21日."""
    return f"{value.year}年{value.month}月{value.day}日"


def cn_ordinal(number: int) -> str:
    """一, 二, … 九十九: the numbering of first-level headings (一、二、)."""
    if number < 10:
        return _CHINESE_NUMERALS[number]
    tens, units = divmod(number, 10)
    return ("" if tens == 1 else _CHINESE_NUMERALS[tens]) + "十" + (_CHINESE_NUMERALS[units] if units else "")


def yuan(amount: Decimal) -> str:
    """An amount of money as written in a notice: 1,200.00元."""
    return f"{amount:,.2f}元"


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop, however the engine or a person punctuated it (no "。。", "；。")."""
    core = text.rstrip().rstrip("，,;；.。:：、 \u3000")
    return core if core.endswith(("！", "？")) else core + "。"


_OPENING, _CLOSING = "“\"「‘'", "”\"」’'"


def quoted(text: str) -> str:
    """`text` in Chinese quotation marks, once: a subject typed with its own quotes is not quoted twice."""
    core = text.strip()
    inner = core[1:-1]
    if len(core) >= 2 and core[0] in _OPENING and core[-1] in _CLOSING and not any(q in inner for q in "“”\""):
        core = inner.strip()
    return f"“{core}”"


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(cn_date=cn_date, cn_ordinal=cn_ordinal, yuan=yuan, sentence=sentence, quoted=quoted)
    return environment


def _spec(letter_type: str) -> LetterSpec:
    try:
        return LETTER_TYPES[letter_type]
    except KeyError:
        known = "、".join(LETTER_TYPES)
        raise LetterDataError("letter_type", f"未知的文书类型：{letter_type}（可用：{known}）") from None


def build_letter_data(letter_type: str, data: Mapping | Any) -> Any:
    """The frozen dataclass of `letter_type` from JSON-like data; LetterDataError names any bad field."""
    return fields.build(_spec(letter_type).data_class, data)


def render_html(letter_type: str, data: Mapping | Any, *, draft: bool = False,
                assets: AssetConfig | None = None) -> str:
    """The letter as HTML (for tests and the web preview); case data is autoescaped by Jinja."""
    spec = _spec(letter_type)
    letter = fields.build(spec.data_class, data)
    assets = assets or default_assets()
    seal = None if assets.seal_placeholder else assets.seal_image
    remedies = letter.remedy_sentences() if hasattr(letter, "remedy_sentences") else ()
    slots = wording.resolve(letter_type, letter, letter.wording.slots if letter.wording else None)
    html = _environment().get_template(spec.template).render(
        letter=letter, spec=spec, draft=draft, remedies=remedies, wording=slots,
        seal_url=seal.resolve().as_uri() if seal is not None else None, seal_placeholder=assets.seal_placeholder)
    return draw_missing_as_geta(_breakable_quotes(html), assets.fonts)


def _breakable_quotes(html: str) -> str:
    """Allow a line break before an opening quote, as Chinese typesetting does (UAX #14 glues “ to both sides).

    Only the body is touched, where every piece of case data is already escaped, so no tag can be formed.
    """
    head, marker, body = html.partition("<body")
    return head + marker + body.replace("“", "<wbr>“")


def render_letter(letter_type: str, data: Mapping | Any, *, draft: bool = False,
                  assets: AssetConfig | None = None, signer: LetterSigner | None = None) -> RenderedLetter:
    """The letter as a PDF/A-3b with fonts embedded; `draft` marks it 样稿 for preview before signing.

    A letter with a 文号 (every signed letter has one) is set only in its own fonts, with its seal: when one of
    them is missing the render is refused, naming what to install. A draft falls back to the free fonts, and so
    does the one letter without a 文号, the 登记回执: a font problem must never stop a request from being
    registered (at the counter or online), since the receipt is what fixes its date (条例第三十一条).

    With a `signer` the letter is signed at the seal position (the signature's appearance then carries the seal
    image, so the page itself leaves the seal's place empty) and the signed bytes are what is returned and hashed."""
    spec = _spec(letter_type)
    letter = fields.build(spec.data_class, data)
    if not draft and letter_type != "receipt" and not letter.doc_number:
        # A 样稿 carries no made-up number (it is taken at signing); an issued letter always has its 文号.
        raise LetterDataError("doc_number", "字段 doc_number 缺失（正式文书须有文号）")
    assets = assets or default_assets()
    if draft or not letter.doc_number:
        assets = assets.for_preview()
    else:
        problems = issue_problems(assets)
        if problems:
            raise LetterRenderError("带文号的正式文书不能使用替代字体或缺少印章出具：" + "；".join(problems)
                                    + "。预览（样稿）不受影响")
    html = render_html(letter_type, letter, draft=draft, assets=assets)
    signing = signer is not None and not draft
    pdf, page_count, seal_box = _render_document(html, assets=assets, draft=draft, seal_in_signature=signing)
    if signing:
        if seal_box is None:
            raise LetterRenderError("文书没有发文机关署名位置，无法加盖电子签名")
        title = f"{letter.agency_name}{spec.title}" + (f"（{letter.doc_number}）" if letter.doc_number else "")
        pdf = signer(pdf, seal_box, title=title)
    return RenderedLetter(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), template_version=spec.version,
                          data_snapshot=fields.dump(letter), page_count=page_count)


class LetterSigner(Protocol):
    """Signs a rendered letter at the seal position (`letters.signing.PadesSigner`, or an official seal system)."""

    def __call__(self, pdf: bytes, seal_box: SealBox, *, title: str) -> bytes: ...


def render_pdf(html: str, *, assets: AssetConfig | None = None, draft: bool = False) -> tuple[bytes, int]:
    """PDF bytes and page count of letter HTML under the shared CSS; any refused fetch aborts the render."""
    pdf, page_count, _seal = _render_document(html, assets=assets, draft=draft)
    return pdf, page_count


def _render_document(html: str, *, assets: AssetConfig | None = None, draft: bool = False,
                     seal_in_signature: bool = False) -> tuple[bytes, int, SealBox | None]:
    """`render_pdf` and the seal position; `seal_in_signature` keeps the seal's place but leaves it empty, for a
    signature appearance that carries the seal."""
    assets = assets or default_assets()
    try:
        with _RENDER_LOCK:
            fetcher, font_config, stylesheets, draft_sheet, signing_sheet = _styles(assets)
            if draft:
                stylesheets = [*stylesheets, draft_sheet]
            if seal_in_signature:
                stylesheets = [*stylesheets, signing_sheet]
            document_html = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=fetcher)
            document = document_html.render(font_config=font_config, stylesheets=stylesheets)
            pdf = document.write_pdf(pdf_variant="pdf/a-3b", uncompressed_pdf=False)
    except FatalURLFetchingError as refusal:
        cause = refusal.__cause__ or refusal
        raise LetterRenderError(str(cause)) from refusal
    return pdf, len(document.pages), _seal_box(document)


def _seal_box(document) -> SealBox | None:
    """The GB/T 9704 seal position in PDF points: the seal image's box, or a 42 mm square where it would stand
    (centred on 署名 and 成文日期, 6 mm above their middle, as `.seal` in letter.css places the image)."""
    for index, page in enumerate(document.pages):
        signature = seal = None
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None:
                continue
            classes = (element.get("class") or "").split()
            if "seal" in classes and box.element_tag == "img":
                seal = box
            elif "signature" in classes and box.element_tag == "div":
                signature = box if signature is None or box.border_width() < signature.border_width() else signature
        if signature is None:
            continue
        to_pt = 0.75  # CSS px → PDF points
        if seal is not None:
            x, y, width, height = seal.border_box_x(), seal.border_box_y(), seal.border_width(), seal.border_height()
        else:
            width = height = SEAL_SIZE_PT / to_pt
            x = signature.border_box_x() + signature.border_width() / 2 - width / 2
            y = signature.border_box_y() + signature.border_height() / 2 - 27 / 25.4 * 96
        bottom = page.height - y - height
        return SealBox(index, x * to_pt, bottom * to_pt, (x + width) * to_pt, (bottom + height) * to_pt)
    return None


@functools.lru_cache(maxsize=8)
def _styles(assets: AssetConfig) -> tuple[AssetFetcher, FontConfiguration, list[CSS], CSS, CSS]:
    """One fetcher, font configuration and parsed CSS per asset configuration, reused by every render."""
    for path in assets.allowed_files():
        if not path.is_file():
            raise LetterRenderError(f"文书资源文件不存在：{path}")
    fetcher = AssetFetcher(assets.allowed_files())
    font_config = FontConfiguration()
    base_url = ASSETS_DIR.as_uri() + "/"
    sheets = [CSS(filename=str(ASSETS_DIR / "letter.css"), url_fetcher=fetcher, font_config=font_config),
              CSS(string=font_css(assets.fonts), base_url=base_url, url_fetcher=fetcher, font_config=font_config)]
    draft_sheet = CSS(filename=str(ASSETS_DIR / "draft.css"), url_fetcher=fetcher, font_config=font_config)
    # The signature's appearance draws the seal and, under it, a caption: the page leaves room for both.
    signing_sheet = CSS(string=".seal { visibility: hidden; } .signature { margin-bottom: 12mm; }",
                        font_config=font_config)
    return fetcher, font_config, sheets, draft_sheet, signing_sheet
