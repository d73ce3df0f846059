"""信息处理费 (国办函〔2020〕109号《政府信息公开信息处理费管理办法》第三至五条): excess-progressive tiers.

Per application (按件): counted per applicant per natural month — 1–10 free; 11–30 ¥100 each;
from 31 on, each further band of 10 costs ¥100 more per application (31–40 ¥200, 41–50 ¥300, …).
Per page (按量, per application): ≤30 free; 31–100 ¥10; 101–200 ¥20; >200 ¥40 per page.
One application uses one mode or the other, never both (第三条).
"""

from __future__ import annotations

from dataclasses import dataclass

PER_APPLICATION = "PER_APPLICATION"
PER_PAGE = "PER_PAGE"


@dataclass(frozen=True)
class FeeBand:
    first: int       # first unit (application number in the month, or page number) in this band
    last: int        # last unit in this band
    unit_price_yuan: int

    @property
    def units(self) -> int:
        return self.last - self.first + 1

    @property
    def amount_yuan(self) -> int:
        return self.units * self.unit_price_yuan

    def describe(self, unit: str) -> str:
        price = "不收费" if self.unit_price_yuan == 0 else f"{self.unit_price_yuan}元/{unit}"
        return f"第{self.first}—{self.last}{unit}：{self.units}{unit}，{price}，计{self.amount_yuan}元"


@dataclass(frozen=True)
class FeeQuote:
    mode: str
    units: int
    bands: tuple[FeeBand, ...]

    @property
    def amount_yuan(self) -> int:
        return sum(b.amount_yuan for b in self.bands)


def per_application_price(n: int) -> int:
    """Price of the n-th application of an applicant in a natural month (第四条)."""
    if n <= 10:
        return 0
    if n <= 30:
        return 100
    return 100 * (2 + (n - 31) // 10)


def per_page_price(page: int) -> int:
    """Price of the page-th page of one application (按量计收档位)."""
    if page <= 30:
        return 0
    if page <= 100:
        return 10
    if page <= 200:
        return 20
    return 40


def _bands(first: int, last: int, price) -> tuple[FeeBand, ...]:
    bands: list[FeeBand] = []
    n = first
    while n <= last:
        p = price(n)
        end = n
        # Extend to the end of this price band in O(bands), not O(units).
        lo, hi = n, last
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if price(mid) == p:
                lo = mid
            else:
                hi = mid - 1
        end = lo
        bands.append(FeeBand(n, end, p))
        n = end + 1
    return tuple(bands)


def quote_per_application(earlier_this_month: int, applications: int) -> FeeQuote:
    """Fee for `applications` new applications after `earlier_this_month` by the same applicant."""
    if earlier_this_month < 0 or applications < 1:
        raise ValueError("件数必须为正整数，本月已申请件数不能为负")
    first = earlier_this_month + 1
    return FeeQuote(PER_APPLICATION, applications, _bands(first, first + applications - 1, per_application_price))


def quote_per_page(pages: int) -> FeeQuote:
    """Fee for one application of `pages` pages."""
    if pages < 1:
        raise ValueError("页数必须为正整数")
    return FeeQuote(PER_PAGE, pages, _bands(1, pages, per_page_price))
