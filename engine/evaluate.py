"""Program × dossier → Outcome, every result with the Step tree that explains it."""

from __future__ import annotations

import functools


from . import ir
from .outcome import AmountOutcome, AmountStatus, NoticeOutcome, Outcome, RequirementOutcome, Status, Step, StepKind
from .ir import REFERENCE_DATE, AmountRef, DefRef, ExpressionVisitor, FieldRef, TableRef, VarRef
from .program import Program
from .runtime import (
    ROW_KEY, UNSETTLED, Item, amount_refs, arith, calculation, compare, computed, convert, dated, dated_note,
    day_or_none, holder_of, kleene, missing_of, negate, piece_label, piece_types, requirement_status, resolve,
    row_text, rule_of, settled_amount, verdict_of, whole_units,
)
from .values import Failure, Money, NotCovered, Unknown, between, first_problem, is_known


def evaluate(program: Program, name: str, data: dict) -> Outcome:
    """Evaluate every requirement and amount of `program` against one dossier's data."""
    run = _Run(program, data)
    requirements = tuple(o for r in program.requirements for o in run.requirement(r))
    amounts = tuple(run.amount(a) for a in program.amounts.values())
    verdict = verdict_of(requirements)
    pieces_missing = any(o.status is Status.MISSING and o.rule.kind == "exigence" for o in requirements)
    notices = tuple(NoticeOutcome(rule_of(n), n.message) for n in program.notices if run.notice(n, pieces_missing))
    day = run._defined(REFERENCE_DATE, None)[0] if REFERENCE_DATE in program.definitions else None
    return Outcome(name, data.get("reference"), verdict, requirements, amounts, notices, day_or_none(day))


