"""Syntax trees + dossier schema → a resolved, typed Program, with every static error located."""

from __future__ import annotations

import datetime
import difflib
import itertools
import posixpath
from collections.abc import Sequence

import attrs

from . import syntax as s
from .diagnostics import Diagnostic, Label, error
from .logic import exclusive
from .program import (
    ANY, BOOL, DATE, DECIMAL, DURATION, INT, MONEY, NUMERIC, TEXT,
    AmountRef, CompiledTable, DefRef, FieldRef, Program, TableRef, Type, VarRef, compile_period,
)
from .source import Span

REFERENCE_DATE = "date_de_référence"
OPERATOR_WORDS = {"*": "×", "-": "−"}
KIND_WORDS = {s.Requirement: "exigence", s.Definition: "définition", s.Amount: "montant", s.Table: "barème",
              s.Notice: "avis"}
PIECE_VAR = "pièce"
HOLDER_VAR = "titulaire"


def import_path(module_path: str, target: str) -> str:
    """Imports are relative to the importing file, in POSIX form so reports are portable."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(module_path), target))


def check(modules: Sequence[s.Module], schema: dict, known_paths: set[str] | None = None):
    """Every static error of every module; a Program only when there is none.

    `known_paths` names files that exist but did not parse, so importing them is not
    reported a second time as a missing file.
    """
    return _Checker(modules, _Schema(schema), known_paths or set()).run()


def _describe(item: s.Item) -> str:
    kind = item.kind if isinstance(item, s.Requirement) else KIND_WORDS[type(item)]
    title = getattr(item, "title", "")
    return f"{kind} {item.name}" + (f" ({title})" if title else "")


def _suggest(word: str, candidates) -> str | None:
    match = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"vouliez-vous dire « {match[0]} » ?" if match else None


# ------------------------------------------------------------------ the dossier schema as types


@attrs.frozen
class _Schema:
    root: dict

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.root
            for part in node["$ref"].removeprefix("#").split("/"):
                target = target[part] if part else target
            node = target
        return node

    def type_of(self, node: dict, pointer: str) -> Type:
        node = self.resolve(node)
        enum = enum_values(node)
        kind = node.get("type")
        if enum:
            return Type("texte", enum=enum, pointer=pointer)
        if kind == "string":
            return Type("date", pointer=pointer) if node.get("format") == "date" else Type("texte", pointer=pointer)
        simple = {"boolean": "booléen", "integer": "entier", "number": "décimal"}
        if kind in simple:
            return Type(simple[kind], pointer=pointer)
        if kind == "array":
            return Type("liste", schema=self.resolve(node.get("items", {})), pointer=pointer)
        return Type("objet", schema=node, pointer=pointer)

    def properties(self, type_: Type) -> dict:
        return self.resolve(type_.schema or {}).get("properties", {})


def enum_values(node: dict) -> tuple[str, ...]:
    if "enum" in node:
        return tuple(str(v) for v in node["enum"])
    alternatives = node.get("oneOf") or node.get("anyOf") or ()
    consts = [a["const"] for a in alternatives if isinstance(a, dict) and "const" in a]
    return tuple(consts) if consts and len(consts) == len(alternatives) else ()


# ------------------------------------------------------------------ the checker


class _Checker:
    def __init__(self, modules: Sequence[s.Module], schema: _Schema, known_paths: set[str]) -> None:
        self.modules = modules
        self.known_paths = known_paths
        self.schema = schema
        self.root_type = Type("objet", schema=schema.root, pointer="")
        self.diagnostics: list[Diagnostic] = []
        self.items: dict[str, tuple[s.Item, s.Module]] = {}
        self.visible: dict[str, set[str]] = {}
        self.types: dict[str, Type] = {}
        self.resolved: dict[str, s.Item] = {}
        self.stack: list[str] = []

    def err(self, code: str, message: str, span: Span | None, **kwargs) -> None:
        if self.stack and "context" not in kwargs:
            kwargs["context"] = _describe(self.items[self.stack[-1]][0])
        self.diagnostics.append(error(code, message, span, **kwargs))

    def run(self) -> tuple[Program | None, list[Diagnostic]]:
        self._collect()
        for name in self.items:
            self._resolve_item(name)
        if any(d.is_error for d in self.diagnostics):
            return None, self.diagnostics
        return self._program(), self.diagnostics

    def _program(self) -> Program:
        ordered = [self.resolved[name] for name in self.items]
        return Program(
            requirements=tuple(i for i in ordered if isinstance(i, s.Requirement)),
            definitions={i.name: i for i in ordered if isinstance(i, s.Definition)},
            amounts={i.name: i for i in ordered if isinstance(i, s.Amount)},
            tables={i.name: i for i in ordered if isinstance(i, CompiledTable)},
            notices=tuple(i for i in ordered if isinstance(i, s.Notice)),
            sources=tuple({id(i.span.source): i.span.source for i in ordered}.values()),
        )

    # -------------------------------------------------------------- names

    def _collect(self) -> None:
        paths = {m.path for m in self.modules} | self.known_paths
        for module in self.modules:
            for item in module.items:
                self._declare(item, module)
        for module in self.modules:
            names = {i.name for i in module.items}
            for imp in module.imports:
                target = import_path(module.path, imp.target)
                if target not in paths:
                    self.err("import-introuvable", f"fichier importé introuvable : « {imp.target} »", imp.span)
                names |= {i.name for m in self.modules if m.path == target for i in m.items}
            self.visible[module.path] = names

    def _declare(self, item: s.Item, module: s.Module) -> None:
        if item.name in self.items:
            first = self.items[item.name][0]
            self.err(
                "identifiant-duplique", f"« {item.name} » est déjà défini", item.name_span,
                notes=(Label(first.name_span, "première définition ici"),),
            )
            return
        self.items[item.name] = (item, module)

    def _resolve_item(self, name: str) -> Type:
        if name in self.types:
            return self.types[name]
        item, module = self.items[name]
        if name in self.stack:
            cycle = self.stack[self.stack.index(name):] + [name]
            self.err("cycle", "définitions circulaires : " + " → ".join(cycle), item.name_span)
            return ANY
        self.stack.append(name)
        handler = {
            s.Requirement: self._requirement, s.Definition: self._definition,
            s.Amount: self._amount, s.Table: self._table, s.Notice: self._notice,
        }[type(item)]
        resolved, type_ = handler(item, module)
        self.stack.pop()
        self.types[name], self.resolved[name] = type_, resolved
        return type_

    # -------------------------------------------------------------- items

    def _citation(self, item, what: str, message: str | None = None) -> None:
        if not item.source.strip():
            self.err("source-manquante", f"{what} « {item.name} » ne cite pas sa source (ajoutez source \"…\")",
                     item.name_span)
        if not item.title.strip():
            self.err("titre-manquant", f"{what} « {item.name} » n'a pas de titre (ajoutez titre \"…\")",
                     item.name_span)
        if message is not None and not message.strip():
            self.err("message-manquant", f"{what} « {item.name} » ne dit pas quoi faire (ajoutez message \"…\")",
                     item.name_span)

    def _requirement(self, req: s.Requirement, module: s.Module):
        self._citation(req, "l'exigence", req.message)
        scope = {HOLDER_VAR: self._list_item_type(("titulaires",), req.name_span)} if req.per_holder else {}
        applies = self._condition(req.applies, scope, module) if req.applies else None
        demand = self._demand(req.demand, scope, module, req.per_holder)
        exceptions = tuple(
            attrs.evolve(e, condition=self._condition(e.condition, scope, module),
                         demand=self._demand(e.demand, scope, module, req.per_holder) if e.demand else None)
            for e in req.exceptions
        )
        self._conflicts(exceptions, lambda e: e.demand)
        return attrs.evolve(req, applies=applies, demand=demand, exceptions=exceptions), None

    def _demand(self, demand: s.Demand, scope: dict, module: s.Module, per_holder: bool) -> s.Demand:
        if isinstance(demand, s.ConditionDemand):
            return attrs.evolve(demand, condition=self._condition(demand.condition, scope, module))
        alternatives = tuple(self._piece(spec, scope, module, per_holder) for spec in demand.alternatives)
        return attrs.evolve(demand, alternatives=alternatives)

    def _piece(self, spec: s.PieceSpec, scope: dict, module: s.Module, per_holder: bool) -> s.PieceSpec:
        piece_type = self._list_item_type(("pieces",), spec.span)
        kinds = self.schema.type_of(self.schema.properties(piece_type).get("type", {}), "").enum
        if kinds and spec.piece_type not in kinds:
            self.err("piece-inconnue", f"type de pièce inconnu : « {spec.piece_type} »", spec.type_span,
                     help=_suggest(spec.piece_type, kinds))
        inner = {**scope, PIECE_VAR: piece_type}
        filters = []
        for f in spec.filters:
            if isinstance(f, s.Dated):
                reference, t = self.expr(f.reference, scope, module)
                self._expect(t, DATE, f.reference.span, "la date de référence d'une pièce")
                max_age, age_type = self.expr(f.max_age, scope, module)
                self._expect(age_type, DURATION, f.max_age.span, "une durée")
                self._field((PIECE_VAR, "date"), inner, f.span)
                f = attrs.evolve(f, reference=reference, max_age=max_age)
            elif isinstance(f, s.OfHolder) and not per_holder:
                self.err("titulaire-hors-boucle", "« du titulaire » n'a de sens que dans une exigence "
                         "« pour chaque titulaire »", f.span)
            elif isinstance(f, s.WithCondition):
                f = attrs.evolve(f, condition=self._condition(f.condition, inner, module))
            filters.append(f)
        return attrs.evolve(spec, filters=tuple(filters))

    def _notice(self, n: s.Notice, module: s.Module):
        self._citation(n, "l'avis", n.message)
        applies = self._condition(n.applies, {}, module) if n.applies else None
        return attrs.evolve(n, applies=applies), None

    def _definition(self, d: s.Definition, module: s.Module):
        value, type_ = self.expr(d.value, {}, module)
        exceptions = self._value_exceptions(d.exceptions, type_, module)
        return attrs.evolve(d, value=value, exceptions=exceptions), type_

    def _amount(self, a: s.Amount, module: s.Module):
        self._citation(a, "le montant")
        applies = self._condition(a.applies, {}, module) if a.applies else None
        value, type_ = self.expr(a.value, {}, module)
        self._expect(type_, MONEY, a.value.span, "un montant")
        exceptions = self._value_exceptions(a.exceptions, MONEY, module)
        return attrs.evolve(a, applies=applies, value=value, exceptions=exceptions), MONEY

    def _value_exceptions(self, exceptions, type_: Type, module: s.Module):
        out = []
        for e in exceptions:
            value, t = self.expr(e.value, {}, module)
            self._expect(t, type_, e.value.span, "la même nature que la valeur de base")
            out.append(attrs.evolve(e, condition=self._condition(e.condition, {}, module), value=value))
        self._conflicts(out, lambda e: e.value)
        return tuple(out)

    # -------------------------------------------------------------- exceptions in conflict

    def _conflicts(self, exceptions, conclusion) -> None:
        """Two exceptions that may hold together must conclude the same (Catala's default logic)."""
        for a, b in itertools.combinations(exceptions, 2):
            if conclusion(a) != conclusion(b) and not exclusive(a.condition, b.condition):
                self.err(
                    "conflit-exceptions",
                    "deux exceptions peuvent s'appliquer ensemble avec des conclusions différentes",
                    a.span, notes=(Label(b.span, "exception en conflit"),),
                    help="rendez les conditions exclusives (par exemple x = \"a\" et x = \"b\"), "
                         "ou donnez-leur la même conclusion",
                )

    # -------------------------------------------------------------- tables

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
        value_type = self._table_type(t, versions, module)
        keyed = bool(t.groups) or any(p.rows for p in versions)
        textual = bool(t.groups) or any(r.key.text is not None for p in versions for r in p.rows)
        compiled = CompiledTable(
            t.name, t.title, t.source, value_type, keyed, textual,
            periods=() if t.groups else tuple(compile_period(p) for p in versions),
            groups={g.key: tuple(sorted(g.periods, key=lambda p: p.start)) for g in t.groups},
            span=t.span,
        )
        return compiled, value_type

    def _table_type(self, t: s.Table, versions, module) -> Type:
        values = [p.value for p in versions if p.value is not None] + [r.value for p in versions for r in p.rows]
        types = {self.expr(v, {}, module)[1] for v in values if not isinstance(v, s.OutOfScope)}
        if len(types) > 1:
            self.err("bareme-type", "les valeurs d'un barème doivent être de même nature : "
                     + ", ".join(sorted(str(v) for v in types)), t.name_span)
        return next(iter(types)) if len(types) == 1 else ANY

    def _key_groups(self, groups) -> list[s.Period]:
        seen: dict[str, s.KeyGroup] = {}
        for g in groups:
            if g.key in seen:
                self.err("bareme-chevauchement", f"clé « {g.key} » répétée", g.span,
                         notes=(Label(seen[g.key].span, "première occurrence"),))
            seen[g.key] = g
            self._versions(sorted(g.periods, key=lambda p: p.start))
        return [p for g in groups for p in g.periods]

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

    def _rows(self, period: s.Period) -> None:
        texts = [r for r in period.rows if r.key.text is not None]
        ranges = sorted((r for r in period.rows if r.key.text is None),
                        key=lambda r: (r.key.low is not None, r.key.low or 0))
        if texts and ranges:
            self.err("bareme-cles", "un barème a des clés soit textuelles soit numériques, pas les deux", period.span)
        seen: dict[str, s.Row] = {}
        for r in texts:
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

    # -------------------------------------------------------------- expressions

    def _condition(self, e: s.Expr, scope: dict, module: s.Module) -> s.Expr:
        resolved, t = self.expr(e, scope, module)
        self._expect(t, BOOL, e.span, "une condition (vrai ou faux)")
        return resolved

    def _expect(self, actual: Type, expected: Type, span: Span, what: str) -> None:
        if ANY in (actual, expected) or actual.kind == expected.kind:
            return
        if actual.kind in NUMERIC and expected.kind in NUMERIC:
            return
        hint = "écrivez un montant en euros, par exemple 11 € ou 2,76 €" \
            if expected.kind == "montant" and actual.kind in NUMERIC else None
        self.err("type", f"attendu : {what} ; trouvé : {actual}", span, help=hint)

    def expr(self, e: s.Expr, scope: dict, module: s.Module) -> tuple[s.Expr, Type]:
        return getattr(self, "_e_" + type(e).__name__)(e, scope, module)

    def _e_Number(self, e, scope, module):
        return e, INT if isinstance(e.value, int) else DECIMAL

    def _e_Text(self, e, scope, module):
        return e, TEXT

    def _e_DateLit(self, e, scope, module):
        return e, DATE

    def _e_Boolean(self, e, scope, module):
        return e, BOOL

    def _e_MoneyLit(self, e, scope, module):
        return e, MONEY

    def _e_Percent(self, e, scope, module):
        return e, DECIMAL

    def _e_DurationLit(self, e, scope, module):
        return e, DURATION

    def _e_OutOfScope(self, e, scope, module):
        return e, ANY

    def _e_IsSet(self, e, scope, module):
        operand, _ = self.expr(e.operand, scope, module)
        if not isinstance(operand, FieldRef):
            self.err("type", "« est renseigné » s'applique à un champ du dossier", e.span)
        return attrs.evolve(e, operand=operand), BOOL

    def _e_Default(self, e, scope, module):
        operand, t = self.expr(e.operand, scope, module)
        fallback, ft = self.expr(e.fallback, scope, module)
        self._expect(ft, t, e.fallback.span, f"une valeur de même nature que « {e.operand.span.text} »")
        return attrs.evolve(e, operand=operand, fallback=fallback), t

    def _e_Contains(self, e, scope, module):
        text, tt = self.expr(e.text, scope, module)
        part, pt = self.expr(e.part, scope, module)
        self._expect(tt, TEXT, e.text.span, "un texte")
        self._expect(pt, TEXT, e.part.span, "un texte")
        return attrs.evolve(e, text=text, part=part), BOOL

    def _e_UnitsBetween(self, e, scope, module):
        start, st = self.expr(e.start, scope, module)
        end, et = self.expr(e.end, scope, module)
        self._expect(st, DATE, e.start.span, "une date")
        self._expect(et, DATE, e.end.span, "une date")
        return attrs.evolve(e, start=start, end=end), INT

    def _e_Rank(self, e, scope, module):
        if e.var not in scope:
            self.err("nom-inconnu", f"« rang de {e.var} » : « {e.var} » n'est pas un élément de liste parcouru ici",
                     e.span, help=_suggest(e.var, scope))
        return e, INT

    def _e_First(self, e, scope, module):
        collection, item = self._collection(e.collection, scope, module)
        return attrs.evolve(e, collection=collection), item

    def _e_Prefix(self, e, scope, module):
        operand, t = self.expr(e.operand, scope, module)
        self._expect(t, TEXT, e.operand.span, "un texte")
        return attrs.evolve(e, operand=operand), TEXT

    def _e_Or(self, e, scope, module):
        return self._logic(e, scope, module)

    def _e_And(self, e, scope, module):
        return self._logic(e, scope, module)

    def _logic(self, e, scope, module):
        operands = tuple(self._condition(o, scope, module) for o in e.operands)
        return attrs.evolve(e, operands=operands), BOOL

    def _e_Not(self, e, scope, module):
        return attrs.evolve(e, operand=self._condition(e.operand, scope, module)), BOOL

    def _e_Negate(self, e, scope, module):
        operand, t = self.expr(e.operand, scope, module)
        if t.kind not in (*NUMERIC, "montant", "durée", "inconnu"):
            self.err("type", f"« − » s'applique à un nombre, un montant ou une durée, pas à : {t}", e.span)
        return attrs.evolve(e, operand=operand), t

    def _e_Compare(self, e, scope, module):
        left, lt = self.expr(e.left, scope, module)
        right, rt = self.expr(e.right, scope, module)
        self._comparable(e, lt, rt)
        self._enum_literal(lt, e.right)
        self._enum_literal(rt, e.left)
        return attrs.evolve(e, left=left, right=right), BOOL

    def _comparable(self, e: s.Compare, lt: Type, rt: Type) -> None:
        if ANY in (lt, rt):
            return
        same = lt.kind == rt.kind or (lt.kind in NUMERIC and rt.kind in NUMERIC)
        ordered = lt.kind in (*NUMERIC, "montant", "date", "durée")
        if not same:
            self.err("type", f"comparaison impossible entre {lt} et {rt}", e.span)
        elif e.op not in ("=", "!=") and not ordered:
            self.err("type", f"« {e.op} » ne s'applique pas à : {lt}", e.span)

    def _enum_literal(self, t: Type, other: s.Expr) -> None:
        if t.enum and isinstance(other, s.Text) and other.value not in t.enum:
            self.err("valeur-inconnue", f"« {other.value} » n'est pas une valeur possible ; valeurs : "
                     + ", ".join(t.enum), other.span, help=_suggest(other.value, t.enum))

    def _e_Arith(self, e, scope, module):
        left, lt = self.expr(e.left, scope, module)
        right, rt = self.expr(e.right, scope, module)
        result = _arith_type(e.op, lt, rt)
        if result is None:
            self.err("type", f"opération « {OPERATOR_WORDS.get(e.op, e.op)} » impossible entre {lt} et {rt}", e.span,
                     help="pour l'écart entre deux dates, écrivez « durée entre A et B »"
                     if lt.kind == rt.kind == "date" else None)
            result = ANY
        return attrs.evolve(e, left=left, right=right), result

    def _e_Between(self, e, scope, module):
        start, st = self.expr(e.start, scope, module)
        end, et = self.expr(e.end, scope, module)
        self._expect(st, DATE, e.start.span, "une date")
        self._expect(et, DATE, e.end.span, "une date")
        return attrs.evolve(e, start=start, end=end), DURATION

    def _e_Quantifier(self, e, scope, module):
        collection, item = self._collection(e.collection, scope, module)
        condition = self._condition(e.condition, {**scope, e.var: item}, module)
        return attrs.evolve(e, collection=collection, condition=condition), BOOL

    def _e_Count(self, e, scope, module):
        collection, item = self._collection(e.collection, scope, module)
        condition = None
        if e.condition is not None:
            condition = self._condition(e.condition, {**scope, e.var: item}, module)
        return attrs.evolve(e, collection=collection, condition=condition), INT

    def _collection(self, path: s.Path, scope, module) -> tuple[s.Expr, Type]:
        resolved, t = self.expr(path, scope, module)
        if t.kind not in ("liste", "inconnu"):
            self.err("type", f"« {path.dotted} » n'est pas une liste ({t})", path.span)
            return resolved, ANY
        return resolved, self._item_type(t)

    def _item_type(self, t: Type) -> Type:
        if t is ANY or t.schema is None:
            return ANY
        return self.schema.type_of(t.schema, t.pointer + "/*")

    def _list_item_type(self, parts: tuple[str, ...], span: Span) -> Type:
        return self._item_type(self._field(parts, {}, span))

    def _e_Lookup(self, e, scope, module):
        if e.table not in self.items or not isinstance(self.items[e.table][0], s.Table):
            tables = [n for n, (i, _) in self.items.items() if isinstance(i, s.Table)]
            self.err("nom-inconnu", f"barème inconnu : « {e.table} »", e.span, help=_suggest(e.table, tables))
            return e, ANY
        value_type = self._resolve_item(e.table)
        table = self.resolved.get(e.table)
        if not isinstance(table, CompiledTable):
            return e, ANY
        key = self._lookup_key(e, table, scope, module)
        date = self._lookup_date(e, scope, module)
        return TableRef(table, key, date, span=e.span), value_type

    def _lookup_key(self, e: s.Lookup, table: CompiledTable, scope, module) -> s.Expr | None:
        if e.key is None:
            if table.keyed:
                self.err("bareme-consultation", f"le barème « {e.table} » se consulte par clé : ajoutez « pour … »", e.span)
            return None
        key, kt = self.expr(e.key, scope, module)
        if not table.keyed:
            self.err("bareme-consultation", f"le barème « {e.table} » n'a qu'une valeur par version : retirez « pour … »",
                     e.key.span)
        else:
            self._expect(kt, TEXT if table.textual else INT, e.key.span, f"une clé du barème « {e.table} »")
        return key

    def _lookup_date(self, e: s.Lookup, scope, module) -> s.Expr:
        if e.date is not None:
            date, dt = self.expr(e.date, scope, module)
            self._expect(dt, DATE, e.date.span, "une date")
            return date
        if REFERENCE_DATE not in self.items:
            self.err("date-de-reference", f"« barème {e.table} » sans « à la date … » prend la date de "
                     f"référence : définissez « {REFERENCE_DATE} »", e.span)
            return e
        reference, dt = self.expr(s.Path((REFERENCE_DATE,), span=e.span), scope, module)
        self._expect(dt, DATE, e.span, f"une date pour « {REFERENCE_DATE} »")
        return reference

    def _e_Path(self, e, scope, module):
        head, *rest = e.parts
        if head in scope:
            if not rest:
                return VarRef(head, span=e.span), scope[head]
            t = self._field(e.parts, scope, e.span)
            return FieldRef(head, tuple(rest), t, span=e.span), t
        if head in self.items and not rest:
            return self._item_ref(e, head, module)
        if head in self.items and isinstance(self.items[head][0], s.Definition):
            return self._definition_field(e, module)
        t = self._field(e.parts, scope, e.span, names=set(scope) | self.visible.get(module.path, set()))
        return FieldRef(None, e.parts, t, span=e.span), t

    def _definition_field(self, e: s.Path, module: s.Module):
        """« titulaire_principal.adresse » : a field of the list element a definition names."""
        head = s.Path(e.parts[:1], span=e.span)
        ref, t = self._item_ref(head, e.parts[0], module)
        if t.kind not in ("objet", "inconnu"):
            self.err("type", f"« {e.parts[0]} » ({t}) n'a pas de champ « {e.parts[1]} »", e.span)
            return e, ANY
        field = self._field(e.parts, {e.parts[0]: t}, e.span)
        return FieldRef(e.parts[0], e.parts[1:], field, span=e.span, definition=True), field

    def _item_ref(self, e: s.Path, name: str, module: s.Module):
        item = self.items[name][0]
        if name not in self.visible.get(module.path, set()):
            self.err("nom-non-importe", f"« {name} » est défini dans « {self.items[name][1].path} », "
                     "que ce fichier n'importe pas", e.span)
        if isinstance(item, (s.Requirement, s.Table, s.Notice)):
            self.err("type", f"« {name} » n'est pas une valeur (c'est une exigence, un avis ou un barème)", e.span)
            return e, ANY
        t = self._resolve_item(name)
        ref = AmountRef if isinstance(item, s.Amount) else DefRef
        return ref(name, span=e.span), t

    def _field(self, parts, scope: dict, span: Span, names: set | None = None) -> Type:
        """The type of a dossier path, from the root or from a loop variable in scope."""
        if parts[0] in scope:
            t, rest, shown = scope[parts[0]], parts[1:], [parts[0]]
        else:
            t, rest, shown = self.root_type, parts, []
        for part in rest:
            props = self.schema.properties(t) if t.kind == "objet" else None
            if props is None or part not in props:
                self._unknown_field(part, shown, t, props, span, names)
                return ANY
            shown.append(part)
            t = self.schema.type_of(props[part], t.pointer + "/" + part)
        return t

    def _unknown_field(self, part, shown, t: Type, props, span, names) -> None:
        if t is ANY:
            return
        if props is None:
            self.err("type", f"« {'.'.join(shown)} » ({t}) n'a pas de champ « {part} »", span)
            return
        prefix = ".".join(shown) + "." if shown else ""
        candidates = {prefix + p for p in props} | (names or set())
        wanted = prefix + part
        if not shown and names is not None:
            self.err("nom-inconnu", f"« {part} » n'est ni une définition, ni un montant, ni un champ du dossier",
                     span, help=_suggest(part, candidates))
            return
        self.err("champ-inconnu", f"« {wanted} » n'est pas un champ du dossier", span,
                 help=_suggest(wanted, candidates))


def _arith_type(op: str, lt: Type, rt: Type) -> Type | None:
    if ANY in (lt, rt):
        return ANY
    kinds = (lt.kind, rt.kind)
    numeric = lt.kind in NUMERIC and rt.kind in NUMERIC
    if numeric:
        return INT if kinds == ("entier", "entier") and op != "/" else DECIMAL
    table = {
        ("+", "montant", "montant"): MONEY, ("-", "montant", "montant"): MONEY,
        ("+", "date", "durée"): DATE, ("-", "date", "durée"): DATE,
        ("+", "durée", "durée"): DURATION, ("-", "durée", "durée"): DURATION,
        ("/", "montant", "montant"): DECIMAL,
    }
    if (op, *kinds) in table:
        return table[(op, *kinds)]
    if op == "*" and "montant" in kinds and (lt.kind in NUMERIC or rt.kind in NUMERIC):
        return MONEY
    if op == "/" and lt.kind == "montant" and rt.kind in NUMERIC:
        return MONEY
    return None
