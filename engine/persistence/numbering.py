"""Gap-free registration and letter numbers per agency and year (GB/T 9704: no leading zeros, no 第)."""

from __future__ import annotations

import re
import string

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.persistence.audit import ChainHead
from engine.persistence.models import Agency, NumberSequence

REGISTRATION = "REG"
LETTER = "LETTER"
ARCHIVE = "ARCHIVE"


def next_number(session: Session, agency_id: int, kind: str, year: int) -> int:
    """Take the next number (a registration, a letter, an archive file): `reserve_numbers` for one."""
    return reserve_numbers(session, agency_id, kind, year, 1)


def reserve_numbers(session: Session, agency_id: int, kind: str, year: int, count: int) -> int:
    """Take `count` consecutive numbers in the caller's transaction and return the first; a rollback gives
    them back, so there are no gaps. `count` 0 takes none: it returns the next free number and holds the
    counter's lock until the transaction ends (the ledger import moves the counter past historical numbers).

    The counter row is advanced with UPDATE … RETURNING, which takes the row lock first: concurrent registrations
    queue on it. Only when the row is missing (the year's first number) is it created (insert … on conflict do
    nothing) and advanced then: one statement per number otherwise.
    """
    advance = {"number_agency": agency_id, "number_kind": kind, "number_year": year, "number_count": count}
    last = session.execute(_ADVANCE, advance).scalar_one_or_none()
    if last is None:  # the year's first number: create the counter (a concurrent creator wins, we wait for it)
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(NumberSequence)
            .values(agency_id=agency_id, kind=kind, year=year, last_value=0)
            .on_conflict_do_nothing(index_elements=["agency_id", "kind", "year"])
        )
        last = session.execute(_ADVANCE, advance).scalar_one()
    return last - count + 1


# The counter's advance, built once; its parameters are named apart from every column (an UPDATE takes a parameter
# named after one of its columns as a value to set).
_ADVANCE = (update(NumberSequence)
            .where(NumberSequence.agency_id == bindparam("number_agency"),
                   NumberSequence.kind == bindparam("number_kind"), NumberSequence.year == bindparam("number_year"))
            .values(last_value=NumberSequence.last_value + bindparam("number_count", type_=Integer))
            .returning(NumberSequence.last_value))


def next_number_and_chain_head(session: Session, agency_id: int, kind: str, year: int) -> tuple[int, ChainHead]:
    """The next number and the agency's audit chain head, both locked until the transaction ends, the counter
    first (the order of every writer that numbers and records). On PostgreSQL one statement takes both when the
    counter exists: its UPDATE is a WITH clause, and the outer SELECT … FOR NO KEY UPDATE locks the agency's row
    only once the counter's row has come out of it, so never before it and never without it. The year's first
    number, and other databases, take them one after the other."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.connection().execute(_NUMBER_AND_HEAD, {"number_agency": agency_id, "number_kind": kind,
                                                              "number_year": year, "number_count": 1}).first()
        if row is not None:
            return row[0], ChainHead(session, agency_id, locked=(row[1], row[2]))
    number = next_number(session, agency_id, kind, year)
    return number, ChainHead(session, agency_id)


_COUNTER = _ADVANCE.cte("counter")
# Built once: it runs while the agency's registrations queue on the counter (with `number_count` 1).
_NUMBER_AND_HEAD = (select(_COUNTER.c.last_value, Agency.audit_seq, Agency.audit_head_hash)
                    .join_from(_COUNTER, Agency, Agency.id == bindparam("number_agency"))
                    .with_for_update(of=Agency, key_share=True))


def format_number(pattern: str, *, year: int, n: int, prefix: str = "", code: str = "", **extra) -> str:
    """Fill a pattern such as `{prefix}〔{year}〕{n}号`; `n` is printed without leading zeros."""
    try:
        return pattern.format(year=year, n=int(n), prefix=prefix, code=code, **extra)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"编号格式「{pattern}」无效：{exc}") from exc


_WIDTH = re.compile(r"^0?\d{0,2}d?$")
PATTERN_FIELDS = {
    "reg_no_pattern": ("year", "n", "code", "prefix"),
    "letter_no_pattern": ("year", "n", "code", "prefix"),
    "archive_no_pattern": ("year", "n", "code", "prefix", "retention"),
}


def pattern_problem(pattern: str, allowed: tuple[str, ...], label: str) -> str | None:
    """Why a numbering pattern cannot number anything (checked on save), or None: only the listed placeholders,
    `{n}` required and the only one that may carry a width (e.g. `{n:03d}`), no stray braces."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return f"{label}中的花括号不成对（字面的花括号请写成 {{{{ 或 }}}}）"
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            return f"{label}中的「{{{name}}}」不是可用的占位符；可用：" + "、".join(f"{{{a}}}" for a in allowed)
        if conversion or (spec and (name != "n" or not _WIDTH.match(spec))):
            return f"{label}中的「{{{name}}}」格式说明无效（只有 {{n}} 可以指定位数，如 {{n:03d}}）"
        names.append(name)
    if "n" not in names:
        return f"{label}必须包含序号占位符 {{n}}"
    try:
        format_number(pattern, year=2026, n=1, prefix="前缀", code="CODE", retention="Y")
    except ValueError as exc:
        return str(exc)
    return None
