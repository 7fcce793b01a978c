"""What both evaluators share: the operations on values and the shape of a rule's outcome.

The reference (`evaluate.py`, which builds the reasoning) and the compiled program (`compile.py`) call these
same functions for every comparison, computation, fold and outcome, so that they can only differ in how they
walk the rules, which the differential tests check.
"""

from __future__ import annotations

import datetime
import operator
import re
from decimal import Decimal, DivisionByZero, InvalidOperation

import attrs

from . import ir
from . import syntax as s
from .frozen import frozen
from .outcome import AmountStatus, Holder, Rule, Status, Verdict
from .values import (
    MONEY_LIMIT, Duration, Failure, Money, NotCovered, OutOfRange, Percentage, Unknown, between, calendar_order,
    date_text, first_problem, is_known, percentage_of, shift,
)

# The environment of a barème row's value: the key it was looked up with, which « clé » names.
ROW_KEY = "clé"

COMPARE = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@frozen
class Item:
    """A list element bound to a loop variable: its data and the JSON pointer it lives at."""

    pointer: str
    data: object
    index: int



def verdict_of(requirements) -> Verdict:
    """The verdict is about what the applicant must provide; an amount the rules cannot compute is
    reported with its reason (information to complete, not covered) but does not decide it."""
    verdict = Verdict.COMPLETE
    for o in requirements:
        if o.status in _OPEN:
            if o.status is Status.MISSING and o.rule.kind == "recevabilité":
                return Verdict.REJECTED
            verdict = Verdict.INCOMPLETE
    return verdict


_OPEN = frozenset({Status.MISSING, Status.UNKNOWN, Status.ERROR})


def day_or_none(value) -> datetime.date | None:
    """The date de référence a report names: a date, or None when the dossier leaves it unknown."""
    return value if isinstance(value, datetime.date) else None


def rule_of(item) -> Rule:
    kind = item.kind if isinstance(item, ir.Requirement) else "avis" if isinstance(item, ir.Notice) else "montant"
    return Rule(item.name, kind, item.title, item.source, f"{item.span.path}:{item.span.line}", item.span)


def missing_of(value) -> tuple[str, ...]:
    return tuple(sorted(value.missing)) if isinstance(value, Unknown) else ()


def kleene(values, absorbing: bool):
    """Three-valued fold for « et » (absorbing False) and « ou » (absorbing True)."""
    for v in values:  # a loop, not any(): this runs for every condition of every dossier
        if v is absorbing:
            return absorbing
    problem = first_problem(*values)
    return problem if problem is not None else not absorbing


ARITHMETIC = (ir.Arith, ir.Negate)
_COMMENT = re.compile(r"#[^\n]*")


def calculation(expr: ir.Expr, value_of) -> tuple[tuple[str, object], ...]:
    """The formula of an arithmetic expression as written, each operand paired with its value.

    The parts are `(text, None)` for what is kept as written (operators, parentheses, literals) and
    `(words, value)` for each operand that is not itself arithmetic, `value_of(operand)` giving its value:
    « puissance × tarif » is (("puissance", 5), (" × ", None), ("tarif", Money(43))). A value that is not
    arithmetic has no calculation to show: (). Pure, so that every evaluator passes its own `value_of`.
    """
    if not isinstance(expr, ARITHMETIC):
        return ()
    text, start = expr.span.source.text, expr.span.start
    parts: list[tuple[str, object]] = []
    for operand in _operands(expr):
        parts.append((_COMMENT.sub("", text[start:operand.span.start]), None))
        words = " ".join(operand.span.text.split())
        parts.append((words, None) if isinstance(operand, ir.Literal) else (words, value_of(operand)))
        start = operand.span.end
    parts.append((_COMMENT.sub("", text[start:expr.span.end]), None))
    # A span covers its operands only: parentheses opened before the first one or closed after the last one
    # lie outside it, and are written back.
    depth = lowest = 0
    for char in "".join(t for t, v in parts if v is None):
        depth += {"(": 1, ")": -1}.get(char, 0)
        lowest = min(lowest, depth)
    parts[0] = ("(" * -lowest + parts[0][0], None)
    parts[-1] = (parts[-1][0] + ")" * (depth - lowest), None)
    return tuple(part for part in _merged(parts) if part[0])


def _operands(expr: ir.Expr):
    """The maximal operands of an arithmetic expression that are not arithmetic, left to right."""
    if isinstance(expr, ir.Arith):
        yield from _operands(expr.left)
        yield from _operands(expr.right)
    elif isinstance(expr, ir.Negate):
        yield from _operands(expr.operand)
    else:
        yield expr


def _merged(parts):
    """Adjacent text kept as written joined into one part, its runs of white space (line breaks, indents) made one."""
    merged: list[tuple[str, object]] = []
    for text, value in parts:
        if value is None and merged and merged[-1][1] is None:
            text = merged.pop()[0] + text
        merged.append((text, value))
    return [(re.sub(r"\s+", " ", t) if v is None else t, v) for t, v in merged]


