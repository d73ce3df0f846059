"""Whether an applicant's contact details can be used (条例29(一): 姓名或名称、身份证明、联系方式).

Pure checks on text, shared by every channel (web form, JSON API, public portal): each returns the Chinese
problem to show beside the field, or None. Blank is never a problem here — which fields are required is the
form's business (at least one way to reach the applicant).
"""

from __future__ import annotations

import re

from engine.rules.similarity import normalize_id_number

# Mobile: 11 digits from 1; landline: optional area code 0xx(x), 7–8 digits, optional extension (转/分机/ext).
_PHONE_SEPARATORS = re.compile(r"[\s\-－()（）]")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x)\d{1,6}$", re.IGNORECASE)
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:\+?86)?(?:0\d{2,3})?[2-9]\d{6,7}$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_POSTAL_CODE = re.compile(r"^\d{6}$")
_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# The same rules for the browser (HTML `pattern`, anchored by the browser and compiled with the `v` flag, so parentheses and dashes are escaped): what the server accepts, loosely.
PHONE_PATTERN = r"[0-9０-９+\(\)（）\s\-－转分机extEXT.]{7,30}"
POSTAL_CODE_PATTERN = r"\d{6}"
ID_CARD_PATTERN = r"\d{17}[\dXx]"

ID_CARD_TYPES = ("身份证", "居民身份证")


def phone_problem(text: str) -> str | None:
    """A mobile (11 digits) or landline number (区号 + 7–8 digits, an extension allowed)."""
    value = _EXTENSION.sub("", _PHONE_SEPARATORS.sub("", (text or "").strip().translate(_FULL_WIDTH_DIGITS)))
    if not value or _MOBILE.match(value) or _LANDLINE.match(value):
        return None
    return "联系电话格式不正确：应为 11 位手机号码，或带区号的固定电话（如 0571-87654321，分机可写“转 123”）"


def email_problem(text: str) -> str | None:
    value = (text or "").strip()
    if not value or (len(value) <= 254 and _EMAIL.match(value)):
        return None
    return "电子邮箱格式不正确（应如 zhangsan@example.com）"


def postal_code_problem(text: str) -> str | None:
    value = (text or "").strip().translate(_FULL_WIDTH_DIGITS)
    if not value or _POSTAL_CODE.match(value):
        return None
    return "邮政编码应为 6 位数字"


def id_number_problem(id_type: str, id_number: str) -> str | None:
    """居民身份证: 18 characters with a valid check digit (GB 11643); 统一社会信用代码: 18 characters (GB 32100)."""
    number = normalize_id_number(id_number)
    if not number:
        return None
    if id_type in ID_CARD_TYPES:
        if not _ID_CARD.match(number):
            return "居民身份证号码应为 18 位（最后一位可为 X）"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True)) % 11]
        if number[17] != check:
            return "居民身份证号码校验位不正确，请核对"
    elif id_type == "统一社会信用代码" and not _CREDIT_CODE.match(number):
        return "统一社会信用代码应为 18 位数字或大写字母"
    return None


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+")
