"""Program × a batch of dossiers → their Outcomes, each expression evaluated once for the whole batch.

OpenFisca's way: a column holds one value per dossier (NumPy arrays: booleans, integers, dates as day numbers;
exact Python values for texts, decimals, amounts and durations), and each node of the program is one operation
on columns. Beside its values, a column has a state per dossier:

- CLEAN: a plain value;
- UNKNOWN: the dossier leaves it unknown (« à défaut » replaces it);
- FAILED: it cannot be computed (a key no barème covers, « hors barème »);
- OPEN: the columns cannot tell what it is (an exception in doubt, a value of an unexpected kind).

The states are ordered as `first_problem` ranks them, so the state of most results is the highest of their
operands', and a « ou » or « et » decided by one plain operand is plain whatever the others are.

Columns only ever decide an outcome made of plain values. Where a requirement's or an amount's result is not
CLEAN, that dossier's requirement or amount is evaluated by the compiled program (`compile.py`), which names
the missing fields and the error as the reference does; so are the few constructs the columns do not handle
(requirements for each titulaire, quantifiers). The tests hold the columns to the compiled outcome on every
fixture and on generated dossiers.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np

from . import ir
from .compile import Compiled, State, compiled, kept
from .ir import REFERENCE_DATE, ExpressionVisitor
from .outcome import AmountOutcome, AmountStatus, Outcome, RequirementOutcome, Status
from .program import Program
from .runtime import (
    ROW_KEY, Item, arith, calculation, compare, computed, convert, dated, holder_of, money_minus, money_plus,
    money_times, negate, piece_types, rule_of, verdict_of,
)
from .values import Duration, Failure, Money, NotCovered, Percentage, Unknown, between

CLEAN, UNKNOWN, FAILED, OPEN = 0, 1, 2, 3
PROBLEMS = (Unknown, Failure, NotCovered)
# Amounts are held in millionths of a euro: exact for every tariff, and for a product by a rate, as long as it
# stays on that grid (the compiled program decides the rest); dates as day numbers (date.toordinal).
_NATIVE = {"booléen": np.bool_, "entier": np.int64, "date": np.int64, "montant": np.int64}
MICRO_DIGITS = 6
_MICRO = 10**MICRO_DIGITS
_MONEY_LIMIT = 10**15  # 10⁹ €: beyond it, amounts leave the columns
_INT_LIMIT = 2**31  # integers beyond it leave the columns: their products could pass int64
_MONEY_ARITH = {"+": money_plus, "-": money_minus, "*": money_times}
_COMPARE = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
            ">=": np.greater_equal}


class Unsupported(Exception):
    """A construct the columns leave to the compiled program, for every dossier of every batch."""


class Column:
    """One value per row of a scope, and each one's state."""

    __slots__ = ("kind", "values", "state")

    def __init__(self, kind: str, values: np.ndarray, state: np.ndarray) -> None:
        self.kind = kind
        self.values = values
        self.state = state

    def take(self, rows: np.ndarray) -> Column:
        return Column(self.kind, self.values[rows], self.state[rows])

    def clean(self) -> np.ndarray:
        return self.state == CLEAN

    def objects(self, rows: np.ndarray) -> list:
        """The Python values of `rows`, as the compiled program holds them."""
        values = self.values[rows].tolist()
        if self.kind == "date":
            return [datetime.date.fromordinal(v) for v in values]
        if self.kind == "montant":
            return [Money(Decimal(v).scaleb(-MICRO_DIGITS)) for v in values]
        return values


def _native(kind: str, value):
    """A Python value as a native column holds it (a day number, millionths of a euro), or None if it cannot."""
    if kind == "date":
        return value.toordinal() if value.__class__ is datetime.date else None
    if kind == "montant":
        if value.__class__ is not Money:
            return None
        micro = value.amount.scaleb(MICRO_DIGITS)
        if micro.is_signed() and not micro:  # « -0 »: Money.rounded writes it « -0.00 », which no integer holds
            return None
        return int(micro) if micro == micro.to_integral_value() and abs(micro) < _MONEY_LIMIT else None
    if kind == "entier":
        return value if value.__class__ is int and -_INT_LIMIT < value < _INT_LIMIT else None
    return value if value.__class__ is bool else None


def _full(kind: str, value, n: int) -> Column:
    """A literal, the same on every row."""
    if kind in _NATIVE:
        native = _native(kind, value)
        if native is None:
            raise Unsupported(f"{kind} {value!r}")
        values = np.full(n, native, dtype=_NATIVE[kind])
    else:
        values = np.empty(n, dtype=object)
        values.fill(value)
    return Column(kind, values, np.zeros(n, dtype=np.int8))


def _built(kind: str, results: list, rows: np.ndarray, state: np.ndarray, n: int) -> Column:
    """The column of `results` (Python values, each for a row of `rows`), the other rows in `state`."""
    state = state.copy()
    native = _NATIVE.get(kind)
    values = np.zeros(n, dtype=native) if native is not None else np.empty(n, dtype=object)
    rows = rows.tolist()
    plain = _plain(kind, results)
    if plain is not None:
        values[rows] = plain
        return Column(kind, values, state)
    for row, value in zip(rows, results):
        if value.__class__ in PROBLEMS:
            state[row] = UNKNOWN if value.__class__ is Unknown else FAILED
        elif native is None:
            values[row] = value  # one by one: a list would be spread over the array
        else:
            value = _native(kind, value)
            if value is None:
                state[row] = OPEN
            else:
                values[row] = value
    return Column(kind, values, state)


def _plain(kind: str, results: list):
    """`results` as the values of a column at once, when every one is a plain value of the kind (the usual
    case); None otherwise, and they are taken one by one."""
    if kind == "booléen":
        return results if all(r is True or r is False for r in results) else None
    if kind == "entier":
        return results if all(r.__class__ is int and -_INT_LIMIT < r < _INT_LIMIT for r in results) else None
    if kind == "date":
        return [r.toordinal() for r in results] if all(r.__class__ is datetime.date for r in results) else None
    if kind in ("texte", "décimal", "durée"):
        return results if not any(r.__class__ in PROBLEMS for r in results) else None
    return None


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int8)


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _empty(kind: str, n: int) -> Column:
    native = _NATIVE.get(kind)
    values = np.zeros(n, dtype=native) if native is not None else np.empty(n, dtype=object)
    return Column(kind, values, np.zeros(n, dtype=np.int8))


