"""Cells for every CSV and xlsx we export: a value a spreadsheet would run as a formula (CSV injection: one that
starts with = + - @, a tab or a carriage return) stays text, and characters a workbook cannot hold are dropped, so
no stored value can break an export or run in the reader's spreadsheet."""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: str) -> str:
    return _UNWRITABLE.sub("", value)


def csv_cell(value):
    """A CSV cell: text that would start a formula gets a leading apostrophe (what spreadsheets show as text)."""
    if not isinstance(value, str):
        return value
    value = _clean(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]


def xlsx_row(sheet, values) -> list:
    """Write-only cells: every string is stored as a text cell (never a formula), with no visible apostrophe."""
    from openpyxl.cell import WriteOnlyCell  # openpyxl (about 10 MB) loads with the first xlsx export only

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=_clean(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def set_text(cell, value) -> None:
    """Put `value` into a normal worksheet cell; strings are text cells, never formulas."""
    if isinstance(value, str):
        cell.value = _clean(value)
        cell.data_type = "s"
    else:
        cell.value = value
