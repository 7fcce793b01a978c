"""Program × a batch of dossiers → their Outcomes, as Compiled.evaluate gives each dossier's.

The JSON Lines batches' evaluator (pipeline.render_batch). Each requirement, amount and notice is decided for
every dossier of the batch at once, from the columns of its expressions (columns.py); where a column cannot
tell (OPEN), that dossier's result for that rule comes from the compiled program (compile.py). The tests hold
the two to the same outcome on every fixture, under every language pack, on batches of mutated dossiers and
mutated rule files.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import itertools
from decimal import Decimal

import numpy as np

from . import ir
from .columns import CENT, CLEAN, NATIVE, OPEN, PROBLEMS, Batch, Column, Scope, Undecided, Unsupported, row_value, \
    troubled_rows
from .compile import Compiled, State, compiled, kept
from .ir import REFERENCE_DATE
from .outcome import AmountOutcome, AmountStatus, Outcome, RequirementOutcome, Status
from .program import Program
from .runtime import (
    UNSETTLED, amount_refs, calculation, missing_of, piece_types, requirement_status, resolve, rule_of,
    settled_amount, verdict_of,
)
from .values import Money


class BatchEvaluator:
    """A program evaluated a batch at a time; `evaluate_many` gives what Compiled.evaluate gives each dossier."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.scalar: Compiled = compiled(program)
        self._requirements = [_RequirementUnit(r, run) for r, run in zip(program.requirements,
                                                                           self.scalar._requirements)]
        self._amounts = list(zip(program.amounts.values(), self.scalar._amounts))
        self._notices = self.scalar._notices
        self.unsupported: dict[tuple[str, str], str] = {}  # what the columns left to the compiled program, and why
        self._grids: dict = {}
        self.handed_over = 0  # the results (of a requirement, amount, notice) the compiled program gave so far

    def evaluate_many(self, items: list[tuple[str, dict]], reasoning=None) -> list:
        """Each dossier's Outcome, as Compiled.evaluate gives it; with `reasoning`, what it makes of the batch
        recorded for the trees, the items, their outcomes and each amount's outcomes (None where the columns
        do not make them): trees.explain_many's outcomes with their reasoning.

        Python's cycle collector is held off meanwhile (collector_held).
        """
        batch = Batch(self.program, [data for _, data in items], self._grids, recording=reasoning is not None)
        with collector_held():
            try:
                outcomes = self._evaluate_many(batch, items)
                if reasoning is None:
                    return outcomes
                return reasoning(batch, items, outcomes, [batch.outcomes.get(a.name) for a, _ in self._amounts])
            finally:
                batch.close()

    def _evaluate_many(self, batch: Batch, items: list[tuple[str, dict]]) -> list[Outcome]:
        requirements = [self._columns(("exigence", unit.req.name), lambda u=unit: u.run(batch))
                        for unit in self._requirements]
        amounts = [self._columns(("montant", a.name), lambda a=a: self._amount_outcomes(batch, a))
                   for a, _ in self._amounts]
        notices = [self._columns(("avis", n.name), lambda n=n: _shown(batch, n)) if n.applies is not None else None
                   for n, _, _ in self._notices]
        day = self._columns(("définition", REFERENCE_DATE), lambda: batch.definition(REFERENCE_DATE)) \
            if REFERENCE_DATE in self.program.definitions else None
        n = len(items)
        # Dossier by dossier: what each requirement, amount and notice gives it (None: the compiled program's).
        by_dossier = [list(zip(*[[None] * n if c is None else c for c in parts])) if parts else [()] * n
                      for parts in (requirements, amounts, notices)]
        decided = np.ones(n, dtype=bool)
        wanted = [*requirements, *amounts, *(c for c, (_, _, applies) in zip(notices, self._notices) if applies)]
        for c in wanted:
            decided &= np.asarray([x is not None for x in c], dtype=bool) if c is not None else False
        days = [None] * n if day is None else [None if s != CLEAN else datetime.date.fromordinal(v)
                                               for v, s in zip(day.values.tolist(), day.state.tolist())]
        if day is not None:
            decided &= day.state != OPEN
        elif REFERENCE_DATE in self.program.definitions:
            decided[:] = False
        return [self._outcome(i, name, data, requirements, amounts, notices, day) if not plain else
                self._decided(name, data, reqs, figures, shown, evaluated_on)
                for i, ((name, data), plain, reqs, figures, shown, evaluated_on)
                in enumerate(zip(items, decided.tolist(), *by_dossier, days))]

    def _decided(self, name: str, data: dict, requirements: tuple, figures: tuple, shown: tuple,
                 evaluated_on) -> Outcome:
        """A dossier's Outcome when the columns decided all of it."""
        return self._assembled(name, data, tuple(itertools.chain.from_iterable(requirements)), figures,
                               shown.__getitem__, evaluated_on)

    def _assembled(self, name: str, data: dict, outcomes: tuple, figures: tuple, applies, evaluated_on) -> Outcome:
        """The Outcome of a dossier's results, as Compiled.evaluate makes it; `applies(k)` says whether the k-th
        notice, one with a condition, applies (asked only of those that a missing piece does not rule out)."""
        pieces_missing = any(o.status is Status.MISSING and o.rule.kind == "exigence" for o in outcomes)
        notices = tuple([notice for k, (n, notice, compiled_applies) in enumerate(self._notices)
                         if (pieces_missing or not n.when_pieces_missing)
                         and (compiled_applies is None or applies(k))])
        return Outcome(name, data.get("reference"), verdict_of(outcomes), outcomes, figures, notices, evaluated_on)

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
        """Dossier `i`'s Outcome when the compiled program gives some of its results."""
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

        def applies(k: int) -> bool:
            column = notices[k]
            shown = None if column is None else column[i]
            return self._notices[k][2](scalar()) is True if shown is None else shown

        if day is None or day.state[i] == OPEN:
            evaluated_on = self.scalar._day(scalar()) if REFERENCE_DATE in self.program.definitions else None
        else:
            evaluated_on = datetime.date.fromordinal(int(day.values[i])) if day.state[i] == CLEAN else None
        return self._assembled(name, data, outcomes, tuple(figures), applies, evaluated_on)

    def _amount_outcomes(self, batch: Batch, a: ir.Amount) -> list:
        """Each dossier's AmountOutcome, or None where the compiled program must give it."""
        if a.name in batch.outcomes:
            return batch.outcomes[a.name]
        _, read, chosen, due = batch.amount(a.name)
        rule = rule_of(a)
        result = [None] * batch.n
        plain = read.clean()
        not_applicable = AmountOutcome(rule, AmountStatus.NOT_APPLICABLE, None, (), None, None, (), ())
        for row in np.flatnonzero(plain & ~due).tolist():
            result[row] = not_applicable
        # The calculation shown beside the figure: the formula that gave it, each operand with its value. Dossiers
        # with the same figure, formula and operands (the same values, or the same objects) share one outcome.
        cents = read.values // CENT
        formulas = [*(c.consequence for c in a.value.cases), a.value.base]
        for index, formula in enumerate(formulas):
            layout = calculation(formula, lambda operand: operand)
            rows = plain & due & (chosen == (index if index < len(a.value.cases) else -1))
            operands = [batch.eval(v, batch.root) for _, v in layout if v is not None]
            for c in operands:
                rows &= c.clean()
            rows = np.flatnonzero(rows)
            keys = [c.values[rows].tolist() if c.kind in NATIVE else [id(v) for v in c.values[rows].tolist()]
                    for c in operands]
            made: dict[tuple, AmountOutcome] = {}
            objects = None
            for position, (row, key) in enumerate(zip(rows.tolist(), zip(cents[rows].tolist(), *keys))):
                outcome = made.get(key)
                if outcome is None:
                    objects = objects or [c.objects(rows) for c in operands]
                    values = iter([o[position] for o in objects])
                    figure = tuple([(text, None if operand is None else next(values)) for text, operand in layout])
                    money = Money(Decimal(key[0]).scaleb(-2))
                    outcome = made[key] = AmountOutcome(rule, AmountStatus.COMPUTED, money, (), None, None, (), figure)
                result[row] = outcome
        # Not a figure: why (compile._amount_runner), and for a sum the parts that keep it from one.
        troubled = np.flatnonzero(troubled_rows(read.state)).tolist()
        parts = [self._amount_outcomes(batch, self.program.amounts[p]) for p in dict.fromkeys(amount_refs(a.value))] \
            if troubled else []
        for row in troubled:
            value, status, error = settled_amount(read.problems[row])
            unsettled = ()
            if status in UNSETTLED:
                outcomes = [part[row] for part in parts]
                if any(o is None for o in outcomes):
                    continue
                unsettled = tuple(o for o in outcomes if o.status in UNSETTLED)
            result[row] = AmountOutcome(rule, status, value, missing_of(value), None, error, unsettled, ())
        batch.outcomes[a.name] = result
        return result


