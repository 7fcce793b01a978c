"""A program's expressions evaluated on columns: each expression once for a batch of dossiers.

OpenFisca's way: a column holds one value per dossier (NumPy arrays: booleans, integers, dates as day numbers,
amounts in millionths of a euro; exact Python values for texts, decimals and durations), and each node of the
program is one operation on columns. Beside its values, a column has a state per dossier:

- CLEAN: a plain value;
- UNKNOWN: the dossier leaves it unknown (« à défaut » replaces it);
- FAILED: it cannot be computed (a key no barème covers, « hors barème »);
- OPEN: the columns cannot tell what it is (a value of an unexpected kind, an amount off their grid).

The states are ordered as `first_problem` ranks them, so the state of most results is the highest of their
operands', and a « ou » or « et » decided by one plain operand is plain whatever the others are. On its UNKNOWN
and FAILED rows a column holds the value the compiled program holds there (the Unknown naming the missing
fields, the Failure saying why), made from the operands' only when an outcome names it. batches.py makes the
outcomes; what is OPEN there is the compiled program's to say, for that dossier and that rule.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

import numpy as np

from . import ir
from .ir import ExpressionVisitor
from .program import Program
from .runtime import (
    ROW_KEY, Item, arith, compare, computed, convert, dated, holder_of, money_minus, money_plus, money_times,
    negate, resolve, shift,
)
from .values import Duration, Failure, Money, NotCovered, Percentage, Unknown, between, first_problem

CLEAN, UNKNOWN, FAILED, OPEN = 0, 1, 2, 3
PROBLEMS = (Unknown, Failure, NotCovered)
# Amounts are held in millionths of a euro: exact for every tariff, and for a product by a rate, as long as it
# stays on that grid (the compiled program decides the rest); dates as day numbers (date.toordinal).
NATIVE = {"booléen": np.bool_, "entier": np.int64, "date": np.int64, "montant": np.int64}
MICRO_DIGITS = 6
_MONEY_LIMIT = 10**15  # 10⁹ €: beyond it, amounts leave the columns
_INT_LIMIT = 2**31  # integers beyond it leave the columns: their products could pass int64
_MONEY_ARITH = {"+": money_plus, "-": money_minus, "*": money_times}
_COMPARE = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
            ">=": np.greater_equal}


_RANK = "#rang"  # beside « titulaire » in the titulaires' scope: each one's index in its list, a native column


class Unsupported(Exception):
    """A construct the columns leave to the compiled program, for every dossier of every batch."""


class Column:
    """One value per row of a scope, each one's state, and on the UNKNOWN and FAILED rows the value the compiled
    program holds there (an Unknown naming the missing fields, a Failure saying why): `problems`, None when no
    row has one."""

    __slots__ = ("kind", "values", "state", "_problems", "_derive")

    def __init__(self, kind: str, values: np.ndarray, state: np.ndarray, problems: np.ndarray | None = None,
                 derive=None) -> None:
        self.kind = kind
        self.values = values
        self.state = state
        self._problems = problems
        self._derive = derive  # how to make `problems` from the operands', when first asked for

    @property
    def problems(self) -> np.ndarray | None:
        """Made when first asked for, from the operands' (`derive`): most never are, as « à défaut » replaces
        most unknowns before an outcome names them."""
        if self._derive is not None:
            derive, self._derive = self._derive, None
            self._problems = derive(self)
        return self._problems

    @problems.setter
    def problems(self, problems: np.ndarray | None) -> None:
        self._problems, self._derive = problems, None

    def deriving(self):
        """How this column's problems are made, not made yet: for a derive that builds on them."""
        return self._derive if self._derive is not None else (lambda _, kept=self._problems: kept)

    def take(self, rows: np.ndarray) -> Column:
        return Column(self.kind, self.values[rows], self.state[rows],
                      derive=lambda _: None if self.problems is None else self.problems[rows])

    def value(self, row: int):
        """The Python value of one row, as the compiled program holds it (OPEN rows have none)."""
        if self.state[row] in (UNKNOWN, FAILED):
            return self.problems[row]
        value = self.values[row]
        if self.kind not in NATIVE:
            return value
        value = value.item()
        if self.kind == "date":
            return datetime.date.fromordinal(value)
        return _money_of(value) if self.kind == "montant" else value

    def clean(self) -> np.ndarray:
        return self.state == CLEAN

    def objects(self, rows: np.ndarray) -> list:
        """The Python values of `rows`, as the compiled program holds them."""
        values = self.values[rows].tolist()
        if self.kind == "date":
            return [datetime.date.fromordinal(v) for v in values]
        if self.kind == "montant":
            return [_money_of(v) for v in values]
        return values


@functools.lru_cache(maxsize=65536)
def _money_of(micro: int) -> Money:
    """Millionths of a euro as the Money they are; a batch meets the same tariffs and totals again and again."""
    return Money(Decimal(micro).scaleb(-MICRO_DIGITS))


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
    if kind in NATIVE:
        native = _native(kind, value)
        if native is None:
            raise Unsupported(f"{kind} {value!r}")
        values = np.full(n, native, dtype=NATIVE[kind])
    else:
        values = np.empty(n, dtype=object)
        values.fill(value)
    return Column(kind, values, np.zeros(n, dtype=np.int8))


def _failing(kind: str, problem, n: int) -> Column:
    """The same problem on every row (« hors barème »)."""
    column = _empty(kind, n)
    column.state[:] = UNKNOWN if problem.__class__ is Unknown else FAILED
    column.problems = np.empty(n, dtype=object)
    column.problems.fill(problem)
    return column


def _combined(columns) -> tuple[np.ndarray, object]:
    """The state of a result computed from `columns` unless one is not plain, the worst of theirs, and how to
    derive its problems: first_problem of the operands', in order (a Failure first, else the union of the
    Unknowns)."""
    return _worst(columns), _deriving(columns)


