"""Import of a historical case ledger (台账) from .xlsx or UTF-8 .csv, all or nothing (DESIGN §7).

Every row is validated first and every problem reported with its line (the header is line 1); only a
clean file is written, with bulk inserts, so that the imported cases count in the annual report like
any other (条例49–50). Rows without a registration number get the next numbers of their receipt year.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import JSON, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.persistence import limits
from engine.persistence.audit import record_event, utcnow
from engine.persistence.audit_state import (
    APPLICANT_FIELDS,
    CASE_FIELDS,
    CASE_RECORDS,
    case_state_digest,
)
from engine.persistence.models import Agency, Applicant, Case, CaseItem, NumberSequence
from engine.persistence.numbering import REGISTRATION, format_number, reserve_numbers
from engine.persistence.search_index import merging_beside, owned_gin_indexes
from engine.rules.outcomes import APPLICANT_TYPES, TERMINAL_CODES, outcome_by_code_or_label
from engine.rules.search import case_search_text
from engine.rules.text_input import text_problem
from engine.rules.vocabulary import CHANNEL_LABELS
from engine.services.period_lock import ensure_period_open, lock_message, locked_years

FIELDS: dict[str, str] = {
    "reg_no": "登记编号",
    "applicant_type": "申请人类型",
    "applicant": "申请人",
    "channel": "申请渠道",
    "received_on": "收到日期",
    "request": "申请内容",
    "finished_on": "答复日期",
    "outcome": "办理结果",
}
REQUIRED_FIELDS = ("applicant_type", "applicant", "channel", "received_on", "request")
EARLIEST_RECEIPT = date(2008, 5, 1)  # the regulation took effect on 2008-05-01
BATCH_ROWS = 5000
_ITEM_FIELDS = next(names for key, _model, names in CASE_RECORDS if key == "items")

_HEADER_NAMES = {**{label: name for name, label in FIELDS.items()}, **{name: name for name in FIELDS}}
_KIND_BY_TEXT = {**{label: code for code, label in APPLICANT_TYPES.items()}, **{c: c for c in APPLICANT_TYPES}}
_CHANNEL_BY_TEXT = {**{label: code for code, label in CHANNEL_LABELS.items()}, **{c: c for c in CHANNEL_LABELS},
                    "当面提交": "in_person", "互联网": "online", "网上": "online", "信函": "plain_letter"}
_ISO_OR_SLASH = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?")
_CHINESE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


class LedgerRejected(InvalidInput):
    """The ledger has bad rows; nothing was written. `problems` lists every one with its line."""

    def __init__(self, problems: list[LedgerProblem]):
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"台账有 {len(problems)} 处错误，未导入任何数据：\n{lines}", details=[
            {"line": p.line, "message": p.message} for p in problems])


@dataclass(frozen=True)
class LedgerProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"第{self.line}行：{self.message}"


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, object]  # field name -> cell value (str, date/datetime, number or None)


@dataclass(frozen=True)
class LedgerFile:
    name: str
    rows: list[RawRow]


@dataclass(frozen=True)
class LedgerRow:
    """One validated row."""

    line: int
    reg_no: str
    kind: str
    applicant: str
    channel: str
    received_on: date
    request: str
    finished_on: date | None
    outcome: str | None


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    finished: int
    still_open: int
    numbered: int  # rows that received a new registration number
    first_case_id: int | None

    def __str__(self) -> str:
        return (f"台账导入完成：共导入 {self.rows} 件申请（已办结 {self.finished} 件，仍在办理 {self.still_open} 件；"
                f"新编登记编号 {self.numbered} 件）")


# -- reading -------------------------------------------------------------------------------------------


def _header_map(header: Iterable[object]) -> tuple[dict[int, str], list[LedgerProblem]]:
    columns: dict[int, str] = {}
    problems: list[LedgerProblem] = []
    for index, cell in enumerate(header):
        text = _text(cell)
        # "申请人类型(applicant_type)" is accepted too: the Chinese name with the English one in brackets.
        bracketed = re.fullmatch(r"(.+?)\s*[（(]\s*([a-z_]+)\s*[)）]", text)
        name = _HEADER_NAMES.get(text) or (_HEADER_NAMES.get(bracketed.group(2)) if bracketed else None)
        if name is None and text:
            problems.append(LedgerProblem(1, f"无法识别的列名「{text}」"))
        if name is not None:
            if name in columns.values():
                problems.append(LedgerProblem(1, f"列「{FIELDS[name]}」出现了两次"))
            columns[index] = name
    missing = [FIELDS[f] for f in REQUIRED_FIELDS if f not in columns.values()]
    if missing:
        problems.append(LedgerProblem(1, f"缺少必需的列：{'、'.join(missing)}"))
    return columns, problems


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a ledger is read or imported. Its rows make hundreds of
    thousands of containers that live until the import ends, and every collection would walk them all again: with
    it running, reading and checking 100,000 rows took 1.1–1.2 s instead of 0.75 s, the whole import 9.4–9.8 s
    instead of 8.7 s. Reference counting frees the rest as before, and the collector runs again when the block
    ends. It is process-wide: in a web worker, other threads' cyclic garbage waits those seconds too."""
    if not gc.isenabled():  # paused already (by the caller, or a concurrent import, which resumes it)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _rows_from(records: Iterator[tuple], name: str) -> LedgerFile:
    with _collector_paused():
        return _read_rows(records, name)


