"""Program → Python source → one function per definition, amount and demand: the evaluator batches run.

Every expression becomes straight-line statements over local variables, one per node, with three-valued logic
written out (`x.__class__ in P`: unknown or failed). Nothing from a rule file is pasted into the source:
names are generated (`d3`, `v12`), and every value (a text, an amount, a barème, a source span) is emitted
as `repr` of a small integer or string, or as an index into the constant list `K`. Loops (quantifiers,
pieces, holders) are separate functions, so that the generated code nests at most two blocks whatever the
rules' depth. The result carries no explanation: the reference evaluator, `evaluate.py`, builds the tree when a
report asks for one, and the tests require both to give the same outcome.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from decimal import Decimal

from . import cache, ir
from .ir import REFERENCE_DATE, AmountRef, DefRef, ExpressionVisitor, FieldRef, TableRef, VarRef
from .outcome import AmountOutcome, AmountStatus, NoticeOutcome, Outcome, RequirementOutcome, Status, Step, StepKind
from .program import Program
from .runtime import (
    ROW_KEY, UNSETTLED, Item, amount_refs, arith, calculation, compare, computed, convert, dated, day_or_none,
    holder_of, kleene, missing_of, money_minus, money_plus, money_times, negate, piece_types, requirement_status,
    resolve, rule_of, settled_amount, verdict_of, whole_units,
)
from .values import Duration, Failure, Money, NotCovered, Unknown, between, first_problem

PROBLEMS = (Unknown, Failure, NotCovered)
_UNSET = object()  # a definition not computed yet for this dossier


class State:
    """One dossier's evaluation: its data, the definitions and amounts computed so far, its pieces by type."""

    __slots__ = ("data", "memo", "steps", "amounts", "_pieces", "_holders")

    def __init__(self, data: dict, definitions: int, explain: bool = False) -> None:
        self.data = data
        self.memo = [_UNSET] * definitions
        self.steps = [()] * definitions if explain else None  # each definition's reasoning, when it is recorded
        self.amounts: dict[str, AmountOutcome] = {}
        self._pieces = None
        self._holders = None

    def holders(self) -> list[tuple[Item, object]] | None:
        """Each titulaire as a loop variable, with the Holder a report names; None if the dossier has none."""
        if self._holders is None:
            holders = self.data.get("titulaires")
            items = [Item(f"/titulaires/{i}", h, i) for i, h in enumerate(holders)] \
                if isinstance(holders, list) else []
            self._holders = [(item, holder_of(item)) for item in items]
        return self._holders or None

    def pieces(self, piece_type: str) -> list[Item]:
        if self._pieces is None:
            self._pieces = {}
            pieces = self.data.get("pieces")
            for i, p in enumerate(pieces if isinstance(pieces, list) else ()):
                self._pieces.setdefault(p.get("type"), []).append(Item(f"/pieces/{i}", p, i))
        return self._pieces.get(piece_type, ())


# ------------------------------------------------------------------ runtime helpers the source calls


def _and(values):
    return kleene(values, False)


def _or(values):
    return kleene(values, True)


def _count(values):
    problem = first_problem(*values)
    return problem if problem is not None else sum(1 for v in values if v is True)


def _find(table, key, day):
    """The barème row or dated version that applies (its value is computed by CELL), or the problem."""
    if key.__class__ in PROBLEMS or day.__class__ in PROBLEMS:
        return first_problem(key, day)
    found = table.find(key, day)
    return Failure(found) if isinstance(found, str) else found


