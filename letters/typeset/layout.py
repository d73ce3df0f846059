"""Fixed-layout pages set straight into PDF: measured text, line breaking, ruled tables, page flow, PDF/A-3b.

The archival case file's generated pages (cover, 卷内目录, registration form, process record, exemption log,
备考表) are forms: rules, boxes and wrapped text in known fonts, the same for every case. Setting them here
instead of through an HTML layout engine is what makes a year's bulk export fast: HarfBuzz measures and
subsets the fonts (a few milliseconds per font), the rest is arithmetic. Coordinates are in points from the
top-left corner of the page.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pydyf
import uharfbuzz as hb

from letters.errors import LetterRenderError

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
ICC_PROFILE = Path(__file__).resolve().parents[1] / "assets" / "sRGB2014.icc"
BLACK = (0, 0, 0)

# Line-breaking rules (禁则): no line starts with closing punctuation, none ends with opening punctuation.
NO_LINE_START = frozenset("，。、；：？！）》」』”’〕】〉…—·,.;:?!)]}%")
NO_LINE_END = frozenset("（《「『“‘〔【〈([{")
# Characters that stay together as one word (numbers, Latin words, hashes, URLs); break inside only if too long.
_WORD = re.compile(r"[0-9A-Za-z_\-./:@#%&+=~]+|.", re.DOTALL)


# ---------------------------------------------------------------- fonts

class Face:
    """One font file (one face of a collection): glyph lookup, advances, and subsetting with HarfBuzz."""

    def __init__(self, path: Path, index: int = 0) -> None:
        try:
            self.face = hb.Face(hb.Blob.from_file_path(str(path)), index)
        except Exception as error:  # noqa: BLE001 - HarfBuzz raises plain exceptions for unreadable files
            raise LetterRenderError(f"字体文件无法读取：{path}（{error}）") from error
        tags = set(self.face.table_tags)
        if "CFF " in tags:
            self.outlines = "cff"
        elif "glyf" in tags:
            self.outlines = "truetype"
        else:
            raise LetterRenderError(f"字体文件不是可嵌入的 OpenType/TrueType 字体：{path}")
        self.path = Path(path)
        self._font = hb.Font(self.face)
        self.upem = self.face.upem
        extents = self._font.get_font_extents("ltr")
        self.ascent = extents.ascender * 1000 / self.upem
        self.descent = extents.descender * 1000 / self.upem
        head = self.face.reference_table("head").data
        self.bbox = tuple(round(int.from_bytes(head[o:o + 2], "big", signed=True) * 1000 / self.upem)
                          for o in (36, 38, 40, 42)) if len(head) >= 44 else (0, round(self.descent), 1000,
                                                                               round(self.ascent))
        name = self.face.get_name(hb.OTNameIdPredefined.POSTSCRIPT_NAME) or path.stem
        self.ps_name = re.sub(r"[^A-Za-z0-9\-]", "-", name)[:60]
        self._gids: dict[str, int | None] = {}
        self._advances: dict[int, float] = {}

    def gid(self, char: str) -> int | None:
        try:
            return self._gids[char]
        except KeyError:
            gid = self._font.get_nominal_glyph(ord(char))
            self._gids[char] = gid or None
            return gid or None

    def advance(self, gid: int) -> float:
        """The glyph's advance width in thousandths of the em (PDF text space units)."""
        try:
            return self._advances[gid]
        except KeyError:
            width = self._advances[gid] = self._font.get_glyph_h_advance(gid) * 1000 / self.upem
            return width

    def subset(self, gids: Iterable[int]) -> tuple[bytes, dict[int, int]]:
        """A font program with only these glyphs (and .notdef), renumbered from 0, and old → new glyph ids.

        CFF outlines get an identity charset, so the new glyph id is the CID the PDF shows (Identity-H)."""
        subset_input = hb.SubsetInput()
        subset_input.glyph_set.update({0, *gids})
        subset_input.flags = (hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING
                              | hb.SubsetFlags.CFF_IDENTITY_CHARSET | hb.SubsetFlags.NOTDEF_OUTLINE)
        for tag in ("GSUB", "GPOS", "BASE", "JSTF", "DSIG", "VORG", "vhea", "vmtx", "SVG ", "COLR", "CPAL"):
            subset_input.drop_table_tag_set.add(_tag(tag))
        plan = hb.SubsetPlan(self.face, subset_input)
        mapping = dict(plan.old_to_new_glyph_mapping.items())
        program = plan.execute()
        if program is None:
            raise LetterRenderError(f"字体子集化失败：{self.path}")
        return program.blob.data, mapping


