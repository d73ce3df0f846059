"""The remedies paragraph of a letter (行政复议法2023第20、22、23条; 行政诉讼法第46条), built from plain data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from letters.outcomes import is_withholding

_CN_DIGITS = "零一二三四五六七八九"


def build_remedies(*, outcomes: Sequence[str], review_body: str, court: str, online_delivery: bool,
                   online_review_channel: str | None, document_noun: str = "本答复",
                   review_first_also: Iterable[str] = ()) -> tuple[str, ...]:
    """Remedy sentences, per item (行政复议法第23条第1款(四)、第2款): the items that withhold information must go to
    administrative review first; the others may go to review or directly to court. One sentence per group,
    naming the items by their number when a reply mixes both. `review_first_also` are outcomes an agency has
    chosen to treat as 不予公开 too (the scope of 第23条 is not settled for them: legal reference §11A)."""
    also = frozenset(review_first_also)
    first = [n for n, outcome in enumerate(outcomes, 1) if is_withholding(outcome) or outcome in also]
    other = [n for n in range(1, len(outcomes) + 1) if n not in first]
    review_first = (f"应当自收到{document_noun}之日起60日内先向{review_body}申请行政复议；"
                    "对行政复议决定不服的，可以依法向人民法院提起行政诉讼。")
    either = (f"可以自收到{document_noun}之日起60日内向{review_body}申请行政复议，"
              f"也可以自收到{document_noun}之日起6个月内向{court}提起行政诉讼。")
    if first and other:
        sentences = [f"对{document_noun}{_items(first)}不服的，{review_first}",
                     f"对{document_noun}{_items(other)}不服的，{either}"]
    else:
        sentences = [f"如对{document_noun}不服，{review_first if first else either}"]
    if online_delivery:
        # 行政复议法第22条第2款: delivering online obliges us to offer an online channel for the application.
        if not online_review_channel:
            raise ValueError("online delivery needs the online review channel")
        sentences.append(f"{document_noun}通过互联网渠道送达，你（单位）可以通过{online_review_channel}在线提交行政复议申请。")
    return tuple(sentences)


def is_review_first(outcomes: Iterable[str], review_first_also: Iterable[str] = ()) -> bool:
    """Whether administrative review must come before a suit for some item (行政复议法第23条第1款(四))."""
    also = frozenset(review_first_also)
    return any(is_withholding(outcome) or outcome in also for outcome in outcomes)


def _items(numbers: list[int]) -> str:
    """第一项、第三项 — the numbers the reply's item headings carry (一、二、…)."""
    return "、".join(f"第{cn_number(n)}项" for n in numbers)


def cn_number(n: int) -> str:
    """1–99 in Chinese numerals, as item headings are numbered (十一, 二十)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else _CN_DIGITS[tens]}十{_CN_DIGITS[ones] if ones else ''}"