_RUNTIME = {
    "P": PROBLEMS, "Unknown": Unknown, "Item": Item, "Money": Money, "Duration": Duration, "Decimal": Decimal,
    "date_from": datetime.date.fromisoformat, "kleene": kleene, "first_problem": first_problem,
    "computed": computed, "arith": arith, "compare": compare, "between": between, "whole_units": whole_units,
    "_and": _and, "_or": _or, "_count": _count, "convert": convert, "_find": _find, "dated": dated,
    "negate": negate, "UNSET": _UNSET, "NA": AmountStatus.NOT_APPLICABLE,
    "ZERO": Money(0), "money_plus": money_plus, "money_minus": money_minus, "money_times": money_times,
}
_MONEY_ARITH = {"+": "money_plus", "-": "money_minus", "*": "money_times"}  # the same as computed(arith, op, …)
_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Function:
    """One generated function: its name, parameters (the loop variables in scope) and body lines."""

    def __init__(self, name: str, params: int) -> None:
        self.name = name
        self.params = params
        self.lines: list[str] = []
        self.known: dict[str, str] = {}  # a definition → the local that holds its value, where it is in scope

    @contextlib.contextmanager
    def block(self):
        """What is generated inside is the body of the block the caller opened: indented, and the definitions
        it reads are not known after it."""
        start, known = len(self.lines), dict(self.known)
        yield
        self.lines[start:] = ["    " + line for line in self.lines[start:]]
        self.known = known

    def source(self) -> str:
        params = ", ".join(("S", *(f"e{i!r}" for i in range(self.params))))
        body = "\n".join("    " + line for line in self.lines)
        # The dossier and the memo as locals, where the body reads them (most cells and pieces do not).
        prologue = "".join(f"    {name} = S.{field}\n" for name, field in (("D", "data"), ("M", "memo"))
                           if re.search(rf"\b{name}\b", body))
        return f"def {self.name}({params}):\n{prologue}{body}\n"


