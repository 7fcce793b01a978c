"""A batch's reasoning trees, made from its columns: each distinct step made once for the whole batch.

explain.py makes a dossier's tree as the compiled program evaluates it: on the shipped pack, thousands of step
objects a dossier, most of them the same, word for word and value for value, as in the dossier before. Here a
batch (columns.py) records the column of every node on every scope, and each node gives an array: on each row,
the number of its step. A step is fixed by its node, its value and its children's steps (which fix the value
too, but for the leaves'), so rows whose values and children's numbers agree have the same step, and it is made
once, from the first of them (NumPy numbers the combinations). A tree is the same as explain.py's, step for step
(the tests compare the reports, trees included); dossiers with the same subtree share its objects, which
immutable tuples allow.

Number -1 stands for a step the columns cannot make (a value OPEN there): a dossier whose tree needs one is
explained by the compiled program instead (explain_many).
"""

from __future__ import annotations

import numpy as np

from . import ir
from .columns import CLEAN, NATIVE, OPEN, PROBLEMS, UNKNOWN, Batch, Column, Scope, Undecided, Unsupported, \
    row_value, troubled_rows
from .batches import evaluator
from .explain import GENERIC, explaining
from .ir import ExpressionVisitor
from .outcome import AmountOutcome, Outcome, RequirementOutcome, Step, StepKind
from .program import Program
from .runtime import dated, dated_note, piece_label, resolve, row_text
from .values import Unknown

_TN = tuple.__new__
_LIMIT = 2**62
_SHORT = 6  # the longest list whose elements' steps are numbered position by position; longer ones as tuples


def _dense(key: np.ndarray) -> np.ndarray:
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def numbered(keys: list[np.ndarray], n: int, known: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's number among the distinct combinations of `keys` (arrays of non-negative integers, -1 where
    the row cannot be numbered), and the first row of each combination. `known` holds what is known of some
    keys, by identity: the numbers of a step made before (lowest, highest, whether some are -1, first rows)."""
    known = known or {}
    if len(keys) == 1 and n:
        found = known.get(id(keys[0]))
        if found is not None and not found[2]:  # a step's own numbers: the same combinations
            return keys[0] - found[0], found[3]
    combined, width = np.zeros(n, dtype=np.int64), 1
    bad = None
    for key in keys:
        if not n:
            break
        found = known.get(id(key))
        if found is None:
            low, high = int(key.min()), int(key.max())
        else:
            low, high = (-1 if found[2] else found[0]), found[1]
        if low < 0:
            bad = key < 0 if bad is None else bad | (key < 0)
        if low == high:
            continue
        spread = high - low + 1
        if width * spread >= _LIMIT:
            combined = _dense(combined)
            width = int(combined.max()) + 1
            if width * spread >= _LIMIT:
                key, low = _dense(key), 0
                spread = int(key.max()) + 1
        combined = combined * spread + (key - low)
        width *= spread
    good = np.arange(n) if bad is None else np.flatnonzero(~bad)
    numbers = np.full(n, -1, dtype=np.int64)
    if width == 1:  # one combination (or none) for every row that has one
        numbers[good] = 0
        return numbers, good[:1]
    values = combined[good]
    if width <= 4 * n:  # few enough combinations to count them without sorting
        seen = np.zeros(width, dtype=bool)
        seen[values] = True
        rank = np.cumsum(seen) - 1
        first = np.empty(width, dtype=np.intp)
        first[values[::-1]] = good[::-1]  # the last written is each combination's first row
        numbers[good] = rank[values]
        return numbers, first[seen]
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    numbers[good] = inverse.reshape(-1)
    return numbers, good[first]


def value_keys(column: Column) -> list[np.ndarray]:
    """Keys that tell two rows' values apart as a step holds them: -1 where the value is OPEN. Texts, other
    plain values and problems by their value (equal ones are written alike); lists, decimals and elements by
    identity."""
    state = column.state
    n = len(state)
    status = state.astype(np.int64)
    status[state == OPEN] = -1
    clean = state == CLEAN
    if column.kind in NATIVE:
        values = np.where(clean, column.values, 0).astype(np.int64)
    else:
        values = np.zeros(n, dtype=np.int64)
        rows = np.flatnonzero(clean)
        numbers: dict = {}
        if column.kind == "texte":  # texts by value; anything else a text column holds, by identity
            values[rows] = [numbers.setdefault(v if v.__class__ is str else (id(v),), len(numbers))
                            for v in column.values[rows].tolist()]
        else:
            values[rows] = _dense(np.fromiter(map(id, column.values[rows].tolist()), dtype=np.int64, count=len(rows)))
    troubled = np.flatnonzero(troubled_rows(state))
    if len(troubled):  # the few distinct problem objects, then their values
        problems = column.problems[troubled].tolist()
        first, same = np.unique(np.fromiter(map(id, problems), dtype=np.int64, count=len(problems)),
                                return_inverse=True, return_index=True)[1:]
        numbers: dict = {}
        by_value = np.asarray([numbers.setdefault(problems[k], len(numbers)) for k in first.tolist()],
                              dtype=np.int64)
        values[troubled] = by_value[same.reshape(-1)]
    return [status, values]


def _values(column: Column, rows: list[int]) -> list:
    """The Python values of `rows` (none OPEN), as the compiled program holds them."""
    at = np.asarray(rows, dtype=np.intp)
    state = column.state[at]
    if not state.any():
        return column.objects(at)
    values = [None] * len(rows)
    clean = np.flatnonzero(state == CLEAN)
    for k, value in zip(clean.tolist(), column.objects(at[clean])):
        values[k] = value
    problems = column.problems
    for k in np.flatnonzero(state != CLEAN).tolist():
        values[k] = problems[rows[k]]
    return values


def _plus_one(ids: np.ndarray) -> np.ndarray:
    """Step numbers shifted by one, 0 left for « none », -1 kept for « cannot tell »."""
    return np.where(ids >= 0, ids + 1, -1)


def _within(need: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """The rows of `need` (every row when None) that are among `rows`."""
    return rows if need is None else need & rows


def _taken(ids: np.ndarray, scope: Scope) -> np.ndarray:
    """A root array's numbers on the rows of `scope`."""
    return ids if scope.parent is None else ids[scope.parent]