def _read_rows(records: Iterator[tuple], name: str) -> LedgerFile:
    header = next(records, None)
    if header is None:
        raise LedgerRejected([LedgerProblem(1, "文件为空，没有表头")])
    columns, problems = _header_map(header)
    if problems:
        raise LedgerRejected(problems)
    rows = []
    for line, record in enumerate(records, start=2):
        values = {field: record[i] if i < len(record) else None for i, field in columns.items()}
        if all(_text(v) == "" for v in values.values()):
            continue  # blank lines (often trailing rows of a spreadsheet) are not data
        rows.append(RawRow(line, values))
    return LedgerFile(name, rows)


def read_ledger(path: str | Path, *, filename: str | None = None) -> LedgerFile:
    """Read an .xlsx workbook (first sheet) or a UTF-8 .csv (with or without BOM)."""
    path = Path(path)
    name = filename or path.name
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, name)
    if suffix == ".csv":
        data = path.read_bytes()
        return read_csv_bytes(data, name)
    raise LedgerRejected([LedgerProblem(1, f"不支持的文件类型「{suffix or name}」：请使用 .xlsx 或 UTF-8 编码的 .csv")])


def read_csv_bytes(data: bytes, name: str = "ledger.csv") -> LedgerFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LedgerRejected([LedgerProblem(1, f"文件不是 UTF-8 编码（第 {exc.start} 字节处无法解码），"
                                               "请另存为“CSV UTF-8”后再导入")]) from exc
    return _rows_from(iter(csv.reader(io.StringIO(text, newline=""))), name)


def _read_xlsx(path: Path, name: str) -> LedgerFile:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise LedgerRejected([LedgerProblem(1, f"无法读取 Excel 文件：{exc}")]) from exc
    try:
        return _rows_from(workbook.worksheets[0].iter_rows(values_only=True), name)
    finally:
        workbook.close()


# -- validating ----------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_ledger_date(value: object) -> date | None:
    """A date cell or text `YYYY-MM-DD`, `YYYY/M/D` or `YYYY年M月D日`; None when blank; ValueError when bad."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _date_from_text(_text(value))


@lru_cache(maxsize=8192)  # a ledger's dates repeat: 100,000 rows hold a few thousand days
def _date_from_text(text: str) -> date | None:
    if not text:
        return None
    match = _ISO_OR_SLASH.fullmatch(text) or _CHINESE_DATE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(text) from exc


def reg_no_parser(agency: Agency) -> Callable[[str], tuple[int, int] | None]:
    """A parser of registration numbers written in the agency's own pattern: (year, n) or None."""
    pattern = re.escape(agency.reg_no_pattern)
    for key, replacement in (("year", r"(?P<year>\d{4})"), ("n", r"(?P<n>[1-9]\d{0,8})"),
                             ("code", re.escape(agency.code)), ("prefix", re.escape(agency.letter_no_prefix))):
        pattern = pattern.replace(re.escape("{" + key + "}"), replacement)
    compiled = re.compile(pattern)

    def parse(reg_no: str) -> tuple[int, int] | None:
        match = compiled.fullmatch(reg_no)
        if match is None or "year" not in match.groupdict() or "n" not in match.groupdict():
            return None
        return int(match["year"]), int(match["n"])

    return parse


