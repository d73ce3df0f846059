"""Personal information shown masked by default (个人信息保护法第6、51条: the minimum needed): ID numbers keep
their first six and last four characters (110105********002X), phone numbers their first three and last four."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) <= 6:
        return "*" * len(value)
    keep_tail = 4 if len(value) > 10 else 2
    return value[:6] + "*" * (len(value) - 6 - keep_tail) + value[-keep_tail:]


def mask_phone(value: str | None) -> str:
    value = (value or "").strip()
    digits = sum(ch.isdigit() for ch in value)
    if digits < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
