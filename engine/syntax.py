"""The rule language's syntax tree: frozen nodes whose equality ignores source positions."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

import attrs

from .frozen import frozen
from .source import Span
from .values import Duration, Money


def _span():
    # Equality and hashing ignore positions: a reformatted file parses to an equal tree. A clause's span
    # (`titre "…"`, `pour chaque titulaire`…) is None where the clause is not written: the formatter finds by
    # it the line a clause was written on, which the comments around the clause are attached to.
    return attrs.field(eq=False, kw_only=True, repr=False)


# ------------------------------------------------------------------ expressions


class Expr:
    span: Span


@frozen
class Number(Expr):
    value: int | Decimal
    span: Span = _span()


@frozen
class Text(Expr):
    value: str
    span: Span = _span()


@frozen
class DateLit(Expr):
    value: datetime.date
    span: Span = _span()


@frozen
class Boolean(Expr):
    value: bool
    span: Span = _span()


@frozen
class MoneyLit(Expr):
    value: Money
    span: Span = _span()


@frozen
class Percent(Expr):
    """« 50 % », evaluated as the decimal 0.5."""

    value: Decimal
    span: Span = _span()


@frozen
class DurationLit(Expr):
    value: Duration
    count: int
    unit: str
    span: Span = _span()


@frozen
class Path(Expr):
    """A dotted name: a definition, an amount, a loop variable or a dossier field."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@frozen
class Or(Expr):
    operands: tuple[Expr, ...]
    span: Span = _span()


@frozen
class And(Expr):
    operands: tuple[Expr, ...]
    span: Span = _span()


@frozen
class Not(Expr):
    operand: Expr
    span: Span = _span()


@frozen
class Compare(Expr):
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@frozen
class Arith(Expr):
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@frozen
class Negate(Expr):
    operand: Expr
    span: Span = _span()


@frozen
class Between(Expr):
    """« durée entre A et B »: the calendar time elapsed from date A to date B."""

    start: Expr
    end: Expr
    span: Span = _span()


@frozen
class Quantifier(Expr):
    """« tout x dans L vérifie C » (every) or « au moins un x dans L vérifie C » (some)."""

    every: bool
    var: str
    collection: Path
    condition: Expr
    span: Span = _span()


@frozen
class Count(Expr):
    """« nombre de L », or with a condition « nombre de x dans L vérifiant (C) »."""

    collection: Path
    var: str | None = None
    condition: Expr | None = None
    span: Span = _span()


@frozen
class Lookup(Expr):
    """« barème T [pour K] [à la date D] »: a barème without keys holds one dated value."""

    table: str
    key: Expr | None = None
    date: Expr | None = None
    span: Span = _span()


@frozen
class IsSet(Expr):
    """« X est renseigné »: whether the dossier gives X; never unknown, unlike X itself."""

    operand: Expr
    span: Span = _span()


@frozen
class Default(Expr):
    """« X à défaut V »: V when the dossier does not give X (a claim not made, such as an exemption)."""

    operand: Expr
    fallback: Expr
    span: Span = _span()


@frozen
class Contains(Expr):
    """« X contient "…" »: X includes the text."""

    text: Expr
    part: Expr
    span: Span = _span()


@frozen
class UnitsBetween(Expr):
    """« mois entre A et B »: whole calendar units (jours, mois, ans) elapsed from A to B."""

    unit: str
    start: Expr
    end: Expr
    span: Span = _span()


@frozen
class Rank(Expr):
    """« rang de titulaire »: the position of a loop variable's element, counting from 1."""

    var: str
    span: Span = _span()


@frozen
class First(Expr):
    """« premier de L »: the first element of a list, e.g. the titulaire principal."""

    collection: Path
    span: Span = _span()


@frozen
class Prefix(Expr):
    """« les N premiers caractères de X »."""

    count: int
    operand: Expr
    span: Span = _span()


@frozen
class KeyRef(Expr):
    """« clé »: in a barème row's value, the key the lookup was made with (`210 € + (clé − 140) × 30 €`)."""

    span: Span = _span()


@frozen
class OutOfScope(Expr):
    """« hors barème "raison" »: a barème row the regime does not cover, with the reason to show."""

    message: str
    span: Span = _span()


# ------------------------------------------------------------------ what lawyers read


@frozen
class Note:
    """« note "…" »: a drafting note or judgement call, for the lawyers' site; never in a report."""

    text: str
    span: Span = _span()


@frozen
class NotHandled:
    """« non traité "…" »: what a rule deliberately leaves out, and what the report does instead."""

    text: str
    span: Span = _span()


# ------------------------------------------------------------------ requirements


@frozen
class Dated:
    """« datée d'au plus D avant R »: the piece's date lies within D before R, and not after R."""

    max_age: Expr  # a duration: « 6 mois », or a definition that names one
    reference: Expr
    span: Span = _span()


@frozen
class OfHolder:
    """« du titulaire »: the piece belongs to the holder the requirement is evaluated for."""

    span: Span = _span()


@frozen
class WithCondition:
    """« avec C »: a condition on the piece itself, which `pièce` names."""

    condition: Expr
    span: Span = _span()


PieceFilter = Dated | OfHolder | WithCondition