def _date_field(raw: RawRow, field: str, problems: list[LedgerProblem]) -> date | None:
    try:
        return parse_ledger_date(raw.values.get(field))
    except ValueError:
        problems.append(LedgerProblem(raw.line, f"{FIELDS[field]}「{_text(raw.values.get(field))}」不是有效日期"
                                                "（应为 2025-03-01、2025/3/1 或 2025年3月1日）"))
        return None


def _validate_row(raw: RawRow, today: date, problems: list[LedgerProblem]) -> LedgerRow | None:
    line = raw.line
    before = len(problems)
    kind_text = _text(raw.values.get("applicant_type"))
    kind = _KIND_BY_TEXT.get(kind_text) or _KIND_BY_TEXT.get(kind_text.upper())
    if kind is None:
        problems.append(LedgerProblem(line, f"申请人类型「{kind_text}」无效（应为 {'、'.join(APPLICANT_TYPES.values())}）"
                                      if kind_text else "申请人类型为空"))
    applicant = _text(raw.values.get("applicant"))
    if not applicant:
        problems.append(LedgerProblem(line, "申请人为空"))
    channel_text = _text(raw.values.get("channel"))
    channel = _CHANNEL_BY_TEXT.get(channel_text) or _CHANNEL_BY_TEXT.get(channel_text.lower())
    if channel is None:
        problems.append(LedgerProblem(line, f"申请渠道「{channel_text}」无效（应为 {'、'.join(CHANNEL_LABELS.values())}）"
                                      if channel_text else "申请渠道为空"))
    request = _text(raw.values.get("request"))
    if not request:
        problems.append(LedgerProblem(line, "申请内容为空"))
    reg_no = _text(raw.values.get("reg_no"))
    # What every other channel refuses (and PostgreSQL too, without naming the line: a NUL, a value longer than
    # its column), refused here with the line.
    for field, value, max_len, multiline in (("reg_no", reg_no, limits.REG_NO, False),
                                             ("applicant", applicant, limits.APPLICANT_FIELDS["name"], False),
                                             ("request", request, limits.MAX_TEXT, True)):
        problem = text_problem(value, FIELDS[field], max_len, multiline=multiline)
        if problem:
            problems.append(LedgerProblem(line, problem))

    received_on = _date_field(raw, "received_on", problems)
    if received_on is None and not _text(raw.values.get("received_on")):
        problems.append(LedgerProblem(line, "收到日期为空"))
    finished_on = _date_field(raw, "finished_on", problems)
    if received_on is not None:
        if received_on < EARLIEST_RECEIPT:
            problems.append(LedgerProblem(line, f"收到日期 {received_on} 早于条例施行日（2008年5月1日）"))
        if received_on > today:
            problems.append(LedgerProblem(line, f"收到日期 {received_on} 晚于今天（{today}）"))
    if finished_on is not None:
        if received_on is not None and finished_on < received_on:
            problems.append(LedgerProblem(line, f"答复日期 {finished_on} 早于收到日期 {received_on}"))
        if finished_on > today:
            problems.append(LedgerProblem(line, f"答复日期 {finished_on} 晚于今天（{today}）"))

    outcome_text = _text(raw.values.get("outcome"))
    outcome = outcome_by_code_or_label(outcome_text) if outcome_text else None
    if outcome_text and outcome is None:
        problems.append(LedgerProblem(line, f"办理结果「{outcome_text}」无效（应为办理结果代码或情形名称，如“予以公开”）"))
    has_finish = finished_on is not None or bool(_text(raw.values.get("finished_on")))
    if outcome_text and not has_finish:
        problems.append(LedgerProblem(line, "填写了办理结果但没有答复日期"))
    if has_finish and not outcome_text:
        problems.append(LedgerProblem(line, "填写了答复日期但没有办理结果"))

    if len(problems) > before:
        return None
    return LedgerRow(line, reg_no, kind, applicant, channel, received_on, request,
                     finished_on, outcome.code if outcome else None)