def _tag(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "big")


@functools.lru_cache(maxsize=32)
def load_face(path: str, index: int = 0) -> Face:
    """A face, loaded once per process (the file is memory-mapped by HarfBuzz)."""
    return Face(Path(path), index)


@functools.lru_cache(maxsize=32)
def system_face(family: str) -> Face | None:
    """An installed font family found through fontconfig (Debian's fonts-noto-cjk, fonts-lxgw-wenkai), or None."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "--format=%{file}\t%{index}\t%{family}", f"{family}:style=Regular"],
                           capture_output=True, text=True, check=False)
    parts = found.stdout.split("\t")
    if found.returncode != 0 or len(parts) != 3 or family.lower() not in parts[2].lower():
        return None
    return load_face(parts[0], int(parts[1] or 0))


@dataclass(frozen=True)
class Glyph:
    face: Face
    gid: int
    advance: float


class FontStack:
    """Faces tried in order for each character (a configured face first, then fallbacks for rare characters)."""

    def __init__(self, faces: Sequence[Face]) -> None:
        if not faces:
            raise LetterRenderError("没有可用的字体：请安装 fonts-noto-cjk 或配置字体文件")
        self.faces = tuple(faces)
        self.primary = self.faces[0]
        self._glyphs: dict[str, Glyph] = {}

    def glyph(self, char: str) -> Glyph:
        try:
            return self._glyphs[char]
        except KeyError:
            pass
        for face in self.faces:
            gid = face.gid(char)
            if gid is not None:
                break
        else:  # in no font: the primary face's .notdef box, extracted as U+FFFD
            face, gid = self.primary, 0
        glyph = self._glyphs[char] = Glyph(face, gid, face.advance(gid))
        return glyph

    def width(self, text: str, size: float, spacing: float = 0.0) -> float:
        glyph = self.glyph
        return sum(glyph(char).advance for char in text) * size / 1000 + spacing * len(text)


@dataclass(frozen=True)
class Style:
    """A font stack at a size, with leading (line height as a multiple of the size) and a colour."""

    stack: FontStack
    size: float
    leading: float = 1.5
    color: tuple[float, float, float] = BLACK
    spacing: float = 0.0  # extra space after each character (CSS letter-spacing), in points

    @property
    def line_height(self) -> float:
        return self.size * self.leading

    def width(self, text: str) -> float:
        return self.stack.width(text, self.size, self.spacing)


def wrap(text: str, style: Style, width: float) -> list[str]:
    """Lines of at most `width` points: CJK breaks between any two characters, Latin words and numbers stay
    whole unless longer than a line, and punctuation obeys 禁则: a closing mark never starts a line (it takes the
    word it closes down with it, and hangs past the edge only when that would empty the line), an opening mark
    never ends one."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, style, width))
    return lines


