"""Runtime values: calendar arithmetic as a person counts, exact money, three-valued unknowns."""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immat.runtime import arith, computed, money_minus, money_plus, money_times
from immat.values import (
    Duration, Failure, Money, Percentage, Unknown, add_months, between, calendar_order, first_problem, format_euros,
    format_percent, percentage_of, shift,
)

D = datetime.date
DATES = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
MONTHS = st.integers(min_value=-1200, max_value=1200)
CENTS = st.integers(min_value=-10**9, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))


# ---------------------------------------------------------------- calendar arithmetic


@pytest.mark.parametrize("day, months, expected", [
    (D(2021, 1, 31), 1, D(2021, 2, 28)),    # 31 January + 1 mois: the last day of February
    (D(2020, 1, 31), 1, D(2020, 2, 29)),    # … 29 in a leap year
    (D(2020, 2, 29), 12, D(2021, 2, 28)),   # 29/02/2020 + 1 an
    (D(2020, 2, 29), 48, D(2024, 2, 29)),
    (D(2021, 3, 31), -1, D(2021, 2, 28)),
    (D(2021, 12, 15), 1, D(2022, 1, 15)),
    (D(2021, 1, 15), -1, D(2020, 12, 15)),
    (D(2021, 8, 31), -6, D(2021, 2, 28)),
])
def test_adding_months_keeps_the_day_or_takes_the_last_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


def test_shift_counts_months_first_then_days():
    assert shift(D(2021, 1, 31), Duration(months=1, days=1)) == D(2021, 3, 1)
    assert shift(D(2021, 3, 1), -Duration(months=1, days=1)) == D(2021, 1, 31)


@pytest.mark.parametrize("start, end, expected", [
    (D(2017, 6, 15), D(2021, 6, 15), Duration(48, 0)),
    (D(2017, 6, 14), D(2021, 6, 15), Duration(48, 1)),
    (D(2021, 1, 31), D(2021, 2, 28), Duration(1, 0)),
    (D(2021, 1, 1), D(2021, 4, 1), Duration(3, 0)),
    (D(2020, 2, 29), D(2021, 2, 28), Duration(12, 0)),
    (D(2021, 6, 15), D(2021, 6, 15), Duration(0, 0)),
    (D(2021, 6, 15), D(2021, 6, 10), Duration(0, -5)),
])
def test_between_counts_whole_months_then_leftover_days(start, end, expected):
    assert between(start, end) == expected


def test_exactly_four_years_is_not_more_than_four_years():
    four_years = Duration(months=48)
    assert not between(D(2017, 6, 15), D(2021, 6, 15)) > four_years
    assert between(D(2017, 6, 14), D(2021, 6, 15)) > four_years


def test_duration_from_dates_compares_exactly_with_days():
    three_months = between(D(2021, 1, 1), D(2021, 4, 1))  # 90 days
    assert calendar_order(three_months, Duration(days=90)) == (D(2021, 4, 1), D(2021, 4, 1))
    left, right = calendar_order(three_months, Duration(days=89))
    assert left > right


def test_durations_without_a_start_compare_months_then_days():
    assert calendar_order(Duration(months=1), Duration(days=40)) == ((1, 0), (0, 40))


@pytest.mark.parametrize("duration, words", [
    (Duration(50, 0), "4 ans 2 mois"),
    (Duration(12, 1), "1 an 1 jour"),
    (Duration(0, 10), "10 jours"),
    (Duration(), "0 jour"),
])
def test_duration_reads_in_french(duration, words):
    assert str(duration) == words


@given(DATES, MONTHS)
def test_adding_months_always_gives_a_real_date_in_the_right_month(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, calendar.monthrange(result.year, result.month)[1])


@given(DATES, st.integers(min_value=0, max_value=1200))
def test_between_undoes_a_shift_by_whole_months(day, months):
    assert between(day, shift(day, Duration(months=months))) == Duration(months=months)


@given(DATES, DATES)
def test_shift_undoes_between(start, end):
    start, end = min(start, end), max(start, end)
    assert shift(start, between(start, end)) == end


@given(DATES, DATES, DATES)
def test_between_is_ordered_as_the_dates_are(start, a, b):
    a, b = sorted((a, b))
    assert between(start, a) <= between(start, b)
    assert (between(start, a) < between(start, b)) == (a < b)