class _Generator(ExpressionVisitor):
    explains = False  # explain.py's generator records the reasoning as well

    def __init__(self, program: Program) -> None:
        self.program = program
        self.constants: list = []
        self._constant_ids: dict[int, int] = {}
        self.functions: list[_Function] = []
        self.definitions = {name: i for i, name in enumerate(program.definitions)}
        self.resolvers: list[tuple[ir.Exceptions, dict[int, str]]] = []  # each « sauf si » and its branches
        self._temps = 0

    # -------------------------------------------------------------- names and constants

    def runtime(self) -> dict:
        """What the generated code calls beyond _RUNTIME."""
        return {}

    def recorded(self, index: int, value: str) -> list[str]:
        """The lines that keep a definition's reasoning beside its value (none: the reasoning is not recorded)."""
        return []

    def const(self, value) -> str:
        key = id(value)
        if key not in self._constant_ids:
            self._constant_ids[key] = len(self.constants)
            self.constants.append(value)
        return f"K[{self._constant_ids[key]!r}]"

    def literal(self, value) -> str:
        if value is None or isinstance(value, bool) or (isinstance(value, (int, str)) and type(value) in (int, str)):
            return repr(value)
        return self.const(value)

    def temp(self) -> str:
        self._temps += 1
        return f"v{self._temps!r}"

    def function(self, prefix: str, env: tuple[str, ...]) -> _Function:
        f = _Function(f"{prefix}{len(self.functions)!r}", len(env))
        self.functions.append(f)
        return f

    # -------------------------------------------------------------- the whole program

    def build(self) -> tuple[dict, list, list]:
        """Generate and compile every function: the namespace they live in (with the runners of definitions,
        barème cells and amounts), and what the requirement and notice runners are built from."""
        program = self.program
        definitions = []
        for d in program.definitions.values():
            f = self.function("d", ())
            value = self.valued(f, d.value, ())
            f.lines += [f"M[{len(definitions)!r}] = {value}", *self.recorded(len(definitions), value), f"return {value}"]
            definitions.append(f.name)
        amounts = {name: (self._amount(a), self._calculation(a)) for name, a in program.amounts.items()}
        requirements = [self._requirement(r) for r in program.requirements]
        notices = [self._notice(n) for n in program.notices]
        cells = {id(v): self.cell(v) for v in _cells(program)}  # a function's name, or the constant itself
        namespace = {**_RUNTIME, **self.runtime(), "K": self.constants}
        source = "\n".join(f.source() for f in self.functions)
        exec(cache.code(source, "<règles compilées>"), namespace)  # noqa: S102 - our own generated code
        namespace["DEF"] = [namespace[name] for name in definitions]
        namespace["CELL"] = {key: namespace[cell] if isinstance(cell, str) else _constant(cell[0], self.explains)
                             for key, cell in cells.items()}
        namespace["AMOUNT"] = {name: _amount_runner(program.amounts[name], namespace[raw], calc and namespace[calc],
                                                    self.explains)
                               for name, (raw, calc) in amounts.items()}
        namespace["RESOLVE"] = [_resolver(node, {key: namespace[name] for key, name in branches.items()}, self.explains)
                                for node, branches in self.resolvers]
        namespace["SOURCE"] = source
        return namespace, requirements, notices

    def _amount(self, a: ir.Amount) -> str:
        f = self.function("a", ())
        if a.applies is None:
            f.lines.append(f"return {self.valued(f, a.value, ())}")
            return f.name
        applies, result = self.expr(f, a.applies, ()), self.temp()
        f.lines.append(f"if {applies} is True:")
        self._branch(f, a.value, (), result)
        f.lines.append(f"else: {result} = None if {applies} is False else {applies}")
        f.lines.append(f"return {result}")
        return f.name

    def _calculation(self, a: ir.Amount) -> str | None:
        """For a computed amount, the function giving which formula gave it (the first exception that holds,
        else the base value: -1, as runtime.resolve chooses) and the values of its operands, in the order
        runtime.calculation reads them."""
        cases = a.value.cases
        formulas = [*(c.consequence for c in cases), a.value.base]
        if not any(calculation(x, lambda operand: operand) for x in formulas):
            return None
        f = self.function("c", ())
        conditions = [self.expr(f, c.condition, ()) for c in cases]
        for i, (formula, condition) in enumerate(zip(formulas, [*conditions, "True"])):
            index = i if i < len(cases) else -1
            f.lines.append(f"{'if' if i == 0 else 'elif'} {condition} is True:")
            with f.block():
                operands = [self.expr(f, v, ()) for _, v in calculation(formula, lambda operand: operand)
                            if v is not None]
                f.lines.append(f"return {index!r}, ({''.join(o + ', ' for o in operands)})")
        return f.name

    def _requirement(self, req: ir.Requirement):
        """The function computing whether it applies and each exception's condition, and its demands."""
        env = ("titulaire",) if req.per_holder else ()
        f = self.function("r", env)
        applies = self.expr(f, req.applies, env) if req.applies is not None else "True"
        if req.applies is not None:  # a requirement that does not apply has no exception to weigh
            f.lines.append(f"if {applies} is False: return False")
        conditions = [self.expr(f, case.condition, env) for case in req.demand.cases]
        # Most often it applies and no exception holds nor is in doubt: then its demand alone, as in valued().
        f.lines.append(f"if {' and '.join((applies + ' is True', *(c + ' is False' for c in conditions)))}: return True")
        f.lines.append(f"return {applies}, ({''.join(c + ', ' for c in conditions)})")
        demands = {id(d): self._demand(d, env) for d in req.demands()}
        return req, f.name, demands

    def _demand(self, demand: ir.Demand, env) -> str:
        f = self.function("m", env)
        if isinstance(demand, ir.ConditionDemand):
            f.lines.append(f"return {self.expr(f, demand.condition, env)}")
            return f.name
        alternatives = []
        for spec in demand.alternatives:
            pieces = f"S.pieces({spec.piece_type!r})"
            if not spec.filters:  # any piece of the type will do
                alternatives.append(self._assign(f, f"bool({pieces})"))
                continue
            piece = self.function("p", (*env, "pièce"))
            item = _local((*env, "pièce"), "pièce")
            values = [self._filter(piece, flt, (*env, "pièce"), item) for flt in spec.filters]
            piece.lines.append(f"return {self._fold(piece, values, False)}")
            args = ", ".join(("S", *(_local(env, n) for n in env), "x"))
            found = self._assign(f, f"[{piece.name}({args}) for x in {pieces}]")
            alternatives.append(self._assign(f, f"True if True in {found} else kleene({found}, True)"))
        f.lines.append(f"return {self._fold(f, alternatives, True)}")
        return f.name

    def _filter(self, f: _Function, flt, env, item: str) -> str:
        if isinstance(flt, ir.OfHolder):
            return self._assign(f, f"{item}.data.get('titulaire', 0) == {_local(env, 'titulaire')}.index")
        if isinstance(flt, ir.WithCondition):
            return self.expr(f, flt.condition, env)
        reference, max_age = self.expr(f, flt.reference, env), self.expr(f, flt.max_age, env)
        return self._assign(f, f"dated({item}, {reference}, {max_age})[0]")

    def _notice(self, n: ir.Notice):
        if n.applies is None:
            return n, None
        f = self.function("n", ())
        f.lines.append(f"return {self.expr(f, n.applies, ())}")
        return n, f.name

    def valued(self, f: _Function, node: ir.Exceptions, env: tuple[str, ...]) -> str:
        """The value of a definition or amount with its « sauf si » exceptions, into a local of `f`."""
        if not node.cases:
            return self.expr(f, node.base, env)
        conditions = [self.expr(f, case.condition, env) for case in node.cases]
        result = self.temp()
        # Most often no exception holds nor is in doubt: then the base value, without a call. Otherwise
        # runtime.resolve, the reference's own rule, on the branches compiled apart.
        f.lines.append(f"if {' and '.join(c + ' is False' for c in conditions)}:")
        self._branch(f, node.base, env, result)
        branches = {}
        for branch in (node.base, *(case.consequence for case in node.cases)):
            if id(branch) not in branches:
                g = self.function("x", env)
                g.lines.append(f"return {self.expr(g, branch, env)}")
                branches[id(branch)] = g.name
        self.resolvers.append((node, branches))
        f.lines.append(f"else: {result} = RESOLVE[{len(self.resolvers) - 1!r}](S, ({', '.join(conditions)},))")
        return result

    def _branch(self, f: _Function, node, env, result: str) -> None:
        """`result = node` (an expression or a « sauf si ») as the indented body of the block the caller opened."""
        with f.block():
            value = self.valued(f, node, env) if isinstance(node, ir.Exceptions) else self.expr(f, node, env)
            f.lines.append(f"{result} = {value}")

    # -------------------------------------------------------------- expressions

    def expr(self, f: _Function, e: ir.Expr, env: tuple[str, ...]) -> str:
        """Emit the statements computing `e` into `f`; return the Python expression holding its value."""
        return self.visit(e, f, env)

    def _e_Literal(self, e, f, env):
        return self.literal(e.value)

    def _assign(self, f: _Function, code: str) -> str:
        v = self.temp()
        f.lines.append(f"{v} = {code}")
        return v

    def _e_OutOfScope(self, e, f, env):
        return self.const(NotCovered(e.message))

    def _e_FieldRef(self, e: FieldRef, f, env):
        tail = "/" + "/".join(e.parts)
        if e.base is None:
            node, pointer = "D", repr(tail)
            item = None
        else:
            item = self._def(f, e.base) if e.definition else _local(env, e.base)
            node = self._assign(f, f"{item}.data if {item}.__class__ is Item else None")
            pointer = f"{item}.pointer + {tail!r}"
        for part in e.parts:
            # The dossier itself is an object (its schema says so); what it holds may be anything.
            node = self._assign(f, f"D.get({part!r})" if node == "D" else
                                f"{node}.get({part!r}) if {node}.__class__ is dict else None")
        missing = (self.const(Unknown(frozenset({tail}))) if item is None
                   else f"Unknown(frozenset(({pointer},)))")
        value = f"{missing} if {node} is None else {self._convert(node, e, pointer)}"
        if item is None:
            return self._assign(f, value)
        # Not an element (the definition it reads is unknown): that, and nothing read from it.
        return self._assign(f, f"{item} if {item}.__class__ is not Item else {value}")

    def _convert(self, node: str, e: FieldRef, pointer: str) -> str:
        kind = e.type.kind
        if kind == "date":
            return f"date_from({node})"
        if kind == "décimal":
            return f"(Decimal({node}) if {node}.__class__ is int else {node})"
        if kind in ("liste", "montant"):
            return f"convert({node}, {self.const(e)}, {pointer})"
        return node

    def _e_VarRef(self, e: VarRef, f, env):
        return _local(env, e.name)

    def _e_DefRef(self, e: DefRef, f, env):
        return self._def(f, e.name)

    def _def(self, f: _Function, name: str) -> str:
        """A definition's value: computed once per dossier (M), and read once per function."""
        if name not in f.known:
            index = self.definitions[name]
            f.known[name] = self._assign(f, f"M[{index!r}] if M[{index!r}] is not UNSET else DEF[{index!r}](S)")
        return f.known[name]

    def _e_AmountRef(self, e: AmountRef, f, env):
        return self._amount_value(f, e.name)[1]

    def _amount_value(self, f: _Function, name: str) -> tuple[str, str]:
        """The locals of an amount's outcome (computed once per dossier) and of its value, 0 € if it does not apply."""
        outcome = self._assign(f, f"S.amounts.get({name!r}) or AMOUNT[{name!r}](S)")
        return outcome, self._assign(f, f"ZERO if {outcome}.status is NA else {outcome}.value")

    def _e_TableRef(self, e: TableRef, f, env):
        return self._lookup(f, e, env)[3]

    def _lookup(self, f: _Function, e: TableRef, env) -> tuple[str, str, str, str]:
        """The locals of a lookup's key, date, row (or the problem) and the row's cell: its value in the code
        without reasoning, (value, its steps' children) in explain.py's."""
        key = self.expr(f, e.key, env) if e.key is not None else "None"
        day = self.expr(f, e.date, env)
        found = self._assign(f, f"_find({self.const(e.table)}, {key}, {day})")
        cell = self._assign(f, f"{found} if {found}.__class__ in P else CELL[id({found}.value)](S, {key})")
        return key, day, found, cell

    def _e_KeyRef(self, e, f, env):
        return _local(env, ROW_KEY)

    def cell(self, value: ir.Expr) -> str | tuple:
        """A barème row's or version's value, as a function of the key the lookup was made with, or (most rows)
        as `(constant,)`: thousands of rows would otherwise cost as many functions to compile."""
        if isinstance(value, ir.Literal):
            return (value.value,)
        if isinstance(value, ir.OutOfScope):
            return (NotCovered(value.message),)
        f = self.function("k", (ROW_KEY,))
        f.lines.append(f"return {self.expr(f, value, (ROW_KEY,))}")
        return f.name

    def _e_IsSet(self, e, f, env):
        value = self._e_FieldRef(e.operand, f, env)
        return self._assign(f, f"{value}.__class__ not in P")

    def _e_Default(self, e, f, env):
        # Both sides are computed: evaluation is pure, and the fallback is usually a literal.
        operand, fallback = self.expr(f, e.operand, env), self.expr(f, e.fallback, env)
        return self._assign(f, f"{fallback} if {operand}.__class__ is Unknown else {operand}")

    def _binary(self, f, left: ir.Expr, right: ir.Expr, compute: str, env) -> str:
        a, b = self.expr(f, left, env), self.expr(f, right, env)
        checks = [f"{x}.__class__ in P" for x, node in ((a, left), (b, right)) if not isinstance(node, ir.Literal)]
        if not checks:
            return self._assign(f, compute.format(a=a, b=b))
        return self._assign(f, f"first_problem({a}, {b}) if {' or '.join(checks)} else {compute.format(a=a, b=b)}")

    def _e_Compare(self, e, f, env):
        plain = f"({{a}} {_OPS[e.op]} {{b}})"
        # Both sides have the same type (the checker says so): only durations compare otherwise than Python does.
        if e.left.type.kind != "durée":
            return self._binary(f, e.left, e.right, plain, env)
        # Durations compare on the calendar (values.calendar_order), everything else as Python does.
        return self._binary(f, e.left, e.right,
                            f"({plain} if {{a}}.__class__ is not Duration else compare({e.op!r}, {{a}}, {{b}}))",
                            env)

    def _e_Arith(self, e, f, env):
        if e.type == ir.MONEY and e.op in _MONEY_ARITH:
            return self._binary(f, e.left, e.right, f"{_MONEY_ARITH[e.op]}({{a}}, {{b}})", env)
        return self._binary(f, e.left, e.right, f"computed(arith, {e.op!r}, {{a}}, {{b}})", env)

    def _e_Contains(self, e, f, env):
        return self._binary(f, e.text, e.part, "({b} in {a})", env)

    def _e_UnitsBetween(self, e, f, env):
        return self._binary(f, e.start, e.end, f"computed(whole_units, {e.unit!r}, {{a}}, {{b}})", env)

    def _e_Between(self, e, f, env):
        return self._binary(f, e.start, e.end, "computed(between, {a}, {b})", env)

    def _e_Rank(self, e, f, env):
        return self._assign(f, f"{_local(env, e.var)}.index + 1")

    def _e_First(self, e, f, env):
        items = self.expr(f, e.collection, env)
        missing = self.const(Unknown(frozenset({"/" + "/".join(e.collection.parts)})))
        return self._assign(f, f"({items}[0] if {items} else {missing}) if {items}.__class__ is list else {items}")

    def _unary(self, f, e, env, compute: str) -> str:
        """`compute` on the operand's value ({x}), unless it is unknown or failed."""
        x = self.expr(f, e.operand, env)
        return self._assign(f, f"{compute.format(x=x)} if {x}.__class__ not in P else {x}")

    def _e_Prefix(self, e, f, env):
        return self._unary(f, e, env, f"{{x}}[:{e.count!r}]")

    def _e_Not(self, e, f, env):
        return self._unary(f, e, env, "(not {x})")

    def _e_Negate(self, e, f, env):
        return self._unary(f, e, env, "negate({x})")

    def _e_And(self, e, f, env):
        return self._logic(f, e, env, False)

    def _e_Or(self, e, f, env):
        return self._logic(f, e, env, True)

    def _logic(self, f, e, env, absorbing: bool) -> str:
        return self._fold(f, [self.expr(f, o, env) for o in e.operands], absorbing)

    def _fold(self, f, values: list[str], absorbing: bool) -> str:
        """Kleene's « et » / « ou » of the values, written out for the cases where every operand is known."""
        if len(values) < 2:
            return values[0] if values else repr(not absorbing)
        if_absorbing = " or ".join(f"{v} is {absorbing!r}" for v in values)
        if_neutral = " and ".join(f"{v} is {not absorbing!r}" for v in values)
        return self._assign(f, f"{absorbing!r} if {if_absorbing} else {not absorbing!r} if {if_neutral} else "
                               f"kleene(({', '.join(values)},), {absorbing!r})")

    def _each(self, f, collection, var: str, condition, env, fold: str) -> str:
        items = self.expr(f, collection, env)
        body = self.function("q", (*env, var))
        body.lines.append(f"return {self.expr(body, condition, (*env, var))}")
        args = ", ".join(("S", *(_local(env, n) for n in env), "x"))
        return self._assign(f, f"{fold}([{body.name}({args}) for x in {items}]) if {items}.__class__ is list "
                               f"else {items}")

    def _e_Quantifier(self, e, f, env):
        return self._each(f, e.collection, e.var, e.condition, env, "_and" if e.every else "_or")

    def _e_Count(self, e, f, env):
        if e.condition is None:
            items = self.expr(f, e.collection, env)
            return self._assign(f, f"len({items}) if {items}.__class__ is list else {items}")
        return self._each(f, e.collection, e.var, e.condition, env, "_count")


