"""Runtime values: three-valued Unknown, exact Money, calendar Durations and their arithmetic."""

from __future__ import annotations

import calendar
import datetime
import functools
from decimal import ROUND_HALF_UP, Decimal

import attrs

from .frozen import frozen

CENT = Decimal("0.01")
# The decimal context keeps 28 significant digits: below 10^25 € an amount rounds to the cent exactly
# (25 digits and 2 decimals, one more if rounding carries), above it no longer would.
MONEY_LIMIT = Decimal(10) ** 25


class OutOfRange(ArithmeticError):
    """A computation whose result no value can hold; its message says why, in French."""


@frozen
class Unknown:
    """A value the dossier does not give: `missing` lists the JSON pointers to complete."""

    missing: frozenset[str] = frozenset()

    def __or__(self, other: Unknown) -> Unknown:
        return Unknown(self.missing | other.missing)


@frozen
class Failure:
    """A value the rules cannot compute (no barème version in force, a key no row covers)."""

    message: str


@frozen
class NotCovered(Failure):
    """A case the regime does not cover (« hors barème »): reported as such, not as a rule error."""


def is_known(value) -> bool:
    return not isinstance(value, (Unknown, Failure))


def first_problem(*values):
    """The Failure among `values`, else the union of their Unknowns, else None."""
    unknown = None
    for value in values:
        if isinstance(value, Failure):
            return value
        if isinstance(value, Unknown):
            unknown = value if unknown is None else unknown | value
    return unknown


@frozen
class Money:
    """An amount in euros, exact to the cent, never a float."""

    amount: Decimal = attrs.field(converter=Decimal)

    # Written out: attrs' generic ordering builds a tuple of every field at each comparison, 80 times slower.
    def __lt__(self, other: Money) -> bool:
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= other.amount

    def checked(self) -> Money:
        """This amount, or OutOfRange if it is too large to stay exact to the cent."""
        if not abs(self.amount) < MONEY_LIMIT:
            raise OutOfRange("montant hors des limites du calcul : à partir de 10^25 €, il ne serait plus "
                             "exact au centime")
        return self

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - other.amount)

    def scaled(self, factor: int | Decimal) -> Money:
        return Money(self.amount * factor)

    def rounded(self) -> Money:
        return Money(self.amount.quantize(CENT, rounding=ROUND_HALF_UP))

    def decimal_string(self) -> str:
        return str(self.rounded().amount)

    def __str__(self) -> str:
        return format_euros(self.amount)


def format_number(value: int | Decimal) -> str:
    """French rendering: thin groups of three digits, decimal comma."""
    if isinstance(value, int) or value == value.to_integral_value():
        whole, frac = f"{int(value):,}", ""
    else:
        whole, frac = f"{value:,}".split(".")
        frac = "," + frac
    return whole.replace(",", "\u202f") + frac


class Percentage(Decimal):
    """A ratio written as a percentage (« 50 % » is 0.5): a Decimal in every computation, read back as « 50 % »."""

    __slots__ = ()


def percentage_of(op: str, left, right, result):
    """`result` of `left op right` as a Percentage when it is one: the sum or difference of two percentages, a
    percentage times or divided by a number (« 100 % − 10 % × n »). The ratio of two percentages is a plain
    decimal; a percentage of an amount is an amount, which `result` already is."""
    if isinstance(result, Decimal) and _stays_percentage(op, isinstance(left, Percentage),
                                                         isinstance(right, Percentage)):
        return Percentage(result)
    return result


def _stays_percentage(op: str, left: bool, right: bool) -> bool:
    if op in "+-":
        return left and right
    if op == "*":
        return left or right
    return left and not right  # « / »


def format_percent(value: Decimal) -> str:
    """« 50 % », « 12,5 % »: the ratio times 100, without the zeros the scaling leaves."""
    return f"{format_number(value.scaleb(2).normalize())} %"


@functools.lru_cache(maxsize=4096)
def format_euros(amount: Decimal) -> str:
    # Cached: a batch writes the same tariffs and totals again and again; equal amounts are written alike.
    quantized = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if quantized == quantized.to_integral_value():
        return f"{format_number(int(quantized))} €"
    whole, cents = f"{quantized:.2f}".split(".")
    return f"{format_number(int(whole))},{cents} €"


@frozen
class Duration:
    """A calendar duration: months (a year is 12) and days, never converted into each other.

    A difference between two dates is normalised to whole months then leftover days,
    so durations from dates compare correctly with literals such as « 4 ans ».
    """

    months: int = 0
    days: int = 0
    # The date « durée entre A et B » counts from: a month has no fixed length, so only from a
    # known start can « 2 mois 1 jour » be compared with « 90 jours » (see calendar_order).
    start: datetime.date | None = attrs.field(default=None, eq=False, repr=False)

    def _key(self) -> tuple[int, int]:
        return (self.months, self.days)

    def __lt__(self, other: Duration) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Duration) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Duration) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Duration) -> bool:
        return self._key() >= other._key()

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.months + other.months, self.days + other.days)

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.days)

    def __str__(self) -> str:
        years, months = divmod(self.months, 12)
        parts = []
        if years:
            parts.append(f"{years} an" + ("s" if years > 1 else ""))
        if months:
            parts.append(f"{months} mois")
        if self.days or not parts:
            parts.append(f"{self.days} jour" + ("s" if abs(self.days) > 1 else ""))
        return " ".join(parts)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Calendar month arithmetic: 31 January + 1 mois = 28 (or 29) February."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise _outside_calendar(day, Duration(months))
    if day.day <= 28:  # every month has that day: no need to ask the calendar (most dates)
        return datetime.date(year, month + 1, day.day)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def shift(day: datetime.date, duration: Duration) -> datetime.date:
    """Months first, then days, as a person counts: 29 February + 1 an = 28 February."""
    try:
        return add_months(day, duration.months) + datetime.timedelta(days=duration.days)
    except OverflowError:  # the days carried it past 31/12/9999 or before 01/01/0001
        raise _outside_calendar(day, duration) from None


def date_text(day: datetime.date) -> str:
    """dd/mm/yyyy with four digits for every year: strftime writes year 1 as « 1 »."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _outside_calendar(day: datetime.date, duration: Duration) -> OutOfRange:
    sign = "−" if duration.months < 0 or duration.days < 0 else "+"
    amount = str(-duration if sign == "−" else duration)
    return OutOfRange(f"date impossible à calculer : {date_text(day)} {sign} {amount} sort du calendrier, "
                      "qui va du 01/01/0001 au 31/12/9999")


def between(start: datetime.date, end: datetime.date) -> Duration:
    """Elapsed calendar time from start to end: whole months first, then the days left over."""
    if end < start:
        return -between(end, start)
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return Duration(months, (end - add_months(start, months)).days, start=start)


def calendar_order(a: Duration, b: Duration) -> tuple:
    """Keys by which two durations compare as the calendar does.

    When one counts from a known start, both are laid from that start and the dates they reach are
    compared: from 01/01/2021, « 2 mois 1 jour » (to 02/03) is less than « 90 jours » (to 01/04).
    Without a start, months then days.
    """
    start = a.start or b.start
    if start is None:
        return a._key(), b._key()
    return shift(start, a), shift(start, b)
