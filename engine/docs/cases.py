"""Rule conditions × the four purchase cases → in which cases a rule may apply.

The cases are read from the dossier's `achat.etat` (neuf, occasion) and `achat.origine` (france, or any
other value: abroad). A rule's condition is evaluated with only those two fields known, in three-valued
logic: a case is left out only when the condition is certainly false there (or an exemption certainly
holds), so a rule that depends on anything else is listed wherever it may apply.
"""

from __future__ import annotations

from .. import ir
from ..frozen import frozen
from ..ir import DefRef, FieldRef
from ..program import Program
from ..runtime import resolve
from ..values import Unknown

CANNOT_TELL = Unknown(frozenset())

STATE, ORIGIN = "/achat/etat", "/achat/origine"
HOME = "france"


@frozen
class Case:
    key: str
    title: str
    state: str
    abroad: bool


CASES = (
    Case("neuf-france", "Voiture neuve achetée en France", "neuf", False),
    Case("neuf-etranger", "Voiture neuve achetée à l'étranger", "neuf", True),
    Case("occasion-france", "Voiture d'occasion achetée en France", "occasion", False),
    Case("occasion-etranger", "Voiture d'occasion achetée à l'étranger", "occasion", True),
)


class CaseFinder:
    def __init__(self, program: Program, origins: tuple[str, ...]) -> None:
        self.program = program
        self.abroad = tuple(o for o in origins if o != HOME) or ("etranger",)

    def cases(self, applies, exemptions=()) -> tuple[Case, ...]:
        """The purchase cases in which a rule with this condition and these exemptions may apply."""
        return tuple(c for c in CASES if self._possible(c, applies, exemptions))

    def _possible(self, case: Case, applies, exemptions) -> bool:
        origins = self.abroad if case.abroad else (HOME,)
        for origin in origins:
            known = {STATE: case.state, ORIGIN: origin}
            if applies is not None and _Partial(self.program, known).eval(applies) is False:
                continue
            if any(_Partial(self.program, known).eval(e) is True for e in exemptions):
                continue
            return True
        return False


class _Partial(ir.ExpressionVisitor):
    """Three-valued evaluation with two known fields; None is « cannot tell ».

    Not the engine's evaluator: here every other field, even one a rule reads « à défaut », is unknown,
    because the question is where a rule *may* apply, not what a given dossier gets.
    """

    prefix = "_"

    def __init__(self, program: Program, known: dict[str, str]) -> None:
        self.program = program
        self.known = known
        self.stack: list[str] = []

    def eval(self, e):
        return self.visit(e)

    def fallback(self, e):
        return None  # what it is cannot be told from the purchase case alone

    def _Literal(self, e):
        return e.value if e.type.kind in ("texte", "booléen") else None

    def _FieldRef(self, e: FieldRef):
        return self.known.get(e.type.pointer) if e.base is None else None

    def _Compare(self, e: ir.Compare):
        left, right = self.eval(e.left), self.eval(e.right)
        if left is None or right is None or e.op not in ("=", "!="):
            return None
        return (left == right) == (e.op == "=")

    def _And(self, e: ir.And):
        values = [self.eval(o) for o in e.operands]
        return False if False in values else None if None in values else True

    def _Or(self, e: ir.Or):
        values = [self.eval(o) for o in e.operands]
        return True if True in values else None if None in values else False

    def _Not(self, e: ir.Not):
        value = self.eval(e.operand)
        return None if value is None else not value

    def _told(self, e):
        value = self.eval(e)
        return CANNOT_TELL if value is None else value

    def _DefRef(self, e: DefRef):
        definition = self.program.definitions.get(e.name)
        if definition is None or e.name in self.stack:
            return None
        self.stack.append(e.name)
        try:
            # The engine's own rule of « sauf si », on what can be told here.
            told = [self._told(case.condition) for case in definition.value.cases]
            value = resolve(definition.value, told, self._told)[1]
            return None if value is CANNOT_TELL or isinstance(value, Unknown) else value
        finally:
            self.stack.pop()