def _constant(value, explain: bool):
    """A barème cell that is a constant; its reasoning, when recorded, has no step below the row."""
    pair = (value, ())
    return (lambda state, key: pair) if explain else (lambda state, key: value)


def _cells(program: Program):
    """Every value a barème lookup can read: each row's, and each dated version's."""
    for table in program.tables.values():
        for version in table.periods:
            yield from (row.value for row in version.period.rows)
            if version.period.value is not None:
                yield version.period.value
        for versions in table.groups.values():
            yield from (p.value for p in versions if p.value is not None)


def _local(env: tuple[str, ...], name: str) -> str:
    """The parameter that holds loop variable `name` in a generated function (the innermost of that name)."""
    return f"e{len(env) - 1 - env[::-1].index(name)!r}"


# ------------------------------------------------------------------ the runners around the generated code


def _resolver(node: ir.Exceptions, branches: dict, explain: bool):
    """`run(state, conditions)`: runtime.resolve on a « sauf si », each branch a compiled function; with the
    reasoning, each branch gives its step too, and the run the steps of the branches it computed."""
    def run(state: State, conditions: tuple):
        return resolve(node, conditions, lambda branch: branches[id(branch)](state))[1]

    def explained(state: State, conditions: tuple):
        steps = []

        def value_of(branch):
            value, step = branches[id(branch)](state)
            steps.append(step)
            return value

        return resolve(node, conditions, value_of)[1], tuple(steps)

    return explained if explain else run