@frozen
class PieceSpec:
    piece_type: str
    filters: tuple[PieceFilter, ...]
    span: Span = _span()
    type_span: Span = _span()


@frozen
class PieceDemand:
    """Any one of the alternatives satisfies the requirement."""

    alternatives: tuple[PieceSpec, ...]
    span: Span = _span()


@frozen
class ConditionDemand:
    condition: Expr
    span: Span = _span()


Demand = PieceDemand | ConditionDemand


@frozen
class Exception_:
    """« sauf si C »: exempts; « sauf si C alors exige … »: replaces what is demanded."""

    condition: Expr
    demand: Demand | None
    span: Span = _span()


@frozen
class Requirement:
    kind: str  # "exigence" (missing → incomplete) or "recevabilité" (unmet → rejected)
    name: str
    title: str
    source: str
    per_holder: bool
    applies: Expr | None
    exceptions: tuple[Exception_, ...]
    demand: Demand
    message: str
    notes: tuple[Note, ...] = ()
    not_handled: tuple[NotHandled, ...] = ()
    span: Span = _span()
    name_span: Span = _span()
    title_span: Span | None = _span()
    source_span: Span | None = _span()
    per_holder_span: Span | None = _span()
    message_span: Span | None = _span()


# ------------------------------------------------------------------ definitions, amounts


@frozen
class ValueException:
    """« sauf si C alors V »: when C holds, the value is V instead of the base value."""

    condition: Expr
    value: Expr
    span: Span = _span()


@frozen
class Definition:
    name: str
    value: Expr
    exceptions: tuple[ValueException, ...]
    span: Span = _span()
    name_span: Span = _span()


@frozen
class Amount:
    name: str
    title: str
    source: str
    applies: Expr | None
    value: Expr
    exceptions: tuple[ValueException, ...]
    notes: tuple[Note, ...] = ()
    not_handled: tuple[NotHandled, ...] = ()
    span: Span = _span()
    name_span: Span = _span()
    title_span: Span | None = _span()
    source_span: Span | None = _span()


# ------------------------------------------------------------------ tables


@frozen
class Key:
    """A row key: a text, or an integer range with open ends as None (a single value is lo = hi).

    A text key may carry a `label` for the reader (« Auvergne-Rhône-Alpes » for "84"); lookups ignore it.
    """

    text: str | None = None
    low: int | None = None
    high: int | None = None
    label: str | None = None
    span: Span = _span()


@frozen
class Row:
    key: Key
    value: Expr
    source: str | None = None
    span: Span = _span()
    source_span: Span | None = _span()


@frozen
class Period:
    """A version in force from `start` to `end` (None: still in force): rows, or one value."""

    start: datetime.date
    end: datetime.date | None
    rows: tuple[Row, ...] = ()
    value: Expr | None = None
    source: str | None = None
    span: Span = _span()
    source_span: Span | None = _span()


@frozen
class KeyGroup:
    """The history of one key's value: « clé "84" » followed by its dated values."""

    key: str
    periods: tuple[Period, ...]
    label: str | None = None
    span: Span = _span()


@frozen
class Table:
    name: str
    title: str
    source: str
    periods: tuple[Period, ...] = ()
    groups: tuple[KeyGroup, ...] = ()
    notes: tuple[Note, ...] = ()
    not_handled: tuple[NotHandled, ...] = ()
    span: Span = _span()
    name_span: Span = _span()
    title_span: Span | None = _span()
    source_span: Span | None = _span()


# ------------------------------------------------------------------ notices


@frozen
class Notice:
    """« avis »: information for the applicant when its condition holds; never changes the verdict."""

    name: str
    title: str
    source: str
    applies: Expr | None
    when_pieces_missing: bool
    message: str
    notes: tuple[Note, ...] = ()
    not_handled: tuple[NotHandled, ...] = ()
    span: Span = _span()
    name_span: Span = _span()
    title_span: Span | None = _span()
    source_span: Span | None = _span()
    when_pieces_missing_span: Span | None = _span()
    message_span: Span | None = _span()


# ------------------------------------------------------------------ files


@frozen
class Import:
    target: str
    span: Span = _span()


Item = Requirement | Definition | Amount | Table | Notice


@frozen
class Module:
    path: str
    imports: tuple[Import, ...]
    items: tuple[Item, ...]


# How deep expressions may nest, counting the definitions and amounts they use (each brings its own depth):
# every stage walks expressions recursively, and this keeps the deepest walk far from Python's recursion
# limit (1000 frames; a level costs a walk at most 5). The shipped rules reach 28 (the total, through the
# amounts it adds up).
MAX_DEPTH = 100


def nesting(node) -> Iterator[tuple[Expr, int]]:
    """Every expression inside `node` with its depth (1 for an outermost one), in source order.

    Iterative, so that a tree of any depth can be measured before a recursive stage walks it.
    """
    stack: list[tuple[object, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, tuple):
            stack.extend((child, depth) for child in reversed(current))
            continue
        if not attrs.has(type(current)):
            continue
        if isinstance(current, Expr):
            depth += 1
            yield current, depth
        # Positions (eq=False fields) and resolved types hold no expression.
        children = [getattr(current, f.name) for f in attrs.fields(type(current)) if f.eq and f.name != "type"]
        stack.extend((child, depth) for child in reversed(children))
