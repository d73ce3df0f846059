"""What the case list's full-text search sees: one normal form for the stored text and the query alike.

People quote numbers the way they typed or read them: 依申请[2026]45号, 依申请【2026】45号, 依申请（2026）45号,
１３８-0013-8000. Brackets of every style become 〔〕, full-width letters and digits become half-width (NFKC), and
separators between digits (spaces, hyphens) disappear, in the stored text and in the query, so any of these finds
the case. The query code is never part of the text (only its hash is stored).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "(": "〔", ")": "〕", "〖": "〔", "〗": "〕",
                           "{": "〔", "}": "〕", "［": "〔", "］": "〕", "（": "〔", "）": "〕", "﹝": "〔", "﹞": "〕"})
_DIGIT_SEPARATORS = re.compile(r"(?<=\d)[\s\-‐‑–—]+(?=\d)")
_SPACES = re.compile(r"\s+")


def normalise_search_text(text: str) -> str:
    """The one form both the stored search text and a query are compared in."""
    text = unicodedata.normalize("NFKC", text or "").translate(_BRACKETS)
    text = _DIGIT_SEPARATORS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def case_search_text(*, applicant_name: str, id_number: str = "", phone: str = "", contact_person: str = "",
                     email: str = "", reg_no: str = "", items: Iterable[str] = (),
                     letter_numbers: Iterable[str] = ()) -> str:
    """A case's searchable text: who asked (name, ID number, phone, contact, e-mail), its 登记编号, what was asked
    and the 文号 of every letter issued in it — the things a caller or a 复议机关 quotes."""
    parts = [applicant_name, id_number, phone, contact_person, email, reg_no, *items, *letter_numbers]
    return normalise_search_text(" ".join(p for p in parts if p))