def _deriving(columns):
    """A column's `derive`: first_problem of `columns`' on its UNKNOWN and FAILED rows."""
    return lambda column: _problems(column.state, columns)


def _problems(state: np.ndarray, columns) -> np.ndarray | None:
    """first_problem of the columns' on each UNKNOWN or FAILED row of `state`. A column's problems count on its
    own UNKNOWN and FAILED rows only."""
    rows = np.flatnonzero(troubled_rows(state))
    sources = [c for c in columns if c.problems is not None]
    if not len(rows) or not sources:
        return None
    problems = np.empty(len(state), dtype=object)
    troubled = [troubled_rows(c.state)[rows] for c in sources]
    found = [c.problems[rows] for c in sources]
    count = np.sum(troubled, axis=0)
    for these, mask in zip(found, troubled):  # one problem among the operands: that one
        alone = mask & (count == 1)
        problems[rows[alone]] = these[alone]
    several = np.flatnonzero(count > 1)
    if len(several):
        found = [f[several].tolist() for f in found]
        troubled = [t[several].tolist() for t in troubled]
        made: dict[tuple, object] = {}  # most rows combine the same few problems: each combination made once
        for position, row in enumerate(rows[several].tolist()):
            these = [f[position] for f, t in zip(found, troubled) if t[position]]
            key = tuple(map(id, these))
            if key not in made:
                made[key] = first_problem(*these)
            problems[row] = made[key]
    return problems


def troubled_rows(state: np.ndarray) -> np.ndarray:
    """The rows that hold a problem (UNKNOWN or FAILED)."""
    return (state == UNKNOWN) | (state == FAILED)


def _set_problem(column: Column, row: int, problem) -> None:
    """Row `row` of `column` holds `problem` (an Unknown, a Failure)."""
    column.state[row] = UNKNOWN if problem.__class__ is Unknown else FAILED
    problems = column.problems
    if problems is None:
        problems = column.problems = np.empty(len(column.state), dtype=object)
    problems[row] = problem


def _built(kind: str, results: list, rows: np.ndarray, state: np.ndarray, n: int, derive=None) -> Column:
    """The column of `results` (Python values, each for a row of `rows`), the other rows in `state` (their
    problems made by `derive`)."""
    column = _empty(kind, n)
    column.state, column._derive = state.copy(), derive
    values, state, native = column.values, column.state, NATIVE.get(kind)
    rows = rows.tolist()
    plain = _plain(kind, results)
    if plain is not None:
        values[rows] = plain
        return column
    for row, value in zip(rows, results):
        if value.__class__ in PROBLEMS:
            _set_problem(column, row, value)
        elif native is None:
            values[row] = value  # one by one: a list would be spread over the array
        else:
            value = _native(kind, value)
            if value is None:
                state[row] = OPEN
            else:
                values[row] = value
    return column


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