def validate_ledger(session: Session, agency: Agency, ledger: LedgerFile, today: date,
                    progress: Callable[[int], None] | None = None) -> list[LedgerRow]:
    """Every row checked against the file, the agency's cases and the period lock; LedgerRejected lists all problems."""
    problems: list[LedgerProblem] = []
    rows: list[LedgerRow] = []
    for n, raw in enumerate(ledger.rows, start=1):
        row = _validate_row(raw, today, problems)
        if row is not None:
            rows.append(row)
        if progress is not None and n % BATCH_ROWS == 0:
            progress(BATCH_ROWS)
    if progress is not None:
        progress(len(ledger.rows) % BATCH_ROWS)
    if not ledger.rows:
        problems.append(LedgerProblem(1, "台账没有任何数据行"))

    existing = session.execute(select(Case.reg_no, Case.reg_year, Case.reg_seq)
                               .where(Case.agency_id == agency.id)).all()
    existing_numbers = {reg_no for reg_no, _, _ in existing}
    existing_slots = {(year, seq): reg_no for reg_no, year, seq in existing}
    parse = reg_no_parser(agency)
    first_line: dict[str, int] = {}
    for raw in ledger.rows:
        reg_no = _text(raw.values.get("reg_no"))
        if not reg_no:
            continue
        if reg_no in first_line:
            problems.append(LedgerProblem(raw.line, f"登记编号「{reg_no}」与第{first_line[reg_no]}行重复"))
            continue
        first_line[reg_no] = raw.line
        if reg_no in existing_numbers:
            problems.append(LedgerProblem(raw.line, f"登记编号「{reg_no}」在本机关已经存在"))
        elif (slot := parse(reg_no)) is not None and slot in existing_slots:
            problems.append(LedgerProblem(raw.line, f"登记编号「{reg_no}」的年度序号已被「{existing_slots[slot]}」使用"))

    locked = locked_years(session, agency.id, {d.year for r in rows for d in (r.received_on, r.finished_on) if d})
    for row in rows:
        for label, day in (("收到日期", row.received_on), ("答复日期", row.finished_on)):
            if day is not None and day.year in locked:
                problems.append(LedgerProblem(row.line, f"{label} {day}：{lock_message(day.year)}"))

    if problems:
        raise LedgerRejected(sorted(problems, key=lambda p: p.line))
    return rows


# -- writing -------------------------------------------------------------------------------------------


def _due_dates(received_days: set[date]) -> dict[date, tuple[date, bool]]:
    """Reply due date (条例33: 20 working days) of imported open cases, one computation per receipt day."""
    from engine.rules.calendar import default_calendar
    from engine.rules.clocks import reply_due

    calendar = default_calendar()
    dues = {}
    for day in received_days:
        due = reply_due(calendar, day)
        dues[day] = (due.due, due.provisional)
    return dues


def _number_rows(session: Session, agency: Agency, rows: list[LedgerRow]) -> tuple[list[tuple[str, int, int]], int]:
    """(reg_no, reg_year, reg_seq) per row: numbers in the agency's pattern keep their slot, the rest are drawn."""
    parse = reg_no_parser(agency)
    slots: list[tuple[int, int] | None] = [parse(r.reg_no) if r.reg_no else None for r in rows]
    highest: dict[int, int] = {}
    for slot in slots:
        if slot is not None:
            highest[slot[0]] = max(highest.get(slot[0], 0), slot[1])
    for year, n in highest.items():
        current = reserve_numbers(session, agency.id, REGISTRATION, year, 0) - 1
        if n > current:
            # Historical numbers above the counter: move it past them so the next registration cannot collide.
            session.execute(update(NumberSequence).where(
                NumberSequence.agency_id == agency.id, NumberSequence.kind == REGISTRATION,
                NumberSequence.year == year).values(last_value=n))
    wanted: dict[int, int] = {}
    for row, slot in zip(rows, slots, strict=True):
        if slot is None:
            wanted[row.received_on.year] = wanted.get(row.received_on.year, 0) + 1
    next_free = {year: reserve_numbers(session, agency.id, REGISTRATION, year, count) for year, count in wanted.items()}
    numbered = 0
    result = []
    for row, slot in zip(rows, slots, strict=True):
        if slot is not None:
            result.append((row.reg_no, slot[0], slot[1]))
            continue
        year = row.received_on.year
        seq = next_free[year]
        next_free[year] += 1
        if row.reg_no:
            result.append((row.reg_no, year, seq))
        else:
            numbered += 1
            result.append((format_number(agency.reg_no_pattern, year=year, n=seq, code=agency.code,
                                         prefix=agency.letter_no_prefix), year, seq))
    return result, numbered


