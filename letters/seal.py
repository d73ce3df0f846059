"""The GB/T 9704 seal position (§7.4) as the renderer finds it on the page and a signer uses it; no PDF library."""

from __future__ import annotations

from dataclasses import dataclass

SEAL_SIZE_PT = 42 / 25.4 * 72  # the seal is about 42 mm across


@dataclass(frozen=True)
class SealBox:
    """Where the seal goes: page index and rectangle in PDF points, origin bottom left."""

    page_index: int
    x0: float
    y0: float
    x1: float
    y1: float