def _wrap_paragraph(text: str, style: Style, width: float) -> list[str]:
    if not text:
        return [""]
    size, spacing, glyph = style.size, style.spacing, style.stack.glyph

    def measure(word: str) -> float:
        return sum(glyph(c).advance for c in word) * size / 1000 + spacing * len(word)

    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for word in _WORD.findall(text):
        word_width = measure(word)
        if used + word_width <= width + 0.01:
            words.append(word)
            used += word_width
            continue
        if len(word) > 1 and word_width > width:  # a long number, hash or URL: break it anywhere
            for char in word:
                char_width = measure(char)
                if used + char_width > width + 0.01 and words:
                    lines.append("".join(words).rstrip(" "))
                    words, used = [], 0.0
                words.append(char)
                used += char_width
            continue
        carried: list[str] = []
        while words and words[-1] == " ":
            words.pop()
        if word in NO_LINE_START:
            # The closing mark takes the word it closes (and any marks between) to the next line ...
            attached = len(words) - 1
            while attached > 0 and words[attached] in NO_LINE_START:
                attached -= 1
            if attached < 1:  # ... unless that would empty this line: then the mark hangs past the edge
                lines.append("".join([*words, word]))
                words, used = [], 0.0
                continue
            carried = words[attached:]
            del words[attached:]
        while len(words) > 1 and words[-1] in NO_LINE_END:  # an opening mark moves down with what it opens
            carried.insert(0, words.pop())
        if words:
            lines.append("".join(words))
        words = carried + ([] if word == " " else [word])
        used = sum(measure(w) for w in words)
    if words or not lines:
        lines.append("".join(words).rstrip(" "))
    return lines


# ---------------------------------------------------------------- pages

@dataclass
class _TextOp:
    x: float
    y: float  # baseline, from the top of the page
    text: str
    style: Style
    align: str = "left"  # left | center | right | justify (spread over `width`)
    width: float = 0.0


@dataclass
class Page:
    """One page: drawing operations, kept until the document is written and its fonts are subset."""

    width: float = A4[0]
    height: float = A4[1]
    ops: list = field(default_factory=list)

    def text(self, x: float, top: float, text: str, style: Style, *, align: str = "left",
             width: float = 0.0) -> None:
        """One line of text whose line box starts at `top` (the glyphs centred vertically in the line box)."""
        self.ops.append(_TextOp(x, top + _baseline_offset(style), text, style, align, width))

    def lines(self, x: float, top: float, lines: Sequence[str], style: Style, *, align: str = "left",
              width: float = 0.0) -> float:
        """Several lines, one line height apart; returns the height used."""
        for n, line in enumerate(lines):
            self.text(x, top + n * style.line_height, line, style, align=align, width=width)
        return len(lines) * style.line_height

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.3 * MM,
             color: tuple[float, float, float] = BLACK) -> None:
        self.ops.append(b"%s RG %s w %s %s m %s %s l S" % (
            _rgb(color), _num(width), _num(x1), _num(self.height - y1), _num(x2), _num(self.height - y2)))

    def rect(self, x: float, y: float, w: float, h: float, *, width: float = 0.3 * MM,
             color: tuple[float, float, float] = BLACK) -> None:
        self.ops.append(b"%s RG %s w %s %s %s %s re S" % (
            _rgb(color), _num(width), _num(x), _num(self.height - y - h), _num(w), _num(h)))


def _baseline_offset(style: Style) -> float:
    face = style.stack.primary
    ascent, descent = face.ascent * style.size / 1000, -face.descent * style.size / 1000
    return (style.line_height - (ascent + descent)) / 2 + ascent


def _num(value: float) -> bytes:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return (text if text not in ("-0", "") else "0").encode()


def _rgb(color: tuple[float, float, float]) -> bytes:
    return b" ".join(_num(c) for c in color)


# ---------------------------------------------------------------- flowing content over pages

@dataclass
class Cell:
    text: str
    style: Style
    align: str = "left"


@dataclass
class Table:
    """A ruled grid with fixed column widths; the header row repeats on every page the table spans."""

    widths: Sequence[float]
    rows: Sequence[Sequence[Cell]]
    header: Sequence[Cell] | None = None
    padding: float = 1.5 * MM
    min_row_height: float = 0.0
    rule: float = 0.3 * MM


