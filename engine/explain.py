"""The compiled program, recording its reasoning: the same generated code, each node also making its step.

`compile.py` generates the code every default report runs. A report that asks for the reasoning (`--explain`)
needs the tree the reference evaluator (`evaluate.py`) builds by walking the rules: here the generator emits, beside
each node's value, the step that explains it, a tuple made in place from constants (its words and position) and
the values just computed. The tests require the outcome, trees included, to equal the reference's.
"""

from __future__ import annotations

from . import ir
from .compile import PROBLEMS, Compiled, _Generator, _local, kept
from .outcome import Step, StepKind
from .program import Program
from .runtime import ROW_KEY, dated_note, piece_label, row_text

# The step of a node that is explained by its operands' steps, in the order written.
GENERIC = {
    ir.Literal: StepKind.LITERAL, ir.OutOfScope: StepKind.LITERAL, ir.FieldRef: StepKind.FIELD,
    ir.VarRef: StepKind.FIELD, ir.KeyRef: StepKind.FIELD, ir.Rank: StepKind.FIELD, ir.First: StepKind.FIELD,
    ir.Arith: StepKind.ARITHMETIC, ir.Negate: StepKind.ARITHMETIC, ir.Between: StepKind.ARITHMETIC,
    ir.UnitsBetween: StepKind.ARITHMETIC, ir.Prefix: StepKind.ARITHMETIC, ir.Or: StepKind.LOGIC,
    ir.And: StepKind.LOGIC, ir.Not: StepKind.LOGIC, ir.Compare: StepKind.COMPARE, ir.Contains: StepKind.COMPARE,
}


def _lookup_step(text, span, value, head, found, cell, key, table) -> Step:
    """A barème lookup's step: the key's and date's steps, then the row it read, as evaluate._Run words it."""
    if found.__class__ in PROBLEMS:
        return Step(StepKind.LOOKUP, text, found, span, head)
    row = Step(StepKind.ROW, row_text(table, found, key), value, found.span, cell[1])
    return Step(StepKind.LOOKUP, text, value, span, (*head, row))


def _each_step(pairs, value, kind, text, span, collection_text, collection_span, collection_step) -> Step:
    """A quantifier's or count's step: one child per element, or the collection's when it is not a list."""
    if pairs is None:
        return Step(StepKind.QUANTIFIER, collection_text, value, collection_span, (collection_step,))
    return Step(kind, text, value, span, tuple([p[1] for p in pairs]))


def _tuple(items) -> str:
    return f"({''.join(i + ', ' for i in items)})"


