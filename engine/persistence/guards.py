"""The last line for stored text: no value longer than its column, none with a control character, whatever channel
or code path wrote it (PostgreSQL refuses NUL and over-long values with an error page; SQLite would keep them and a
BEL in a name then breaks every xlsx export). Forms, API schemas and services check first, with the field named;
this catches whatever they missed, before anything reaches the database."""

from __future__ import annotations

import functools

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.rules.text_input import control_characters_message, has_control_characters

# The names people know the columns by (the fallback is the column's own name).
COLUMN_LABELS = {
    "name": "名称", "display_name": "显示名称", "username": "用户名", "id_type": "证件类型", "id_number": "证件号码",
    "phone": "联系电话", "email": "电子邮箱", "address": "通信地址", "postal_code": "邮政编码",
    "contact_person": "联系人", "requested_form": "指定的提供形式", "requested_delivery": "获取信息的方式",
    "tracking_no": "邮件号", "description": "申请内容", "reason": "理由", "note": "备注", "text": "内容",
    "party_name": "被征求意见方", "party_contact": "联系方式", "topic": "主题分类", "facts": "事实理由",
    "referral_agency": "告知的机关", "referral_contact": "联系方式", "earlier_reply_number": "原答复文号",
    "filename": "文件名", "doc_number": "文号", "article": "法律依据",
}


# Columns the engine builds itself, never from one typed value: the case's search text keeps its shown part and its
# search-only part apart with an ASCII unit separator (engine/rules/search.py).
MACHINE_COLUMNS = frozenset({"search_text"})


@functools.cache
def _text_columns(mapper) -> tuple[tuple[str, str, int | None], ...]:
    """(attribute, label, maximum length) of each checked text column of a mapped class, worked out once."""
    return tuple((attr.key, COLUMN_LABELS.get(attr.key, attr.key), getattr(attr.columns[0].type, "length", None))
                 for attr in mapper.column_attrs
                 if isinstance(attr.columns[0].type, String) and attr.key not in MACHINE_COLUMNS)


def check_storable(obj) -> None:
    """Refuse `obj` if a text column it holds has a control character or is longer than the column (what a flush
    checks of every new or changed object; `direct_insert` checks its rows with it)."""
    state = inspect(obj)
    values = state.dict  # what the object holds: a column it has not loaded was read from the database, not written
    # The bidirectional controls only in what is being written (a new row, or a value changed since it was loaded):
    # a stored value from before they were refused must not stop every later change of its row (a case whose
    # purpose holds one could not take another step), nor can anyone correct it there.
    written = None if state.key is None else state.committed_state
    for key, label, length in _text_columns(state.mapper):
        value = values.get(key)
        if not isinstance(value, str):
            continue
        if has_control_characters(value, bidi=written is None or key in written):
            raise InvalidInput(control_characters_message(label), details={"field": key})
        if length is not None and len(value) > length:
            raise InvalidInput(f"{label}过长（最多 {length} 字）", details={"field": key})


@event.listens_for(Session, "before_flush")
def _refuse_unstorable_text(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        check_storable(obj)