class Flow:
    """Blocks placed top to bottom between margins, starting new pages as needed (`new_page` makes them)."""

    def __init__(self, new_page: Callable[[], Page], *, top: float, bottom: float, left: float, right: float) -> None:
        self.new_page = new_page
        self.top, self.bottom, self.left, self.right = top, bottom, left, right
        self.pages: list[Page] = []
        self.page: Page | None = None
        self.y = 0.0
        self._frame: dict | None = None

    # -- pages

    @property
    def width(self) -> float:
        inset = self._frame["inset"] if self._frame else 0.0
        return self.right - self.left - 2 * inset

    @property
    def x(self) -> float:
        return self.left + (self._frame["inset"] if self._frame else 0.0)

    @property
    def limit(self) -> float:
        return self.bottom - (self._frame["inset"] if self._frame else 0.0)

    def start_page(self) -> Page:
        if self._frame and self.page is not None:
            self._close_frame_segment(self.bottom)
        self.page = self.new_page()
        self.pages.append(self.page)
        self.y = self.top
        if self._frame:
            self._frame.update(page=self.page, top=self.y)
            self.y += self._frame["inset"]
        return self.page

    def room(self) -> float:
        return self.limit - self.y

    def ensure(self, height: float) -> None:
        """A new page unless `height` fits below the current position (anything fits on an empty page)."""
        if self.page is None or (height > self.room() and not self._at_page_top()):
            self.start_page()

    def _at_page_top(self, below: float = 0.0) -> bool:
        """Nothing on this page yet (but `below` points of repeated headings)."""
        return self.y <= self.top + (self._frame["inset"] if self._frame else 0.0) + below + 0.01

    def space(self, height: float) -> None:
        self.y = min(self.y + height, self.limit)

    # -- blocks

    def paragraph(self, text: str, style: Style, *, indent: float = 0.0, first_line: float = 0.0,
                  after: float = 0.0) -> None:
        """Wrapped text; `first_line` indents the first line (2em for body paragraphs)."""
        width = self.width - indent
        lines = wrap(text, style, width - first_line)
        if first_line and len(lines) > 1:  # the rest of the paragraph at full width
            rest = text[len(lines[0]):].lstrip(" ")
            lines = lines[:1] + wrap(rest.removeprefix("\n"), style, width)
        for n, line in enumerate(lines):
            self.ensure(style.line_height)
            x = self.x + indent + (first_line if n == 0 else 0.0)
            self.page.text(x, self.y, line, style)
            self.y += style.line_height
        self.space(after)

    def heading(self, text: str, style: Style, *, before: float = 0.0, after: float = 0.0) -> None:
        """A heading kept with at least two lines of what follows it."""
        self.ensure(before + style.line_height + 3 * style.size)
        if not self._at_page_top():
            self.space(before)
        self.page.text(self.x, self.y, text, style)
        self.y += style.line_height + after

    def split_line(self, left: str, right: str, style: Style, *, after: float = 0.0) -> None:
        """Two items pushed to the edges of one line (a left and a right caption)."""
        self.ensure(style.line_height)
        self.page.text(self.x, self.y, left, style)
        self.page.text(self.x, self.y, right, style, align="right", width=self.width)
        self.y += style.line_height + after

    def table(self, table: Table) -> None:
        """The table, rows split over pages between rows (a row taller than a page is split by lines)."""
        widths = _fit_widths(table.widths, self.width)
        header = _layout_row(table.header, widths, table) if table.header else None
        self.ensure((header.height if header else 0.0) + (_layout_row(table.rows[0], widths, table).height
                                                          if table.rows else 0.0))
        if header:
            self._draw_row(header, widths, table)
        header_height = header.height if header else 0.0
        for cells in table.rows:
            row = _layout_row(cells, widths, table)
            while row is not None:
                if row.height <= self.room():
                    self._draw_row(row, widths, table)
                    break
                fresh = self._at_page_top(header_height)
                if not fresh and (row.height <= self.limit - self.top - header_height
                                  or self.room() < row.min_split(table)):
                    self._continue_table(header, widths, table)  # the row fits a fresh page, or too little room
                    continue
                # Taller than a whole page: as many lines as fit here, the rest on the next page.
                head, row = row.split(max(self.room(), row.min_split(table)), table)
                self._draw_row(head, widths, table)
                self._continue_table(header, widths, table)

    def _continue_table(self, header: _Row | None, widths: Sequence[float], table: Table) -> None:
        self.start_page()
        if header:
            self._draw_row(header, widths, table)

    def _draw_row(self, row: _Row, widths: Sequence[float], table: Table) -> None:
        x = self.x
        for cell, lines, width in zip(row.cells, row.lines, widths, strict=True):
            self.page.rect(x, self.y, width, row.height, width=table.rule)
            inner = width - 2 * table.padding
            content = len(lines) * cell.style.line_height
            top = self.y + max(table.padding, (row.height - content) / 2)
            self.page.lines(x + table.padding, top, lines, cell.style, align=cell.align, width=inner)
            x += width
        self.y += row.height

    def table_height(self, table: Table) -> float:
        widths = _fit_widths(table.widths, self.width)
        rows = [*([table.header] if table.header else []), *table.rows]
        return sum(_layout_row(cells, widths, table).height for cells in rows)

    # -- a ruled frame around blocks (the 备考表 box), continued over pages

    def begin_frame(self, inset: float, rule: float) -> None:
        self.ensure(4 * inset)
        self._frame = {"page": self.page, "top": self.y, "inset": inset, "rule": rule}
        self.y += inset

    def end_frame(self, min_height: float = 0.0) -> None:
        frame = self._frame
        bottom = min(max(self.y + frame["inset"], frame["top"] + min_height), self.bottom)
        self._close_frame_segment(bottom)
        self._frame = None
        self.y = bottom

    def _close_frame_segment(self, bottom: float) -> None:
        frame = self._frame
        frame["page"].rect(self.left, frame["top"], self.right - self.left, bottom - frame["top"],
                           width=frame["rule"])


