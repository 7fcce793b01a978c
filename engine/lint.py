"""Checked program (and, optionally, fixture coverage) → warnings about rules that cannot matter."""

from __future__ import annotations

import attrs

from .coverage import Coverage
from .diagnostics import Diagnostic, warning
from .logic import exclusive, impossible
from .ir import AmountRef, DefRef, FieldRef, TableRef
from .program import Program


def lint(program: Program, covered: Coverage | None = None) -> list[Diagnostic]:
    found = _unused_definitions(program) + _dead_conditions(program)
    if covered is not None:
        found += _unexercised(covered)
    return found


def _references(node, found: set[str]) -> None:
    """Every definition a node reads, directly or through a barème lookup."""
    if isinstance(node, DefRef):
        found.add(node.name)
    elif isinstance(node, FieldRef) and node.definition:
        found.add(node.base)
    elif isinstance(node, AmountRef):
        found.add(node.name)
    if isinstance(node, TableRef):
        children = (node.key, node.date)
    elif attrs.has(type(node)):
        children = (getattr(node, f.name) for f in attrs.fields(type(node)) if f.eq)
    elif isinstance(node, tuple):
        children = node
    else:
        return
    for child in children:
        _references(child, found)


def _unused_definitions(program: Program) -> list[Diagnostic]:
    """Definitions no requirement, amount or notice reaches, even through other definitions."""
    used: set[str] = set()
    _references((*program.requirements, *program.amounts.values(), *program.notices), used)
    pending = list(used)
    while pending:
        name = pending.pop()
        more: set[str] = set()
        _references(program.definitions.get(name), more)
        pending += sorted(more - used)
        used |= more
    return [
        warning("definition-inutilisee", f"la définition « {d.name} » n'est utilisée par aucune règle", d.name_span)
        for d in program.definitions.values() if d.name not in used
    ]


def _dead_conditions(program: Program) -> list[Diagnostic]:
    found = []
    for req in program.requirements:
        if req.applies is not None and impossible(req.applies):
            found.append(warning("jamais-applicable", f"l'exigence « {req.name} » ne peut jamais s'appliquer : "
                                 "sa condition se contredit", req.applies.span))
        for exc in req.demand.cases:
            never = impossible(exc.condition) or (req.applies is not None and exclusive(req.applies, exc.condition))
            if never:
                found.append(warning("exception-impossible", f"cette exception de « {req.name} » ne peut jamais "
                                     "jouer : sa condition contredit celle de l'exigence", exc.span))
    return found


def _unexercised(covered: Coverage) -> list[Diagnostic]:
    return [
        warning("non-exercee", f"aucune fixture n'atteint {t.kind} « {t.label} »", None,
                file=t.location.rsplit(":", 1)[0], line=int(t.location.rsplit(":", 1)[1]), column=1)
        for t in covered.missed(["exigence", "exception", "alternative", "montant", "avis"])
    ]
