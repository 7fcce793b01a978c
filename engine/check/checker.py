"""Syntax trees + dossier schema → a resolved, typed Program, with every static error located."""

from __future__ import annotations

import itertools
import posixpath
from collections.abc import Sequence

import attrs

from .. import ir
from .. import syntax as s
from ..diagnostics import Diagnostic, Label, error, warning
from ..logic import exclusive
from ..ir import ANY, DATE, DURATION, MONEY, Type
from ..program import CompiledTable, Program
from ..schema import Schema
from ..source import Span
from .common import HOLDER_VAR, PIECE_VAR, describe, suggest
from .depth import too_deep
from .expressions import ExpressionChecks
from .schema import DossierSchema
from .tables import TableChecks


def import_path(module_path: str, target: str) -> str:
    """Imports are relative to the importing file, in POSIX form so reports are portable."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(module_path), target))


def check(modules: Sequence[s.Module], schema: Schema, known_paths: set[str] | None = None):
    """Every static error of every module, its dossier fields typed from `schema`; a Program only when there is none.

    `known_paths` names files that exist but did not parse, so importing them is not
    reported a second time as a missing file.
    """
    return _Checker(modules, schema, known_paths or set()).run()


class _Checker(ExpressionChecks, TableChecks):
    def __init__(self, modules: Sequence[s.Module], schema: Schema, known_paths: set[str]) -> None:
        self.modules = modules
        self.known_paths = known_paths
        self.dossier_schema = schema
        self.schema = DossierSchema(schema.document)
        self.root_type = Type("objet", schema=schema.document, pointer="")
        self.diagnostics: list[Diagnostic] = []
        self.items: dict[str, tuple[s.Item, s.Module]] = {}
        self.visible: dict[str, set[str]] = {}
        self.types: dict[str, Type] = {}
        self.resolved: dict[str, s.Item] = {}
        self.stack: list[str] = []

    def err(self, code: str, message: str, span: Span | None, **kwargs) -> None:
        self.diagnostics.append(error(code, message, span, **self._context(kwargs)))

    def warn(self, code: str, message: str, span: Span | None, **kwargs) -> None:
        self.diagnostics.append(warning(code, message, span, **self._context(kwargs)))

    def _context(self, kwargs: dict) -> dict:
        if self.stack and "context" not in kwargs:
            kwargs["context"] = describe(self.items[self.stack[-1]][0])
        return kwargs

    def run(self) -> tuple[Program | None, list[Diagnostic]]:
        self._collect()
        deep = too_deep(self.items)
        if deep:  # resolving would follow those chains recursively: they must be fixed first
            self.diagnostics += deep
            return None, self.diagnostics
        try:
            for name in self.items:
                self._resolve_item(name)
        except RecursionError:  # a last resort behind too_deep: located at the item being resolved
            item = self.items[self.stack[0]][0]
            self.err("trop-imbrique", f"« {item.name} » est trop imbriqué pour être vérifié", item.name_span)
            return None, self.diagnostics
        if any(d.is_error for d in self.diagnostics):
            return None, self.diagnostics
        return self._program(), self.diagnostics

    def _program(self) -> Program:
        ordered = [self.resolved[name] for name in self.items]
        return Program(
            requirements=tuple(i for i in ordered if isinstance(i, ir.Requirement)),
            definitions={i.name: i for i in ordered if isinstance(i, ir.Definition)},
            amounts={i.name: i for i in ordered if isinstance(i, ir.Amount)},
            tables={i.name: i for i in ordered if isinstance(i, CompiledTable)},
            notices=tuple(i for i in ordered if isinstance(i, ir.Notice)),
            sources=tuple({id(i.span.source): i.span.source for i in ordered}.values()),
            schema=self.dossier_schema,
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
        self._commentary(item)
        if not item.source.strip():
            self.err("source-manquante", f"{what} « {item.name} » ne cite pas sa source (ajoutez source \"…\")",
                     item.name_span)
        if not item.title.strip():
            self.err("titre-manquant", f"{what} « {item.name} » n'a pas de titre (ajoutez titre \"…\")",
                     item.name_span)
        if message is not None and not message.strip():
            self.err("message-manquant", f"{what} « {item.name} » ne dit pas quoi faire (ajoutez message \"…\")",
                     item.name_span)

    def _commentary(self, item) -> None:
        """A note or « non traité » with nothing in it, like an empty source, says nothing to its reader."""
        for note in item.notes:
            if not note.text.strip():
                self.err("note-vide", "note vide : écrivez la note entre les guillemets, ou retirez la clause",
                         note.span)
        for left_out in item.not_handled:
            if not left_out.text.strip():
                self.err("non-traite-vide", "« non traité » vide : dites ce que la règle laisse de côté, ou retirez "
                         "la clause", left_out.span)

    def _requirement(self, req: s.Requirement, module: s.Module):
        self._citation(req, "l'exigence", req.message)
        scope = {HOLDER_VAR: self._list_item_type(("titulaires",), req.name_span)} if req.per_holder else {}
        applies = self._condition(req.applies, scope, module) if req.applies else None
        demand = self._demand(req.demand, scope, module, req.per_holder)
        cases = tuple(
            ir.Case(self._condition(e.condition, scope, module),
                    self._demand(e.demand, scope, module, req.per_holder) if e.demand else None, span=e.span)
            for e in req.exceptions
        )
        self._conflicts(cases)
        return ir.Requirement(
            req.kind, req.name, req.title, req.source, req.per_holder, applies,
            ir.Exceptions(demand, cases, span=req.span), req.message, req.notes, req.not_handled, span=req.span,
            name_span=req.name_span,
        ), None

    def _demand(self, demand: s.Demand, scope: dict, module: s.Module, per_holder: bool) -> ir.Demand:
        if isinstance(demand, s.ConditionDemand):
            return ir.ConditionDemand(self._condition(demand.condition, scope, module), span=demand.span)
        alternatives = tuple(self._piece(spec, scope, module, per_holder) for spec in demand.alternatives)
        return ir.PieceDemand(alternatives, span=demand.span)

    def _piece(self, spec: s.PieceSpec, scope: dict, module: s.Module, per_holder: bool) -> ir.PieceSpec:
        piece_type = self._list_item_type(("pieces",), spec.span)
        if piece_type.kind not in ("objet", ANY.kind):  # a pack's own schema may say anything of its pieces
            self.err("type", f"« exige une pièce » lit des pièces décrites par des objets (type, date, titulaire) ; "
                     f"le schéma du dossier fait de « pieces » une liste de : {piece_type}", spec.span)
        kinds = self.schema.type_of(self.schema.properties(piece_type).get("type", {}), "").enum
        if kinds and spec.piece_type not in kinds:
            self.err("piece-inconnue", f"type de pièce inconnu : « {spec.piece_type} »", spec.type_span,
                     help=suggest(spec.piece_type, kinds))
        inner = {**scope, PIECE_VAR: piece_type}
        filters = []
        for f in spec.filters:
            if isinstance(f, s.Dated):
                reference = self.expr(f.reference, scope, module)
                self._expect(reference.type, DATE, f.reference.span, "la date de référence d'une pièce")
                max_age = self.expr(f.max_age, scope, module)
                self._expect(max_age.type, DURATION, f.max_age.span, "une durée")
                date_type = self._field((PIECE_VAR, "date"), inner, f.span)
                self._expect(date_type, DATE, f.span, "une pièce datée (son champ « date » est une date)")
                filters.append(ir.Dated(max_age, reference, span=f.span))
            elif isinstance(f, s.OfHolder):
                if not per_holder:
                    self.err("titulaire-hors-boucle", "« du titulaire » n'a de sens que dans une exigence "
                             "« pour chaque titulaire »", f.span)
                filters.append(ir.OfHolder(span=f.span))
            else:
                filters.append(ir.WithCondition(self._condition(f.condition, inner, module), span=f.span))
        return attrs.evolve(spec, filters=tuple(filters))

    def _notice(self, n: s.Notice, module: s.Module):
        self._citation(n, "l'avis", n.message)
        applies = self._condition(n.applies, {}, module) if n.applies else None
        return attrs.evolve(n, applies=applies), None

    def _definition(self, d: s.Definition, module: s.Module):
        value = self.expr(d.value, {}, module)
        exceptions = self._value_exceptions(value, d.exceptions, value.type, d.span, module)
        return ir.Definition(d.name, exceptions, type=value.type, span=d.span, name_span=d.name_span), value.type

    def _amount(self, a: s.Amount, module: s.Module):
        self._citation(a, "le montant")
        applies = self._condition(a.applies, {}, module) if a.applies else None
        value = self.expr(a.value, {}, module)
        self._expect(value.type, MONEY, a.value.span, "un montant")
        exceptions = self._value_exceptions(value, a.exceptions, MONEY, a.span, module)
        return ir.Amount(a.name, a.title, a.source, applies, exceptions, a.notes, a.not_handled, span=a.span,
                         name_span=a.name_span), MONEY

    def _value_exceptions(self, base: ir.Expr, exceptions, type_: Type, span: Span, module: s.Module):
        cases = []
        for e in exceptions:
            value = self.expr(e.value, {}, module)
            self._expect(value.type, type_, e.value.span, "la même nature que la valeur de base")
            cases.append(ir.Case(self._condition(e.condition, {}, module), value, span=e.span))
        self._conflicts(cases)
        return ir.Exceptions(base, tuple(cases), span=span)

    # -------------------------------------------------------------- exceptions in conflict

    def _conflicts(self, cases) -> None:
        """Two exceptions that may hold together must conclude the same (Catala's default logic)."""
        for a, b in itertools.combinations(cases, 2):
            if a.consequence != b.consequence and not exclusive(a.condition, b.condition):
                self.err(
                    "conflit-exceptions",
                    "deux exceptions peuvent s'appliquer ensemble avec des conclusions différentes",
                    a.span, notes=(Label(b.span, "exception en conflit"),),
                    help="rendez les conditions exclusives (par exemple x = \"a\" et x = \"b\"), "
                         "ou donnez-leur la même conclusion",
                )