def _as(column: Column, kind: str) -> Column:
    """`column` where a value of `kind` is expected: a column that is never a value (« hors barème ») becomes
    one of that kind; two kinds of exact Python values mix as the compiled program mixes them."""
    if column.kind == kind or (kind not in _NATIVE and column.kind not in _NATIVE):
        return column
    if column.kind == "inconnu" and not column.clean().any():
        return Column(kind, _empty(kind, len(column.state)).values, column.state)
    raise Unsupported(f"{column.kind} au lieu de {kind}")


def _worst(columns) -> np.ndarray:
    state = columns[0].state
    for c in columns[1:]:
        state = np.maximum(state, c.state)
    return state


class Scope:
    """The rows an expression is evaluated on: the batch's dossiers, or rows below them (the pieces of one type,
    the dossiers a barème row applies to), each row's dossier given by `parent`; `env` the loop variables."""

    def __init__(self, n: int, parent: np.ndarray | None = None, env: dict | None = None) -> None:
        self.n = n
        self.parent = parent
        self.env = env or {}

    def below(self, rows: np.ndarray, env: dict) -> Scope:
        """The scope of `rows` of this one, with the loop variables of `env` (columns on those rows)."""
        parent = rows if self.parent is None else self.parent[rows]
        return Scope(len(rows), parent, {**{k: v.take(rows) for k, v in self.env.items()}, **env})