@dataclass
class _Row:
    cells: Sequence[Cell]
    lines: list[list[str]]
    height: float

    def min_split(self, table: Table) -> float:
        """The least room worth splitting the row into: one line of its tallest cell."""
        return 2 * table.padding + max(cell.style.line_height for cell in self.cells)

    def split(self, room: float, table: Table) -> tuple[_Row, _Row]:
        head_lines, tail_lines = [], []
        for cell, lines in zip(self.cells, self.lines, strict=True):
            fit = max(1, int((room - 2 * table.padding) // cell.style.line_height))
            head_lines.append(lines[:fit])
            tail_lines.append(lines[fit:])
        head = _Row(self.cells, head_lines, room)
        return head, _Row(self.cells, tail_lines, _row_height(self.cells, tail_lines, table))


def _layout_row(cells: Sequence[Cell], widths: Sequence[float], table: Table) -> _Row:
    lines = [wrap(cell.text, cell.style, width - 2 * table.padding)
             for cell, width in zip(cells, widths, strict=True)]
    return _Row(cells, lines, _row_height(cells, lines, table))


def _row_height(cells: Sequence[Cell], lines: list[list[str]], table: Table) -> float:
    content = max((len(cell_lines) * cell.style.line_height for cell, cell_lines in zip(cells, lines, strict=True)),
                  default=0.0)
    return max(content + 2 * table.padding, table.min_row_height)


def _fit_widths(widths: Sequence[float], total: float) -> list[float]:
    """Column widths; a width of 0 takes what the fixed columns leave."""
    fixed = sum(widths)
    flexible = [n for n, w in enumerate(widths) if w == 0]
    out = list(widths)
    for n in flexible:
        out[n] = max(10 * MM, (total - fixed) / len(flexible))
    return out


# ---------------------------------------------------------------- writing the PDF

@dataclass(frozen=True)
class Attachment:
    """A file embedded as a PDF/A-3 associated file (the case file's manifest.json)."""

    name: str
    content: bytes
    mime: str
    description: str
    relationship: str = "Data"


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    keywords: str
    created: datetime  # aware
    creator: str = "Gongkai"
    producer: str = "Gongkai"
    lang: str = "zh-CN"


def write_pdfa(pages: Sequence[Page], metadata: Metadata, attachments: Sequence[Attachment] = ()) -> bytes:
    """The pages as one PDF/A-3b file: every font embedded as a subset with a ToUnicode map, sRGB output
    intent, XMP metadata matching the document information, attachments as associated files (AF)."""
    resolved = [_resolve(page) for page in pages]
    used: dict[Face, dict[int, str]] = {}
    for runs in resolved:
        for run in runs:
            if isinstance(run, _Run):
                per_face = used.setdefault(run.face, {})
                for gid, char in zip(run.gids, run.text, strict=True):
                    per_face.setdefault(gid, char)
    pdf = pydyf.PDF()
    fonts = {}
    font_names = {}
    for n, (face, glyphs) in enumerate(sorted(used.items(), key=lambda item: item[0].ps_name), start=1):
        reference, mapping = _embed_font(pdf, face, glyphs)
        fonts[f"F{n}"] = reference
        font_names[face] = (f"F{n}", mapping)
    resources = pydyf.Dictionary({"Font": pydyf.Dictionary(fonts), "ProcSet": pydyf.Array(["/PDF", "/Text"])})
    pdf.add_object(resources)
    contents = [_content(runs, font_names) for runs in resolved]
    for page, data in zip(pages, contents, strict=True):
        content = pydyf.Stream([data], compress=True)
        pdf.add_object(content)
        pdf.add_page(pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, round(page.width, 4), round(page.height, 4)]),
            "Contents": content.reference, "Resources": resources.reference}))
    _pdfa_catalog(pdf, metadata, attachments)
    identifier = hashlib.md5(b"".join(contents) + metadata.title.encode()  # noqa: S324 - a file ID, not security
                             + metadata.created.isoformat().encode()).hexdigest()
    out = io.BytesIO()
    pdf.write(out, version=b"1.7", identifier=identifier.encode(), compress=True)
    return out.getvalue()