def _amount_runner(a: ir.Amount, raw, calculate, explain: bool):
    """`run(state) -> AmountOutcome`, computed once per dossier, as evaluate._Run.amount; with the reasoning,
    `raw` gives the steps of its breakdown too."""
    name, rule = a.name, rule_of(a)
    parts = tuple(dict.fromkeys(amount_refs(a.value)))
    # Each formula's calculation laid out once, its operands standing in for their values.
    layouts = [calculation(x, lambda operand: operand) for x in (*(c.consequence for c in a.value.cases), a.value.base)]

    def shown(state: State) -> tuple:
        index, values = calculate(state)
        it = iter(values)
        return tuple([(text, None if operand is None else next(it)) for text, operand in layouts[index]])

    # Not due: the same outcome for every dossier, built once.
    not_applicable = AmountOutcome(rule, AmountStatus.NOT_APPLICABLE, None, (), None, None, (), ())

    def run(state: State) -> AmountOutcome:
        done = state.amounts.get(name)
        if done is not None:
            return done
        value, steps = raw(state) if explain else (raw(state), None)
        if value is None and not explain:
            state.amounts[name] = not_applicable
            return not_applicable
        result, status, error = settled_amount(value)
        unsettled = tuple(state.amounts[p] for p in parts if state.amounts[p].status in UNSETTLED) \
            if status in UNSETTLED else ()
        figure = shown(state) if calculate is not None and status is AmountStatus.COMPUTED else ()
        breakdown = Step(StepKind.AMOUNT, a.title or a.name, result, a.span, steps) if explain else None
        outcome = AmountOutcome(rule, status, result, missing_of(result), breakdown, error, unsettled, figure)
        state.amounts[name] = outcome
        return outcome

    return run