def _folded(whole: Column, rows: np.ndarray, parts: Column, decided: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The state and problems of a fold over the parts of each row (`rows[i]` is part i's row, the parts of a
    row in their order): plain where `decided`, else the worst of the row's own and its parts' states, with
    first_problem of the parts, in order, where the row itself is plain."""
    state = whole.state.copy()
    np.maximum.at(state, rows, parts.state)
    state[decided] = CLEAN

    def derive(column: Column) -> np.ndarray | None:
        problems = None if whole.problems is None else whole.problems.copy()
        pending = np.flatnonzero(troubled_rows(column.state) & (whole.state == CLEAN))
        if len(pending) and parts.problems is not None:
            if problems is None:
                problems = np.empty(len(column.state), dtype=object)
            order = np.argsort(rows, kind="stable")
            starts = np.searchsorted(rows[order], pending)
            ends = np.searchsorted(rows[order], pending, side="right")
            troubled = troubled_rows(parts.state)
            for row, start, end in zip(pending.tolist(), starts.tolist(), ends.tolist()):
                these = order[start:end]
                problems[row] = first_problem(*parts.problems[these[troubled[these]]].tolist())
        return problems

    return state, derive


def _once_each(compute, args: list[list]) -> list | None:
    """`compute` on each row's arguments, once for each combination of the objects they are: the same objects
    give the same result (a barème's rates, the literals, a field's few values). None if the combinations are
    too many to number."""
    combined, combinations = np.zeros(len(args[0]), dtype=np.int64), 1
    for a in args:  # each argument numbered by its distinct objects, then the combinations numbered
        numbers = np.unique(np.asarray([id(x) for x in a], dtype=np.int64), return_inverse=True)[1].reshape(-1)
        distinct = int(numbers.max()) + 1
        combinations *= distinct
        if combinations >= 2**62:
            return None
        combined = combined * distinct + numbers
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    once = _objects([compute(*(a[i] for a in args)) for i in first.tolist()])
    return once[inverse.reshape(-1)].tolist()


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int8)


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _empty(kind: str, n: int) -> Column:
    native = NATIVE.get(kind)
    values = np.zeros(n, dtype=native) if native is not None else np.empty(n, dtype=object)
    return Column(kind, values, np.zeros(n, dtype=np.int8))


def _as(column: Column, kind: str) -> Column:
    """`column` where a value of `kind` is expected: a column that is never a value (« hors barème ») becomes
    one of that kind; two kinds of exact Python values mix as the compiled program mixes them."""
    if column.kind == kind or (kind not in NATIVE and column.kind not in NATIVE):
        return column
    if column.kind == "inconnu" and not column.clean().any():
        return Column(kind, _empty(kind, len(column.state)).values, column.state, derive=lambda _: column.problems)
    raise Unsupported(f"{column.kind} au lieu de {kind}")


def _worst(columns) -> np.ndarray:
    state = columns[0].state
    for c in columns[1:]:
        state = np.maximum(state, c.state)
    return state


def _in_doubt(columns: list[Column], conditions: list[Column], chosen: np.ndarray, settled: np.ndarray,
              result: Column) -> np.ndarray:
    """runtime.resolve, for a value, on the rows where no exception holds and some can only be unknown (the others
    plainly do not hold): the base, if every exception in doubt would give the same value; else unknown, with
    the base's problem or the first differing one's. `result` (the base there) takes those rows; which they are
    is returned."""
    n = len(chosen)
    doubt = ~settled & (chosen < 0)
    for c in conditions:
        doubt &= (c.state == CLEAN) | (c.state == UNKNOWN)
    if not doubt.any():
        return doubt
    base = columns[0]
    lead = np.full(n, -2)  # whose problem leads the row's: -1 the base's, j the j-th exception's consequence
    lead[doubt & (base.state != CLEAN)] = -1
    open_ = doubt & (base.state == OPEN)
    undecided = doubt & (base.state == CLEAN)
    for j, (condition, consequence) in enumerate(zip(conditions, columns[1:])):
        differs = undecided & (condition.state == UNKNOWN) & ~((consequence.state == CLEAN) & _equal(consequence, base))
        lead[differs] = j
        open_ |= differs & (consequence.state == OPEN)
        undecided &= ~differs
    changed = doubt & (lead > -2)
    failed = np.zeros(n, dtype=bool)
    for j, column in enumerate(columns):
        failed |= changed & (lead == j - 1) & (column.state == FAILED)
    result.state = np.where(changed, np.where(open_, OPEN, np.where(failed, FAILED, UNKNOWN)), result.state).astype(np.int8)
    before = result.deriving()

    def derive(column: Column) -> np.ndarray | None:
        problems = before(column)
        rows = np.flatnonzero(changed & ~open_)
        if not len(rows):
            return problems
        problems = np.empty(n, dtype=object) if problems is None else problems
        for row in rows.tolist():
            first = columns[lead[row] + 1]
            doubts = [c.problems[row] for c in conditions if c.state[row] == UNKNOWN]
            problems[row] = first_problem(first.problems[row] if first.state[row] in (UNKNOWN, FAILED) else None,
                                          *doubts)
        return problems

    result._derive = derive
    return doubt


def _equal(a: Column, b: Column) -> np.ndarray:
    """Row by row, whether the two values are equal as Python compares them (amounts by their value)."""
    if a.kind in NATIVE:
        return a.values == b.values
    return np.asarray([x == y for x, y in zip(a.values.tolist(), b.values.tolist())], dtype=bool)


class Undecided(Exception):
    """A value the columns cannot tell, met where runtime.resolve reads one."""


def row_value(column: Column, row: int):
    if column.state[row] == OPEN:
        raise Undecided
    return column.value(row)


def _put(column: Column, row: int, value) -> None:
    """Row `row` of `column` holds the Python value `value` (OPEN if the column cannot hold it)."""
    if value.__class__ in PROBLEMS:
        _set_problem(column, row, value)
    elif column.kind in NATIVE:
        native = _native(column.kind, value)
        column.state[row] = OPEN if native is None else CLEAN
        column.values[row] = 0 if native is None else native
    else:
        column.state[row] = CLEAN
        column.values[row] = value


def _select(columns: list[Column], chosen: np.ndarray) -> Column:
    """Row by row, the column `chosen` names (-1: the first)."""
    first = columns[0]
    values, state = first.values.copy(), first.state.copy()
    for i, c in enumerate(columns[1:]):
        rows = chosen == i
        values[rows], state[rows] = c.values[rows], c.state[rows]

    def derive(column: Column) -> np.ndarray | None:
        troubled = troubled_rows(column.state)
        if not troubled.any():
            return None
        problems = np.empty(len(state), dtype=object)
        for i, c in enumerate(columns):
            rows = troubled & (chosen == i - 1) & troubled_rows(c.state)
            if rows.any():
                problems[rows] = c.problems[rows]
        return problems

    return Column(first.kind, values, state, derive=derive)


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


class Batch(ExpressionVisitor):
    """One batch's columns: each definition, amount, field and dossier-wide expression computed once."""

    def __init__(self, program: Program, datas: list[dict], grids: dict | None = None, recording: bool = False) -> None:
        self.program = program
        self.datas = datas
        self.grids = {} if grids is None else grids  # the program's barèmes, numbered once (_Grid)
        self.n = len(datas)
        self.root = Scope(self.n)
        self.definitions: dict[str, Column] = {}
        self.amounts: dict[str, tuple[Column, Column, np.ndarray, np.ndarray]] = {}
        self.outcomes: dict[str, list] = {}  # each amount's outcomes (batches.BatchEvaluator._amount_outcomes)
        self.memo: dict[int, Column] = {}  # dossier-wide expressions, by node
        self._fields: dict[tuple, Column] = {}
        self._pieces = None
        self._holders = None
        self._unknowns: dict[str, Unknown] = {}
        self._paths: dict[tuple[str, ...], list] = {}
        self._items: dict[str, Column] = {}
        self._owner: dict[str, np.ndarray | None] = {}
        # For the reasoning trees (trees.py): every column by node and scope, and how each scope below another
        # was made, each entry holding its scope so that the scope's id is not reused while it is kept.
        self.kept: dict | None = {} if recording else None

    # -------------------------------------------------------------- expressions

    def close(self) -> None:
        """Forget the batch's columns: the functions that make their problems refer to the batch, which would
        otherwise hold them in a cycle."""
        for made in (self.definitions, self.amounts, self.outcomes, self.memo, self._fields, self._paths,
                     self._items, self._owner, self._unknowns, self.kept or {}):
            made.clear()
        self._pieces = self._holders = None

    def grid(self, table, kind: str) -> _Grid:
        key = (id(table), kind)
        if key not in self.grids:
            self.grids[key] = (table, _Grid(table, kind))  # the table kept, so that its id is not reused
        return self.grids[key][1]

    def unknown(self, pointer: str) -> Unknown:
        """The Unknown of a missing field, one for all the rows that miss it."""
        found = self._unknowns.get(pointer)
        if found is None:
            found = self._unknowns[pointer] = Unknown(frozenset({pointer}))
        return found

    def eval(self, e: ir.Expr, scope: Scope) -> Column:
        if scope is self.root:
            found = self.memo.get(id(e))
            if found is None:
                found = self.memo[id(e)] = self.visit(e, scope)
            return found
        if self.kept is None:
            return self.visit(e, scope)
        return self.recorded(("eval", id(e)), scope, lambda: self.visit(e, scope))

    def recorded(self, key: tuple, scope: Scope, compute):
        """`compute()` for `key` on `scope`, made once while the batch records its columns for the trees."""
        key = (*key, id(scope))
        found = self.kept.get(key)
        if found is None:
            found = self.kept[key] = (scope, compute())
        return found[1]

    def _map(self, compute, columns, kind: str, scope: Scope) -> Column:
        """`compute` on the Python values of the rows where every operand is plain; the others keep the worst
        of their operands' states, as first_problem does."""
        if kind not in ("montant", "booléen") and any(c.kind == "montant" for c in columns):
            # Amounts held in millionths come back as Money with six decimals: equal, and written alike once
            # rounded, but a decimal computed from one could show more zeros than the compiled program's.
            raise Unsupported("décimal calculé d'un montant")
        state, derive = _combined(columns)
        rows = np.flatnonzero(state == CLEAN)
        args = [c.objects(rows) for c in columns]
        results = None
        if len(rows) >= 16 and not any(c.kind == "objet" for c in columns):  # elements: each one its own object
            results = _once_each(compute, args)
        if results is None:
            results = list(map(compute, *args))
        return _built(kind, results, rows, state, scope.n, derive)

    def _e_Literal(self, e, scope):
        return _full(e.type.kind, e.value, scope.n)

    def _e_OutOfScope(self, e, scope):
        return _failing("inconnu", NotCovered(e.message), scope.n)

    def _e_DefRef(self, e, scope):
        column = self.definition(e.name)
        return column if scope.parent is None else column.take(scope.parent)

    def definition(self, name: str) -> Column:
        found = self.definitions.get(name)
        if found is None:
            found = self.definitions[name] = self.valued(self.program.definitions[name].value, self.root)[0]
        return found

    def _e_AmountRef(self, e, scope):
        column = self.amount(e.name)[1]
        return column if scope.parent is None else column.take(scope.parent)

    def _e_VarRef(self, e, scope):
        if e.name not in scope.env:
            raise Unsupported(f"variable {e.name}")
        return scope.env[e.name]

    def _e_Rank(self, e, scope):
        if e.var == "titulaire" and _RANK in scope.env:
            ranks = scope.env[_RANK]
            return Column("entier", ranks.values + 1, ranks.state)
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
            nodes = self._nodes(e.parts)
            pointer = "/" + "/".join(e.parts)
            missing = self.unknown(pointer)  # one for every dossier, as the compiled program's constant
            self._fields[key] = self._converted(e, nodes, lambda row: pointer, lambda row: missing)
        return self._fields[key]

    def _nodes(self, parts: tuple[str, ...]) -> list:
        """What each dossier holds at `parts` (None where it holds nothing), as compile._Generator reads it;
        each path read once a batch, the fields of `vehicule` from one reading of `vehicule`."""
        found = self._paths.get(parts)
        if found is None:
            if len(parts) == 1:
                found = [d.get(parts[0]) for d in self.datas]
            else:
                part = parts[-1]
                found = [x.get(part) if x.__class__ is dict else None for x in self._nodes(parts[:-1])]
            self._paths[parts] = found
        return found

    def _read(self, e: ir.FieldRef, items: Column, n: int) -> Column:
        """A field of loop variables or of a definition's element: where the element is a problem, that problem;
        where it is something else than an element, OPEN."""
        elements = items.values.tolist()
        plain = items.state == CLEAN
        nodes = [x.data if x.__class__ is Item and good else None for x, good in zip(elements, plain.tolist())]
        for part in e.parts:
            nodes = [x.get(part) if x.__class__ is dict else None for x in nodes]
        tail = "/" + "/".join(e.parts)
        column = self._converted(e, nodes, lambda row: elements[row].pointer + tail,
                                 lambda row: self.unknown(getattr(elements[row], "pointer", "") + tail))
        taken = ~plain | np.asarray([x.__class__ is not Item for x in elements], dtype=bool)
        if not taken.any():
            return column
        inner = column.deriving()
        column.state = np.where(taken, np.where(plain, OPEN, items.state), column.state).astype(np.int8)

        def derive(read: Column) -> np.ndarray | None:
            problems = inner(read)
            problems = None if problems is None else problems.copy()
            troubled = taken & troubled_rows(items.state)
            if troubled.any():
                problems = np.empty(n, dtype=object) if problems is None else problems
                problems[troubled] = items.problems[troubled]
            return problems

        column._derive = derive
        return column

    def _converted(self, e: ir.FieldRef, nodes: list, pointer, unknown) -> Column:
        """The values the compiled program converts a field's JSON to (compile._Generator._convert); `pointer`
        gives a row's JSON pointer, which a list's elements and an amount's error carry, and `unknown` the
        Unknown of a row without the field."""
        kind = e.type.kind
        missing = np.asarray([x is None for x in nodes], dtype=bool)
        state = np.where(missing, UNKNOWN, CLEAN).astype(np.int8)

        def derive(_) -> np.ndarray | None:
            if not missing.any():
                return None
            problems = np.empty(len(nodes), dtype=object)
            for row in np.flatnonzero(missing).tolist():
                problems[row] = unknown(row)
            return problems

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
        return _built(kind, results, rows, state, len(nodes), derive)

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
        return _select([operand, fallback], np.where(take, 0, -1))

    def _e_Compare(self, e, scope):
        calendar = self._elapsed_against(e, scope)
        if calendar is not None:
            return calendar
        left, right = self.eval(e.left, scope), self.eval(e.right, scope)
        if left.kind == "durée" or left.kind != right.kind:
            return self._map(lambda a, b: compare(e.op, a, b), [left, right], "booléen", scope)
        state, derive = _combined([left, right])
        if left.kind in NATIVE:
            return Column("booléen", _COMPARE[e.op](left.values, right.values), state, derive=derive)
        rows = np.flatnonzero(state == CLEAN)
        values = np.zeros(scope.n, dtype=bool)
        values[rows] = _COMPARE[e.op](left.values[rows], right.values[rows]).astype(bool)
        return Column("booléen", values, state, derive=derive)

    def _e_Arith(self, e, scope):
        left, right = self.eval(e.left, scope), self.eval(e.right, scope)
        if e.op in "+-*" and left.kind == right.kind == e.type.kind == "entier":
            state, derive = _combined([left, right])
            clean = state == CLEAN
            if not clean.any() or max(np.abs(left.values[clean]).max(), np.abs(right.values[clean]).max()) \
                    < _INT_LIMIT:
                values = {"+": np.add, "-": np.subtract, "*": np.multiply}[e.op](left.values, right.values)
                state = np.where(clean & (np.abs(values) >= _INT_LIMIT), OPEN, state).astype(np.int8)
                return Column("entier", values, state, derive=derive)
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
            return Column(operand.kind, -operand.values, state, derive=lambda _: operand.problems)
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
        state, derive = _combined([start, end])
        state[(state == CLEAN) & (~ok | (end.values < start.values))] = OPEN
        left, right = (end.values, reached) if sides[0] is not None else (reached, end.values)
        return Column("booléen", _COMPARE[e.op](left, right), state, derive=derive)

    def _between(self, e: ir.Expr) -> ir.Between | None:
        """The « durée entre » an expression is, directly or as a definition without « sauf si »."""
        if isinstance(e, ir.DefRef):
            value = self.program.definitions[e.name].value
            return self._between(value.base) if not value.cases and isinstance(value.base, ir.Expr) else None
        return e if isinstance(e, ir.Between) else None

    def _e_UnitsBetween(self, e, scope):
        start, end = self.eval(e.start, scope), self.eval(e.end, scope)
        state, derive = _combined([start, end])
        if e.unit.startswith("jour"):
            return Column("entier", end.values - start.values, state, derive=derive)
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
        return Column("entier", months, state, derive=derive)

    def _e_Between(self, e, scope):
        return self._map(lambda a, b: computed(between, a, b), [self.eval(e.start, scope), self.eval(e.end, scope)],
                         "durée", scope)

    def _e_First(self, e, scope):
        collection = e.collection
        missing = Unknown(frozenset({"/" + "/".join(collection.parts)}))
        if isinstance(collection, ir.FieldRef) and collection.base is None and collection.type.kind == "liste":
            column = self._first(collection, e.type.kind, missing)
            return column if scope.parent is None else column.take(scope.parent)
        return self._map(lambda items: items[0] if items else missing, [self.eval(collection, scope)],
                         e.type.kind, scope)

    def _first(self, collection: ir.FieldRef, kind: str, missing: Unknown) -> Column:
        """« premier de L » for a list of the dossier: runtime.convert's first element, the others not made."""
        key = ("premier", collection.parts)
        if key not in self._fields:
            pointer = "/" + "/".join(collection.parts)
            column = Column(kind, np.empty(self.n, dtype=object), _zeros(self.n))
            for row, x in enumerate(self._nodes(collection.parts)):
                if x is None:
                    _set_problem(column, row, self.unknown(pointer))
                elif x.__class__ is not list:  # convert would enumerate it: left to the compiled program
                    column.state[row] = OPEN
                elif not x:
                    _set_problem(column, row, missing)
                else:
                    column.values[row] = Item(f"{pointer}/0", x[0], 0)
            self._fields[key] = column
        return self._fields[key]

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
        below = scope.below(rows, {e.var: elements})
        if self.kept is not None:
            self.kept[("each", id(e), id(scope))] = (scope, rows, below)
        return collection, rows, self.eval(e.condition, below)

    def _e_Quantifier(self, e, scope):
        """runtime.kleene over each list: « pour tout » absorbs on a plain false, « il existe » on a plain true."""
        collection, rows, condition = self._each(e, scope)
        absorbing = not e.every
        hit = (condition.state == CLEAN) & (condition.values if absorbing else ~condition.values)
        decided = np.bincount(rows, weights=hit, minlength=scope.n) > 0
        state, derive = _folded(collection, rows, condition, decided)
        return Column("booléen", decided if absorbing else ~decided, state, derive=derive)

    def _e_Count(self, e, scope):
        """How many elements each list has, or satisfy the condition (unless one cannot be told: first_problem)."""
        collection, rows, condition = self._each(e, scope)
        if condition is None:
            return Column("entier", np.bincount(rows, minlength=scope.n), collection.state,
                          derive=lambda _: collection.problems)
        counted = np.bincount(rows, weights=(condition.state == CLEAN) & condition.values, minlength=scope.n)
        state, derive = _folded(collection, rows, condition, np.zeros(scope.n, dtype=bool))
        return Column("entier", counted.astype(np.int64), state, derive=derive)

    def _e_Prefix(self, e, scope):
        return self._map(lambda text: text[: e.count], [self.eval(e.operand, scope)], "texte", scope)

    def _e_Not(self, e, scope):
        operand = self.eval(e.operand, scope)
        return Column("booléen", ~operand.values, operand.state, derive=lambda _: operand.problems)

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
        return Column("booléen", decided if absorbing else ~decided, state, derive=_deriving(columns))

    def fallback(self, e, *args):
        raise Unsupported(type(e).__name__)

    # -------------------------------------------------------------- « sauf si »

    def conditions(self, node: ir.Exceptions, scope: Scope) -> tuple[list[Column], np.ndarray, np.ndarray]:
        """The exceptions' conditions, and on each row the first that holds (-1: none) and whether the columns
        settle runtime.resolve alone: every condition plain, and the ones that hold agreeing. Elsewhere resolve
        itself decides, on the row's values (valued, batches), unless a condition is OPEN (it might hold)."""
        conditions = [self.eval(case.condition, scope) for case in node.cases]
        if not conditions:
            return [], np.full(scope.n, -1), np.ones(scope.n, dtype=bool)
        holds = [(c.state == CLEAN) & c.values for c in conditions]
        chosen = np.full(scope.n, -1)
        for i in reversed(range(len(holds))):
            chosen[holds[i]] = i
        # Two exceptions with the same consequence do not conflict: number each consequence by its first case.
        groups = [next(j for j, other in enumerate(node.cases) if other.consequence == case.consequence)
                  for case in node.cases]
        group_of_chosen = np.asarray(groups)[np.maximum(chosen, 0)]
        settled = _worst(conditions) == CLEAN
        for i, h in enumerate(holds):
            settled &= ~(h & (groups[i] != group_of_chosen))
        return conditions, chosen, settled

    def valued(self, node: ir.Exceptions, scope: Scope) -> tuple[Column, np.ndarray]:
        """A definition's or amount's value, and the branch that gave it on each row (-1: the base)."""
        branches = [node.base, *(case.consequence for case in node.cases)]
        columns = [self.eval(b, scope) if isinstance(b, ir.Expr) else self.valued(b, scope)[0] for b in branches]
        kind = next((c.kind for c in columns if c.kind != "inconnu"), "inconnu")
        columns = [_as(c, kind) for c in columns]
        if not node.cases:
            return columns[0], np.full(scope.n, -1)
        conditions, chosen, settled = self.conditions(node, scope)
        result = _select(columns, chosen)
        settled = settled | _in_doubt(columns, conditions, chosen, settled, result)
        for row in np.flatnonzero(~settled).tolist():
            try:
                values = [row_value(c, row) for c in conditions]
                case, value = resolve(node, values, lambda branch: row_value(columns[branches.index(branch)], row))
            except Undecided:
                result.state[row] = OPEN
                continue
            chosen[row] = -1 if case is None else node.cases.index(case)
            _put(result, row, value)
        return result, chosen

    # -------------------------------------------------------------- pieces

    def pieces(self, piece_type: str) -> tuple[np.ndarray, list]:
        """The batch's pieces of a type: each one's dossier, and each one's index and element."""
        if self._pieces is None:
            lists = [x if x.__class__ is list else () for x in self._nodes(("pieces",))]
            rows = np.repeat(np.arange(self.n), [len(x) for x in lists])
            flat = [(i, p) for x in lists for i, p in enumerate(x)]
            types = [p.get("type") for _, p in flat]
            by_type: dict[str, list[int]] = {}
            for position, kind in enumerate(types):
                by_type.setdefault(kind, []).append(position)
            self._pieces = {t: (rows[where], [flat[k] for k in where]) for t, where in by_type.items()}
        return self._pieces.get(piece_type) or (np.zeros(0, dtype=np.intp), [])

    def holders(self) -> tuple[Scope, list, np.ndarray]:
        """Each titulaire of the batch as a row (in dossier order), with the Holder a report names, and which
        dossiers have titulaires (those without get the outcome compile._requirement_runner gives them)."""
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
            ranks = np.asarray([item.index for item in items], dtype=np.int64)
            scope = Scope(len(rows), rows, {"titulaire": Column("objet", _objects(items), _zeros(len(rows))),
                                            _RANK: Column("entier", ranks, _zeros(len(rows)))})
            self._holders = scope, holders, np.bincount(rows, minlength=self.n) > 0
        return self._holders

    def demand(self, demand: ir.Demand, scope: Scope) -> Column:
        """Whether each row of `scope` meets a demand, as runtime.kleene folds its alternatives and pieces."""
        if isinstance(demand, ir.ConditionDemand):
            return self.eval(demand.condition, scope)

        def met() -> Column:
            return self._kleene([self.alternative(spec, scope) for spec in demand.alternatives], True)

        return met() if self.kept is None else self.recorded(("demand", id(demand)), scope, met)

    def alternative(self, spec: ir.PieceSpec, scope: Scope) -> Column:
        """Whether some piece of the type, in the row's dossier, passes every filter."""
        if self.kept is None:
            return self._alternative(spec, scope)
        return self.recorded(("alternative", id(spec)), scope, lambda: self._alternative(spec, scope))

    def _alternative(self, spec: ir.PieceSpec, scope: Scope) -> Column:
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
            if self.kept is not None:
                self.kept[("pairs", id(spec), id(scope))] = (scope, rows, which, None, [], None)
            values = np.bincount(rows, minlength=scope.n) > 0
            return Column("booléen", values, _zeros(scope.n))
        owners = self._owners(spec.piece_type)
        # The pieces as loop variables, unless « du titulaire » is all that is asked of them.
        plain = owners is not None and _RANK in scope.env and all(isinstance(f, ir.OfHolder) for f in spec.filters)
        below = scope.below(rows, {} if plain else {"pièce": self.piece_items(spec.piece_type).take(which)})
        filters = [self._filter(f, below, owners, which) for f in spec.filters]
        piece = self._kleene(filters, False)
        if self.kept is not None:
            self.kept[("pairs", id(spec), id(scope))] = (scope, rows, which, below, filters, piece)
        met = np.bincount(rows, weights=piece.clean() & piece.values, minlength=scope.n) > 0
        state, derive = _folded(_full("booléen", False, scope.n), rows, piece, met)
        return Column("booléen", met, state, derive=derive)

    def piece_items(self, piece_type: str) -> Column:
        """The pieces of a type as loop variables."""
        if piece_type not in self._items:
            pieces = self.pieces(piece_type)[1]
            self._items[piece_type] = Column("objet", _objects([Item(f"/pieces/{i}", p, i) for i, p in pieces]),
                                             _zeros(len(pieces)))
        return self._items[piece_type]

    def _owners(self, piece_type: str) -> np.ndarray | None:
        """The titulaire each piece of a type is « du » (None unless each one says it with an integer, or says
        nothing: the first)."""
        if piece_type not in self._owner:
            owners = [p.get("titulaire", 0) for _, p in self.pieces(piece_type)[1]]
            self._owner[piece_type] = np.asarray(owners, dtype=np.int64) if all(
                o.__class__ is int and -_INT_LIMIT < o < _INT_LIMIT for o in owners) else None
        return self._owner[piece_type]

    def _filter(self, f, scope: Scope, owners: np.ndarray | None, which: np.ndarray) -> Column:
        """A filter's value on each (row, piece) pair of `scope`, `which` naming each pair's piece."""
        if isinstance(f, ir.OfHolder) and owners is not None and _RANK in scope.env:
            return Column("booléen", owners[which] == scope.env[_RANK].values, _zeros(scope.n))
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

    def amount(self, name: str) -> tuple[Column, Column, np.ndarray, np.ndarray]:
        """An amount's value before it is settled (a problem where its condition is one), the value an
        AmountRef reads (rounded to the cent; 0 € where it is not due), the branch of its « sauf si » that gave
        it, and where it is due."""
        if name not in self.amounts:
            a = self.program.amounts[name]
            value, chosen = self.valued(a.value, self.root)
            value = _as(value, "montant")
            due, undecided = np.ones(self.n, dtype=bool), np.zeros(self.n, dtype=bool)
            if a.applies is not None:
                applies = _as(self.eval(a.applies, self.root), "booléen")
                due, undecided = applies.clean() & applies.values, applies.state != CLEAN
                # Where it is not known whether it applies, that is its value (compile._Generator._amount).
                value = _select([value, applies], np.where(undecided, 0, -1))
            cents, unheld = _rounded(value.values)
            read = Column("montant", np.where(due & (value.state == CLEAN), cents * CENT, 0),
                          np.where(due | undecided, value.state, CLEAN).astype(np.int8),
                          derive=lambda _: value.problems)
            read.state[due & (value.state == CLEAN) & unheld] = OPEN
            self.amounts[name] = (value, read, chosen, due)
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
    day = Column("date", np.zeros(n, dtype=np.int64), _zeros(n))
    for row, item in enumerate(pieces.values.tolist()):
        raw = item.data.get("date") if item.__class__ is Item else None
        if item.__class__ is not Item:
            day.state[row] = OPEN
        elif isinstance(raw, str):
            day.values[row] = datetime.date.fromisoformat(raw).toordinal()
        else:
            _set_problem(day, row, Unknown(frozenset({item.pointer + "/date"})))
    days = day.values
    state, derive = _combined([reference, day, max_age])  # in runtime.dated's order
    valid_until = np.zeros(n, dtype=np.int64)
    clean = state == CLEAN
    result = Column("booléen", np.zeros(n, dtype=bool), state.copy(), derive=derive)
    for duration in set(max_age.values[clean].tolist()):
        rows = clean & (max_age.values == duration)
        if duration.__class__ is not Duration:
            result.state[rows] = OPEN
            continue
        shifted, ok = _shift(days, duration)
        valid_until[rows] = shifted[rows]
        for row in np.flatnonzero(rows & ~ok).tolist():  # past the calendar: computed's own message
            failure = computed(shift, datetime.date.fromordinal(int(days[row])), duration)
            if isinstance(failure, Failure):
                _set_problem(result, row, failure)
            else:
                result.state[row] = OPEN
    result.values = (days <= reference.values) & (reference.values <= valid_until)
    return result


def _money(op: str, left: Column, right: Column) -> Column | None:
    """runtime.money_plus, money_minus and money_times on millionths of a euro; OPEN where the result would
    leave them (too large, or off the grid); None for operands of other kinds (a boolean factor)."""
    state, derive = _combined([left, right])
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
    return Column("montant", values, state, derive=derive)


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


_HALF_CENT, CENT = 5 * 10 ** (MICRO_DIGITS - 3), 10 ** (MICRO_DIGITS - 2)


def _rounded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Millionths of a euro to cents, rounding half away from zero as Money.rounded does (ROUND_HALF_UP), and
    where the cents do not hold its result: a negative amount that rounds to zero, which it writes « -0.00 »."""
    cents = np.where(values >= 0, (values + _HALF_CENT) // CENT, -((_HALF_CENT - values) // CENT))
    return cents, (values < 0) & (cents == 0)


class _Grid:
    """A barème's rows and dated versions numbered once for a program, with what a lookup reads of each: the
    bounds of a version's ranges, and each constant value as a column holds it."""

    def __init__(self, table, kind: str) -> None:
        self.choices: list = []
        self.numbers: dict[int, int] = {}
        self.ranges: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # a version's lows, highs, rows
        for versions in table.groups.values():
            for version in versions:
                self._number(version)
        for version in table.periods:
            self._number(version.period)
            numbers = [self._number(r) for r in version.ranges]
            for row in version.texts.values():
                self._number(row)
            self.ranges[id(version)] = (np.asarray(version.lows, dtype=np.int64),
                                        np.asarray([_OPEN_HIGH if r.key.high is None else r.key.high
                                                    for r in version.ranges], dtype=np.int64),
                                        np.asarray(numbers, dtype=np.int64))
        self.constants, self.cells = _empty(kind, len(self.choices)), []
        for number, choice in enumerate(self.choices):
            value = choice.value
            if isinstance(value, ir.Literal):
                native = value.value if kind not in NATIVE else _native(kind, value.value)
                self.constants.values[number] = 0 if native is None else native
                self.constants.state[number] = OPEN if native is None else CLEAN
            elif isinstance(value, ir.OutOfScope):
                _set_problem(self.constants, number, NotCovered(value.message))
            elif value is not None:
                self.cells.append((number, value))

    def _number(self, choice) -> int:
        if id(choice) not in self.numbers:
            self.numbers[id(choice)] = len(self.choices)
            self.choices.append(choice)
        return self.numbers[id(choice)]


class _Lookup:
    """A barème lookup on every row: the version in force on its day, then the row of its key, as
    CompiledTable.find; then the row's value (a constant, or computed on the key)."""

    def __init__(self, batch: Batch, e: ir.TableRef, scope: Scope, key: Column | None, day: Column) -> None:
        self.batch, self.e, self.scope, self.key, self.day = batch, e, scope, key, day
        self.table = e.table
        self.grid = batch.grid(e.table, e.type.kind)

    def value(self) -> Column:
        n, table, numbers = self.scope.n, self.table, self.grid.numbers
        state, derive = _combined([self.day] if self.key is None else [self.key, self.day])
        code = np.full(n, -1)  # the row or version found on each row; -1: none
        clean = state == CLEAN
        days = self.day.values
        if table.groups:
            keys = self.key.values
            for key in set(keys[clean].tolist()):
                rows = clean & (keys == key)
                for version in table.groups.get(key) or ():
                    code[rows & _in_force(version, days) & (code < 0)] = numbers[id(version)]
        else:
            decided = ~clean  # the first version in force decides, even when it has no row for the key
            for version in table.periods:
                rows = ~decided & _in_force(version.period, days)
                decided |= rows
                if rows.any():
                    self._rows(version, rows, code)
        result = self._cells(code, state.copy(), derive)
        if self.batch.kept is not None:
            self.batch.kept[("lookup", id(self.e), id(self.scope))] = (self.scope, code, clean)
        for row in np.flatnonzero(clean & (code < 0)).tolist():  # no version in force, no row for the key: why
            key = None if self.key is None else self.key.value(row)
            _set_problem(result, row, Failure(table.find(key, self.day.value(row))))
        return result

    def _rows(self, version, rows: np.ndarray, code: np.ndarray) -> None:
        """CompiledPeriod.row_for on the rows a version is in force on."""
        numbers = self.grid.numbers
        if not self.table.keyed or version.period.value is not None:
            code[rows] = numbers[id(version.period)]
        elif self.key.kind == "entier" and version.ranges and not version.texts:
            keys = self.key.values
            lows, highs, ranges = self.grid.ranges[id(version)]
            index = np.searchsorted(lows, keys, side="right") - 1
            inside = rows & (index >= 0) & (keys <= highs[np.maximum(index, 0)])
            code[inside] = ranges[index[inside]]
        else:
            rows = np.flatnonzero(rows)
            found = [version.row_for(key) for key in self.key.objects(rows)]
            code[rows] = [-1 if f is None else numbers[id(f)] for f in found]

    def _cells(self, code: np.ndarray, state: np.ndarray, derive) -> Column:
        """Each row's value: the found row's or version's, computed on the key where it is an expression."""
        n, kind = self.scope.n, self.e.type.kind
        constants = self.grid.constants
        result = _empty(kind, n)
        result.state = state
        found = (state == CLEAN) & (code >= 0)
        rows = np.flatnonzero(found)
        result.values[rows] = constants.values[code[rows]]
        result.state[rows] = constants.state[code[rows]]
        computed_cells = []
        for number, value in self.grid.cells:
            rows = np.flatnonzero(found & (code == number))
            if not len(rows):
                continue
            env = {} if self.key is None else {ROW_KEY: self.key.take(rows)}
            below = self.scope.below(rows, env)
            if self.batch.kept is not None:
                self.batch.kept[("cell", id(self.e), number, id(self.scope))] = (self.scope, rows, below)
            column = _as(self.batch.eval(value, below), kind)
            result.values[rows] = column.values
            result.state[rows] = column.state
            computed_cells.append((rows, column))

        def problems(column: Column) -> np.ndarray | None:
            # The key's or day's problem, else the cell's: « hors barème », or what its computation met.
            made = derive(column)
            troubled = troubled_rows(column.state)
            if not (troubled & found).any():
                return made
            made = np.empty(n, dtype=object) if made is None else made
            where = troubled & found
            if constants.problems is not None:
                made[where] = constants.problems[code[where]]
            for rows, cell in computed_cells:
                bad = troubled_rows(cell.state)
                if bad.any():
                    made[rows[bad]] = cell.problems[bad]
            return made

        result._derive = problems
        return result


_OPEN_HIGH = 2**62


def _in_force(period, days: np.ndarray) -> np.ndarray:
    rows = days >= period.start.toordinal()
    if period.end is not None:
        rows &= days <= period.end.toordinal()
    return rows