@dataclass
class _Run:
    x: float
    y: float  # baseline, PDF coordinates (from the bottom)
    size: float
    color: tuple[float, float, float]
    spacing: float
    face: Face
    gids: list[int]
    text: str


def _resolve(page: Page) -> list:
    """Alignment applied, each line split into runs of one face (PDF coordinates)."""
    out: list = []
    for op in page.ops:
        if not isinstance(op, _TextOp):
            out.append(op)
            continue
        text = op.text
        if not text:
            continue
        style = op.style
        x, spacing = op.x, style.spacing
        natural = style.width(text) - (spacing if text else 0.0)
        if op.align == "center":
            x += (op.width - natural) / 2
        elif op.align == "right":
            x += op.width - natural
        elif op.align == "justify" and len(text) > 1:
            spacing += (op.width - natural) / (len(text) - 1)
        x_cursor, y = x, page.height - op.y
        run_face, gids, chars, run_x = None, [], [], x
        for char in text:
            glyph = style.stack.glyph(char)
            if glyph.face is not run_face and gids:
                out.append(_Run(run_x, y, style.size, style.color, spacing, run_face, gids, "".join(chars)))
                gids, chars, run_x = [], [], x_cursor
            run_face = glyph.face
            gids.append(glyph.gid)
            chars.append(char if glyph.gid else "\ufffd")
            x_cursor += glyph.advance * style.size / 1000 + spacing
        if gids:
            out.append(_Run(run_x, y, style.size, style.color, spacing, run_face, gids, "".join(chars)))
    return out


