"""What the checker hands to the evaluator: resolved names, typed fields, compiled barèmes."""

from __future__ import annotations

import bisect
import datetime

import attrs

from . import syntax as s
from .source import SourceFile, Span

# ------------------------------------------------------------------ types


@attrs.frozen
class Type:
    """A value's type. `kind` is the French word used in messages; `schema` backs liste/objet."""

    kind: str
    enum: tuple[str, ...] = ()
    schema: dict | None = attrs.field(default=None, eq=False, repr=False)
    pointer: str = attrs.field(default="", eq=False)

    def __str__(self) -> str:
        return self.kind


BOOL = Type("booléen")
INT = Type("entier")
DECIMAL = Type("décimal")
MONEY = Type("montant")
TEXT = Type("texte")
DATE = Type("date")
DURATION = Type("durée")
ANY = Type("inconnu")  # after an error, so one mistake is reported once
NUMERIC = ("entier", "décimal")


# ------------------------------------------------------------------ resolved references


@attrs.frozen
class FieldRef(s.Expr):
    """A dossier field, from the root (base None) or from a loop variable such as `titulaire`."""

    base: str | None
    parts: tuple[str, ...]
    type: Type
    span: Span = attrs.field(eq=False, kw_only=True, repr=False)


@attrs.frozen
class VarRef(s.Expr):
    name: str
    span: Span = attrs.field(eq=False, kw_only=True, repr=False)


@attrs.frozen
class DefRef(s.Expr):
    name: str
    span: Span = attrs.field(eq=False, kw_only=True, repr=False)


@attrs.frozen
class AmountRef(s.Expr):
    name: str
    span: Span = attrs.field(eq=False, kw_only=True, repr=False)


@attrs.frozen
class TableRef(s.Expr):
    """A barème lookup whose table is already compiled and whose date is explicit."""

    table: CompiledTable
    key: s.Expr
    date: s.Expr
    span: Span = attrs.field(eq=False, kw_only=True, repr=False)


# ------------------------------------------------------------------ tables


@attrs.frozen
class CompiledPeriod:
    start: datetime.date
    end: datetime.date | None
    lows: tuple[int, ...]  # range rows sorted by lower bound (None → -inf as a very small int)
    ranges: tuple[s.Row, ...]
    texts: dict[str, s.Row] = attrs.field(eq=False)
    span: Span = attrs.field(eq=False)

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def row_for(self, key) -> s.Row | None:
        if isinstance(key, str):
            return self.texts.get(key)
        index = bisect.bisect_right(self.lows, key) - 1
        if index < 0:
            return None
        row = self.ranges[index]
        return row if row.key.high is None or key <= row.key.high else None


OPEN_LOW = -(10**18)


@attrs.frozen
class CompiledTable:
    name: str
    title: str
    source: str
    periods: tuple[CompiledPeriod, ...]
    value_type: Type
    span: Span = attrs.field(eq=False)

    def period_for(self, day: datetime.date) -> CompiledPeriod | None:
        return next((p for p in self.periods if p.covers(day)), None)


def compile_period(period: s.Period) -> CompiledPeriod:
    ranges = sorted((r for r in period.rows if r.key.text is None), key=lambda r: _low(r.key))
    texts = {r.key.text: r for r in period.rows if r.key.text is not None}
    return CompiledPeriod(
        period.start, period.end, tuple(_low(r.key) for r in ranges), tuple(ranges), texts, period.span
    )


def _low(key: s.Key) -> int:
    return OPEN_LOW if key.low is None else key.low


# ------------------------------------------------------------------ the program


@attrs.frozen
class Program:
    """A checked pack: every name resolved, ready to evaluate any number of dossiers."""

    requirements: tuple[s.Requirement, ...]
    definitions: dict[str, s.Definition] = attrs.field(eq=False)
    amounts: dict[str, s.Amount] = attrs.field(eq=False)
    tables: dict[str, CompiledTable] = attrs.field(eq=False)
    sources: tuple[SourceFile, ...] = attrs.field(eq=False)
