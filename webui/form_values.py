"""Reading posted form fields into typed values; bad input becomes `InvalidInput` with a Chinese message."""

from __future__ import annotations

from datetime import date

from flask import request

from engine.errors import InvalidInput
from engine.persistence.limits import MAX_ID, MAX_PAGE
from engine.services.uploads import MAX_UPLOAD_BYTES, UploadedFile


def text(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def texts(name: str) -> list[str]:
    return [v.strip() for v in request.form.getlist(name)]


def optional_date(name: str, label: str) -> date | None:
    raw = text(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{label}格式不正确（应为 年-月-日，如 2026-03-02）", details={"field": name}) from None


def required_date(name: str, label: str) -> date:
    value = optional_date(name, label)
    if value is None:
        raise InvalidInput(f"请填写{label}", details={"field": name})
    return value


def optional_int(name: str, label: str) -> int | None:
    raw = text(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{label}应为整数", details={"field": name}) from None
    if abs(value) > MAX_ID:
        raise InvalidInput(f"{label}超出范围", details={"field": name})
    return value


def required_int(name: str, label: str) -> int:
    value = optional_int(name, label)
    if value is None:
        raise InvalidInput(f"请填写{label}")
    return value


def int_list(name: str, label: str) -> list[int]:
    """Every value posted under `name` (checkboxes) as integers."""
    try:
        return [int(v) for v in texts(name) if v]
    except ValueError:
        raise InvalidInput(f"{label}应为整数") from None


def choice(name: str, label: str, allowed) -> str:
    value = text(name)
    if value not in allowed:
        raise InvalidInput(f"请选择{label}")
    return value


def flag(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def case_version() -> int:
    """The case version the form was rendered with (optimistic lock, DESIGN §2)."""
    value = optional_int("version", "版本号")
    if value is None:
        raise InvalidInput("表单缺少版本号，请刷新页面后重试")
    return value


def upload(name: str) -> UploadedFile | None:
    """The posted file as the engine takes it (read up to one byte past the limit, so the engine can refuse it)."""
    file = request.files.get(name)
    if file is None or not file.filename:
        return None
    return UploadedFile(filename=file.filename, content=file.read(MAX_UPLOAD_BYTES + 1))


def id_arg(name: str) -> int | None:
    """An id from the query string: absent, not a number or beyond any id (2³¹) is None (a filter ignored)."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_ID else None


def page_arg() -> int:
    """The page number from the query string, 1 … MAX_PAGE (anything else is the nearest of those)."""
    value = request.args.get("page", 1, type=int) or 1
    return min(max(1, value), MAX_PAGE)