def _content(runs: list, fonts: dict[Face, tuple[str, dict[int, int]]]) -> bytes:
    parts = [b"q"]
    for run in runs:
        if isinstance(run, bytes):
            parts.append(run)
            continue
        name, mapping = fonts[run.face]
        codes = "".join(f"{mapping[gid]:04x}" for gid in run.gids)
        parts.append(b"BT %s rg /%s %s Tf %s Tc 1 0 0 1 %s %s Tm <%s> Tj ET" % (
            _rgb(run.color), name.encode(), _num(run.size), _num(run.spacing), _num(run.x),
            _num(run.y), codes.encode()))
    parts.append(b"Q")
    return b"\n".join(parts)


def _embed_font(pdf: pydyf.PDF, face: Face, glyphs: dict[int, str]):
    """Type0 font over a CIDFont (CFF: CIDFontType0 + FontFile3/OpenType; TrueType: CIDFontType2 + FontFile2)."""
    program, mapping = face.subset(glyphs)
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha1(  # noqa: S324 - a subset tag, not security
        repr(sorted(glyphs)).encode() + face.ps_name.encode()).digest()[:6])
    base_name = f"{tag}+{face.ps_name}"
    if face.outlines == "cff":
        stream = pydyf.Stream([program], pydyf.Dictionary({"Subtype": "/OpenType"}), compress=True)
        file_key, subtype = "FontFile3", "/CIDFontType0"
    else:
        stream = pydyf.Stream([program], pydyf.Dictionary({"Length1": len(program)}), compress=True)
        file_key, subtype = "FontFile2", "/CIDFontType2"
    pdf.add_object(stream)
    widths = {mapping[gid]: round(face.advance(gid), 2) for gid in glyphs}
    widths.setdefault(0, round(face.advance(0), 2))
    descriptor = pydyf.Dictionary({
        "Type": "/FontDescriptor", "FontName": "/" + base_name, "Flags": 4,
        "FontBBox": pydyf.Array(face.bbox), "ItalicAngle": 0,
        "Ascent": round(face.ascent), "Descent": round(face.descent), "CapHeight": round(face.ascent),
        "StemV": 80, file_key: stream.reference})
    pdf.add_object(descriptor)
    w_array = pydyf.Array()
    run: pydyf.Array | None = None
    previous = None
    for code in sorted(widths):
        if previous is None or code != previous + 1:
            run = pydyf.Array()
            w_array.extend([code, run])
        run.append(widths[code])
        previous = code
    cid_font = pydyf.Dictionary({
        "Type": "/Font", "Subtype": subtype, "BaseFont": "/" + base_name,
        "CIDSystemInfo": pydyf.Dictionary({"Registry": pydyf.String("Adobe"), "Ordering": pydyf.String("Identity"),
                                           "Supplement": 0}),
        "FontDescriptor": descriptor.reference, "W": w_array, "DW": 1000})
    if face.outlines == "truetype":
        cid_font["CIDToGIDMap"] = "/Identity"
    pdf.add_object(cid_font)
    to_unicode = pydyf.Stream([_to_unicode_cmap({mapping[gid]: char for gid, char in glyphs.items()})],
                              compress=True)
    pdf.add_object(to_unicode)
    font = pydyf.Dictionary({"Type": "/Font", "Subtype": "/Type0", "BaseFont": "/" + base_name,
                             "Encoding": "/Identity-H", "DescendantFonts": pydyf.Array([cid_font.reference]),
                             "ToUnicode": to_unicode.reference})
    pdf.add_object(font)
    return font.reference, mapping