def _shown(batch: Batch, n: ir.Notice) -> list:
    """Whether each dossier's notice applies (True only when its condition is plainly true)."""
    column = batch.eval(n.applies, batch.root)
    return [None if s == OPEN else bool(v and s == CLEAN) for v, s in zip(column.values.tolist(),
                                                                          column.state.tolist())]


class _RequirementUnit:
    """A requirement decided on columns: for each dossier, its outcome (one for each titulaire)."""

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
        self.outcomes = [(self.outcome(None, status, types),) for status, types in self.kinds]

    def outcome(self, holder, status: Status, pieces: tuple, missing=(), error=None) -> RequirementOutcome:
        return RequirementOutcome(self.rule, holder, status, pieces, self.req.message, missing, None, error)

    def run(self, batch: Batch) -> list:
        """Each dossier's outcomes, or None where the compiled program must give them."""
        if not self.req.per_holder:
            codes, exact = self._codes(batch, batch.root, [None] * batch.n)
            outcomes = self.outcomes
            return [outcomes[c] if c >= 0 else exact[row] for row, c in enumerate(codes.tolist())]
        scope, holders, listed = batch.holders()
        codes, exact = self._codes(batch, scope, holders)
        made = [self.outcome(holder, *self.kinds[c]) if c >= 0 else exact[row][0] if exact[row] is not None else None
                for row, (holder, c) in enumerate(zip(holders, codes.tolist()))]
        # A dossier's titulaires are a run of rows; all of them must be decided.
        undecided = np.bincount(scope.parent, weights=[x is None for x in made], minlength=batch.n) > 0
        ends = np.cumsum(np.bincount(scope.parent, minlength=batch.n)).tolist()
        nobody = (self.outcome(None, Status.UNKNOWN, self.kinds[0][1], ("/titulaires",)),)  # as per_holder says
        return [nobody if not has else None if open_ else tuple(made[start:end])
                for has, open_, start, end in zip(listed.tolist(), undecided.tolist(), [0, *ends[:-1]], ends)]

    def _codes(self, batch: Batch, scope: Scope, holders: list) -> tuple[np.ndarray, list]:
        """For each row, the index of its outcome in self.kinds, or -1 and (where the columns can tell) its
        outcome, weighed by runtime.resolve on the row's values as compile._requirement_runner weighs it."""
        req = self.req
        code = np.full(scope.n, -1)
        conditions, chosen, settled = batch.conditions(req.demand, scope)
        demands = [batch.demand(d, scope) if d is not None else None for d in self.branches]
        decided = settled.copy()
        applies = batch.eval(req.applies, scope) if req.applies is not None else None
        if applies is not None:
            code[(applies.state == CLEAN) & ~applies.values] = 0
            decided &= (applies.state == CLEAN) & applies.values
        offset = 1
        exact = [None] * scope.n
        made: dict[tuple, tuple] = {}  # rows missing the same fields share their outcome
        for i, (demand, met) in enumerate(zip(self.branches, demands)):
            rows = decided & (chosen == i - 1)
            if demand is None:
                code[rows] = 0
                continue
            code[rows & (met.state == CLEAN)] = offset + met.values[rows & (met.state == CLEAN)]
            offset += 2
            # Decided but for its pieces: the demand's own problem, as requirement_status says it.
            for row in np.flatnonzero(rows & troubled_rows(met.state)).tolist():
                problem = met.problems[row]
                key = (id(problem), i, id(holders[row]))
                if key not in made:
                    status, missing, error = requirement_status(problem)
                    made[key] = (problem, (self.outcome(holders[row], status, piece_types(demand), missing, error),))
                exact[row] = made[key][1]
        for row in np.flatnonzero(code < 0).tolist():
            if exact[row] is None:
                exact[row] = self._weighed(row, holders[row], applies, conditions, demands)
        return code, exact

    def _weighed(self, row: int, holder, applies: Column | None, conditions, demands) -> tuple | None:
        """compile._requirement_runner's outcome on one row from its values, or None if one is OPEN."""
        req = self.req
        try:
            found = True if applies is None else row_value(applies, row)
            values = [row_value(c, row) for c in conditions]
            if found is True and all(v is False for v in values):
                chosen, satisfied = None, row_value(demands[0], row)
            else:
                chosen, satisfied = resolve(req.demand, values,
                                            lambda d: row_value(demands[self.branches.index(d)], row),
                                            demands=True, undecided=(found,) if found.__class__ in PROBLEMS else ())
        except Undecided:
            return None
        demand = req.demand.base if chosen is None else chosen.consequence
        if demand is None:
            return (self.outcome(holder, Status.NOT_APPLICABLE, self.kinds[0][1]),)
        status, missing, error = requirement_status(satisfied)
        return (self.outcome(holder, status, piece_types(demand), missing, error),)


@contextlib.contextmanager
def collector_held():
    """Python's cycle collector held off for a batch: a batch makes hundreds of thousands of small objects and no
    cycle among them (a column refers to its operands only; the batch forgets its columns when done, which a
    test checks), and each pass of the collector would walk the batch's dossiers and the program again, about
    15 % of a batch's time. What the batch leaves is freed by reference counting."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_EVALUATORS: dict[int, tuple[Program, BatchEvaluator]] = {}


def evaluator(program: Program) -> BatchEvaluator:
    """The program's batch evaluator, built on first use and kept."""
    return kept(_EVALUATORS, program, BatchEvaluator)