class _Runs:
    """The elements of each row (a list's, a row's pieces), in their order: rows[k] is element k's row."""

    def __init__(self, rows: np.ndarray, n: int) -> None:
        self.order = np.argsort(rows, kind="stable")
        self.counts = np.bincount(rows, minlength=n)
        self.starts = np.cumsum(self.counts) - self.counts
        self.n = n

    def keys(self, ids: np.ndarray) -> list[np.ndarray]:
        """Keys numbering each row's sequence of element steps."""
        ordered = ids[self.order]
        counts, starts = self.counts, self.starts
        longest = int(counts.max()) if self.n else 0
        if longest <= _SHORT:
            keys = [counts]
            for position in range(longest):
                has = counts > position
                key = np.zeros(self.n, dtype=np.int64)
                key[has] = ordered[starts[has] + position]
                keys.append(key)
            return keys
        numbers: dict = {}
        bad = np.bincount(np.repeat(np.arange(self.n), counts), weights=ordered < 0, minlength=self.n) > 0
        key = np.asarray([numbers.setdefault(tuple(ordered[s:s + c].tolist()), len(numbers))
                          for s, c in zip(starts.tolist(), counts.tolist())], dtype=np.int64)
        return [np.where(bad, -1, key)]

    def of(self, row: int, ids: np.ndarray) -> list[int]:
        start = self.starts[row]
        return ids[self.order[start:start + self.counts[row]]].tolist()


