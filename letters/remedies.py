"""The remedies paragraph of a letter (行政复议法2023第20、22、23条; 行政诉讼法第46条), built from plain data."""

from __future__ import annotations

from collections.abc import Iterable

from letters.outcomes import is_withholding


def build_remedies(*, outcomes: Iterable[str], review_body: str, court: str, online_delivery: bool,
                   online_review_channel: str | None, document_noun: str = "本答复") -> tuple[str, ...]:
    """Remedy sentences (行政复议法第23条第1款(四)、第2款): review first whenever any item is withheld."""
    if is_review_first(outcomes):
        sentences = [
            f"如对{document_noun}不服，应当自收到{document_noun}之日起60日内先向{review_body}申请行政复议；"
            "对行政复议决定不服的，可以依法向人民法院提起行政诉讼。"
        ]
    else:
        sentences = [
            f"如对{document_noun}不服，可以自收到{document_noun}之日起60日内向{review_body}申请行政复议，"
            f"也可以自收到{document_noun}之日起6个月内向{court}提起行政诉讼。"
        ]
    if online_delivery:
        # 行政复议法第22条第2款: delivering online obliges us to offer an online channel for the application.
        if not online_review_channel:
            raise ValueError("online delivery needs the online review channel")
        sentences.append(f"{document_noun}通过互联网渠道送达，你（单位）可以通过{online_review_channel}在线提交行政复议申请。")
    return tuple(sentences)


def is_review_first(outcomes: Iterable[str]) -> bool:
    """Whether administrative review must come before a suit (行政复议法第23条第1款(四)): any withholding."""
    return any(is_withholding(outcome) for outcome in outcomes)
