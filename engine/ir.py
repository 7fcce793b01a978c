"""The checked program's own tree: every node typed, every name resolved, every « sauf si » one `Exceptions` node.

The checker builds it from the syntax tree (`syntax.py`, which only the formatter and the checker read); the
evaluators, the docs, coverage and lint read this one. An expression's `type` is the checker's, so that no later
stage works a type out again; a name is resolved to what it denotes (`FieldRef`, `DefRef`…), which its type proves.
Node classes keep the syntax tree's names where they mean the same thing, so that a rule reads the same in both.
"""

from __future__ import annotations

import attrs

from . import syntax as s
from .frozen import frozen
from .source import Span

# The definition a pack dates itself by: the barèmes in force, and the date its reports say they evaluated at.
REFERENCE_DATE = "date_de_référence"

# ------------------------------------------------------------------ types


@frozen
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




def _span():
    # Positions and types are what a node is said to be, not what it is: equal rules compare equal wherever written.
    return attrs.field(eq=False, kw_only=True, repr=False)


def _typed(default: Type | None = None):
    if default is None:
        return attrs.field(eq=False, kw_only=True)
    return attrs.field(default=default, eq=False, kw_only=True)


class Expr:
    type: Type
    span: Span


# ------------------------------------------------------------------ expressions


@frozen
class Literal(Expr):
    """A value written in the rule: a number, a text, a date, a boolean, an amount, a percentage, a duration."""

    value: object
    type: Type = _typed()
    span: Span = _span()


@frozen
class FieldRef(Expr):
    """A dossier field, from the root (base None) or from a loop variable such as `titulaire`."""

    base: str | None
    parts: tuple[str, ...]
    type: Type = _typed()
    span: Span = _span()
    definition: bool = attrs.field(default=False, kw_only=True)  # base names a definition, not a loop variable


@frozen
class VarRef(Expr):
    """A loop variable (`titulaire`, `pièce`): the list element being examined."""

    name: str
    type: Type = _typed()
    span: Span = _span()


@frozen
class DefRef(Expr):
    name: str
    type: Type = _typed()
    span: Span = _span()


@frozen
class AmountRef(Expr):
    name: str
    type: Type = _typed(MONEY)
    span: Span = _span()


@frozen
class TableRef(Expr):
    """A barème lookup whose table is compiled and whose date is explicit."""

    table: object  # program.CompiledTable
    key: Expr | None
    date: Expr
    type: Type = _typed()
    span: Span = _span()


def _typed_like(node: type, fixed: Type | None = None) -> type:
    """The IR's node for a syntax node of the same meaning: its fields, and its type (`fixed`, or the checker's).

    Made from the syntax class rather than written again, so that the two trees cannot drift apart.
    """
    fields = {}
    for f in attrs.fields(node):
        if f.name == "span":
            fields["type"] = _typed(fixed)
        fields[f.name] = attrs.field(default=f.default, eq=f.eq, kw_only=f.kw_only, repr=f.repr)
    return frozen(type(node.__name__, (Expr,), {**fields, "__module__": __name__, "__doc__": node.__doc__}))


Or, And, Not, Compare = (_typed_like(n, BOOL) for n in (s.Or, s.And, s.Not, s.Compare))
Quantifier, IsSet, Contains = (_typed_like(n, BOOL) for n in (s.Quantifier, s.IsSet, s.Contains))
Count, UnitsBetween, Rank = (_typed_like(n, INT) for n in (s.Count, s.UnitsBetween, s.Rank))
Arith, Negate, Default, First = (_typed_like(n) for n in (s.Arith, s.Negate, s.Default, s.First))
Between, Prefix, OutOfScope = _typed_like(s.Between, DURATION), _typed_like(s.Prefix, TEXT), _typed_like(s.OutOfScope, ANY)
KeyRef = _typed_like(s.KeyRef)  # an integer where the checker finds its row's key, else an error