class _Batch(ExpressionVisitor):
    """One batch's columns: each definition, amount, field and dossier-wide expression computed once."""

    def __init__(self, program: Program, datas: list[dict]) -> None:
        self.program = program
        self.datas = datas
        self.n = len(datas)
        self.root = Scope(self.n)
        self.definitions: dict[str, Column] = {}
        self.amounts: dict[str, tuple[Column, np.ndarray, np.ndarray]] = {}
        self.memo: dict[int, Column] = {}  # dossier-wide expressions, by node
        self._fields: dict[tuple, Column] = {}
        self._pieces = None
        self._holders = None

    # -------------------------------------------------------------- expressions

    def eval(self, e: ir.Expr, scope: Scope) -> Column:
        if scope is self.root:
            found = self.memo.get(id(e))
            if found is None:
                found = self.memo[id(e)] = self.visit(e, scope)
            return found
        return self.visit(e, scope)

    def _map(self, compute, columns, kind: str, scope: Scope) -> Column:
        """`compute` on the Python values of the rows where every operand is plain; the others keep the worst
        of their operands' states, as first_problem does."""
        if kind not in ("montant", "booléen") and any(c.kind == "montant" for c in columns):
            # Amounts held in millionths come back as Money with six decimals: equal, and written alike once
            # rounded, but a decimal computed from one could show more zeros than the compiled program's.
            raise Unsupported("décimal calculé d'un montant")
        state = _worst(columns)
        rows = np.flatnonzero(state == CLEAN)
        results = list(map(compute, *(c.objects(rows) for c in columns)))
        return _built(kind, results, rows, state, scope.n)

    def _e_Literal(self, e, scope):
        return _full(e.type.kind, e.value, scope.n)

    def _e_OutOfScope(self, e, scope):
        column = _full("inconnu", None, scope.n)
        column.state[:] = FAILED
        return column

    def _e_DefRef(self, e, scope):
        column = self.definition(e.name)
        return column if scope.parent is None else column.take(scope.parent)

    def definition(self, name: str) -> Column:
        found = self.definitions.get(name)
        if found is None:
            found = self.definitions[name] = self.valued(self.program.definitions[name].value, self.root)[0]
        return found

    def _e_AmountRef(self, e, scope):
        column = self.amount(e.name)[0]
        return column if scope.parent is None else column.take(scope.parent)

    def _e_VarRef(self, e, scope):
        if e.name not in scope.env:
            raise Unsupported(f"variable {e.name}")
        return scope.env[e.name]

    def _e_Rank(self, e, scope):
        return self._map(lambda item: item.index + 1, [scope.env[e.var]], "entier", scope)

    def _e_KeyRef(self, e, scope):
        return scope.env[ROW_KEY]

    def _e_FieldRef(self, e, scope):
        if e.base is None:
            column = self._field(e)
            return column if scope.parent is None else column.take(scope.parent)
        if e.definition:
            items = self.definition(e.base)
            items = items if scope.parent is None else items.take(scope.parent)
        elif e.base in scope.env:
            items = scope.env[e.base]
        else:
            raise Unsupported(f"variable {e.base}")
        return self._read(e, items, scope.n)

    def _field(self, e: ir.FieldRef) -> Column:
        """A field read from each dossier's root, once a batch."""
        key = (e.parts, e.type.kind)
        if key not in self._fields:
            nodes = [d.get(e.parts[0]) for d in self.datas]
            for part in e.parts[1:]:
                nodes = [x.get(part) if x.__class__ is dict else None for x in nodes]
            pointer = "/" + "/".join(e.parts)
            self._fields[key] = self._converted(e, nodes, lambda row: pointer)
        return self._fields[key]

    def _read(self, e: ir.FieldRef, items: Column, n: int) -> Column:
        """A field of loop variables or of a definition's element: nothing where the element is not one."""
        elements = items.values.tolist()
        state = np.maximum(items.state, [OPEN if x.__class__ is not Item else CLEAN for x in elements])
        nodes = [x.data if x.__class__ is Item else None for x in elements]
        for part in e.parts:
            nodes = [x.get(part) if x.__class__ is dict else None for x in nodes]
        tail = "/" + "/".join(e.parts)
        column = self._converted(e, nodes, lambda row: elements[row].pointer + tail)
        column.state = np.maximum(column.state, state)
        return column

    def _converted(self, e: ir.FieldRef, nodes: list, pointer) -> Column:
        """The values the compiled program converts a field's JSON to (compile._Generator._convert); `pointer`
        gives a row's JSON pointer, which a list's elements and an amount's error carry."""
        kind = e.type.kind
        missing = np.asarray([x is None for x in nodes], dtype=bool)
        state = np.where(missing, UNKNOWN, CLEAN).astype(np.int8)
        rows = np.flatnonzero(~missing)
        present = [x for x in nodes if x is not None]
        if kind == "date":
            results = [datetime.date.fromisoformat(x) for x in present]
        elif kind == "décimal":
            results = [Decimal(x) if x.__class__ is int else x for x in present]
        elif kind in ("liste", "montant"):
            results = [convert(x, e, pointer(r)) for x, r in zip(present, rows.tolist())]
        else:
            results = present
        return _built(kind, results, rows, state, len(nodes))

    def _e_TableRef(self, e, scope):
        key = self.eval(e.key, scope) if e.key is not None else None
        day = self.eval(e.date, scope)
        if day.kind != "date":
            raise Unsupported("barème daté par autre chose qu'une date")
        return _Lookup(self, e, scope, key, day).value()

    def _e_IsSet(self, e, scope):
        field = self.eval(e.operand, scope)
        state = np.where(field.state == OPEN, OPEN, CLEAN).astype(np.int8)
        return Column("booléen", field.state == CLEAN, state)

    def _e_Default(self, e, scope):
        operand, fallback = self.eval(e.operand, scope), self.eval(e.fallback, scope)
        fallback = _as(fallback, operand.kind)
        take = operand.state == UNKNOWN
        return Column(operand.kind, np.where(take, fallback.values, operand.values),
                      np.where(take, fallback.state, operand.state))

    def _e_Compare(self, e, scope):
        calendar = self._elapsed_against(e, scope)
        if calendar is not None:
            return calendar
        left, right = self.eval(e.left, scope), self.eval(e.right, scope)
        if left.kind == "durée" or left.kind != right.kind:
            return self._map(lambda a, b: compare(e.op, a, b), [left, right], "booléen", scope)
        state = _worst([left, right])
        if left.kind in _NATIVE:
            return Column("booléen", _COMPARE[e.op](left.values, right.values), state)
        rows = np.flatnonzero(state == CLEAN)
        values = np.zeros(scope.n, dtype=bool)
        values[rows] = _COMPARE[e.op](left.values[rows], right.values[rows]).astype(bool)
        return Column("booléen", values, state)

    def _e_Arith(self, e, scope):
        left, right = self.eval(e.left, scope), self.eval(e.right, scope)
        if e.op in "+-*" and left.kind == right.kind == e.type.kind == "entier":
            state = _worst([left, right])
            clean = state == CLEAN
            if not clean.any() or max(np.abs(left.values[clean]).max(), np.abs(right.values[clean]).max()) \
                    < _INT_LIMIT:
                values = {"+": np.add, "-": np.subtract, "*": np.multiply}[e.op](left.values, right.values)
                state = np.where(clean & (np.abs(values) >= _INT_LIMIT), OPEN, state).astype(np.int8)
                return Column("entier", values, state)
        if e.type == ir.MONEY and e.op in _MONEY_ARITH:
            money = _money(e.op, left, right)
            return money if money is not None else self._map(_MONEY_ARITH[e.op], [left, right], "montant", scope)
        return self._map(lambda a, b: computed(arith, e.op, a, b), [left, right], e.type.kind, scope)

    def _e_Negate(self, e, scope):
        operand = self.eval(e.operand, scope)
        if operand.kind in ("entier", "montant"):  # within the limits, as the negated values are
            state = operand.state
            if operand.kind == "montant":  # −(0 €) is « -0.00 » for Decimal
                state = np.where((state == CLEAN) & (operand.values == 0), OPEN, state).astype(np.int8)
            return Column(operand.kind, -operand.values, state)
        return self._map(negate, [operand], e.type.kind, scope)

    def _e_Contains(self, e, scope):
        return self._map(lambda text, part: part in text, [self.eval(e.text, scope), self.eval(e.part, scope)],
                         "booléen", scope)

    def _elapsed_against(self, e: ir.Compare, scope: Scope) -> Column | None:
        """« durée entre A et B > 4 ans » on day numbers: a duration counted from A compares as the date it
        reaches (values.calendar_order), and « durée entre A et B » from A reaches B. None for other comparisons.
        The rows where B is before A (a negative duration, which has no start) are left OPEN."""
        sides = [self._between(e.left), self._between(e.right)]
        literal = e.right if sides[0] is not None else e.left
        elapsed = sides[0] or sides[1]
        if elapsed is None or not isinstance(literal, ir.Literal) or literal.value.__class__ is not Duration \
                or literal.value.start is not None:
            return None
        start, end = self.eval(elapsed.start, scope), self.eval(elapsed.end, scope)
        reached, ok = _shift(start.values, literal.value)
        state = _worst([start, end])
        state[(state == CLEAN) & (~ok | (end.values < start.values))] = OPEN
        left, right = (end.values, reached) if sides[0] is not None else (reached, end.values)
        return Column("booléen", _COMPARE[e.op](left, right), state)

    def _between(self, e: ir.Expr) -> ir.Between | None:
        """The « durée entre » an expression is, directly or as a definition without « sauf si »."""
        if isinstance(e, ir.DefRef):
            value = self.program.definitions[e.name].value
            return self._between(value.base) if not value.cases and isinstance(value.base, ir.Expr) else None
        return e if isinstance(e, ir.Between) else None

    def _e_UnitsBetween(self, e, scope):
        start, end = self.eval(e.start, scope), self.eval(e.end, scope)
        state = _worst([start, end])
        if e.unit.startswith("jour"):
            return Column("entier", end.values - start.values, state)
        # values.between: whole months from the earlier date, negative when the end comes first.
        forward = end.values >= start.values
        low, high = np.where(forward, start.values, end.values), np.where(forward, end.values, start.values)
        (y0, m0, _), (y1, m1, _) = _calendar(low), _calendar(high)
        months = (y1 - y0) * 12 + m1 - m0
        reached, ok = _add_months(low, months)
        months -= reached > high
        months = np.where(forward, months, -months)
        state[(state == CLEAN) & ~ok] = OPEN
        if e.unit != "mois":
            months = np.where(months >= 0, months // 12, -(-months // 12))
        return Column("entier", months, state)

    def _e_Between(self, e, scope):
        return self._map(lambda a, b: computed(between, a, b), [self.eval(e.start, scope), self.eval(e.end, scope)],
                         "durée", scope)

    def _e_First(self, e, scope):
        missing = Unknown(frozenset({"/" + "/".join(e.collection.parts)}))
        return self._map(lambda items: items[0] if items else missing, [self.eval(e.collection, scope)],
                         e.type.kind, scope)

    def _each(self, e, scope: Scope) -> tuple[Column, np.ndarray, Column | None]:
        """A quantifier's or count's list on each row, and its condition on each element: the elements' rows
        below the scope (each one's row), and the condition's column on them (None: a count without one)."""
        collection = self.eval(e.collection, scope)
        clean = np.flatnonzero(collection.state == CLEAN)
        lists = collection.values[clean].tolist()
        if any(items.__class__ is not list for items in lists):
            raise Unsupported("liste d'une autre sorte")
        rows = np.repeat(clean, [len(items) for items in lists])
        if e.condition is None:
            return collection, rows, None
        elements = Column("objet", _objects([item for items in lists for item in items]), _zeros(len(rows)))
        return collection, rows, self.eval(e.condition, scope.below(rows, {e.var: elements}))

    def _e_Quantifier(self, e, scope):
        """runtime.kleene over each list: « pour tout » absorbs on a plain false, « il existe » on a plain true."""
        collection, rows, condition = self._each(e, scope)
        absorbing = not e.every
        hit = (condition.state == CLEAN) & (condition.values if absorbing else ~condition.values)
        decided = np.bincount(rows, weights=hit, minlength=scope.n) > 0
        worst = collection.state.copy()
        np.maximum.at(worst, rows, condition.state)
        state = np.where(decided, CLEAN, worst).astype(np.int8)
        return Column("booléen", decided if absorbing else ~decided, state)

    def _e_Count(self, e, scope):
        """How many elements each list has, or satisfy the condition (unless one cannot be told: first_problem)."""
        collection, rows, condition = self._each(e, scope)
        if condition is None:
            return Column("entier", np.bincount(rows, minlength=scope.n), collection.state)
        counted = np.bincount(rows, weights=(condition.state == CLEAN) & condition.values, minlength=scope.n)
        state = collection.state.copy()
        np.maximum.at(state, rows, condition.state)
        return Column("entier", counted.astype(np.int64), state)

    def _e_Prefix(self, e, scope):
        return self._map(lambda text: text[: e.count], [self.eval(e.operand, scope)], "texte", scope)

    def _e_Not(self, e, scope):
        operand = self.eval(e.operand, scope)
        return Column("booléen", ~operand.values, operand.state)

    def _e_And(self, e, scope):
        return self._kleene([self.eval(o, scope) for o in e.operands], False)

    def _e_Or(self, e, scope):
        return self._kleene([self.eval(o, scope) for o in e.operands], True)

    @staticmethod
    def _kleene(columns: list[Column], absorbing: bool) -> Column:
        """runtime.kleene: a plain absorbing operand decides; else the worst state, else the neutral value."""
        if any(c.kind != "booléen" for c in columns):
            raise Unsupported("« et », « ou » d'autre chose que des booléens")
        decided = np.zeros(columns[0].state.shape, dtype=bool)
        for c in columns:
            decided |= (c.state == CLEAN) & (c.values if absorbing else ~c.values)
        state = np.where(decided, CLEAN, _worst(columns)).astype(np.int8)
        return Column("booléen", decided if absorbing else ~decided, state)

    def fallback(self, e, *args):
        raise Unsupported(type(e).__name__)

    # -------------------------------------------------------------- « sauf si »

    def choose(self, node: ir.Exceptions, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """Which branch of a « sauf si » runtime.resolve takes on each row (-1: the base), where the columns can
        tell: OPEN where an exception is in doubt (or could hold), FAILED where two hold in conflict, or where
        none holds and one fails."""
        if not node.cases:
            return np.full(scope.n, -1), np.zeros(scope.n, dtype=np.int8)
        conditions = [self.eval(case.condition, scope) for case in node.cases]
        holds = [(c.state == CLEAN) & c.values for c in conditions]
        chosen = np.full(scope.n, -1)
        for i in reversed(range(len(holds))):
            chosen[holds[i]] = i
        # Two exceptions with the same consequence do not conflict: number each consequence by its first case.
        groups = [next(j for j, other in enumerate(node.cases) if other.consequence == case.consequence)
                  for case in node.cases]
        group_of_chosen = np.asarray(groups)[np.maximum(chosen, 0)]
        conflict = np.zeros(scope.n, dtype=bool)
        for i, h in enumerate(holds):
            conflict |= h & (groups[i] != group_of_chosen)
        held = chosen >= 0
        worst = _worst(conditions)
        state = np.zeros(scope.n, dtype=np.int8)
        state[~held & (worst == FAILED)] = FAILED
        state[~held & (worst != CLEAN) & (worst != FAILED)] = OPEN
        state[conflict] = FAILED
        state[np.any([c.state == OPEN for c in conditions], axis=0)] = OPEN  # an OPEN condition might hold
        return chosen, state

    def valued(self, node: ir.Exceptions, scope: Scope) -> tuple[Column, np.ndarray]:
        """A definition's or amount's value, and the branch that gave it on each row."""
        chosen, state = self.choose(node, scope)
        branches = [node.base, *(case.consequence for case in node.cases)]
        columns = [self.eval(b, scope) if isinstance(b, ir.Expr) else self.valued(b, scope)[0] for b in branches]
        kind = next((c.kind for c in columns if c.kind != "inconnu"), "inconnu")
        columns = [_as(c, kind) for c in columns]
        values, worst = columns[0].values.copy(), columns[0].state.copy()
        for i, c in enumerate(columns[1:]):
            rows = chosen == i
            values[rows], worst[rows] = c.values[rows], c.state[rows]
        return Column(kind, values, np.maximum(worst, state)), chosen

    # -------------------------------------------------------------- pieces

    def pieces(self, piece_type: str) -> tuple[np.ndarray, list]:
        """The batch's pieces of a type: each one's dossier, and each one's index and element."""
        if self._pieces is None:
            by_type: dict[str, tuple[list, list]] = {}
            for row, d in enumerate(self.datas):
                pieces = d.get("pieces")
                for i, p in enumerate(pieces if pieces.__class__ is list else ()):
                    rows, items = by_type.setdefault(p.get("type"), ([], []))
                    rows.append(row)
                    items.append((i, p))
            self._pieces = {t: (np.asarray(rows, dtype=np.intp), items) for t, (rows, items) in by_type.items()}
        return self._pieces.get(piece_type) or (np.zeros(0, dtype=np.intp), [])

    def holders(self) -> tuple[Scope, list, np.ndarray]:
        """Each titulaire of the batch as a row (in dossier order), with the Holder a report names, and which
        dossiers have titulaires (those without are left to the compiled program)."""
        if self._holders is None:
            rows, items, holders = [], [], []
            for row, d in enumerate(self.datas):
                listed = d.get("titulaires")
                for i, h in enumerate(listed if isinstance(listed, list) else ()):
                    item = Item(f"/titulaires/{i}", h, i)
                    rows.append(row)
                    items.append(item)
                    holders.append(holder_of(item))
            rows = np.asarray(rows, dtype=np.intp)
            scope = Scope(len(rows), rows, {"titulaire": Column("objet", _objects(items), _zeros(len(rows)))})
            self._holders = scope, holders, np.bincount(rows, minlength=self.n) > 0
        return self._holders

    def demand(self, demand: ir.Demand, scope: Scope) -> Column:
        """Whether each row of `scope` meets a demand, as runtime.kleene folds its alternatives and pieces."""
        if isinstance(demand, ir.ConditionDemand):
            return self.eval(demand.condition, scope)
        return self._kleene([self._alternative(spec, scope) for spec in demand.alternatives], True)

    def _alternative(self, spec: ir.PieceSpec, scope: Scope) -> Column:
        """Whether some piece of the type, in the row's dossier, passes every filter."""
        dossiers, pieces = self.pieces(spec.piece_type)
        # Each piece beside each row of its dossier (the dossier itself, or each of its titulaires): the rows
        # of a scope come in dossier order, so a dossier's rows are a run.
        parent = np.arange(self.n) if scope.parent is None else scope.parent
        count = np.bincount(parent, minlength=self.n)
        start = np.cumsum(count) - count
        per_piece = count[dossiers]
        which = np.repeat(np.arange(len(dossiers)), per_piece)
        rows = np.repeat(start[dossiers], per_piece) + np.arange(len(which)) - np.repeat(np.cumsum(per_piece) - per_piece,
                                                                                        per_piece)
        if not spec.filters:
            values = np.bincount(rows, minlength=scope.n) > 0
            return Column("booléen", values, _zeros(scope.n))
        items = _objects([Item(f"/pieces/{i}", p, i) for i, p in pieces])
        below = scope.below(rows, {"pièce": Column("objet", items[which], _zeros(len(which)))})
        piece = self._kleene([self._filter(f, below) for f in spec.filters], False)
        met = np.bincount(rows, weights=piece.clean() & piece.values, minlength=scope.n) > 0
        worst = _zeros(scope.n)
        np.maximum.at(worst, rows, piece.state)
        return Column("booléen", met, np.where(met, CLEAN, worst).astype(np.int8))

    def _filter(self, f, scope: Scope) -> Column:
        if isinstance(f, ir.WithCondition):
            return self.eval(f.condition, scope)
        if isinstance(f, ir.Dated):
            reference, max_age = self.eval(f.reference, scope), self.eval(f.max_age, scope)
            if reference.kind == "date":
                return _dated(scope.env["pièce"], reference, max_age)
            return self._map(lambda item, day, age: dated(item, day, age)[0],
                             [scope.env["pièce"], reference, max_age], "booléen", scope)
        return self._map(lambda item, holder: item.data.get("titulaire", 0) == holder.index,
                         [scope.env["pièce"], scope.env["titulaire"]], "booléen", scope)

    # -------------------------------------------------------------- amounts

    def amount(self, name: str) -> tuple[Column, np.ndarray, np.ndarray]:
        """The value an AmountRef reads (rounded to the cent; 0 € where it is not due), the branch of its
        « sauf si » that gave it, and where it is due."""
        if name not in self.amounts:
            a = self.program.amounts[name]
            value, chosen = self.valued(a.value, self.root)
            due = np.ones(self.n, dtype=bool)
            open_ = value.state != CLEAN
            if a.applies is not None:
                applies = self.eval(a.applies, self.root)
                due = applies.clean() & applies.values
                open_ = (applies.state != CLEAN) | (due & open_)
            value = _as(value, "montant")
            cents, unheld = _rounded(value.values)
            open_ |= due & unheld
            read = np.where(due & ~open_, cents * _CENT, 0)
            self.amounts[name] = (Column("montant", read, np.where(open_, OPEN, CLEAN).astype(np.int8)), chosen, due)
        return self.amounts[name]


_EPOCH = datetime.date(1970, 1, 1).toordinal()


def _calendar(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day numbers as year, month (0-11) and day of the month."""
    dates = (days - _EPOCH).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    return (months.astype("datetime64[Y]").astype(np.int64) + 1970, months.astype(np.int64) % 12,
            (dates - months).astype(np.int64) + 1)


def _add_months(days: np.ndarray, months) -> tuple[np.ndarray, np.ndarray]:
    """values.add_months on day numbers, and where the result stays in the calendar (years 1 to 9999)."""
    year, month, day = _calendar(days)
    index = year * 12 + month + months
    ok = (index >= 12) & (index < 10000 * 12)
    first = (np.where(ok, index, 1970 * 12) - 1970 * 12).astype("datetime64[M]")
    start = first.astype("datetime64[D]")
    length = ((first + 1).astype("datetime64[D]") - start).astype(np.int64)
    return start.astype(np.int64) + _EPOCH + np.minimum(day, length) - 1, ok


def _shift(days: np.ndarray, duration: Duration) -> tuple[np.ndarray, np.ndarray]:
    """values.shift: months first, then days; and where the result stays in the calendar."""
    shifted, ok = _add_months(days, duration.months)
    shifted = shifted + duration.days
    return shifted, ok & (shifted >= 1) & (shifted <= _LAST_DAY)


_LAST_DAY = datetime.date.max.toordinal()


def _dated(pieces: Column, reference: Column, max_age: Column) -> Column:
    """runtime.dated on every piece: dated on or before the reference, and valid (its date plus the period) on
    or after it; a piece without date is unknown, a period past the calendar an error."""
    n = len(pieces.values)
    days = np.zeros(n, dtype=np.int64)
    state = _worst([pieces, reference, max_age])
    for row, item in enumerate(pieces.values.tolist()):
        raw = item.data.get("date") if item.__class__ is Item else None
        if isinstance(raw, str):
            days[row] = datetime.date.fromisoformat(raw).toordinal()
        else:
            state[row] = max(state[row], OPEN if item.__class__ is not Item else UNKNOWN)
    valid_until = np.zeros(n, dtype=np.int64)
    clean = state == CLEAN
    for duration in set(max_age.values[clean].tolist()):
        rows = clean & (max_age.values == duration)
        if duration.__class__ is not Duration:
            state[rows] = OPEN
            continue
        shifted, ok = _shift(days, duration)
        valid_until[rows] = shifted[rows]
        state[rows & ~ok] = FAILED
    return Column("booléen", (days <= reference.values) & (reference.values <= valid_until), state)


def _money(op: str, left: Column, right: Column) -> Column | None:
    """runtime.money_plus, money_minus and money_times on millionths of a euro; OPEN where the result would
    leave them (too large, or off the grid); None for operands of other kinds (a boolean factor)."""
    state = _worst([left, right])
    clean = state == CLEAN
    if op in "+-":
        if not left.kind == right.kind == "montant":
            return None
        values = left.values + right.values if op == "+" else left.values - right.values
    else:
        money, factor = (left, right) if left.kind == "montant" else (right, left)
        if money.kind != "montant" or factor.kind not in ("entier", "décimal"):
            return None
        if factor.kind == "entier":
            numerators, digits = factor.values, np.zeros(len(state), dtype=np.int64)
        else:
            numerators, digits = _rates(factor, clean, state)
            clean = state == CLEAN
        safe = np.abs(money.values).astype(float) * np.abs(numerators).astype(float) < 2.0**62
        state[clean & ~safe] = OPEN
        product = np.where(safe, money.values, 0) * np.where(safe, numerators, 0)
        scale = 10 ** digits
        values = product // scale
        state[clean & safe & (product % scale != 0)] = OPEN
        # Decimal keeps the sign of a zero product (0 € × −1 is « -0.00 »), which no integer holds.
        state[clean & (values == 0) & ((money.values < 0) != (numerators < 0))] = OPEN
    state[(state == CLEAN) & (np.abs(values) >= _MONEY_LIMIT)] = OPEN
    return Column("montant", values, state)


def _rates(factor: Column, clean: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each decimal factor (a rate, a percentage) as an integer and a number of decimals: 12,5 % is 125 and 3.
    `state` becomes OPEN where it is not one (another kind of value, too many digits)."""
    numerators = np.zeros(len(state), dtype=np.int64)
    digits = np.zeros(len(state), dtype=np.int64)
    rows: dict = {}
    for row, value in zip(np.flatnonzero(clean).tolist(), factor.values[clean].tolist()):
        rows.setdefault(value, []).append(row)
    for value, where in rows.items():
        if value.__class__ not in (Decimal, Percentage):
            state[where] = OPEN
            continue
        exponent = min(value.as_tuple().exponent, 0)
        numerator = int(value.scaleb(-exponent))
        if -exponent > 18 or abs(numerator) >= 2**62:
            state[where] = OPEN
            continue
        numerators[where], digits[where] = numerator, -exponent
    return numerators, digits


_HALF_CENT, _CENT = 5 * 10 ** (MICRO_DIGITS - 3), 10 ** (MICRO_DIGITS - 2)


def _rounded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Millionths of a euro to cents, rounding half away from zero as Money.rounded does (ROUND_HALF_UP), and
    where the cents do not hold its result: a negative amount that rounds to zero, which it writes « -0.00 »."""
    cents = np.where(values >= 0, (values + _HALF_CENT) // _CENT, -((_HALF_CENT - values) // _CENT))
    return cents, (values < 0) & (cents == 0)


class _Lookup:
    """A barème lookup on every row: the version in force on its day, then the row of its key, as
    CompiledTable.find; then the row's value (a constant, or computed on the key)."""

    def __init__(self, batch: _Batch, e: ir.TableRef, scope: Scope, key: Column | None, day: Column) -> None:
        self.batch, self.e, self.scope, self.key, self.day = batch, e, scope, key, day
        self.table = e.table
        self.choices: list = []  # the rows and versions found, which `code` numbers
        self._numbers: dict[int, int] = {}

    def number(self, choice) -> int:
        if id(choice) not in self._numbers:
            self._numbers[id(choice)] = len(self.choices)
            self.choices.append(choice)
        return self._numbers[id(choice)]

    def value(self) -> Column:
        n, table = self.scope.n, self.table
        state = _worst([self.day] if self.key is None else [self.key, self.day])
        code = np.full(n, -1)  # the row or version found on each row; -1: none
        clean = state == CLEAN
        days = self.day.values
        if table.groups:
            keys = self.key.values
            for key in set(keys[clean].tolist()):
                rows = clean & (keys == key)
                for version in table.groups.get(key) or ():
                    code[rows & _in_force(version, days) & (code < 0)] = self.number(version)
        else:
            decided = ~clean  # the first version in force decides, even when it has no row for the key
            for version in table.periods:
                rows = ~decided & _in_force(version.period, days)
                decided |= rows
                if rows.any():
                    self._rows(version, rows, code)
        state = state.copy()
        state[clean & (code < 0)] = FAILED  # no version in force, no row for the key
        return self._cells(code, state)

    def _rows(self, version, rows: np.ndarray, code: np.ndarray) -> None:
        """CompiledPeriod.row_for on the rows a version is in force on."""
        if not self.table.keyed or version.period.value is not None:
            code[rows] = self.number(version.period)
        elif self.key.kind == "entier" and version.ranges and not version.texts:
            keys = self.key.values
            lows = np.asarray(version.lows, dtype=np.int64)
            highs = np.asarray([_OPEN_HIGH if r.key.high is None else r.key.high for r in version.ranges])
            numbers = np.asarray([self.number(r) for r in version.ranges])
            index = np.searchsorted(lows, keys, side="right") - 1
            inside = (index >= 0) & (keys <= highs[np.maximum(index, 0)])
            code[rows & inside] = numbers[index[rows & inside]]
        else:
            rows = np.flatnonzero(rows)
            found = [version.row_for(key) for key in self.key.objects(rows)]
            code[rows] = [-1 if f is None else self.number(f) for f in found]

    def _cells(self, code: np.ndarray, state: np.ndarray) -> Column:
        """Each row's value: the found row's or version's, computed on the key where it is an expression."""
        n, kind = self.scope.n, self.e.type.kind
        result = _empty(kind, n)
        result.state = state
        constants, cells = _empty(kind, len(self.choices)), []
        for number, choice in enumerate(self.choices):
            value = choice.value
            if isinstance(value, ir.Literal):
                native = value.value if kind not in _NATIVE else _native(kind, value.value)
                constants.values[number] = 0 if native is None else native
                constants.state[number] = OPEN if native is None else CLEAN
            elif isinstance(value, ir.OutOfScope):
                constants.state[number] = FAILED
            else:
                cells.append((number, value))
        rows = np.flatnonzero((state == CLEAN) & (code >= 0))
        result.values[rows] = constants.values[code[rows]]
        result.state[rows] = constants.state[code[rows]]
        for number, value in cells:
            rows = np.flatnonzero((state == CLEAN) & (code == number))
            if not len(rows):
                continue
            env = {} if self.key is None else {ROW_KEY: self.key.take(rows)}
            column = _as(self.batch.eval(value, self.scope.below(rows, env)), kind)
            result.values[rows] = column.values
            result.state[rows] = column.state
        return result


_OPEN_HIGH = 2**62


def _in_force(period, days: np.ndarray) -> np.ndarray:
    rows = days >= period.start.toordinal()
    if period.end is not None:
        rows &= days <= period.end.toordinal()
    return rows


# ------------------------------------------------------------------ outcomes


class Columns:
    """A program evaluated a batch at a time; `evaluate_many` gives what Compiled.evaluate gives each dossier."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.scalar: Compiled = compiled(program)
        self._requirements = [_RequirementUnit(r, run) for r, run in zip(program.requirements,
                                                                           self.scalar._requirements)]
        self._amounts = list(zip(program.amounts.values(), self.scalar._amounts))
        self._notices = self.scalar._notices
        self.unsupported: dict[tuple[str, str], str] = {}  # what the columns left to the compiled program, and why
        self.handed_over = 0  # the results (of a requirement, amount, notice) the compiled program gave so far

    def evaluate_many(self, items: list[tuple[str, dict]]) -> list[Outcome]:
        datas = [data for _, data in items]
        batch = _Batch(self.program, datas)
        requirements = [self._columns(("exigence", unit.req.name), lambda u=unit: u.run(batch))
                        for unit in self._requirements]
        amounts = [self._columns(("montant", a.name), lambda a=a: self._amount_outcomes(batch, a))
                   for a, _ in self._amounts]
        notices = [self._columns(("avis", n.name), lambda n=n: _shown(batch, n)) if n.applies is not None else None
                   for n, _, _ in self._notices]
        day = self._columns(("définition", REFERENCE_DATE), lambda: batch.definition(REFERENCE_DATE)) \
            if REFERENCE_DATE in self.program.definitions else None
        return [self._outcome(i, name, data, requirements, amounts, notices, day)
                for i, (name, data) in enumerate(items)]

    def _columns(self, name: tuple[str, str], compute):
        """`compute()`, or None where the columns do not handle what it needs."""
        if name in self.unsupported:
            return None
        try:
            return compute()
        except Unsupported as exc:
            self.unsupported[name] = str(exc)
            return None

    def _outcome(self, i: int, name: str, data: dict, requirements, amounts, notices, day) -> Outcome:
        state = None  # the compiled program's, made for this dossier only if something is left to it

        def scalar() -> State:
            nonlocal state
            self.handed_over += 1
            if state is None:
                state = State(data, self.scalar._definitions)
            return state

        found = []
        for unit, column in zip(self._requirements, requirements):
            outcomes = None if column is None else column[i]
            found += unit.compiled(scalar()) if outcomes is None else outcomes
        outcomes = tuple(found)
        figures = []
        for (a, run), column in zip(self._amounts, amounts):
            outcome = None if column is None else column[i]
            figures.append(run(scalar()) if outcome is None else outcome)
        pieces_missing = any(o.status is Status.MISSING and o.rule.kind == "exigence" for o in outcomes)
        shown = []
        for (n, notice, compiled_applies), column in zip(self._notices, notices):
            if n.when_pieces_missing and not pieces_missing:
                continue
            applies = True if compiled_applies is None else column[i] if column is not None else None
            if applies is None:
                applies = compiled_applies(scalar()) is True
            if applies:
                shown.append(notice)
        if day is None or day.state[i] == OPEN:
            evaluated_on = self.scalar._day(scalar()) if REFERENCE_DATE in self.program.definitions else None
        else:
            evaluated_on = datetime.date.fromordinal(int(day.values[i])) if day.state[i] == CLEAN else None
        return Outcome(name, data.get("reference"), verdict_of(outcomes), outcomes, tuple(figures), tuple(shown),
                       evaluated_on)

    def _amount_outcomes(self, batch: _Batch, a: ir.Amount) -> list:
        """Each dossier's AmountOutcome, or None where the compiled program must give it."""
        read, chosen, due = batch.amount(a.name)
        rule = rule_of(a)
        result = [None] * batch.n
        plain = read.clean()
        not_applicable = AmountOutcome(rule, AmountStatus.NOT_APPLICABLE, None, (), None, None, (), ())
        for row in np.flatnonzero(plain & ~due).tolist():
            result[row] = not_applicable
        # The calculation shown beside the figure: the formula that gave it, each operand with its value. Dossiers
        # with the same figure, formula and operands (the same values, or the same objects) share one outcome.
        cents = (read.values // _CENT).tolist()
        made: dict[tuple, AmountOutcome] = {}
        formulas = [*(c.consequence for c in a.value.cases), a.value.base]
        for index, formula in enumerate(formulas):
            layout = calculation(formula, lambda operand: operand)
            rows = plain & due & (chosen == (index if index < len(a.value.cases) else -1))
            operands = [batch.eval(v, batch.root) for _, v in layout if v is not None]
            for c in operands:
                rows &= c.clean()
            rows = np.flatnonzero(rows)
            keys = [c.values[rows].tolist() if c.kind in _NATIVE else [id(v) for v in c.values[rows].tolist()]
                    for c in operands]
            for position, row in enumerate(rows.tolist()):
                key = (index, cents[row], *(k[position] for k in keys))
                outcome = made.get(key)
                if outcome is None:
                    values = iter([c.objects(rows[position:position + 1])[0] for c in operands])
                    figure = tuple([(text, None if operand is None else next(values)) for text, operand in layout])
                    outcome = made[key] = AmountOutcome(rule, AmountStatus.COMPUTED, Money(Decimal(cents[row]).scaleb(-2)),
                                                        (), None, None, (), figure)
                result[row] = outcome
        return result


def _shown(batch: _Batch, n: ir.Notice) -> list:
    """Whether each dossier's notice applies (True only when its condition is plainly true)."""
    column = batch.eval(n.applies, batch.root)
    return [None if s == OPEN else bool(v and s == CLEAN) for v, s in zip(column.values.tolist(),
                                                                          column.state.tolist())]


class _RequirementUnit:
    """A requirement decided on columns: for each dossier, one of a few outcomes the same for every dossier, or
    (for each titulaire) one per titulaire."""

    def __init__(self, req: ir.Requirement, compiled_run) -> None:
        self.req, self.compiled = req, compiled_run
        self.rule = rule_of(req)
        # Each branch (the base, then each exception's), as compile._requirement_runner names its outcomes:
        # the pieces of the demand that applies (of the base when none does).
        self.branches = [req.demand.base, *(c.consequence for c in req.demand.cases)]
        self.kinds = [(Status.NOT_APPLICABLE, piece_types(req.demand.base))]
        for demand in self.branches:
            if demand is not None:
                self.kinds += [(status, piece_types(demand)) for status in (Status.MISSING, Status.SATISFIED)]
        self.outcomes = [(RequirementOutcome(self.rule, None, status, types, req.message, (), None),)
                         for status, types in self.kinds]

    def run(self, batch: _Batch) -> list:
        """Each dossier's outcomes, or None where the compiled program must give them."""
        if not self.req.per_holder:
            outcomes = self.outcomes
            return [outcomes[c] if c >= 0 else None for c in self._codes(batch, batch.root).tolist()]
        scope, holders, listed = batch.holders()
        codes = self._codes(batch, scope).tolist()
        result = [None] * batch.n
        rule, message = self.rule, self.req.message
        # A dossier's titulaires are a run of rows; all of them must be decided.
        row = 0
        for dossier, count in enumerate(np.bincount(scope.parent, minlength=batch.n).tolist()):
            these = codes[row:row + count]
            if listed[dossier] and min(these) >= 0:
                result[dossier] = tuple([RequirementOutcome(rule, holder, *self.kinds[c], message, (), None)
                                         for holder, c in zip(holders[row:row + count], these)])
            row += count
        return result

    def _codes(self, batch: _Batch, scope: Scope) -> np.ndarray:
        """For each row, the index of its outcome in self.kinds; -1 where the compiled program decides."""
        req = self.req
        code = np.full(scope.n, -1)
        chosen, state = batch.choose(req.demand, scope)
        decided = state == CLEAN
        if req.applies is not None:
            applies = batch.eval(req.applies, scope)
            code[(applies.state == CLEAN) & ~applies.values] = 0
            decided &= (applies.state == CLEAN) & applies.values
        offset = 1
        for i, demand in enumerate(self.branches):
            rows = decided & (chosen == i - 1)
            if demand is None:
                code[rows] = 0
                continue
            met = batch.demand(demand, scope)
            rows &= met.state == CLEAN
            code[rows] = offset + met.values[rows]
            offset += 2
        return code


_COLUMNS: dict[int, tuple[Program, Columns]] = {}


def columns(program: Program) -> Columns:
    """The program's batch evaluator, built on first use and kept."""
    return kept(_COLUMNS, program, Columns)
