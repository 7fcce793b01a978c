"""What the checker hands to the evaluator: resolved names, typed fields, compiled barèmes."""

from __future__ import annotations

import bisect
import datetime

import attrs

from . import syntax as s
from .schema import Schema
from .source import PackIdentity, SourceFile, Span

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
    definition: bool = attrs.field(default=False, kw_only=True)  # base names a definition, not a loop variable


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
    key: s.Expr | None
    date: s.Expr
    span: Span = attrs.field(eq=False, kw_only=True, repr=False)


# ------------------------------------------------------------------ tables

OPEN_LOW = -(10**18)


def _covers(period: s.Period, day: datetime.date) -> bool:
    return period.start <= day and (period.end is None or day <= period.end)


@attrs.frozen
class CompiledPeriod:
    """One version of a keyed grid: range rows sorted by lower bound, text rows by key."""

    period: s.Period
    lows: tuple[int, ...]
    ranges: tuple[s.Row, ...]
    texts: dict[str, s.Row] = attrs.field(eq=False)

    def row_for(self, key) -> s.Row | None:
        if isinstance(key, str):
            return self.texts.get(key)
        index = bisect.bisect_right(self.lows, key) - 1
        if index < 0:
            return None
        row = self.ranges[index]
        return row if row.key.high is None or key <= row.key.high else None


def compile_period(period: s.Period) -> CompiledPeriod:
    ranges = sorted((r for r in period.rows if r.key.text is None), key=lambda r: _low(r.key))
    texts = {r.key.text: r for r in period.rows if r.key.text is not None}
    return CompiledPeriod(period, tuple(_low(r.key) for r in ranges), tuple(ranges), texts)


def _low(key: s.Key) -> int:
    return OPEN_LOW if key.low is None else key.low


@attrs.frozen
class CompiledTable:
    """A barème ready for lookups: versions by date, then rows by key (or one value per version)."""

    name: str
    title: str
    source: str
    value_type: Type
    keyed: bool
    textual: bool
    periods: tuple[CompiledPeriod, ...] = ()
    groups: dict[str, tuple[s.Period, ...]] = attrs.field(factory=dict, eq=False)
    labels: dict[str, str] = attrs.field(factory=dict, eq=False)  # what a group's key stands for
    notes: tuple[s.Note, ...] = ()
    not_handled: tuple[s.NotHandled, ...] = ()
    span: Span = attrs.field(default=None, eq=False)

    def find(self, key, day: datetime.date) -> s.Row | s.Period | str:
        """The row or dated value that applies, or a French sentence saying why none does."""
        if self.groups:
            versions = self.groups.get(key)
            if versions is None:
                return f"le barème « {self.name} » n'a pas de clé « {key} »"
            found = next((p for p in versions if _covers(p, day)), None)
            return found or f"le barème « {self.name} » n'a pas de valeur en vigueur le {day:%d/%m/%Y} pour « {key} »"
        version = next((p for p in self.periods if _covers(p.period, day)), None)
        if version is None:
            return f"aucune version du barème « {self.name} » n'est en vigueur le {day:%d/%m/%Y}"
        if not self.keyed or version.period.value is not None:
            return version.period
        row = version.row_for(key)
        return row or f"le barème « {self.name} » n'a pas de ligne pour « {key} »"


# ------------------------------------------------------------------ the program


@attrs.frozen
class Program:
    """A checked pack: every name resolved, ready to evaluate any number of dossiers."""

    requirements: tuple[s.Requirement, ...]
    definitions: dict[str, s.Definition] = attrs.field(eq=False)
    amounts: dict[str, s.Amount] = attrs.field(eq=False)
    tables: dict[str, CompiledTable] = attrs.field(eq=False)
    notices: tuple[s.Notice, ...]
    sources: tuple[SourceFile, ...] = attrs.field(eq=False)
    schema: Schema = attrs.field(eq=False, repr=False)  # what its dossiers are validated against, and named from
    pack: PackIdentity | None = attrs.field(default=None, eq=False)  # set by the pipeline, which read the files

    def reported(self, name: str) -> s.Requirement | s.Amount | s.Notice | None:
        """The requirement, amount or notice a report calls `name`."""
        return self.amounts.get(name) or next((i for i in (*self.requirements, *self.notices) if i.name == name), None)


# ------------------------------------------------------------------ walking a program's expressions

# Every kind of expression a checked program holds: the syntax tree's, its names (Path) and lookups (Lookup)
# replaced by what they resolve to.
EXPRESSIONS: tuple[type, ...] = (
    s.Number, s.Text, s.DateLit, s.Boolean, s.MoneyLit, s.Percent, s.DurationLit, s.Or, s.And, s.Not, s.Compare,
    s.Arith, s.Negate, s.Between, s.Quantifier, s.Count, s.IsSet, s.Default, s.Contains, s.UnitsBetween, s.Rank,
    s.First, s.Prefix, s.KeyRef, s.OutOfScope, FieldRef, VarRef, DefRef, AmountRef, TableRef,
)


class ExpressionVisitor:
    """Dispatch on an expression's class to the method `_e_<Class>`, found once per class.

    A class the visitor has no method for goes to `fallback`, which says so: a new kind of expression shows
    up as a clear error (and in tests/test_compiled.py, which requires every visitor to handle every kind in
    EXPRESSIONS), not as an AttributeError deep in an evaluation.
    """

    def visit(self, e: s.Expr, *args):
        method = self._methods.get(e.__class__)
        if method is None:
            method = self._methods[e.__class__] = getattr(type(self), "_e_" + e.__class__.__name__, None) or \
                type(self).fallback
        return method(self, e, *args)

    def fallback(self, e: s.Expr, *args):
        raise TypeError(f"{type(self).__name__} ne sait pas traiter une expression {type(e).__name__}")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._methods = {}