def _requirement_runner(req: ir.Requirement, conditions, demands: dict, explain: bool):
    """`run(state) -> a sequence of RequirementOutcome`: runtime.resolve, as evaluate._Run._requirement, on the
    values the generated function computed; with the reasoning, the function and each demand give their steps
    too, and each outcome its tree."""
    rule, message, node = rule_of(req), req.message, req.demand
    types = {id(d): piece_types(d) for d in req.demands()}

    settled = {}  # outcomes without holder, missing field nor reasoning are the same for every dossier: built once

    def outcome(holder, status, missing=(), error=None, demand=node.base, reason=None):
        if holder is None and not missing and error is None and reason is None:
            key = (status, id(demand))
            if key not in settled:
                settled[key] = RequirementOutcome(rule, None, status, types[id(demand)], message, (), None)
            return settled[key]
        return RequirementOutcome(rule, holder, status, types[id(demand)], message, missing, reason, error)

    base = demands[id(node.base)]

    def weighed(state: State, args: tuple, holder, found) -> RequirementOutcome:
        """The outcome once its conditions are known not to exempt it (`found` is not False)."""
        if found is True:
            chosen, satisfied = None, base(state, *args)
        else:
            applies, values = found
            chosen, satisfied = resolve(node, values, lambda demand: demands[id(demand)](state, *args), demands=True,
                                        undecided=(applies,) if applies.__class__ in PROBLEMS else ())
        demand = node.base if chosen is None else chosen.consequence
        if demand is None:
            return outcome(holder, Status.NOT_APPLICABLE)
        status, missing, error = requirement_status(satisfied)
        return outcome(holder, status, missing, error, demand)

    # The usual outcomes of a requirement without holder, built once: it does not apply, or it applies without
    # exception and its demand is met or not.
    exempt, met, unmet = ((outcome(None, status),) for status in (Status.NOT_APPLICABLE, Status.SATISFIED,
                                                                    Status.MISSING))

    def single(state: State) -> tuple[RequirementOutcome]:
        found = conditions(state)
        if found is False:
            return exempt
        if found is not True:
            return (weighed(state, (), None, found),)
        satisfied = base(state)
        if satisfied is True:
            return met
        if satisfied is False:
            return unmet
        status, missing, error = requirement_status(satisfied)
        return (outcome(None, status, missing, error),)

    def of_holder(state: State, item: Item, holder) -> RequirementOutcome:
        found = conditions(state, item)
        if found is False:
            return outcome(holder, Status.NOT_APPLICABLE)
        return weighed(state, (item,), holder, found)

    def explained(state: State, args: tuple, holder) -> RequirementOutcome:
        applies, values, steps = conditions(state, *args)
        steps = list(steps)
        if applies is False:
            return outcome(holder, Status.NOT_APPLICABLE, reason=_root(req, steps, False))

        def met(demand):
            satisfied, step = demands[id(demand)](state, *args)
            steps.append(step)
            return satisfied

        chosen, satisfied = resolve(node, values, met, demands=True,
                                    undecided=(applies,) if applies.__class__ in PROBLEMS else ())
        demand = node.base if chosen is None else chosen.consequence
        if demand is None:
            return outcome(holder, Status.NOT_APPLICABLE, reason=_root(req, steps, False))
        status, missing, error = requirement_status(satisfied)
        return outcome(holder, status, missing, error, demand, _root(req, steps, satisfied))

    if not req.per_holder:
        return (lambda state: (explained(state, (), None),)) if explain else single
    run = (lambda state, item, holder: explained(state, (item,), holder)) if explain else of_holder

    def per_holder(state: State):
        holders = state.holders()
        if holders is None:
            problem = Unknown(frozenset({"/titulaires"}))
            reason = Step(StepKind.APPLIES, "pour chaque titulaire", problem, req.span) if explain else None
            return (outcome(None, Status.UNKNOWN, missing_of(problem), reason=reason),)
        return [run(state, item, holder) for item, holder in holders]

    return per_holder