def _to_unicode_cmap(codes: dict[int, str]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <FFFF>", b"endcodespacerange"]
    items = sorted(codes.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        lines.extend(b"<%04x> <%s>" % (code, char.encode("utf-16-be").hex().encode()) for code, char in chunk)
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


class _HexString(pydyf.Object):
    def __init__(self, value: bytes) -> None:
        super().__init__()
        self.value = value

    @property
    def data(self) -> bytes:
        return b"<" + self.value.hex().encode() + b">"


@functools.cache
def _icc_profile() -> bytes:
    return ICC_PROFILE.read_bytes()


def _pdf_date(moment: datetime) -> str:
    offset = moment.strftime("%z") or "+0000"
    return moment.strftime("D:%Y%m%d%H%M%S") + f"{offset[0]}{offset[1:3]}'{offset[3:5]}'"


def _pdfa_catalog(pdf: pydyf.PDF, metadata: Metadata, attachments: Sequence[Attachment]) -> None:
    profile = pydyf.Stream([_icc_profile()], pydyf.Dictionary({"N": 3}), compress=True)
    pdf.add_object(profile)
    intent = pydyf.Dictionary({
        "Type": "/OutputIntent", "S": "/GTS_PDFA1",
        "OutputConditionIdentifier": pydyf.String("IEC 61966-2-1 Default RGB Colour Space - sRGB"),
        "Info": pydyf.String("IEC 61966-2-1 Default RGB Colour Space - sRGB"),
        "DestOutputProfile": profile.reference})
    pdf.catalog["OutputIntents"] = pydyf.Array([intent])
    pdf.catalog["Lang"] = pydyf.String(metadata.lang)
    created = _pdf_date(metadata.created)
    for key, value in (("Title", metadata.title), ("Author", metadata.author), ("Keywords", metadata.keywords),
                       ("Creator", metadata.creator), ("Producer", metadata.producer)):
        pdf.info[key] = pydyf.String(value)
    pdf.info["CreationDate"] = pydyf.String(created)
    pdf.info["ModDate"] = pydyf.String(created)
    names, specs = pydyf.Array(), pydyf.Array()
    for attachment in attachments:
        embedded = pydyf.Stream([attachment.content], pydyf.Dictionary({
            "Type": "/EmbeddedFile", "Subtype": pydyf.name(attachment.mime).decode(),
            "Params": pydyf.Dictionary({"Size": len(attachment.content), "ModDate": pydyf.String(created),
                                        "CheckSum": _HexString(hashlib.md5(attachment.content).digest())})}),  # noqa: S324
            compress=True)
        pdf.add_object(embedded)
        spec = pydyf.Dictionary({
            "Type": "/Filespec", "F": pydyf.String(attachment.name), "UF": pydyf.String(attachment.name),
            "Desc": pydyf.String(attachment.description), "AFRelationship": "/" + attachment.relationship,
            "EF": pydyf.Dictionary({"F": embedded.reference, "UF": embedded.reference})})
        pdf.add_object(spec)
        names.extend([pydyf.String(attachment.name), spec.reference])
        specs.append(spec.reference)
    if attachments:
        pdf.catalog["Names"] = pydyf.Dictionary({"EmbeddedFiles": pydyf.Dictionary({"Names": names})})
        pdf.catalog["AF"] = specs
    xmp = _xmp(metadata).encode()
    stream = pydyf.Stream([xmp], pydyf.Dictionary({"Type": "/Metadata", "Subtype": "/XML"}), compress=False)
    pdf.add_object(stream)
    pdf.catalog["Metadata"] = stream.reference


def _xmp(metadata: Metadata) -> str:
    """XMP packet: PDF/A-3B identification and the same title, author, keywords, tools and dates as /Info."""
    created = metadata.created.isoformat(timespec="seconds")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>\n"
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.title)}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(metadata.author)}</rdf:li></rdf:Seq></dc:creator>"
        "<dc:format>application/pdf</dc:format></rdf:Description>\n"
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<pdf:Keywords>{escape(metadata.keywords)}</pdf:Keywords>"
        f"<pdf:Producer>{escape(metadata.producer)}</pdf:Producer></rdf:Description>\n"
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreatorTool>{escape(metadata.creator)}</xmp:CreatorTool>"
        f"<xmp:CreateDate>{created}</xmp:CreateDate><xmp:ModifyDate>{created}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{created}</xmp:MetadataDate></rdf:Description>\n"
        "</rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>')

