"""The dossier schema's words for fields and coded values, and the kinds of values rule expressions have."""

from __future__ import annotations

from ..program import Program
from ..vocabulary import Vocabulary
from . import french as fr


class Fields(Vocabulary):
    """The schema's words as the docs use them: a piece's name and description, a field's hint."""

    def piece_label(self, piece_type: str) -> tuple[str, str]:
        """A piece type's short French name and its full description, from the dossier schema."""
        description = self.enum("/pieces/*/type").get(piece_type, "")
        if not description:
            return fr.humanize(piece_type), ""
        return self.short_names("/pieces/*/type")[piece_type], description

    def hint(self, pointer: str) -> str:
        node = self.node(pointer)
        shown = pointer.replace("/*", "/…")
        return f"Champ {shown} du dossier" + (f" : {node['description']}" if node.get("description") else "")


class Kinds:
    """The kind of value an expression has (entier, date, booléen…): the checker's types, recovered."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._kinds: dict[str, str | None] = {}


    def kind(self, e) -> str | None:
        method = getattr(self, "_k_" + type(e).__name__, None)
        return method(e) if method else None

    def _k_Number(self, e):
        return "entier" if isinstance(e.value, int) else "décimal"

    def _k_Text(self, e):
        return "texte"

    def _k_DateLit(self, e):
        return "date"

    def _k_Boolean(self, e):
        return "booléen"

    def _k_MoneyLit(self, e):
        return "montant"

    def _k_Percent(self, e):
        return "décimal"

    def _k_DurationLit(self, e):
        return "durée"

    def _k_bool(self, e):
        return "booléen"

    _k_Or = _k_And = _k_Not = _k_Compare = _k_Quantifier = _k_IsSet = _k_Contains = _k_bool

    def _k_Arith(self, e):
        kinds = {self.kind(e.left), self.kind(e.right)}
        if e.op == "/" and kinds == {"montant"}:
            return "décimal"
        for k in ("montant", "date", "durée"):
            if k in kinds:
                return k
        return "entier" if kinds == {"entier"} and e.op != "/" else "décimal"

    def _k_Negate(self, e):
        return self.kind(e.operand)

    def _k_Between(self, e):
        return "durée"

    def _k_int(self, e):
        return "entier"

    _k_UnitsBetween = _k_Rank = _k_Count = _k_KeyRef = _k_int

    def _k_Prefix(self, e):
        return "texte"

    def _k_First(self, e):
        return "objet"

    def _k_Default(self, e):
        return self.kind(e.operand) or self.kind(e.fallback)

    def _k_Lookup(self, e):
        table = self.program.tables.get(e.table)
        return table.value_type.kind if table else None

    def _k_TableRef(self, e):
        return e.table.value_type.kind

    def _k_FieldRef(self, e):
        return e.type.kind

    def _k_VarRef(self, e):
        return "objet"

    def _k_AmountRef(self, e):
        return "montant"

    def _k_DefRef(self, e):
        if e.name not in self._kinds:
            self._kinds[e.name] = None  # a cycle (never in a checked pack) stays unknown
            definition = self.program.definitions.get(e.name)
            self._kinds[e.name] = self.kind(definition.value) if definition else None
        return self._kinds[e.name]
