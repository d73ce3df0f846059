"""Character-bigram similarity of request texts, for duplicate (重复申请, 条例36(六)) and 条例44 hints."""

from __future__ import annotations

import re
import unicodedata

_NOISE = re.compile(r"[\s\u3000，。、；：？！“”‘’（）()《》〈〉【】\[\],.;:?!\"'·\-—_/]+")


def normalize_text(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def bigrams(text: str) -> frozenset[str]:
    t = normalize_text(text)
    if len(t) < 2:
        return frozenset({t}) if t else frozenset()
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' character bigrams, 0.0–1.0."""
    ga, gb = bigrams(a), bigrams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def normalize_id_number(id_number: str) -> str:
    """ID numbers compared without spaces, dashes or case (身份证 X, 统一社会信用代码)."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", id_number or "")).upper()