class _Explainer(_Generator):
    explains = True

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        self.step_of: dict[str, str] = {}  # a value's local → its step's local
        self.last: dict[int, str] = {}  # a node → the local of its value where it was last generated
        self.children_of: dict[str, str] = {}  # a « sauf si »'s value → the tuple of the steps below it

    def runtime(self) -> dict:
        return {"Step": Step, "TN": tuple.__new__, "_lookup_step": _lookup_step, "_each_step": _each_step,
                "dated_note": dated_note, "piece_label": piece_label}

    def step(self, f, value: str, kind: StepKind, text: str, span, children: str = "()", note: str = "None") -> str:
        """Emit the step of `value` (a local of f); return the step's local."""
        name = "s" + value
        f.lines.append(f"{name} = TN(Step, ({self.const(kind)}, {self.literal(text)}, {value}, {self.const(span)}, "
                       f"{children}, {note}))")
        self.step_of[value] = name
        return name

    def _fresh(self, f, value: str) -> str:
        """A local of its own for a value, so that its step is found by it."""
        return value if value.startswith("v") and value[1:].isdigit() and value not in self.step_of \
            else self._assign(f, value)

    def visit(self, e, f, env):
        value = super().visit(e, f, env)
        kind = GENERIC.get(type(e))
        if kind is not None:
            value = self._fresh(f, value)
            children = [self.step_of[self.last[id(c)]] for c in ir.children(e)]
            self.step(f, value, kind, e.span.text, e.span, _tuple(children))
        self.last[id(e)] = value
        return value

    def recorded(self, index: int, value: str) -> list[str]:
        return [f"S.steps[{index!r}] = {self.children_of[value]}"]

    # -------------------------------------------------------------- the nodes with a step of their own

    def _e_Default(self, e, f, env):
        value = self._fresh(f, super()._e_Default(e, f, env))
        operand, fallback = self.last[id(e.operand)], self.last[id(e.fallback)]
        shown, both = self.step_of[operand], f"{self.step_of[operand]}, {self.step_of[fallback]}"
        self.step(f, value, StepKind.LOGIC, e.span.text, e.span,
                  f"(({shown},) if {operand}.__class__ is not Unknown else ({both}))")
        return value

    def _e_IsSet(self, e, f, env):
        value = self._fresh(f, super()._e_IsSet(e, f, env))
        self.step(f, value, StepKind.FIELD, f"{e.operand.span.text} est renseigné", e.span)
        return value

    def _e_DefRef(self, e, f, env):
        value = self._fresh(f, super()._e_DefRef(e, f, env))
        self.step(f, value, StepKind.DEFINITION, e.name, e.span, f"S.steps[{self.definitions[e.name]!r}]")
        return value

    def _e_AmountRef(self, e, f, env):
        outcome, value = self._amount_value(f, e.name)
        self.step(f, value, StepKind.AMOUNT, e.span.text, e.span, f"{outcome}.breakdown.children")
        return value

    def _e_TableRef(self, e, f, env):
        key, day, found, cell = self._lookup(f, e, env)
        head = [self.step_of[key]] if e.key is not None else []
        value = self._assign(f, f"{cell} if {cell}.__class__ in P else {cell}[0]")
        self.step_of[value] = "s" + value
        f.lines.append(f"s{value} = _lookup_step({self.literal(e.span.text)}, {self.const(e.span)}, {value}, "
                       f"{_tuple([*head, self.step_of[day]])}, {found}, {cell}, {key}, {self.const(e.table)})")
        return value

    def _e_Quantifier(self, e, f, env):
        return self._explained_each(f, e, env, "_and" if e.every else "_or", StepKind.QUANTIFIER)

    def _e_Count(self, e, f, env):
        if e.condition is not None:
            return self._explained_each(f, e, env, "_count", StepKind.COUNT)
        value = self._fresh(f, super()._e_Count(e, f, env))
        self.step(f, value, StepKind.COUNT, e.span.text, e.span, _tuple([self.step_of[self.last[id(e.collection)]]]))
        return value

    def _explained_each(self, f, e, env, fold: str, kind: StepKind) -> str:
        items = self.expr(f, e.collection, env)
        body = self.function("q", (*env, e.var))
        condition = self.expr(body, e.condition, (*env, e.var))
        body.lines.append(f"return {condition}, {self.step_of[condition]}")
        args = ", ".join(("S", *(_local(env, n) for n in env), "x"))
        pairs = self._assign(f, f"[{body.name}({args}) for x in {items}] if {items}.__class__ is list else None")
        value = self._assign(f, f"{fold}([p[0] for p in {pairs}]) if {pairs} is not None else {items}")
        self.step_of[value] = "s" + value
        f.lines.append(f"s{value} = _each_step({pairs}, {value}, {self.const(kind)}, {self.literal(e.condition.span.text)}, "
                       f"{self.const(e.condition.span)}, {self.literal(e.collection.span.text)}, "
                       f"{self.const(e.collection.span)}, {self.step_of[items]})")
        return value

    # -------------------------------------------------------------- « sauf si », amounts, requirements

    def _exception_steps(self, f, node: ir.Exceptions, conditions: list[str]) -> list[str]:
        return [self._assign(f, f"TN(Step, ({self.const(StepKind.EXCEPTION)}, 'sauf si', {c}, {self.const(case.span)}, "
                                f"({self.step_of[c]},), None))")
                for case, c in zip(node.cases, conditions)]

    def valued(self, f, node: ir.Exceptions, env) -> str:
        if not node.cases:
            value = self.expr(f, node.base, env)
            self.children_of[value] = _tuple([self.step_of[value]])
            return value
        conditions = [self.expr(f, case.condition, env) for case in node.cases]
        exceptions = self._exception_steps(f, node, conditions)
        result, computed = self.temp(), self.temp()
        f.lines.append(f"if {' and '.join(c + ' is False' for c in conditions)}:")
        with f.block():
            base = self.expr(f, node.base, env)
            f.lines += [f"{result} = {base}", f"{computed} = ({self.step_of[base]},)"]
        branches = {}
        for branch in (node.base, *(case.consequence for case in node.cases)):
            if id(branch) not in branches:
                g = self.function("x", env)
                value = self.expr(g, branch, env)
                g.lines.append(f"return {value}, {self.step_of[value]}")
                branches[id(branch)] = g.name
        self.resolvers.append((node, branches))
        f.lines.append(f"else: {result}, {computed} = RESOLVE[{len(self.resolvers) - 1!r}](S, {_tuple(conditions)})")
        self.children_of[result] = f"({''.join(s + ', ' for s in exceptions)}*{computed},)"
        return result

    def _applies(self, f, condition: ir.Expr, env) -> tuple[str, str]:
        applies = self.expr(f, condition, env)
        step = self._assign(f, f"TN(Step, ({self.const(StepKind.APPLIES)}, \"s'applique si\", {applies}, "
                               f"{self.const(condition.span)}, ({self.step_of[applies]},), None))")
        return applies, step

    def _amount(self, a: ir.Amount) -> str:
        f = self.function("a", ())
        head = []
        if a.applies is not None:
            applies, step = self._applies(f, a.applies, ())
            f.lines.append(f"if {applies} is not True: return (None if {applies} is False else {applies}), ({step},)")
            head.append(step)
        value = self.valued(f, a.value, ())
        f.lines.append(f"return {value}, ({''.join(s + ', ' for s in head)}*{self.children_of[value]},)")
        return f.name

    def _requirement(self, req: ir.Requirement):
        env = ("titulaire",) if req.per_holder else ()
        f = self.function("r", env)
        applies, steps = "True", []
        if req.applies is not None:
            applies, step = self._applies(f, req.applies, env)
            f.lines.append(f"if {applies} is False: return False, (), ({step},)")
            steps.append(step)
        conditions = [self.expr(f, case.condition, env) for case in req.demand.cases]
        steps += self._exception_steps(f, req.demand, conditions)
        f.lines.append(f"return {applies}, {_tuple(conditions)}, {_tuple(steps)}")
        return req, f.name, {id(d): self._demand(d, env) for d in req.demands()}

    def _demand(self, demand: ir.Demand, env) -> str:
        f = self.function("m", env)
        if isinstance(demand, ir.ConditionDemand):
            value = self.expr(f, demand.condition, env)
            f.lines.append(f"return {value}, TN(Step, ({self.const(StepKind.DEMAND)}, 'exige que', {value}, "
                           f"{self.const(demand.span)}, ({self.step_of[value]},), None))")
            return f.name
        values, steps = [], []
        for spec in demand.alternatives:
            piece = self.function("p", (*env, "pièce"))
            item = _local((*env, "pièce"), "pièce")
            filters = [self._filter(piece, flt, (*env, "pièce"), item) for flt in spec.filters]
            met = self._assign(piece, f"_and({_tuple(filters)})")
            piece.lines.append(f"return {met}, TN(Step, ({self.const(StepKind.PIECE)}, piece_label({item}), {met}, "
                               f"None, {_tuple([self.step_of[v] for v in filters])}, {item}.pointer))")
            args = ", ".join(("S", *(_local(env, n) for n in env), "x"))
            pairs = self._assign(f, f"[{piece.name}({args}) for x in S.pieces({spec.piece_type!r})]")
            value = self._assign(f, f"_or([p[0] for p in {pairs}])")
            steps.append(self._assign(f, f"TN(Step, ({self.const(StepKind.ALTERNATIVE)}, {self.literal(spec.span.text)}, "
                                         f"{value}, {self.const(spec.span)}, tuple([p[1] for p in {pairs}]), "
                                         f"None if {pairs} else 'aucune pièce de ce type fournie'))"))
            values.append(value)
        met = self._assign(f, f"_or({_tuple(values)})")
        f.lines.append(f"return {met}, TN(Step, ({self.const(StepKind.DEMAND)}, 'exige', {met}, "
                       f"{self.const(demand.span)}, {_tuple(steps)}, None))")
        return f.name

    def _filter(self, f, flt, env, item: str) -> str:
        if isinstance(flt, ir.Dated):
            reference, max_age = self.expr(f, flt.reference, env), self.expr(f, flt.max_age, env)
            found = self._assign(f, f"dated({item}, {reference}, {max_age})")
            value = self._assign(f, f"{found}[0]")
            self.step(f, value, StepKind.FILTER, flt.span.text, flt.span,
                      _tuple([self.step_of[max_age], self.step_of[reference]]),
                      f"dated_note({found}[1], {found}[2], {reference})")
            return value
        value = self._assign(f, super()._filter(f, flt, env, item))
        below = _tuple([self.step_of[self.last[id(flt.condition)]]]) if isinstance(flt, ir.WithCondition) else "()"
        self.step(f, value, StepKind.FILTER, flt.span.text, flt.span, below)
        return value

    def cell(self, value: ir.Expr):
        if isinstance(value, (ir.Literal, ir.OutOfScope)):
            return super().cell(value)
        f = self.function("k", (ROW_KEY,))
        result = self.expr(f, value, (ROW_KEY,))
        f.lines.append(f"return {result}, {self.step_of[result]}.children")
        return f.name


_EXPLAINING: dict[int, tuple[Program, Compiled]] = {}


def explaining(program: Program) -> Compiled:
    """The program compiled to record its reasoning, built on first use and kept."""
    return kept(_EXPLAINING, program, lambda p: Compiled(p, _Explainer))
