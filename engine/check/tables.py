"""Barème checks: periods and rows that neither overlap nor leave gaps, one value type, compiled lookups."""

from __future__ import annotations

import datetime

import attrs

from .. import syntax as s
from ..diagnostics import Label
from ..escape import excerpt
from ..ir import ANY, INT, Type
from ..program import CompiledTable, compile_period
from .common import ROW_KEY

# Rows of one version (or keys of a history): the largest shipped grid has under 200. Every row becomes a line
# of the docs page and of coverage: a generated grid beyond this belongs in data, not in a rule a lawyer reads.
MAX_ROWS = 5000

# What a barème's value may be made of: a table of the law states constants, or a computation on the key of
# its row (« 210 € + (clé − 140) × 30 € »); what else the value needs belongs to the rule that looks it up.
FORMULA = (s.Number, s.Text, s.DateLit, s.Boolean, s.MoneyLit, s.Percent, s.DurationLit, s.KeyRef, s.Arith,
           s.Negate)


class TableChecks:
    """Mixed into the checker: needs its `err`, `expr` and `_citation`."""


    def _table(self, t: s.Table, module: s.Module):
        self._citation(t, "le barème")
        if t.groups:
            versions = self._key_groups(t.groups)
        else:
            versions = sorted(t.periods, key=lambda p: p.start)
            # A keyed grid may still say a whole version is « hors barème ».
            shapes = {bool(p.rows) for p in versions if not isinstance(p.value, s.OutOfScope)}
            if len(shapes) > 1:
                self.err("bareme-forme", "un barème a soit des lignes dans chaque version, soit une seule "
                         "valeur par version", t.name_span)
            self._versions(versions)
            for p in versions:
                self._rows(p)
        typed = {id(p): self._typed(p, module) for p in versions}
        value_type = self._table_type(t, typed.values())
        keyed = bool(t.groups) or any(p.rows for p in versions)
        textual = bool(t.groups) or any(r.key.text is not None for p in versions for r in p.rows)
        compiled = CompiledTable(
            t.name, t.title, t.source, value_type, keyed, textual,
            periods=() if t.groups else tuple(compile_period(typed[id(p)]) for p in versions),
            groups={g.key: tuple(sorted((typed[id(p)] for p in g.periods), key=lambda p: p.start)) for g in t.groups},
            labels={g.key: g.label for g in t.groups if g.label is not None},
            notes=t.notes, not_handled=t.not_handled, span=t.span,
        )
        return compiled, value_type

    def _typed(self, p: s.Period, module) -> s.Period:
        """The version with its values in the typed IR: « clé » is the integer key in a row of numeric keys."""
        value = None if p.value is None else self._cell(p.value, {}, module)
        rows = tuple(attrs.evolve(r, value=self._cell(r.value, {ROW_KEY: INT} if r.key.text is None else {}, module))
                     for r in p.rows)
        return attrs.evolve(p, value=value, rows=rows)

    def _cell(self, value: s.Expr, scope: dict, module):
        if isinstance(value, s.OutOfScope) or self._formula(value):
            return self.expr(value, scope, module)
        return None  # reported: the program is not built

    def _table_type(self, t: s.Table, versions) -> Type:
        values = [p.value for p in versions if p.value is not None] + [r.value for p in versions for r in p.rows]
        types = {v.type for v in values if v is not None} - {ANY}
        if len(types) > 1:
            self.err("bareme-type", "les valeurs d'un barème doivent être de même nature : "
                     + ", ".join(sorted(str(v) for v in types)), t.name_span)
        return next(iter(types)) if len(types) == 1 else ANY

    def _formula(self, value: s.Expr) -> bool:
        """Whether the value is a constant or a computation on its row's key."""
        found = next((e for e, _ in s.nesting(value) if not isinstance(e, FORMULA)), None)
        if found is not None:
            self.err("bareme-formule", f"« {excerpt(' '.join(found.span.text.split()))} » n'a pas sa place dans une "
                     "valeur de barème, faite de constantes et de calculs (+ − × /) sur « clé »", found.span,
                     help="calculez-le dans la règle qui consulte le barème")
        return found is None

    def _key_groups(self, groups) -> list[s.Period]:
        seen: dict[str, s.KeyGroup] = {}
        self._too_many("trop de clés dans ce barème", groups)
        for g in groups:
            self._label(g.label, g.span)
            if g.key in seen:
                self.err("bareme-chevauchement", f"clé « {g.key} » répétée", g.span,
                         notes=(Label(seen[g.key].span, "première occurrence"),))
            seen[g.key] = g
            self._versions(sorted(g.periods, key=lambda p: p.start))
        return [p for g in groups for p in g.periods]

    def _label(self, label: str | None, span) -> None:
        if label is not None and not label:
            self.err("libelle-vide", "libellé vide : écrivez entre « » ce que la clé désigne, ou retirez-le", span)

    def _versions(self, periods: list[s.Period]) -> None:
        for p in periods:
            if p.end is not None and p.end < p.start:
                self.err("bareme-periode", "période de vigueur inversée : la fin précède le début", p.span)
        for before, after in zip(periods, periods[1:]):
            self._adjacent_periods(before, after)

    def _adjacent_periods(self, before: s.Period, after: s.Period) -> None:
        note = (Label(before.span, "période précédente"),)
        if before.end is None or before.end >= after.start:
            self.err("bareme-chevauchement", "périodes de vigueur qui se chevauchent", after.span, notes=note)
        elif before.end + datetime.timedelta(days=1) < after.start:
            self.err("bareme-lacune", f"aucune version en vigueur entre le {before.end:%d/%m/%Y} "
                     f"et le {after.start:%d/%m/%Y}", after.span, notes=note)

    def _too_many(self, what: str, lines: tuple) -> bool:
        if len(lines) <= MAX_ROWS:
            return False
        self.err("bareme-trop-long", f"{what} : {len(lines)}, au plus {MAX_ROWS} ; scindez le barème",
                 lines[MAX_ROWS].span)
        return True

    def _rows(self, period: s.Period) -> None:
        if self._too_many("trop de lignes dans cette version du barème", period.rows):
            return
        texts = [r for r in period.rows if r.key.text is not None]
        ranges = sorted((r for r in period.rows if r.key.text is None),
                        key=lambda r: (r.key.low is not None, r.key.low or 0))
        if texts and ranges:
            self.err("bareme-cles", "un barème a des clés soit textuelles soit numériques, pas les deux", period.span)
        seen: dict[str, s.Row] = {}
        for r in texts:
            self._label(r.key.label, r.key.span)
            if r.key.text in seen:
                self.err("bareme-chevauchement", f"clé « {r.key.text} » répétée", r.span,
                         notes=(Label(seen[r.key.text].span, "première ligne"),))
            seen[r.key.text] = r
        for r in ranges:
            if r.key.low is not None and r.key.high is not None and r.key.high < r.key.low:
                self.err("bareme-intervalle", "intervalle vide : la borne haute précède la borne basse", r.span)
        for a, b in zip(ranges, ranges[1:]):
            self._adjacent_rows(a, b)

    def _adjacent_rows(self, a: s.Row, b: s.Row) -> None:
        note = (Label(a.span, "ligne précédente"),)
        if a.key.high is None or b.key.low is None or a.key.high >= b.key.low:
            self.err("bareme-chevauchement", "lignes de barème qui se chevauchent", b.span, notes=note)
        elif a.key.high + 1 < b.key.low:
            low, high = a.key.high + 1, b.key.low - 1
            hole = f"la valeur {low}" if low == high else f"les valeurs de {low} à {high}"
            self.err("bareme-lacune", f"aucune ligne ne couvre {hole}", b.span, notes=note)
