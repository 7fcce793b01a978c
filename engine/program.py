"""What the checker hands to the evaluator: the typed items (`ir.py`) and barèmes compiled for lookups."""

from __future__ import annotations

import bisect
import datetime

import attrs

from . import ir
from . import syntax as s
from .frozen import frozen
from .schema import Schema
from .source import PackIdentity, SourceFile, Span

# ------------------------------------------------------------------ tables

OPEN_LOW = -(10**18)


def _covers(period: s.Period, day: datetime.date) -> bool:
    return period.start <= day and (period.end is None or day <= period.end)


@frozen
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


@frozen
class CompiledTable:
    """A barème ready for lookups: versions by date, then rows by key (or one value per version)."""

    name: str
    title: str
    source: str
    value_type: ir.Type
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
        for version in self.periods:  # a loop, not next(genexpr): this runs for every lookup of every dossier
            if _covers(version.period, day):
                break
        else:
            version = None
        if version is None:
            return f"aucune version du barème « {self.name} » n'est en vigueur le {day:%d/%m/%Y}"
        if not self.keyed or version.period.value is not None:
            return version.period
        row = version.row_for(key)
        return row or f"le barème « {self.name} » n'a pas de ligne pour « {key} »"


# ------------------------------------------------------------------ the program


@frozen
class Program:
    """A checked pack: every name resolved, ready to evaluate any number of dossiers."""

    requirements: tuple[ir.Requirement, ...]
    definitions: dict[str, ir.Definition] = attrs.field(eq=False)
    amounts: dict[str, ir.Amount] = attrs.field(eq=False)
    tables: dict[str, CompiledTable] = attrs.field(eq=False)
    notices: tuple[ir.Notice, ...]
    sources: tuple[SourceFile, ...] = attrs.field(eq=False)
    schema: Schema = attrs.field(eq=False, repr=False)  # what its dossiers are validated against, and named from
    pack: PackIdentity | None = attrs.field(default=None, eq=False)  # set by the pipeline, which read the files

    def reported(self, name: str) -> ir.Requirement | ir.Amount | ir.Notice | None:
        """The requirement, amount or notice a report calls `name`."""
        return self.amounts.get(name) or next((i for i in (*self.requirements, *self.notices) if i.name == name), None)