class Trees(ExpressionVisitor):
    """The steps of one batch: `steps` every step made, a node's array numbering them; `tuples` the children
    of definitions, amounts and « sauf si », numbered the same way."""

    prefix = "_t_"

    def __init__(self, batch: Batch) -> None:
        if batch.kept is None:
            raise ValueError("the batch does not record its columns")
        self.batch = batch
        self.steps: list[Step] = []
        self.tuples: list[tuple] = []
        self.memo: dict[tuple, tuple[Scope, np.ndarray, np.ndarray | None]] = {}  # and the rows it was made on
        self._definitions: dict[str, np.ndarray] = {}
        self._amounts: dict[str, np.ndarray] = {}
        self._keys: dict[int, tuple[Column, list]] = {}
        self._known: dict[int, tuple] = {}  # what numbered knows of the numbers `made` gave
        self._row_texts: dict[tuple, str] = {}  # how a lookup's step names the row it read, by row and key
        self._pieces: dict[str, tuple[list, np.ndarray]] = {}
        self._needs: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # a `need`, and its key: 0 in it, -1 outside

    # -------------------------------------------------------------- numbering

    def made(self, keys: list[np.ndarray], n: int, build, into: list, column: Column | None = None,
             need: np.ndarray | None = None) -> np.ndarray:
        """Numbers into `into` (steps or tuples), each distinct combination of keys made once: `build(rows,
        values)` makes them from the first row of each (a NumPy array), and its value in `column` (a list).
        Rows outside `need` (when given) are numbered -1: no tree of theirs holds the step."""
        if need is not None:
            found = self._needs.get(id(need))
            if found is None:  # one key for each `need`, which a subtree's nodes share
                found = self._needs[id(need)] = (need, np.where(need, 0, -1))
            keys = [*keys, found[1]]
        numbers, first = numbered(keys, n, self._known)
        base = len(into)
        made = build(first, None if column is None else _values(column, first))
        if len(made) != len(first):
            raise RuntimeError("trees: a step for each combination")
        into.extend(made)
        bad = len(first) < n and bool((numbers < 0).any())
        ids = np.where(numbers >= 0, numbers + base, -1) if bad else numbers + base
        self._known[id(ids)] = (base, base + max(len(first) - 1, 0), bad, first, ids)  # ids kept: not reused
        return ids

    def shifted(self, ids: np.ndarray) -> np.ndarray:
        """_plus_one(ids), with what `numbered` knows of `ids` carried over to the result."""
        moved = _plus_one(ids)
        found = self._known.get(id(ids))
        if found is not None:
            self._known[id(moved)] = (found[0] + 1, found[1] + 1, found[2], found[3], moved)
        return moved

    def step(self, kind: StepKind, text: str, span, column: Column, children: list[np.ndarray],
             note=None, need: np.ndarray | None = None, same: bool = False) -> np.ndarray:
        """A step of `column`'s value on each row, its children the steps `children` number; `same`: the value is
        the same on every row, so no key tells the rows apart."""
        steps = self.steps

        def build(rows, values) -> list:
            if not children:
                return [_TN(Step, (kind, text, v, span, (), note)) for v in values]
            below = zip(*[[steps[k] for k in c[rows].tolist()] for c in children])
            return [_TN(Step, (kind, text, v, span, b, note)) for v, b in zip(values, below)]

        keys = [] if same else self.opened(column) if children else self.keys_of(column)
        return self.made([*keys, *children], len(column.state), build, steps, column, need)

    def opened(self, column: Column) -> list[np.ndarray]:
        """The keys of a step whose value follows from its children's steps (all but the leaves'): only
        whether the columns can tell it."""
        unknown = column.state == OPEN
        return [np.where(unknown, -1, 0)] if unknown.any() else []

    def keys_of(self, column: Column) -> list[np.ndarray]:
        """value_keys, once for each column (a definition's serves each place that names it)."""
        found = self._keys.get(id(column))
        if found is None:
            found = self._keys[id(column)] = (column, value_keys(column))  # the column kept: its id is not reused
        return found[1]

    def of(self, e: ir.Expr, scope: Scope, need: np.ndarray | None = None) -> np.ndarray:
        """The steps of `e` on each row of `scope` (on the rows of `need` alone, when given: -1 on the others).
        An expression has one place in the program, so it is asked for with one `need`; asked again with
        another, it is made again."""
        key = (id(e), id(scope))
        found = self.memo.get(key)
        if found is None or (found[2] is not None and found[2] is not need):
            found = self.memo[key] = (scope, self.visit(e, scope, need), need)
        return found[1]

    def fallback(self, e, *args):
        raise Unsupported(type(e).__name__)

    # -------------------------------------------------------------- expressions

    def _generic(self, e, scope, need):
        return self.step(GENERIC[type(e)], e.span.text, e.span, self.batch.eval(e, scope),
                         [self.of(c, scope, need) for c in ir.children(e)], need=need)

    _t_FieldRef = _t_VarRef = _t_KeyRef = _t_Rank = _t_First = _generic
    _t_Arith = _t_Negate = _t_Between = _t_UnitsBetween = _t_Prefix = _t_Or = _t_And = _t_Not = _generic
    _t_Compare = _t_Contains = _generic

    def _t_Literal(self, e, scope, need):
        """A literal's value (an « hors champ »'s problem) is the same in every dossier: one step on every row."""
        return self.step(GENERIC[type(e)], e.span.text, e.span, self.batch.eval(e, scope), [], need=need, same=True)

    _t_OutOfScope = _t_Literal

    def _t_Default(self, e, scope, need):
        """Explained by its operand, and by its fallback too where the operand is unknown."""
        operand = self.batch.eval(e.operand, scope)
        both = operand.state == UNKNOWN
        shown, fallback = self.of(e.operand, scope, need), self.of(e.fallback, scope, _within(need, both))
        column, steps = self.batch.eval(e, scope), self.steps

        def build(rows, values) -> list:
            return [_TN(Step, (StepKind.LOGIC, e.span.text, v, e.span,
                               (steps[s], steps[f]) if two else (steps[s],), None))
                    for v, s, f, two in zip(values, shown[rows].tolist(), fallback[rows].tolist(), both[rows].tolist())]

        return self.made([*self.opened(column), shown, np.where(both, fallback, 0), both.astype(np.int64)],
                         scope.n, build, steps, column, need)

    def _t_IsSet(self, e, scope, need):
        return self.step(StepKind.FIELD, f"{e.operand.span.text} est renseigné", e.span, self.batch.eval(e, scope), [],
                         need=need)

    def _t_DefRef(self, e, scope, need):
        return self._below(StepKind.DEFINITION, e.name, e, scope, _taken(self.definition(e.name), scope), need)

    def _t_AmountRef(self, e, scope, need):
        return self._below(StepKind.AMOUNT, e.span.text, e, scope, _taken(self.amount(e.name), scope), need)

    def _below(self, kind: StepKind, text: str, e, scope: Scope, children: np.ndarray, need) -> np.ndarray:
        """A step whose children are a tuple of `tuples` (a definition's, an amount's)."""
        column, tuples = self.batch.eval(e, scope), self.tuples

        def build(rows, values) -> list:
            return [_TN(Step, (kind, text, v, e.span, tuples[t], None))
                    for v, t in zip(values, children[rows].tolist())]

        return self.made([*self.opened(column), children], scope.n, build, self.steps, column, need)

    def _t_TableRef(self, e, scope, need):
        """The lookup's key and date, then the row or version it read (its cell's steps below it)."""
        batch = self.batch
        column = batch.eval(e, scope)
        _, code, clean = batch.kept[("lookup", id(e), id(scope))]
        head = ([self.of(e.key, scope, need)] if e.key is not None else []) + [self.of(e.date, scope, need)]
        found = clean & (code >= 0)  # a row or version was found (else the step holds the problem)
        cells = np.zeros(scope.n, dtype=np.int64)  # the step of a computed cell, plus one
        grid = batch.grid(e.table, e.type.kind)
        for number, value in grid.cells:
            entry = batch.kept.get(("cell", id(e), number, id(scope)))
            if entry is not None:
                cells[entry[1]] = self.shifted(self.of(value, entry[2], None if need is None else need[entry[1]]))
        cells[~found] = 0
        cells[found & (cells == 0) & np.isin(code, [k for k, _ in grid.cells])] = -1
        key = batch.eval(e.key, scope) if e.key is not None else None
        steps, texts = self.steps, self._row_texts

        def build(rows, values) -> list:
            keys = [None] * len(rows) if key is None else _values(key, rows)
            heads = zip(*[[steps[k] for k in h[rows].tolist()] for h in head])
            made = []
            for value, ahead, plain, choice, cell, k in zip(values, heads, found[rows].tolist(), code[rows].tolist(),
                                                             cells[rows].tolist(), keys):
                if not plain:
                    made.append(_TN(Step, (StepKind.LOOKUP, e.span.text, value, e.span, ahead, None)))
                    continue
                row = grid.choices[choice]
                words = texts.get((id(row), k))
                if words is None:
                    words = texts[(id(row), k)] = row_text(e.table, row, k)
                shown = _TN(Step, (StepKind.ROW, words, value, row.span, steps[cell - 1].children if cell else (),
                                   None))
                made.append(_TN(Step, (StepKind.LOOKUP, e.span.text, value, e.span, (*ahead, shown), None)))
            return made

        return self.made([*self.opened(column), *head, found.astype(np.int64), np.where(found, code, 0), cells],
                         scope.n, build, steps, column, need)

    def _t_Quantifier(self, e, scope, need):
        return self._each(e, scope, StepKind.QUANTIFIER, need)

    def _t_Count(self, e, scope, need):
        if e.condition is None:
            return self.step(StepKind.COUNT, e.span.text, e.span, self.batch.eval(e, scope),
                             [self.of(e.collection, scope, need)], need=need)
        return self._each(e, scope, StepKind.COUNT, need)

    def _each(self, e, scope: Scope, kind: StepKind, need) -> np.ndarray:
        """One child per element, each its condition's step; the collection's step where it is no list."""
        batch = self.batch
        column, collection = batch.eval(e, scope), batch.eval(e.collection, scope)
        whole = self.of(e.collection, scope, need)
        listed = collection.state == CLEAN
        entry = batch.kept.get(("each", id(e), id(scope)))
        runs = _Runs(entry[1], scope.n) if entry is not None else _Runs(np.zeros(0, dtype=np.intp), scope.n)
        elements = self.of(e.condition, entry[2], None if need is None else need[entry[1]]) if entry is not None \
            else np.zeros(0, dtype=np.int64)
        steps = self.steps

        def build(rows, values) -> list:
            return [_TN(Step, (kind, e.condition.span.text, v, e.condition.span,
                               tuple([steps[k] for k in runs.of(row, elements)]), None)) if plain else
                    _TN(Step, (StepKind.QUANTIFIER, e.collection.span.text, v, e.collection.span, (steps[w],), None))
                    for row, v, plain, w in zip(rows.tolist(), values, listed[rows].tolist(), whole[rows].tolist())]

        return self.made([*self.opened(column), listed.astype(np.int64), np.where(listed, 0, whole),
                          *runs.keys(elements)], scope.n, build, steps, column, need)

    # -------------------------------------------------------------- « sauf si », definitions, amounts

    def _exceptions(self, node: ir.Exceptions, conditions: list[Column], scope: Scope,
                    need: np.ndarray | None = None) -> list[np.ndarray]:
        return [self.step(StepKind.EXCEPTION, "sauf si", case.span, c, [self.of(case.condition, scope, need)],
                          need=need) for case, c in zip(node.cases, conditions)]

    def _tupled(self, parts: list[np.ndarray], n: int) -> np.ndarray:
        """Tuples of the steps `parts` number, in order (a part 0 where a row has no step there: `parts` are
        numbers plus one)."""
        steps = self.steps

        def build(rows, _) -> list:
            return [tuple([steps[k - 1] for k in ks if k]) for ks in zip(*[p[rows].tolist() for p in parts])]

        return self.made(parts, n, build, self.tuples)

    def valued(self, node: ir.Exceptions, scope: Scope, need: np.ndarray | None = None) -> np.ndarray:
        """The children of a definition's or amount's step: the exceptions' steps, then those of the branches
        runtime.resolve computed (explain._Explainer.valued); on the rows of `need` alone, when given."""
        batch, steps, tuples = self.batch, self.steps, self.tuples
        branches = [node.base, *(case.consequence for case in node.cases)]
        if not all(isinstance(b, ir.Expr) for b in branches):
            raise Unsupported("« sauf si » imbriqué")
        if not node.cases:
            return self._tupled([self.shifted(self.of(node.base, scope, need))], scope.n)
        conditions, chosen, settled = batch.conditions(node, scope)
        exceptions = self._exceptions(node, conditions, scope, need)
        path = np.where(settled, chosen, -2)  # the branch computed (-1 the base); -2: resolve tells, row by row
        ids = [self.of(b, scope, _within(need, (path == j - 1) | (path == -2))) for j, b in enumerate(branches)]
        computed = np.zeros(scope.n, dtype=np.int64)
        for j, branch_ids in enumerate(ids):
            rows = path == j - 1
            computed[rows] = _plus_one(branch_ids[rows])
        numbers = self._tupled([*map(self.shifted, exceptions), computed], scope.n)
        columns = [batch.eval(b, scope) for b in branches]
        numbers = numbers.copy()  # changed below: no longer the numbers `made` gave (Trees._known)
        for row in np.flatnonzero(path == -2 if need is None else (path == -2) & need).tolist():
            order: list[int] = []

            def value_of(branch, row=row, order=order):
                j = next(k for k, b in enumerate(branches) if b is branch)
                order.append(j)
                return row_value(columns[j], row)

            try:
                resolve(node, [row_value(c, row) for c in conditions], value_of)
            except Undecided:
                numbers[row] = -1
                continue
            shown = [x[row] for x in exceptions] + [ids[j][row] for j in order]
            if min(shown) < 0:
                numbers[row] = -1
                continue
            numbers[row] = len(tuples)
            tuples.append(tuple([steps[k] for k in shown]))
        return numbers

    def definition(self, name: str) -> np.ndarray:
        if name not in self._definitions:
            self._definitions[name] = self.valued(self.batch.program.definitions[name].value, self.batch.root)
        return self._definitions[name]

    def amount(self, name: str) -> np.ndarray:
        """The children of an amount's breakdown: whether it applies, then its value's."""
        if name not in self._amounts:
            a, root, batch = self.batch.program.amounts[name], self.batch.root, self.batch
            if a.applies is None:
                self._amounts[name] = self.valued(a.value, root)
            else:
                applies, tuples, steps = batch.eval(a.applies, root), self.tuples, self.steps
                step = self.applies(a.applies, root)
                due = (applies.state == CLEAN) & applies.values
                value = self.valued(a.value, root, due)  # an amount not due shows only whether it applies

                def build(rows, _) -> list:
                    return [(steps[s], *tuples[v]) if d else (steps[s],)
                            for s, d, v in zip(step[rows].tolist(), due[rows].tolist(), value[rows].tolist())]

                self._amounts[name] = self.made([step, due.astype(np.int64), np.where(due, value, 0)], batch.n,
                                                build, tuples)
        return self._amounts[name]

    def applies(self, condition: ir.Expr, scope: Scope) -> np.ndarray:
        return self.step(StepKind.APPLIES, "s'applique si", condition.span, self.batch.eval(condition, scope),
                         [self.of(condition, scope)])

    def breakdown(self, a: ir.Amount, outcomes: list) -> np.ndarray:
        """Each dossier's breakdown of amount `a`, its value the outcome's (-1 where it has none)."""
        children, tuples = self.amount(a.name), self.tuples
        numbers: dict = {}
        key = np.asarray([-1 if o is None else numbers.setdefault(id(o), len(numbers)) for o in outcomes],
                         dtype=np.int64)

        def build(rows, _) -> list:
            return [_TN(Step, (StepKind.AMOUNT, a.title or a.name, outcomes[row].value, a.span, tuples[t], None))
                    for row, t in zip(rows.tolist(), children[rows].tolist())]

        return self.made([key, children], self.batch.n, build, self.steps)

    # -------------------------------------------------------------- requirements

    def reasons(self, req: ir.Requirement, scope: Scope) -> np.ndarray:
        """The reasoning of a requirement on each row of `scope` (compile._requirement_runner's `explained`):
        whether it applies, its exceptions, then the demands runtime.resolve weighed."""
        batch, steps, n = self.batch, self.steps, scope.n
        node = req.demand
        head: list[np.ndarray] = []
        conditions, chosen, settled = batch.conditions(node, scope)
        path = np.where(settled, chosen, -2)  # the branch weighed (-1 the base); -2: resolve tells; -3: exempt
        applies = None
        if req.applies is not None:
            applies = batch.eval(req.applies, scope)
            head.append(self.applies(req.applies, scope))
            plain = applies.state == CLEAN
            path = np.where(plain & ~applies.values, -3, np.where(plain, path, -2))
        exempt = path == -3
        exceptions = [np.where(exempt, 0, x) for x in self._exceptions(node, conditions, scope, ~exempt)]
        branches = [node.base, *(c.consequence for c in node.cases)]
        demands = [self.demand(d, scope, (path == j - 1) | (path == -2)) if d is not None else None
                   for j, d in enumerate(branches)]
        computed = np.zeros(n, dtype=np.int64)  # the step of the demand weighed, plus one (0: none)
        for j, ids in enumerate(demands):
            rows = path == j - 1
            if ids is not None:
                computed[rows] = _plus_one(ids[rows])

        def build(rows, _) -> list:
            made = []
            before = [x[rows].tolist() for x in (*head, *exceptions)]
            for way, shown, demand in zip(path[rows].tolist(), zip(*before) if before else [()] * len(rows),
                                          computed[rows].tolist()):
                if way == -2:
                    made.append(None)  # weighed row by row below
                elif way == -3:
                    made.append(_root(req, (steps[shown[0]],), False))
                elif not demand:
                    made.append(_root(req, tuple([steps[k] for k in shown]), False))
                else:
                    met = steps[demand - 1]
                    made.append(_root(req, (*[steps[k] for k in shown], met), met.value))
            return made

        numbers = self.made([*head, *exceptions, path + 3, computed], n, build, steps)
        mets = [batch.demand(d, scope) if d is not None else None for d in branches]
        numbers = numbers.copy()  # changed below: no longer the numbers `made` gave (Trees._known)
        for row in np.flatnonzero(path == -2).tolist():
            numbers[row] = self._weighed(req, row, applies, conditions, head, exceptions, branches, demands, mets)
        return numbers

    def _weighed(self, req, row: int, applies, conditions, head, exceptions, branches, demands, mets) -> int:
        """A requirement's reasoning on one row, runtime.resolve weighing its demands on the row's values."""
        node, steps = req.demand, self.steps
        order: list[int] = []

        def met(demand):
            j = next(k for k, b in enumerate(branches) if b is demand)
            order.append(j)
            return row_value(mets[j], row)

        try:
            found = True if applies is None else row_value(applies, row)
            values = [row_value(c, row) for c in conditions]
            chosen, satisfied = resolve(node, values, met, demands=True,
                                        undecided=(found,) if found.__class__ in PROBLEMS else ())
        except Undecided:
            return -1
        shown = [x[row] for x in (*head, *exceptions)] + [demands[j][row] for j in order]
        if min(shown, default=0) < 0:
            return -1
        demand = node.base if chosen is None else chosen.consequence
        steps.append(_root(req, tuple([steps[k] for k in shown]), False if demand is None else satisfied))
        return len(steps) - 1

    def demand(self, demand: ir.Demand, scope: Scope, need: np.ndarray) -> np.ndarray:
        """A demand's step on the rows of `need` (the rows whose requirement weighs it), -1 on the others."""
        batch = self.batch
        if isinstance(demand, ir.ConditionDemand):
            return self.step(StepKind.DEMAND, "exige que", demand.span, batch.eval(demand.condition, scope),
                             [self.of(demand.condition, scope, need)], need=need)
        alternatives = [self._alternative(spec, scope, need) for spec in demand.alternatives]
        return self.step(StepKind.DEMAND, "exige", demand.span, batch.demand(demand, scope), alternatives, need=need)

    def _alternative(self, spec: ir.PieceSpec, scope: Scope, need: np.ndarray) -> np.ndarray:
        """One child per piece of the type in the row's dossier, each explained by its filters."""
        batch, steps = self.batch, self.steps
        met = batch.alternative(spec, scope)
        _, rows, which, below, filters, piece_value = batch.kept[("pairs", id(spec), id(scope))]
        shown, label = self._labels(spec.piece_type)
        paired = need[rows]  # the (row, piece) pairs of the rows that need the step
        if below is None:  # no filter: each piece of the type is one
            piece_value = Column("booléen", np.ones(len(rows), dtype=bool), np.zeros(len(rows), dtype=np.int8))
            checks = []
        else:
            items = batch.piece_items(spec.piece_type).values
            checks = [self._filter(f, column, below, which, items, paired) for f, column in zip(spec.filters, filters)]

        def piece(ks, values) -> list:
            below = zip(*[[steps[k] for k in c[ks].tolist()] for c in checks]) if checks else [()] * len(ks)
            return [_TN(Step, (StepKind.PIECE, shown[w][0], v, None, b, shown[w][1]))
                    for w, v, b in zip(which[ks].tolist(), values, below)]

        pieces = self.made([*self.opened(piece_value), *checks, label[which]], len(rows), piece, steps, piece_value,
                           paired)
        runs = _Runs(rows, scope.n)
        some = runs.counts > 0

        def build(ks, values) -> list:
            return [_TN(Step, (StepKind.ALTERNATIVE, spec.span.text, v, spec.span,
                               tuple([steps[k] for k in runs.of(row, pieces)]),
                               None if plenty else "aucune pièce de ce type fournie"))
                    for row, v, plenty in zip(ks.tolist(), values, some[ks].tolist())]

        return self.made([*self.opened(met), *runs.keys(pieces)], scope.n, build, steps, met, need)

    def _labels(self, piece_type: str) -> tuple[list, np.ndarray]:
        """How each piece of a type is named in its step (piece_label, its pointer), and a number for each."""
        if piece_type not in self._pieces:
            items = self.batch.piece_items(piece_type).values.tolist()
            shown = [(piece_label(item), item.pointer) for item in items]
            numbers: dict = {}
            self._pieces[piece_type] = shown, np.asarray([numbers.setdefault(s, len(numbers)) for s in shown],
                                                         dtype=np.int64)
        return self._pieces[piece_type]

    def _filter(self, f, column: Column, below: Scope, which: np.ndarray, items: np.ndarray,
                need: np.ndarray) -> np.ndarray:
        if isinstance(f, ir.Dated):
            reference, max_age = self.batch.eval(f.reference, below), self.batch.eval(f.max_age, below)
            notes: dict = {}
            key = np.full(below.n, -1, dtype=np.int64)
            written = []
            skipped = ((reference.state == OPEN) | (max_age.state == OPEN) | ~need).tolist()
            for k, (item, skip) in enumerate(zip(items[which].tolist(), skipped)):
                if skip:
                    written.append(None)
                    continue
                day = reference.value(k)
                found = dated(item, day, max_age.value(k))
                note = dated_note(found[1], found[2], day)
                written.append(note)
                key[k] = notes.setdefault(note, len(notes))
            steps = self.steps
            ages, references = self.of(f.max_age, below, need), self.of(f.reference, below, need)

            def build(ks, values) -> list:
                return [_TN(Step, (StepKind.FILTER, f.span.text, v, f.span, (steps[a], steps[r]), written[k]))
                        for k, v, a, r in zip(ks.tolist(), values, ages[ks].tolist(), references[ks].tolist())]

            return self.made([*self.keys_of(column), ages, references, key], below.n, build, steps, column, need)
        children = [self.of(f.condition, below, need)] if isinstance(f, ir.WithCondition) else []
        return self.step(StepKind.FILTER, f.span.text, f.span, column, children, need=need)


