"""信息处理费 tiers (国办函〔2020〕109号第四条、按量计收档位) at every boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.rules.fees import per_application_price, per_page_price, quote_per_application, quote_per_page


@pytest.mark.parametrize(("n", "price"), [(1, 0), (10, 0), (11, 100), (30, 100), (31, 200), (40, 200), (41, 300),
                                          (50, 300), (51, 400), (60, 400), (61, 500)])
def test_the_nth_application_in_a_month_costs_its_tier_price(n, price):
    assert per_application_price(n) == price


@pytest.mark.parametrize(("pages", "amount"), [(1, 0), (30, 0), (31, 10), (100, 700), (101, 720), (200, 2700),
                                               (201, 2740), (250, 4700)])
def test_a_per_page_fee_is_excess_progressive(pages, amount):
    assert quote_per_page(pages).amount_yuan == amount


def test_applications_earlier_in_the_month_count_towards_the_tier():
    quote = quote_per_application(earlier_this_month=9, applications=3)  # the 10th, 11th and 12th
    assert quote.amount_yuan == 200
    assert [(b.first, b.last, b.unit_price_yuan) for b in quote.bands] == [(10, 10, 0), (11, 12, 100)]


def test_thirty_five_applications_from_scratch_cost_three_thousand_yuan():
    # 1–10 free, 11–30: 20 × 100, 31–35: 5 × 200
    assert quote_per_application(0, 35).amount_yuan == 3000


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=200))
def test_a_quote_equals_the_sum_of_its_unit_prices(earlier, count):
    quote = quote_per_application(earlier, count)
    assert quote.amount_yuan == sum(per_application_price(n) for n in range(earlier + 1, earlier + count + 1))
    assert sum(b.units for b in quote.bands) == count


@given(st.integers(min_value=1, max_value=2000))
def test_a_page_quote_equals_the_sum_of_its_page_prices(pages):
    assert quote_per_page(pages).amount_yuan == sum(per_page_price(p) for p in range(1, pages + 1))


def test_zero_or_negative_counts_are_refused():
    with pytest.raises(ValueError):
        quote_per_page(0)
    with pytest.raises(ValueError):
        quote_per_application(-1, 1)
