"""Program + outcomes → which requirements, exceptions, alternatives, amounts and barème lines were reached."""

from __future__ import annotations

from collections.abc import Iterable

from . import ir
from .frozen import frozen
from .outcome import AmountStatus, Outcome, Status, Step, StepKind
from .program import Program
from .source import Span


@frozen
class Target:
    """Something a fixture should exercise, named as a reader of the rules would name it."""

    kind: str  # exigence, exception, alternative, montant, avis, barème, ligne
    label: str
    location: str
    parent: tuple[str, int] | None = None  # a barème line's barème: reached when one of its lines is

    @staticmethod
    def at(kind: str, label: str, span: Span, parent: Span | None = None) -> tuple[tuple[str, int], Target]:
        return _key(span), Target(kind, label, f"{span.path}:{span.line}", _key(parent) if parent else None)


@frozen
class Coverage:
    targets: dict[tuple[str, int], Target]
    reached: frozenset[tuple[str, int]]

    def missed(self, kinds: Iterable[str] | None = None) -> list[Target]:
        wanted = set(kinds) if kinds is not None else None
        return [t for key, t in self.targets.items()
                if key not in self.reached and (wanted is None or t.kind in wanted)]

    def percent(self) -> float:
        return 100.0 * sum(k in self.reached for k in self.targets) / max(len(self.targets), 1)


def coverage(program: Program, outcomes: Iterable[Outcome]) -> Coverage:
    found = dict(_requirement_targets(program))
    found.update(_value_targets(program))
    found.update(_table_targets(program))
    keys = _reached(outcomes)
    keys |= {t.parent for key, t in found.items() if key in keys and t.parent is not None}
    return Coverage(found, frozenset(keys & found.keys()))


def _requirement_targets(program: Program):
    for req in program.requirements:
        yield Target.at("exigence", req.name, req.span)
        yield from _exception_targets(req)
        for demand in req.demands():
            if isinstance(demand, ir.PieceDemand) and len(demand.alternatives) > 1:
                for spec in demand.alternatives:
                    yield Target.at("alternative", f"{req.name} : pièce {spec.piece_type}", spec.span)
    for notice in program.notices:
        yield Target.at("avis", notice.name, notice.span)


def _value_targets(program: Program):
    for amount in program.amounts.values():
        yield Target.at("montant", amount.name, amount.span)
    for item in (*program.amounts.values(), *program.definitions.values()):
        yield from _exception_targets(item)


def _exception_targets(item):
    cases = (item.demand if isinstance(item, ir.Requirement) else item.value).cases
    for case in cases:
        yield Target.at("exception", f"{item.name} : {_words(case.condition.span)}", case.span)


def _table_targets(program: Program):
    for table in program.tables.values():
        yield Target.at("barème", table.name, table.span)
        versions = [p.period for p in table.periods] + [p for group in table.groups.values() for p in group]
        for version in versions:
            for line in version.rows or (version,):
                yield Target.at("ligne", f"{table.name} : {_words(line.span)}", line.span, table.span)


def _words(span: Span) -> str:
    return " ".join(span.text.split())


def _reached(outcomes: Iterable[Outcome]) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for outcome in outcomes:
        for r in outcome.requirements:
            if r.status is not Status.NOT_APPLICABLE:
                keys.add(_key(r.reason.span))
            _walk(r.reason, keys)
        for a in outcome.amounts:
            if a.status is not AmountStatus.NOT_APPLICABLE:
                keys.add(_key(a.breakdown.span))
            _walk(a.breakdown, keys)
        keys.update(_key(n.rule.span) for n in outcome.notices)
    return keys


def _walk(step: Step, keys: set) -> None:
    if step.value is True and step.kind in (StepKind.EXCEPTION, StepKind.ALTERNATIVE):
        keys.add(_key(step.span))
    if step.kind is StepKind.ROW:
        keys.add(_key(step.span))
    for child in step.children:
        _walk(child, keys)


def _key(span: Span) -> tuple[str, int]:
    return (span.path, span.start)
