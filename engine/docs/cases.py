"""Rule conditions × the four purchase cases → in which cases a rule may apply.

The cases are read from the dossier's `achat.etat` (neuf, occasion) and `achat.origine` (france, or any
other value: abroad). A rule's condition is evaluated with only those two fields known, in three-valued
logic: a case is left out only when the condition is certainly false there (or an exemption certainly
holds), so a rule that depends on anything else is listed wherever it may apply.
"""

from __future__ import annotations

import attrs

from .. import syntax as s
from ..program import DefRef, FieldRef, Program

STATE, ORIGIN = "/achat/etat", "/achat/origine"
HOME = "france"


@attrs.frozen
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


class _Partial:
    """Three-valued evaluation with two known fields; None is « cannot tell ».

    Not the engine's evaluator: here every other field, even one a rule reads « à défaut », is unknown,
    because the question is where a rule *may* apply, not what a given dossier gets.
    """

    def __init__(self, program: Program, known: dict[str, str]) -> None:
        self.program = program
        self.known = known
        self.stack: list[str] = []

    def eval(self, e):
        method = getattr(self, "_" + type(e).__name__, None)
        return method(e) if method else None

    def _Text(self, e):
        return e.value

    def _Boolean(self, e):
        return e.value

    def _FieldRef(self, e: FieldRef):
        return self.known.get(e.type.pointer) if e.base is None else None

    def _Compare(self, e: s.Compare):
        left, right = self.eval(e.left), self.eval(e.right)
        if left is None or right is None or e.op not in ("=", "!="):
            return None
        return (left == right) == (e.op == "=")

    def _And(self, e: s.And):
        values = [self.eval(o) for o in e.operands]
        return False if False in values else None if None in values else True

    def _Or(self, e: s.Or):
        values = [self.eval(o) for o in e.operands]
        return True if True in values else None if None in values else False

    def _Not(self, e: s.Not):
        value = self.eval(e.operand)
        return None if value is None else not value

    def _DefRef(self, e: DefRef):
        definition = self.program.definitions.get(e.name)
        if definition is None or e.name in self.stack:
            return None
        self.stack.append(e.name)
        try:
            value = self.eval(definition.value)
            for exc in definition.exceptions:
                holds = self.eval(exc.condition)
                if holds is True:
                    value = self.eval(exc.value)
                elif holds is None:
                    value = None
            return value
        finally:
            self.stack.pop()