class _Run(ExpressionVisitor):
    """One dossier's evaluation: definitions and amounts are computed once and remembered."""

    def __init__(self, program: Program, data: dict) -> None:
        self.program = program
        self.data = data
        self.memo: dict[str, tuple[object, Step]] = {}
        self.amount_memo: dict[str, AmountOutcome] = {}

    # -------------------------------------------------------------- requirements

    def requirement(self, req: ir.Requirement):
        if not req.per_holder:
            return [self._requirement(req, {}, None)]
        holders = self.data.get("titulaires")
        if not isinstance(holders, list) or not holders:
            return [self._requirement(req, {}, None, problem=Unknown(frozenset({"/titulaires"})))]
        items = [Item(f"/titulaires/{i}", h, i) for i, h in enumerate(holders)]
        return [self._requirement(req, {"titulaire": h}, holder_of(h)) for h in items]

    def _requirement(self, req, env, holder, problem=None) -> RequirementOutcome:
        def outcome(status, reason, missing=(), error=None, demand=req.demand.base):
            return RequirementOutcome(rule_of(req), holder, status, piece_types(demand), req.message,
                                      missing, reason, error)

        if problem is not None:
            step = Step(StepKind.APPLIES, "pour chaque titulaire", problem, req.span)
            return outcome(Status.UNKNOWN, step, missing_of(problem))
        steps, undecided = [], ()
        if req.applies is not None:
            applies, step = self.eval(req.applies, env)
            steps.append(Step(StepKind.APPLIES, "s'applique si", applies, req.applies.span, (step,)))
            if applies is False:
                return outcome(Status.NOT_APPLICABLE, _root(req, steps, applies))
            if not is_known(applies):
                # Three-valued, as « inconnu et faux »: an exemption that holds, or a demand that is
                # met, settles the requirement whether it applies or not.
                undecided = (applies,)
        conditions = self._conditions(req.demand, env, steps)

        def met(demand):
            satisfied, step = self._demand(demand, env)
            steps.append(step)
            return satisfied

        chosen, satisfied = resolve(req.demand, conditions, met, demands=True, undecided=undecided)
        demand = chosen.consequence if chosen is not None else req.demand.base
        if chosen is not None and demand is None:
            return outcome(Status.NOT_APPLICABLE, _root(req, steps, False))
        status, missing, error = requirement_status(satisfied)
        return outcome(status, _root(req, steps, satisfied), missing, error, demand)

    def _conditions(self, node: ir.Exceptions, env, steps: list) -> list:
        """The value of each « sauf si » condition, each with its step."""
        values = []
        for case in node.cases:
            value, step = self.eval(case.condition, env)
            steps.append(Step(StepKind.EXCEPTION, "sauf si", value, case.span, (step,)))
            values.append(value)
        return values

    def _demand(self, demand: ir.Demand, env) -> tuple[object, Step]:
        if isinstance(demand, ir.ConditionDemand):
            value, step = self.eval(demand.condition, env)
            return value, Step(StepKind.DEMAND, "exige que", value, demand.span, (step,))
        results = [self._alternative(spec, env) for spec in demand.alternatives]
        value = kleene([r[0] for r in results], True)
        return value, Step(StepKind.DEMAND, "exige", value, demand.span, tuple(r[1] for r in results))

    def _alternative(self, spec: ir.PieceSpec, env) -> tuple[object, Step]:
        pieces = self._pieces(spec.piece_type)
        results = [self._piece(spec, item, env) for item in pieces]
        value = kleene([r[0] for r in results], True)
        note = None if pieces else "aucune pièce de ce type fournie"
        return value, Step(StepKind.ALTERNATIVE, spec.span.text, value, spec.span,
                           tuple(r[1] for r in results), note)

    def _pieces(self, piece_type: str) -> list[Item]:
        pieces = self.data.get("pieces")
        if not isinstance(pieces, list):
            return []
        return [Item(f"/pieces/{i}", p, i) for i, p in enumerate(pieces) if p.get("type") == piece_type]

    def _piece(self, spec: ir.PieceSpec, item: Item, env) -> tuple[object, Step]:
        results = [self._filter(f, item, env) for f in spec.filters]
        value = kleene([r[0] for r in results], False)
        return value, Step(StepKind.PIECE, piece_label(item), value, None, tuple(r[1] for r in results), item.pointer)

    def _filter(self, f, item: Item, env) -> tuple[object, Step]:
        if isinstance(f, ir.OfHolder):
            value = item.data.get("titulaire", 0) == env["titulaire"].index
            return value, Step(StepKind.FILTER, f.span.text, value, f.span)
        if isinstance(f, ir.WithCondition):
            value, step = self.eval(f.condition, {**env, "pièce": item})
            return value, Step(StepKind.FILTER, f.span.text, value, f.span, (step,))
        return self._dated(f, item, env)

    def _dated(self, f: ir.Dated, item: Item, env) -> tuple[object, Step]:
        (reference, ref_step), (max_age, age_step) = self.eval(f.reference, env), self.eval(f.max_age, env)
        value, day, valid_until = dated(item, reference, max_age)
        return value, Step(StepKind.FILTER, f.span.text, value, f.span, (age_step, ref_step),
                           dated_note(day, valid_until, reference))

    # -------------------------------------------------------------- notices

    def notice(self, n: ir.Notice, pieces_missing: bool) -> bool:
        if n.when_pieces_missing and not pieces_missing:
            return False
        return n.applies is None or self.eval(n.applies, {})[0] is True

    # -------------------------------------------------------------- amounts

    def amount(self, a: ir.Amount) -> AmountOutcome:
        if a.name in self.amount_memo:
            return self.amount_memo[a.name]
        steps = []
        value, formula = self._amount_value(a, steps)
        result, status, error = settled_amount(value)
        # A sum of amounts (the total) names the parts it lacks, so that it never reads as a final figure.
        unsettled = self._unsettled_parts(a) if status in UNSETTLED else ()
        breakdown = Step(StepKind.AMOUNT, a.title or a.name, result, a.span, tuple(steps))
        shown = ()
        if status is AmountStatus.COMPUTED:  # only a figure has a calculation to show
            shown = calculation(formula, lambda e: self.eval(e, {})[0])
        outcome = AmountOutcome(rule_of(a), status, result, missing_of(result), breakdown, error, unsettled, shown)
        self.amount_memo[a.name] = outcome
        return outcome

    def _unsettled_parts(self, a: ir.Amount) -> tuple[AmountOutcome, ...]:
        names = dict.fromkeys(amount_refs(a.value))
        return tuple(self.amount_memo[n] for n in names if self.amount_memo[n].status in UNSETTLED)

    def _amount_value(self, a: ir.Amount, steps: list) -> tuple[object, ir.Expr | None]:
        """The amount's value and the formula that gave it (None: it did not apply, or is in doubt)."""
        if a.applies is not None:
            applies, step = self.eval(a.applies, {})
            steps.append(Step(StepKind.APPLIES, "s'applique si", applies, a.applies.span, (step,)))
            if applies is not True:
                return (None if applies is False else applies), None
        chosen, value = self._valued(a.value, steps)
        return value, a.value.base if chosen is None else chosen.consequence

    def _valued(self, node: ir.Exceptions, steps: list) -> tuple[ir.Case | None, object]:
        """A definition's or amount's value by runtime.resolve, with the steps of its « sauf si » and of what
        was computed appended to `steps`."""
        conditions = self._conditions(node, {}, steps)

        def value_of(e):
            value, step = self.eval(e, {})
            steps.append(step)
            return value

        return resolve(node, conditions, value_of)

    # -------------------------------------------------------------- expressions

    def eval(self, e: ir.Expr, env) -> tuple[object, Step]:
        return self.visit(e, env)

    def _e_Literal(self, e, env):
        return e.value, Step(StepKind.LITERAL, e.span.text, e.value, e.span)

    def _e_FieldRef(self, e: FieldRef, env):
        value = self._field_value(e, env)
        return value, Step(StepKind.FIELD, e.span.text, value, e.span)

    def _field_value(self, e: FieldRef, env):
        if e.base is None:
            node, base = self.data, ""
        else:
            item = self._defined(e.base, e.span)[0] if e.definition else env[e.base]
            if not isinstance(item, Item):
                return item
            node, base = item.data, item.pointer
        for part in e.parts:
            if not isinstance(node, dict) or node.get(part) is None:
                # Name the field that was asked for, not the first absent parent: that is what to fill in.
                return Unknown(frozenset({base + "/" + "/".join(e.parts)}))
            node = node[part]
        return convert(node, e, base + "/" + "/".join(e.parts))

    def _e_VarRef(self, e: VarRef, env):
        value = env[e.name]
        return value, Step(StepKind.FIELD, e.span.text, value, e.span)

    def _e_DefRef(self, e: DefRef, env):
        return self._defined(e.name, e.span)

    def _defined(self, name: str, span) -> tuple[object, Step]:
        """A definition's value, computed once per dossier, with its step where it is used (`span`)."""
        if name not in self.memo:
            d = self.program.definitions[name]
            steps = []
            value = self._valued(d.value, steps)[1]
            self.memo[name] = (value, Step(StepKind.DEFINITION, name, value, d.span, tuple(steps)))
        value, step = self.memo[name]
        return value, Step(StepKind.DEFINITION, name, value, span, step.children)

    def _e_AmountRef(self, e: AmountRef, env):
        outcome = self.amount(self.program.amounts[e.name])
        value = Money(0) if outcome.status is AmountStatus.NOT_APPLICABLE else outcome.value
        return value, Step(StepKind.AMOUNT, e.span.text, value, e.span, outcome.breakdown.children)

    def _e_TableRef(self, e: TableRef, env):
        key, children = None, []
        if e.key is not None:
            key, key_step = self.eval(e.key, env)
            children.append(key_step)
        day, day_step = self.eval(e.date, env)
        children.append(day_step)
        problem = first_problem(key, day)
        if problem is not None:
            return problem, Step(StepKind.LOOKUP, e.span.text, problem, e.span, tuple(children))
        found = e.table.find(key, day)
        if isinstance(found, str):
            failure = Failure(found)
            return failure, Step(StepKind.LOOKUP, e.span.text, failure, e.span, tuple(children))
        # A row's value may compute on its key (« 210 € + (clé − 140) × 30 € »): its operands' steps, the key's
        # among them, detail the row; a constant has none.
        value, cell = self.eval(found.value, {ROW_KEY: key})
        children.append(Step(StepKind.ROW, row_text(e.table, found, key), value, found.span, cell.children))
        return value, Step(StepKind.LOOKUP, e.span.text, value, e.span, tuple(children))

    def _e_KeyRef(self, e, env):
        value = env[ROW_KEY]
        return value, Step(StepKind.FIELD, e.span.text, value, e.span)

    def _e_OutOfScope(self, e, env):
        value = NotCovered(e.message)
        return value, Step(StepKind.LITERAL, e.span.text, value, e.span)

    def _e_IsSet(self, e, env):
        value = is_known(self._field_value(e.operand, env))
        return value, Step(StepKind.FIELD, f"{e.operand.span.text} est renseigné", value, e.span)

    def _e_Default(self, e, env):
        value, step = self.eval(e.operand, env)
        children = (step,)
        if isinstance(value, Unknown):
            value, fallback = self.eval(e.fallback, env)
            children += (fallback,)
        return value, Step(StepKind.LOGIC, e.span.text, value, e.span, children)

    def _binary(self, e, env, left: ir.Expr, right: ir.Expr, kind: StepKind, compute) -> tuple[object, Step]:
        """Both operands, then `compute` on their values unless one is unknown or failed."""
        (a, a_step), (b, b_step) = self.eval(left, env), self.eval(right, env)
        problem = first_problem(a, b)
        value = problem if problem is not None else computed(compute, a, b)
        return value, Step(kind, e.span.text, value, e.span, (a_step, b_step))

    def _e_Contains(self, e, env):
        return self._binary(e, env, e.text, e.part, StepKind.COMPARE, lambda text, part: part in text)

    def _e_UnitsBetween(self, e, env):
        return self._binary(e, env, e.start, e.end, StepKind.ARITHMETIC, functools.partial(whole_units, e.unit))

    def _e_Rank(self, e, env):
        value = env[e.var].index + 1
        return value, Step(StepKind.FIELD, e.span.text, value, e.span)

    def _e_First(self, e, env):
        items, step = self.eval(e.collection, env)
        if isinstance(items, list):
            items = items[0] if items else Unknown(frozenset({"/" + "/".join(e.collection.parts)}))
        return items, Step(StepKind.FIELD, e.span.text, items, e.span, (step,))

    def _e_Prefix(self, e, env):
        text, step = self.eval(e.operand, env)
        value = text[: e.count] if is_known(text) else text
        return value, Step(StepKind.ARITHMETIC, e.span.text, value, e.span, (step,))

    def _e_Or(self, e, env):
        return self._logic(e, env, True)

    def _e_And(self, e, env):
        return self._logic(e, env, False)

    def _logic(self, e, env, absorbing: bool):
        results = [self.eval(o, env) for o in e.operands]
        value = kleene([r[0] for r in results], absorbing)
        return value, Step(StepKind.LOGIC, e.span.text, value, e.span, tuple(r[1] for r in results))

    def _e_Not(self, e, env):
        value, step = self.eval(e.operand, env)
        result = (not value) if is_known(value) else value
        return result, Step(StepKind.LOGIC, e.span.text, result, e.span, (step,))

    def _e_Compare(self, e, env):
        return self._binary(e, env, e.left, e.right, StepKind.COMPARE, functools.partial(compare, e.op))

    def _e_Arith(self, e, env):
        return self._binary(e, env, e.left, e.right, StepKind.ARITHMETIC, functools.partial(arith, e.op))

    def _e_Negate(self, e, env):
        value, step = self.eval(e.operand, env)
        if is_known(value):
            value = negate(value)
        return value, Step(StepKind.ARITHMETIC, e.span.text, value, e.span, (step,))

    def _e_Between(self, e, env):
        return self._binary(e, env, e.start, e.end, StepKind.ARITHMETIC, between)

    def _e_Quantifier(self, e, env):
        items, results, step = self._each(e.collection, e.var, e.condition, env)
        if not isinstance(items, list):
            return items, step
        value = kleene([r[0] for r in results], not e.every)
        return value, step._replace(value=value)

    def _e_Count(self, e, env):
        if e.condition is None:
            items, step = self.eval(e.collection, env)
            value = len(items) if isinstance(items, list) else items
            return value, Step(StepKind.COUNT, e.span.text, value, e.span, (step,))
        items, results, step = self._each(e.collection, e.var, e.condition, env)
        if not isinstance(items, list):
            return items, step
        values = [r[0] for r in results]
        problem = first_problem(*values)
        value = problem if problem is not None else sum(1 for v in values if v is True)
        return value, step._replace(value=value, kind=StepKind.COUNT)

    def _each(self, collection, var, condition, env):
        items, cstep = self.eval(collection, env)
        if not isinstance(items, list):
            return items, [], Step(StepKind.QUANTIFIER, collection.span.text, items, collection.span, (cstep,))
        results = [self.eval(condition, {**env, var: item}) for item in items]
        step = Step(StepKind.QUANTIFIER, condition.span.text, None, condition.span, tuple(r[1] for r in results))
        return items, results, step


def _root(req: ir.Requirement, steps, value) -> Step:
    return Step(StepKind.CONDITION, req.name, value, req.span, tuple(steps))
