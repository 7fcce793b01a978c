"""What evaluation hands to the report: verdict, per-requirement outcomes, amounts, reasons."""

from __future__ import annotations

import datetime
import enum
from typing import NamedTuple

import attrs

from .frozen import frozen
from .schema import Schema
from .source import PackIdentity, Span


class Verdict(enum.StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    REJECTED = "rejected"


class Status(enum.StrEnum):
    SATISFIED = "satisfied"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"
    ERROR = "error"


class AmountStatus(enum.StrEnum):
    COMPUTED = "computed"
    NOT_APPLICABLE = "not_applicable"
    NOT_COVERED = "not_covered"
    UNKNOWN = "unknown"
    ERROR = "error"


class StepKind(enum.StrEnum):
    APPLIES = "applies"
    EXCEPTION = "exception"
    DEMAND = "demand"
    ALTERNATIVE = "alternative"
    PIECE = "piece"
    FILTER = "filter"
    CONDITION = "condition"
    LOGIC = "logic"
    COMPARE = "compare"
    ARITHMETIC = "arithmetic"
    FIELD = "field"
    DEFINITION = "definition"
    AMOUNT = "amount"
    LOOKUP = "lookup"
    ROW = "row"  # the barème line or version a lookup used
    QUANTIFIER = "quantifier"
    COUNT = "count"
    LITERAL = "literal"


class Step(NamedTuple):
    """One evaluated piece of a rule: its own words, its value, where it is, and why.

    A named tuple, not an attrs class: an explained dossier builds hundreds, and a frozen attrs instance costs
    three times as much to make."""

    kind: StepKind
    text: str
    value: object
    span: Span | None
    children: tuple[Step, ...] = ()
    note: str | None = None


@frozen
class Holder:
    index: int
    name: str


@frozen
class Rule:
    """A rule's identity as the report shows it."""

    id: str
    kind: str
    title: str
    source: str
    location: str  # file:line
    span: Span = attrs.field(eq=False, repr=False)


@frozen
class RequirementOutcome:
    rule: Rule
    holder: Holder | None
    status: Status
    pieces: tuple[str, ...]
    message: str
    missing_fields: tuple[str, ...]
    reason: Step | None  # None unless the report asked for the reasoning
    error: str | None = None


@frozen
class AmountOutcome:
    rule: Rule
    status: AmountStatus
    value: object  # Money when computed
    missing_fields: tuple[str, ...]
    breakdown: Step | None
    error: str | None = None
    unsettled: tuple[AmountOutcome, ...] = ()  # for a sum of amounts: the parts that keep it from a figure
    # A computed amount's formula as the rule writes it, each operand with its value: (text, value) parts,
    # value None for what is kept as written (operators, parentheses, literals); () when there is no formula.
    calculation: tuple[tuple[str, object], ...] = ()


@frozen
class NoticeOutcome:
    rule: Rule
    message: str


@frozen
class Outcome:
    dossier: str
    reference: str | None
    verdict: Verdict
    requirements: tuple[RequirementOutcome, ...]
    amounts: tuple[AmountOutcome, ...]
    notices: tuple[NoticeOutcome, ...] = ()
    # The pack's date de référence for this dossier (the barèmes in force then), None if it has none or it is
    # not known.
    evaluated_on: datetime.date | None = None
    rules: PackIdentity | None = None  # the pack the dossier was checked against
    # The dossier as read: what it says of itself (case, vehicle, holders) heads the reports for people.
    data: dict | None = attrs.field(default=None, eq=False, repr=False)
    schema: Schema | None = attrs.field(default=None, eq=False, repr=False)  # whose words name its pieces

    def unexplained(self) -> Outcome:
        """The same outcome without its reasoning trees: what the compiled evaluator gives."""
        def bare(a: AmountOutcome) -> AmountOutcome:
            return attrs.evolve(a, breakdown=None, unsettled=tuple(map(bare, a.unsettled)))
        return attrs.evolve(self, requirements=tuple(attrs.evolve(r, reason=None) for r in self.requirements),
                            amounts=tuple(map(bare, self.amounts)))