def _root(req: ir.Requirement, steps: list, value) -> Step:
    return Step(StepKind.CONDITION, req.name, value, req.span, tuple(steps))


class Compiled:
    """A program compiled to Python: `evaluate` gives evaluate.evaluate's Outcome without the explanations (with
    them, from explain.py's generator)."""

    def __init__(self, program: Program, generator: type[_Generator] = _Generator) -> None:
        self.program = program
        self._explains = generator.explains
        namespace, requirements, notices = generator(program).build()
        self.source = namespace["SOURCE"]
        self._definitions = len(program.definitions)
        self._amounts = list(namespace["AMOUNT"].values())
        self._requirements = [_requirement_runner(r, namespace[f], {k: namespace[m] for k, m in d.items()},
                                                  self._explains)
                              for r, f, d in requirements]
        self._notices = [(n, NoticeOutcome(rule_of(n), n.message), namespace[f] if f else None) for n, f in notices]
        names = list(program.definitions)
        self._reference_date = ((i := names.index(REFERENCE_DATE)), namespace["DEF"][i]) \
            if REFERENCE_DATE in program.definitions else None

    def evaluate(self, name: str, data: dict) -> Outcome:
        state = State(data, self._definitions, self._explains)
        found = []
        for run in self._requirements:
            found += run(state)
        outcomes = tuple(found)
        figures = tuple([run(state) for run in self._amounts])
        pieces_missing = any(o.status is Status.MISSING and o.rule.kind == "exigence" for o in outcomes)
        shown = tuple(shown for n, shown, applies in self._notices
                      if (pieces_missing or not n.when_pieces_missing) and (applies is None or applies(state) is True))
        return Outcome(name, data.get("reference"), verdict_of(outcomes), outcomes, figures, shown,
                       self._day(state))

    def _day(self, state: State):
        if self._reference_date is None:
            return None
        index, compute = self._reference_date
        return day_or_none(state.memo[index] if state.memo[index] is not _UNSET else compute(state))


def kept(store: dict, program: Program, build):
    """`build(program)`, made on first use; the few programs of a process are kept in `store` (by identity: a
    program's hash would walk all its rules)."""
    entry = store.get(id(program))
    if entry is None or entry[0] is not program:
        if len(store) >= 8:
            store.pop(next(iter(store)))
        entry = store[id(program)] = (program, build(program))
    return entry[1]


_COMPILED: dict[int, tuple[Program, Compiled]] = {}


def compiled(program: Program) -> Compiled:
    """The program's compiled form, built on first use and kept."""
    return kept(_COMPILED, program, Compiled)