def holder_of(item: Item) -> Holder:
    data = item.data if isinstance(item.data, dict) else {}
    name = " ".join(p for p in (data.get("prenoms"), data.get("nom")) if p)
    return Holder(item.index, name or f"titulaire n° {item.index + 1}")


def piece_types(demand: ir.Demand) -> tuple[str, ...]:
    if isinstance(demand, ir.PieceDemand):
        return tuple(dict.fromkeys(spec.piece_type for spec in demand.alternatives))
    return ()


UNSETTLED = frozenset({AmountStatus.UNKNOWN, AmountStatus.NOT_COVERED, AmountStatus.ERROR})


def amount_refs(node):
    """The amounts an expression adds up, in the order it names them."""
    if isinstance(node, ir.AmountRef):
        yield node.name
    elif isinstance(node, tuple):
        for child in node:
            yield from amount_refs(child)
    elif attrs.has(type(node)):
        for field in attrs.fields(type(node)):
            if field.name not in ("span", "type"):
                yield from amount_refs(getattr(node, field.name))


def convert(node, e: ir.FieldRef, pointer: str):
    kind = e.type.kind
    if kind == "date":
        return datetime.date.fromisoformat(node)
    if kind == "liste":
        return [Item(f"{pointer}/{i}", v, i) for i, v in enumerate(node)]
    if kind == "décimal" and isinstance(node, int):
        return Decimal(node)
    if kind == "montant":
        return computed(Money, node)
    return node


def settled_amount(result) -> tuple[object, AmountStatus, str | None]:
    """An amount's value (rounded to the cent: an amount due is a number of cents), status and error message."""
    if isinstance(result, Money):
        return result.rounded(), AmountStatus.COMPUTED, None
    if isinstance(result, NotCovered):
        return result, AmountStatus.NOT_COVERED, result.message
    if isinstance(result, Failure):
        return result, AmountStatus.ERROR, result.message
    if isinstance(result, Unknown):
        return result, AmountStatus.UNKNOWN, None
    return result, (AmountStatus.NOT_APPLICABLE if result is None else AmountStatus.COMPUTED), None


def resolve(node: ir.Exceptions, conditions, evaluate, demands: bool = False, undecided=()):
    """The one rule of « sauf si », for a value (a definition, an amount) and for a requirement's demand:
    `(case, result)`, the case whose consequence gave the result (None: the base).

    `conditions` are the values of the cases' conditions, `evaluate(x)` the result of a consequence or of
    the base (a value; for a demand, whether it is met). The exception that holds gives its consequence; two
    that hold with different consequences are in conflict. With none holding, the base, unless an exception
    that cannot be decided (or a condition in `undecided`: whether the requirement applies) would change the
    result: then the problem that keeps it open. So a value the dossier leaves in doubt is known when every
    way the doubt could go gives it; a condition that fails (an error, a case not covered) leaves a value
    open whatever it would give. For a demand (`demands`), only a met demand can be settled this way (any
    other result depends on what the undecided exception would ask), and an undecided exemption (no
    consequence) leaves a met requirement met.
    """
    holding = [case for case, value in zip(node.cases, conditions) if value is True]
    if holding:
        if any(case.consequence != holding[0].consequence for case in holding[1:]):
            return None, conflict([case.span for case in holding], demands)
        chosen, problems = holding[0], undecided
        if chosen.consequence is None:
            return chosen, None
        result = evaluate(chosen.consequence)
    else:
        problems = (*undecided, *(value for value in conditions if not is_known(value)))
        if not demands and any(isinstance(p, Failure) for p in problems):
            return None, first_problem(*problems)  # a figure is not computed beside an error or a case not covered
        chosen, result = None, evaluate(node.base)
        pending = [case for case, value in zip(node.cases, conditions) if not is_known(value)]
        for case in pending:
            if not _settled(result, demands):
                break
            if case.consequence is not None:
                other = evaluate(case.consequence)
                if other != result:
                    return None, first_problem(other, *problems)
    if not problems or _settled(result, demands):
        return chosen, result
    return chosen, first_problem(result, *problems) or result


def requirement_status(satisfied) -> tuple[Status, tuple[str, ...], str | None]:
    """A requirement's status, missing fields and error, from whether its demand is met (runtime.resolve's result)."""
    if satisfied is True:
        return Status.SATISFIED, (), None
    if satisfied is False:
        return Status.MISSING, (), None
    if isinstance(satisfied, Failure):
        return Status.ERROR, (), satisfied.message
    return Status.UNKNOWN, missing_of(satisfied), None


def _settled(result, demands: bool) -> bool:
    return result is True if demands else is_known(result)


def conflict(spans, requirement: bool = False) -> Failure:
    """Exceptions that hold together with different conclusions: where each is written."""
    where = " et ".join(f"{span.path}:{span.line}" for span in spans)
    why = " : plusieurs s'appliquent avec des conclusions différentes" if requirement else ""
    return Failure(f"exceptions en conflit ({where}){why}")