def _new_ids(session: Session, model, count: int) -> list[int]:
    """`count` fresh primary keys for `model`: from its sequence on PostgreSQL (concurrent writers get others), in
    one array (the sequence is named once, not per value); after the highest on SQLite, whose writers are
    serialised (this transaction already holds the write lock: the registration numbers were reserved first)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(sql_text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                  {"table": model.__tablename__})
        return session.scalar(sql_text(
            "SELECT array_agg(nextval(CAST(:sequence AS regclass))) FROM generate_series(1, :n)"),
            {"sequence": sequence, "n": count})
    first = (session.scalar(select(func.max(model.id))) or 0) + 1
    return list(range(first, first + count))


class _BulkRows:
    """Full rows of one table written inside the session's transaction, each a tuple in `columns` order: the given
    columns, then every other column with a Python default (those are part of the case state the audit records),
    whose values `defaults` holds in that order. `write(row)` takes the given values plus `defaults`."""

    def __init__(self, model, given: tuple[str, ...]):
        self.table = model.__table__
        rest = [c for c in self.table.columns if c.name not in given and c.default is not None]
        self.columns = (*given, *(c.name for c in rest))
        self.defaults = tuple(c.default.arg if c.default.is_scalar else c.default.arg(None) for c in rest)
        self.json_at = [i for i, name in enumerate(self.columns) if isinstance(self.table.c[name].type, JSON)]

    def positions(self, names: Iterable[str]) -> list[int | None]:
        """Where each named column is in a written row; None for a column left out, which is stored NULL."""
        at = {name: i for i, name in enumerate(self.columns)}
        for name in names:
            if name not in at and self.table.c[name].server_default is not None:
                raise RuntimeError(f"ledger import: {self.table.name}.{name} must be written (it has a server "
                                   "default, so the state recorded would not be the one stored)")
        return [at.get(name) for name in names]

    @contextmanager
    def writer(self, session: Session) -> Iterator[Callable[[tuple], None]]:
        """On PostgreSQL a COPY whose data psycopg's writer thread sends while this thread builds the next rows
        (the server indexes one batch while Python prepares the next: 100,000 cases in seconds); batched
        executemany elsewhere."""
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            try:
                from psycopg.copy import QueuedLibpqWriter
            except ImportError:  # psycopg 3.1.0, the lowest allowed, named it so
                from psycopg.copy import QueuedLibpqDriver as QueuedLibpqWriter

            driver = connection.connection.driver_connection
            statement = f'COPY {self.table.name} ({", ".join(self.columns)}) FROM STDIN'
            with driver.cursor() as cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
                if not self.json_at:
                    yield copy.write_row
                    return
                json_at = self.json_at

                def write_json(row: tuple) -> None:
                    values = list(row)
                    for i in json_at:
                        values[i] = json.dumps(values[i], ensure_ascii=False)
                    copy.write_row(values)

                yield write_json
            return
        batch: list[dict] = []
        columns, insert_rows = self.columns, insert(self.table)

        def write(row: tuple) -> None:
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) == BATCH_ROWS:
                session.execute(insert_rows, batch)
                batch.clear()

        yield write
        if batch:
            session.execute(insert_rows, batch)


def _applicants(session: Session, agency: Agency, rows: list[LedgerRow]) -> dict[tuple[str, str], tuple[int, list]]:
    """(id, values in APPLICANT_FIELDS order) per (type, name): the agency's existing applicant of that type and
    name (the latest, if several), the others inserted."""
    query = (select(Applicant.id, *(getattr(Applicant, name) for name in APPLICANT_FIELDS))
             .where(Applicant.agency_id == agency.id).order_by(Applicant.id))
    found = {(row.kind, row.name): (row.id, list(row[1:])) for row in session.execute(query)}
    missing = list(dict.fromkeys((r.kind, r.applicant) for r in rows if (r.kind, r.applicant) not in found))
    if not missing:
        return found
    bulk = _BulkRows(Applicant, ("id", "agency_id", "kind", "name"))
    position = {name: i for i, name in enumerate(bulk.columns)}
    at = [position[name] for name in APPLICANT_FIELDS]
    ids = _new_ids(session, Applicant, len(missing))
    with bulk.writer(session) as write:
        for applicant_id, (kind, name) in zip(ids, missing, strict=True):
            row = (applicant_id, agency.id, kind, name, *bulk.defaults)
            write(row)
            found[(kind, name)] = (applicant_id, [row[i] for i in at])
    return found


def _defer_gin_pending_cleanup(session: Session, model) -> list[str]:
    """On PostgreSQL, let the table's GIN indexes (the trigram search index) gather this transaction's entries in
    their pending lists, to be moved into the index in one pass afterwards (the caller merges the names returned,
    `merging_beside`) rather than every 4 MB: a tenth less work for the server on 100,000 cases. Only for
    indexes the current role owns, which the merge requires; with none, nothing changes."""
    owned = owned_gin_indexes(session, model.__tablename__)
    if owned:
        session.execute(sql_text("SET LOCAL gin_pending_list_limit = '1GB'"))
    return owned


class _StateDigests:
    """The state digest `state_digest_of` gives an imported case (its row, its applicant, one item and nothing
    else), from one encoding of the case's and the item's values into a template of the canonical JSON instead of
    building and encoding the whole state per case: a tenth of the time for 100,000 cases. Tested equal to
    `state_digest_of`; the import also compares the first and last case with a full read."""

    _MARK = "\ue000{}\ue000"

    def __init__(self):
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain).encode
        entry = {key: [] for key, _model, _names in CASE_RECORDS}
        entry["confidentiality_reviews"] = []
        entry["case"], entry["applicant"], entry["items"] = (self._MARK.format(n) for n in "cai")
        template = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        parts = re.split('"' + self._MARK.format("([cai])") + '"', template)
        self._order = parts[1::2]
        self._between = [part.encode() for part in parts[0::2]]
        self._applicants: dict[int, bytes] = {}

    def digest(self, case: list, applicant_id: int, applicant: list, item: list) -> str:
        encoded = self._applicants.get(applicant_id)
        if encoded is None:
            encoded = self._applicants[applicant_id] = self._encode(applicant).encode()
        values = {"c": self._encode(case).encode(), "a": encoded, "i": b"[" + self._encode(item).encode() + b"]"}
        between = self._between
        message = [between[0]]
        for n, key in enumerate(self._order, start=1):
            message.append(values[key])
            message.append(between[n])
        return hashlib.sha256(b"".join(message)).hexdigest()


def _plain(value):
    """What `state_digest_of` records for a value JSON has no form for: a date as ISO text, anything else as str."""
    return value.isoformat() if isinstance(value, date) else str(value)


class _Progress:
    """Tells `progress` (if any) how many more units are done whenever the running total grows."""

    def __init__(self, progress: Callable[[int], None] | None):
        self.progress, self.done = progress, 0

    def to(self, done: int) -> None:
        if self.progress is not None and done > self.done:
            self.progress(done - self.done)
        self.done = max(self.done, done)


_CASE_GIVEN = ("id", "agency_id", "reg_no", "reg_year", "reg_seq", "applicant_id", "applicant_kind", "stage",
               "channel", "submitted_on", "received_on", "clock_start_on", "due_on", "due_provisional",
               "report_outcome", "finished_on", "imported", "search_text", "supplement_items", "version",
               "created_at", "updated_at")
_ITEM_GIVEN = ("id", "case_id", "seq", "description", "outcome", "is_primary")


def import_ledger(session: Session, agency: Agency, ledger: LedgerFile, *, actor, today: date,
                  progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Import a validated ledger in bulk (imported=True), or write nothing and raise LedgerRejected."""
    with _collector_paused():
        return _import(session, agency, ledger, actor=actor, today=today, progress=progress)


