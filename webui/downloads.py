"""Download names people recognise: 「登记回执-依申请〔2026〕45号.pdf」, sent as RFC 6266 with an RFC 5987
UTF-8 name and a plain ASCII fallback for old clients."""

from __future__ import annotations

import re
from urllib.parse import quote

from engine.rules.vocabulary import LETTER_LABELS

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def content_disposition(filename: str, *, fallback: str = "", inline: bool = False) -> str:
    """`attachment; filename="fallback"; filename*=UTF-8''<percent-encoded name>` (RFC 6266 §4.3, RFC 5987)."""
    name = _UNSAFE.sub("_", filename).strip() or "download"
    ascii_name = fallback or name.encode("ascii", "ignore").decode() or "download"
    ascii_name = _UNSAFE.sub("_", ascii_name).replace(" ", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def letter_filename(letter, reg_no: str) -> str:
    """The letter's short name and its 文号 (or, for an unnumbered one such as the receipt, the 登记编号)."""
    label = LETTER_LABELS.get(letter.letter_type, letter.letter_type)
    return f"{label}-{letter.doc_number or reg_no}.pdf"