def dated(item: Item, reference, max_age) -> tuple[object, datetime.date | None, datetime.date | None]:
    """Whether a piece is dated within `max_age` before `reference` (or the problem that keeps it open), with
    its date and the last day it is valid, for the explanation.

    A legal period runs from its starting event (code de procédure civile, art. 641): the piece is valid up to
    its date plus the period, not from the reference minus it, which differ at month ends."""
    raw = item.data.get("date")
    day = datetime.date.fromisoformat(raw) if isinstance(raw, str) else Unknown(frozenset({item.pointer + "/date"}))
    problem = first_problem(reference, day, max_age)
    if problem is not None:
        return problem, None, None
    valid_until = computed(shift, day, max_age)
    if isinstance(valid_until, Failure):
        return valid_until, None, None
    return day <= reference <= valid_until, day, valid_until


def dated_note(day, valid_until, reference) -> str | None:
    """What a « datée d'au plus » filter's step says of the piece's dates."""
    if day is None:
        return None
    return (f"pièce du {date_text(day)}, valable jusqu'au {date_text(valid_until)} ; "
            f"date de référence {date_text(reference)}")


def piece_label(item: Item) -> str:
    """How a piece's step names it: its rank, type and date."""
    date = item.data.get("date")
    return f"pièce n° {item.index + 1} ({item.data['type']}" + (f", datée du {date}" if date else "") + ")"


def row_text(table, found, key) -> str:
    """How a barème lookup's step names the row (or dated version) it read, as written without its citation."""
    what = "ligne" if isinstance(found, s.Row) else "version"
    shown = " ".join(found.span.text.split()).split(' source "')[0]  # the citation is in the rule, not here
    label = table.labels.get(key)  # a key group's version does not show its key: say what it stands for
    return f"{what} « {shown} »" + (f" ({label})" if label else "")


def negate(value):
    """−x, which is x × (−1): a percentage stays one."""
    return Money(-value.amount) if isinstance(value, Money) else percentage_of("*", value, -1, -value)


def computed(compute, *args):
    """`compute(*args)`, or a Failure saying why no value can hold its result (a date past the calendar,
    an amount too large to be exact to the cent): the requirement or amount then reports an error."""
    try:
        value = compute(*args)
        return value.checked() if isinstance(value, Money) else value
    except OutOfRange as exc:
        return Failure(str(exc))
    except ArithmeticError:  # the decimal context's own limits, beyond any amount the schema admits
        return Failure("calcul impossible : nombre hors des limites du calcul décimal")


def whole_units(unit: str, start: datetime.date, end: datetime.date) -> int:
    if unit.startswith("jour"):
        return (end - start).days
    months = between(start, end).months
    if unit == "mois":
        return months
    return months // 12 if months >= 0 else -(-months // 12)


def compare(op: str, left, right) -> bool:
    if isinstance(left, Duration) and isinstance(right, Duration):
        left, right = calendar_order(left, right)
    return COMPARE[op](left, right)


_NUMERIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def arith(op: str, left, right):
    if left.__class__ is Money or right.__class__ is Money:  # Money has no subclass: the usual case first
        return _money_arith(op, left, right)
    if isinstance(left, datetime.date) and isinstance(right, Duration):
        return shift(left, right if op == "+" else -right)
    try:
        value = _NUMERIC[op](left, right) if op != "/" else Decimal(left) / Decimal(right)
    except (DivisionByZero, InvalidOperation, ZeroDivisionError):
        return Failure("division par zéro")
    return percentage_of(op, left, right, value)


def money_plus(left, right):
    """`computed(arith, "+", …)` of two amounts, the bulk of a bill's arithmetic, without its dispatch."""
    if left.__class__ is Money and right.__class__ is Money:
        amount = left.amount + right.amount
        if -MONEY_LIMIT < amount < MONEY_LIMIT:
            return Money(amount)
    return computed(arith, "+", left, right)


def money_minus(left, right):
    if left.__class__ is Money and right.__class__ is Money:
        amount = left.amount - right.amount
        if -MONEY_LIMIT < amount < MONEY_LIMIT:
            return Money(amount)
    return computed(arith, "-", left, right)


_FACTORS = (int, Decimal, Percentage)  # what an amount is multiplied by; a bool goes through arith


def money_times(left, right):
    """`computed(arith, "*", …)` of an amount and a number, in either order."""
    money, factor = (left, right) if left.__class__ is Money else (right, left)
    if money.__class__ is Money and factor.__class__ in _FACTORS:
        try:
            amount = money.amount * factor
        except ArithmeticError:  # past the decimal context's exponent: computed says so
            amount = MONEY_LIMIT
        if -MONEY_LIMIT < amount < MONEY_LIMIT:
            return Money(amount)
    return computed(arith, "*", left, right)


def _money_arith(op: str, left, right):
    if op in "+-":
        return left + right if op == "+" else left - right
    if op == "*":
        return left.scaled(right) if isinstance(left, Money) else right.scaled(left)
    if right == 0 or (isinstance(right, Money) and right.amount == 0):
        return Failure("division par zéro")
    return left.amount / right.amount if isinstance(right, Money) else Money(left.amount / Decimal(right))