def _root(req: ir.Requirement, children: tuple, value) -> Step:
    return _TN(Step, (StepKind.CONDITION, req.name, value, req.span, children, None))


def nobody(req: ir.Requirement) -> Step:
    """The reasoning of a requirement for each titulaire, in a dossier that lists none."""
    return Step(StepKind.APPLIES, "pour chaque titulaire", Unknown(frozenset({"/titulaires"})), req.span)


# ------------------------------------------------------------------ the outcomes, with their reasoning


def explain_many(program: Program, items: list[tuple[str, dict]]) -> list[Outcome]:
    """Each dossier's Outcome with its reasoning, as explain.explaining(program).evaluate gives it."""
    try:
        return evaluator(program).evaluate_many(items, reasoning=_explained)
    except Unsupported:
        recording = explaining(program)
        return [recording.evaluate(name, data) for name, data in items]


def _explained(batch: Batch, items: list, outcomes: list[Outcome], amounts: list) -> list[Outcome]:
    """The batch's outcomes with their trees; a dossier whose tree needs a step the columns cannot make is
    explained by the compiled program."""
    program, trees, n = batch.program, Trees(batch), batch.n
    if any(a is None for a in amounts):
        raise Unsupported("montant calculé hors des colonnes")
    bad = np.zeros(n, dtype=bool)
    reasons = []
    runs = None  # each dossier's titulaires, a run of the holders' rows: whether it lists them, where they start, end
    for req in program.requirements:
        if req.per_holder:
            scope, _, listed = batch.holders()
            if runs is None:
                counts = np.bincount(scope.parent, minlength=n)
                ends = np.cumsum(counts)
                runs = listed.tolist(), (ends - counts).tolist(), ends.tolist()
            numbers = trees.reasons(req, scope)
            bad |= np.bincount(scope.parent, weights=numbers < 0, minlength=n) > 0
            reasons.append((numbers.tolist(), *runs, nobody(req)))
        else:
            numbers = trees.reasons(req, batch.root)
            bad |= numbers < 0
            reasons.append((numbers.tolist(), None, None, None, None))
    breakdowns = [trees.breakdown(a, found) for a, found in zip(program.amounts.values(), amounts)]
    for numbers in breakdowns:
        bad |= numbers < 0
    steps, made = trees.steps, {}
    breakdowns = [[steps[k] for k in numbers.tolist()] for numbers in breakdowns]

    def reasoned(o: RequirementOutcome, step: Step) -> RequirementOutcome:
        key = (id(o), id(step))
        found = made.get(key)
        if found is None:
            found = made[key] = RequirementOutcome(o.rule, o.holder, o.status, o.pieces, o.message,
                                                   o.missing_fields, step, o.error)
        return found

    recording = explaining(program) if bad.any() else None
    explained = []
    for i, ((name, data), outcome) in enumerate(zip(items, outcomes)):
        if bad[i]:
            explained.append(recording.evaluate(name, data))
            continue
        given = iter(outcome.requirements)
        found = []
        for numbers, listed, starts, ends, none in reasons:
            if listed is None:
                found.append(reasoned(next(given), steps[numbers[i]]))
            elif not listed[i]:
                found.append(reasoned(next(given), none))
            else:
                found += [reasoned(next(given), steps[k]) for k in numbers[starts[i]:ends[i]]]
        figures = _breakdowns(outcome.amounts, [b[i] for b in breakdowns])
        explained.append(Outcome(outcome.dossier, outcome.reference, outcome.verdict, tuple(found), figures,
                                 outcome.notices, outcome.evaluated_on))
    return explained


def _breakdowns(amounts: tuple[AmountOutcome, ...], steps: list[Step]) -> tuple[AmountOutcome, ...]:
    """A dossier's amounts with their breakdowns; a sum's unsettled parts are the explained ones too."""
    steps_of = {id(a): step for a, step in zip(amounts, steps)}
    done: dict[int, AmountOutcome] = {}
    return tuple([_broken_down(a, steps_of, done) for a in amounts])


def _broken_down(a: AmountOutcome, steps_of: dict, done: dict) -> AmountOutcome:
    found = done.get(id(a))
    if found is None:
        unsettled = tuple([_broken_down(p, steps_of, done) for p in a.unsettled]) if a.unsettled else ()
        found = done[id(a)] = AmountOutcome(a.rule, a.status, a.value, a.missing_fields, steps_of[id(a)], a.error,
                                            unsettled, a.calculation)
    return found
