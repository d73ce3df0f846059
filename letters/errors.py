"""Errors raised by the letters package; messages are Chinese because users read them."""

from __future__ import annotations


class LetterDataError(ValueError):
    """The data for a letter is missing a field or has one of the wrong type (文书数据不完整或有误)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LetterRenderError(RuntimeError):
    """The letter could not be rendered, including a refused resource fetch (拒绝加载外部资源)."""