def _import(session: Session, agency: Agency, ledger: LedgerFile, *, actor, today: date,
            progress: Callable[[int], None] | None) -> ImportSummary:
    rows = validate_ledger(session, agency, ledger, today, progress)
    ensure_period_open(session, agency.id, *{d for r in rows for d in (r.received_on, r.finished_on) if d},
                       actor=actor)
    numbers, numbered = _number_rows(session, agency, rows)
    applicants = _applicants(session, agency, rows)
    dues = _due_dates({r.received_on for r in rows if r.finished_on is None})
    case_ids, item_ids = _new_ids(session, Case, len(rows)), _new_ids(session, CaseItem, len(rows))
    now = utcnow()
    cases, items = _BulkRows(Case, _CASE_GIVEN), _BulkRows(CaseItem, _ITEM_GIVEN)
    case_fields, item_fields = cases.positions(CASE_FIELDS), items.positions(_ITEM_FIELDS)
    digests, told = _StateDigests(), _Progress(progress)
    states: dict[int, str] = {}
    item_rows = []
    # No event per imported case (100k rows import in bulk): the import event records each case's state,
    # computed from the rows as written (checked against the database below).
    gin_indexes = _defer_gin_pending_cleanup(session, Case)
    with cases.writer(session) as write_case:
        for n, (row, (reg_no, reg_year, reg_seq), case_id, item_id) in enumerate(
                zip(rows, numbers, case_ids, item_ids, strict=True), start=1):
            open_case = row.finished_on is None
            due_on, provisional = dues[row.received_on] if open_case else (None, False)
            stage = "registered" if open_case else ("closed" if row.outcome in TERMINAL_CODES else "replied")
            applicant_id, applicant = applicants[(row.kind, row.applicant)]
            case = (case_id, agency.id, reg_no, reg_year, reg_seq, applicant_id, row.kind, stage, row.channel,
                    row.received_on, row.received_on, row.received_on, due_on, provisional, row.outcome,
                    row.finished_on, True,
                    case_search_text(applicant_name=row.applicant, reg_no=reg_no, items=[row.request]),
                    [], 1, now, now, *cases.defaults)
            write_case(case)
            item = (item_id, case_id, 1, row.request, row.outcome, True, *items.defaults)
            item_rows.append(item)
            states[case_id] = digests.digest([None if i is None else case[i] for i in case_fields], applicant_id,
                                             applicant, [None if i is None else item[i] for i in item_fields])
            if n % BATCH_ROWS == 0:
                told.to(n * 3 // 4)  # the cases are most of the work: 3/4 of the writing's share
    # The search index's pending entries are merged by another backend while this one writes the items.
    with merging_beside(session, gin_indexes), items.writer(session) as write_item:
        for item in item_rows:
            write_item(item)
    told.to(len(rows))
    for case_id in {case_ids[0], case_ids[-1]}:
        if case_state_digest(session, case_id) != states[case_id]:
            raise RuntimeError(f"ledger import: the state recorded for case {case_id} is not the one stored")
    finished = sum(1 for r in rows if r.finished_on is not None)
    summary = ImportSummary(len(rows), finished, len(rows) - finished, numbered, case_ids[0])
    record_event(session, agency_id=agency.id, action="import_ledger", actor=actor,
                 changes={"file": ledger.name, "rows": summary.rows, "finished": summary.finished,
                          "still_open": summary.still_open, "numbered": numbered,
                          "first_reg_no": numbers[0][0], "last_reg_no": numbers[-1][0],
                          "case_states": {str(k): v for k, v in states.items()}},
                 reason=f"导入台账「{ledger.name}」")
    return summary