# Every kind of expression the program holds; a test requires every visitor to handle each.
EXPRESSIONS: tuple[type, ...] = (
    Literal, FieldRef, VarRef, DefRef, AmountRef, TableRef, Or, And, Not, Compare, Arith, Negate, Between, Quantifier,
    Count, IsSet, Default, Contains, UnitsBetween, Rank, First, Prefix, KeyRef, OutOfScope,
)


# ------------------------------------------------------------------ « sauf si »


@frozen
class Case:
    """« sauf si C [alors X] »: when C holds, X instead of the base; for a requirement, X None exempts."""

    condition: Expr
    consequence: object  # an Expr for a value, a Demand or None for a requirement
    span: Span = _span()


@frozen
class Exceptions:
    """A base and the exceptions that override it, in the order written: Catala's default term.

    One rule evaluates it, wherever it is written (`runtime.resolve`): the consequence of the exception that
    holds; two that hold with different consequences are in conflict; with none holding, the base, unless an
    exception that cannot be decided would change the result.
    """

    base: object  # an Expr, or a requirement's Demand
    cases: tuple[Case, ...] = ()
    span: Span = _span()


# ------------------------------------------------------------------ requirements


# What a requirement demands has no type of its own: the syntax tree's nodes, holding typed expressions.
Dated, OfHolder, WithCondition, PieceSpec = s.Dated, s.OfHolder, s.WithCondition, s.PieceSpec
PieceDemand, ConditionDemand, Demand = s.PieceDemand, s.ConditionDemand, s.Demand


@frozen
class Requirement:
    kind: str  # "exigence" (missing → incomplete) or "recevabilité" (unmet → rejected)
    name: str
    title: str
    source: str
    per_holder: bool
    applies: Expr | None
    demand: Exceptions  # of demands; a case without consequence exempts
    message: str
    notes: tuple[s.Note, ...] = ()
    not_handled: tuple[s.NotHandled, ...] = ()
    span: Span = _span()
    name_span: Span = _span()

    def demands(self) -> tuple[Demand, ...]:
        """What it may ask for: its demand, then what each exception asks instead."""
        return (self.demand.base, *(c.consequence for c in self.demand.cases if c.consequence is not None))


@frozen
class Definition:
    name: str
    value: Exceptions
    type: Type = _typed()
    span: Span = _span()
    name_span: Span = _span()


@frozen
class Amount:
    name: str
    title: str
    source: str
    applies: Expr | None
    value: Exceptions
    notes: tuple[s.Note, ...] = ()
    not_handled: tuple[s.NotHandled, ...] = ()
    type: Type = _typed(MONEY)
    span: Span = _span()
    name_span: Span = _span()


# A notice has no « sauf si »: the syntax tree's node, its condition typed.
Notice = s.Notice


# ------------------------------------------------------------------ walking expressions


class ExpressionVisitor:
    """Dispatch on an expression's class to the method `<prefix><Class>` (`_e_Compare`), found once per class.

    A class the visitor has no method for goes to `fallback`, which says so: a new kind of expression shows
    up as a clear error (and in tests/test_compiled.py, which requires every visitor to handle every kind in
    EXPRESSIONS), not as an AttributeError deep in an evaluation. A visitor for which « cannot tell » is an
    answer (docs/cases.py) says so by its own `fallback`.
    """

    prefix = "_e_"

    def visit(self, e: Expr, *args):
        method = self._methods.get(e.__class__)
        if method is None:
            method = self._methods[e.__class__] = getattr(type(self), self.prefix + e.__class__.__name__, None) \
                or type(self).fallback
        return method(self, e, *args)

    def fallback(self, e: Expr, *args):
        raise TypeError(f"{type(self).__name__} ne sait pas traiter une expression {type(e).__name__}")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._methods = {}


def children(e: Expr) -> tuple[Expr, ...]:
    """An expression's direct sub-expressions, in the order written."""
    found = []
    for field in attrs.fields(type(e)):
        if not field.eq:
            continue
        value = getattr(e, field.name)
        if isinstance(value, Expr):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, Expr))
    return tuple(found)
