"""Pages as lists of drawing operations, and the flow that sets paragraphs, ruled tables and frames over them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from letters.typeset.fonts import BLACK, Style
from letters.typeset.linebreak import wrap

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)


# ---------------------------------------------------------------- pages

@dataclass
class TextOp:
    x: float
    y: float  # baseline, from the top of the page
    text: str
    style: Style
    align: str = "left"  # left | center | right | justify (spread over `width`)
    width: float = 0.0


@dataclass
class LineOp:
    x1: float
    y1: float  # from the top of the page
    x2: float
    y2: float
    stroke_width: float
    color: tuple[float, float, float]


@dataclass
class RectOp:
    x: float
    y: float  # the top edge, from the top of the page
    w: float
    h: float
    stroke_width: float
    color: tuple[float, float, float]


@dataclass
class Page:
    """One page: drawing operations, kept until the document is written and its fonts are subset."""

    width: float = A4[0]
    height: float = A4[1]
    ops: list[TextOp | LineOp | RectOp] = field(default_factory=list)

    def text(self, x: float, top: float, text: str, style: Style, *, align: str = "left",
             width: float = 0.0) -> None:
        """One line of text whose line box starts at `top` (the glyphs centred vertically in the line box)."""
        self.ops.append(TextOp(x, top + _baseline_offset(style), text, style, align, width))

    def lines(self, x: float, top: float, lines: Sequence[str], style: Style, *, align: str = "left",
              width: float = 0.0) -> float:
        """Several lines, one line height apart; returns the height used."""
        for n, line in enumerate(lines):
            self.text(x, top + n * style.line_height, line, style, align=align, width=width)
        return len(lines) * style.line_height

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.3 * MM,
             color: tuple[float, float, float] = BLACK) -> None:
        self.ops.append(LineOp(x1, y1, x2, y2, width, color))

    def rect(self, x: float, y: float, w: float, h: float, *, width: float = 0.3 * MM,
             color: tuple[float, float, float] = BLACK) -> None:
        self.ops.append(RectOp(x, y, w, h, width, color))


def _baseline_offset(style: Style) -> float:
    face = style.stack.primary
    ascent, descent = face.ascent * style.size / 1000, -face.descent * style.size / 1000
    return (style.line_height - (ascent + descent)) / 2 + ascent


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