@given(DATES, st.integers(min_value=0, max_value=3000))
def test_between_equals_the_same_number_of_days(day, days):
    elapsed = between(day, day + datetime.timedelta(days=days))
    left, right = calendar_order(elapsed, Duration(days=days))
    assert left == right
    left, right = calendar_order(elapsed, Duration(days=days + 1))
    assert left < right


# ---------------------------------------------------------------- money


def test_money_adds_exactly():
    assert Money("2.76") + Money(11) == Money("13.76")
    assert (Money("2.76") + Money(11)).decimal_string() == "13.76"


def test_percent_of_money_times_integer_is_exact():
    assert Money(43).scaled(Decimal("0.5")).scaled(7).decimal_string() == "150.50"


def test_money_rounds_half_up_to_the_cent():
    assert Money("0.005").decimal_string() == "0.01"
    assert Money("10").scaled(Decimal(1) / 3).decimal_string() == "3.33"


def test_money_reads_in_french_with_thin_spaces():
    assert str(Money(30000)) == "30\u202f000 €"
    assert format_euros(Decimal("1234.5")) == "1\u202f234,50 €"


@given(CENTS, CENTS)
def test_money_arithmetic_is_exact(a, b):
    total = Money(a) + Money(b)
    assert total.amount == a + b
    assert total - Money(b) == Money(a)
    assert Decimal(total.decimal_string()) == a + b


def test_ten_times_ten_cents_is_one_euro():
    total = Money(0)
    for _ in range(10):
        total = total + Money("0.10")
    assert total == Money("1.00")


# ---------------------------------------------------------------- percentages


@pytest.mark.parametrize("ratio, words", [("1", "100 %"), ("0.5", "50 %"), ("0.80", "80 %"), ("0.125", "12,5 %"),
                                          ("0", "0 %"), ("12", "1\u202f200 %"), ("-0.1", "-10 %")])
def test_a_percentage_reads_as_one(ratio, words):
    assert format_percent(Percentage(ratio)) == words


@pytest.mark.parametrize("op, left, right, percentage", [
    ("-", Percentage(1), Percentage("0.2"), True),   # 100 % − décote
    ("+", Percentage("0.1"), Decimal("0.1"), False),  # a percentage plus a plain decimal
    ("*", Percentage("0.1"), 3, True),               # 10 % × 3 périodes
    ("*", 3, Percentage("0.1"), True),
    ("/", Percentage("0.5"), 2, True),
    ("/", Percentage("0.5"), Percentage("0.25"), False),  # the ratio of two percentages
])
def test_a_computation_on_percentages_stays_a_percentage_when_it_is_one(op, left, right, percentage):
    result = percentage_of(op, left, right, {"+": left + right, "-": left - right, "*": left * right,
                                             "/": Decimal(left) / Decimal(right)}[op])
    assert isinstance(result, Percentage) is percentage


# ---------------------------------------------------------------- unknowns


def test_unknowns_gather_every_missing_pointer():
    assert first_problem(Unknown(frozenset({"/a"})), 1, Unknown(frozenset({"/b"}))) == Unknown(frozenset({"/a", "/b"}))


def test_a_failure_outweighs_unknowns():
    failure = Failure("aucune version")
    assert first_problem(Unknown(frozenset({"/a"})), failure) is failure


def test_known_values_have_no_problem():
    assert first_problem(True, Money(1), D(2021, 1, 1)) is None


# ---------------------------------------------------------------- what the compiled code computes without dispatch

AMOUNTS = st.one_of(CENTS, st.sampled_from([Decimal("9999999999999999999999999.99"), Decimal("-1E+24"),
                                             Decimal("5E+24")])).map(Money)
FACTORS = st.one_of(st.integers(min_value=-10**6, max_value=10**6), st.decimals(allow_nan=False, allow_infinity=False),
                    st.sampled_from([Percentage("0.5"), Decimal("1E+999998"), True, Decimal("-0")]))


@given(AMOUNTS, AMOUNTS)
def test_money_plus_and_minus_are_arith(a, b):
    assert money_plus(a, b) == computed(arith, "+", a, b)
    assert money_minus(a, b) == computed(arith, "-", a, b)


@given(AMOUNTS, FACTORS)
def test_money_times_is_arith_in_either_order(money, factor):
    # Past 10^25 € or past the decimal context's exponent, both give the same Failure rather than a value.
    assert money_times(money, factor) == computed(arith, "*", money, factor)
    assert money_times(factor, money) == computed(arith, "*", factor, money)
