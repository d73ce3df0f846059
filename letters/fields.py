"""Turns JSON-like mappings into the frozen letter dataclasses and back, naming any bad field in Chinese."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from letters.errors import LetterDataError

_TYPE_NAMES = {str: "文本", int: "整数", bool: "是/否（true/false）", dt.date: "日期（YYYY-MM-DD）",
               Decimal: "金额（如 \"100.00\"）"}


def join_path(prefix: str, name: str) -> str:
    """The dotted path of a field below `prefix`, as shown in error messages (items[2].basis)."""
    return f"{prefix}.{name}" if prefix else name


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def build(cls: type, data: Any, path: str = "") -> Any:
    """A frozen dataclass `cls` from a JSON-like mapping; LetterDataError names the first bad field."""
    if dataclasses.is_dataclass(data) and isinstance(data, cls):
        data = dump(data)
    if not isinstance(data, Mapping):
        raise LetterDataError(path or "data", f"字段 {path or '(数据)'} 应为对象（JSON object）")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise LetterDataError(join_path(path, str(key)), f"字段 {join_path(path, str(key))} 不是本文书的数据项")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for name, field in fields.items():
        field_path = join_path(path, name)
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list | tuple) and not raw):
            if required:
                raise LetterDataError(field_path, f"字段 {field_path} 缺失")
            continue
        values[name] = _convert(hints[name], raw, field_path)
    instance = cls(**values)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        validate(path)
    return instance


def _convert(hint: Any, raw: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(inner, raw, path)
    if origin is Literal:
        choices = typing.get_args(hint)
        if raw not in choices:
            raise LetterDataError(path, f"字段 {path} 的值 {raw!r} 不在允许范围内（{'、'.join(map(str, choices))}）")
        return raw
    if origin is tuple:
        if not isinstance(raw, list | tuple):
            raise LetterDataError(path, f"字段 {path} 应为列表")
        (inner, _ellipsis) = typing.get_args(hint)
        return tuple(_convert(inner, item, f"{path}[{index}]") for index, item in enumerate(raw))
    if origin is dict:
        if not isinstance(raw, Mapping):
            raise LetterDataError(path, f"字段 {path} 应为对象（JSON object）")
        (key_hint, value_hint) = typing.get_args(hint)
        return {_convert(key_hint, key, path): _convert(value_hint, value, join_path(path, str(key)))
                for key, value in raw.items()}
    if dataclasses.is_dataclass(hint):
        return build(hint, raw, path)
    if hint is str:
        if not isinstance(raw, str):
            raise _wrong_type(path, hint)
        return raw.strip()
    if hint is bool:
        if not isinstance(raw, bool):
            raise _wrong_type(path, hint)
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _wrong_type(path, hint)
        return raw
    if hint is dt.date:
        return _to_date(raw, path)
    if hint is Decimal:
        return _to_money(raw, path)
    raise TypeError(f"unsupported field type {hint!r} at {path}")  # a programming error, not bad data


def _wrong_type(path: str, hint: type) -> LetterDataError:
    return LetterDataError(path, f"字段 {path} 应为{_TYPE_NAMES[hint]}")


def _to_date(raw: Any, path: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise _wrong_type(path, dt.date)
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise _wrong_type(path, dt.date)


def _to_money(raw: Any, path: str) -> Decimal:
    # Floats are refused: an amount of money must not pass through binary floating point.
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise _wrong_type(path, Decimal)
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise _wrong_type(path, Decimal) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise _wrong_type(path, Decimal)
    return amount.quantize(Decimal("0.01"))


def dump(instance: Any) -> Any:
    """The JSON-able form of a letter dataclass (dates as ISO strings, money as strings, no empty fields)."""
    if dataclasses.is_dataclass(instance):
        out = {}
        for field in dataclasses.fields(instance):
            value = getattr(instance, field.name)
            if value is None or value == ():
                continue
            out[field.name] = dump(value)
        return out
    if isinstance(instance, tuple):
        return [dump(item) for item in instance]
    if isinstance(instance, dict):
        return {key: dump(value) for key, value in instance.items()}
    if isinstance(instance, dt.date):
        return instance.isoformat()
    if isinstance(instance, Decimal):
        return str(instance)
    return instance
