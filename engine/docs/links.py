"""What each rule of a Program refers to (definitions, amounts, barèmes), and where it is written."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import attrs

from .. import ir
from ..frozen import frozen
from ..ir import AmountRef, DefRef, FieldRef, TableRef
from ..program import Program
from ..source import Span

# The nodes a rule's meaning is made of; anything else (types, compiled barèmes, spans) is not walked.
RULE_NODES = (ir.Expr, ir.Dated, ir.OfHolder, ir.WithCondition, ir.PieceSpec, ir.PieceDemand, ir.ConditionDemand,
              ir.Exceptions, ir.Case, ir.Requirement, ir.Definition, ir.Amount, ir.Notice)

Key = tuple[str, str]  # (kind, name): « exigence », « définition », « montant », « barème », « avis »


def nodes(node) -> Iterator:
    """Every rule node inside `node`, itself first, in reading order."""
    if isinstance(node, (tuple, list)):
        for child in node:
            yield from nodes(child)
        return
    if not isinstance(node, RULE_NODES):
        return
    yield node
    if isinstance(node, TableRef):
        yield from nodes((node.key, node.date))
        return
    for field in attrs.fields(type(node)):
        yield from nodes(getattr(node, field.name))


def references(node) -> list[Key]:
    """The definitions, amounts and barèmes a rule names, once each, in reading order."""
    found: list[Key] = []
    for n in nodes(node):
        if isinstance(n, DefRef):
            found.append(("définition", n.name))
        elif isinstance(n, AmountRef):
            found.append(("montant", n.name))
        elif isinstance(n, TableRef):
            found.append(("barème", n.table.name))
        elif isinstance(n, FieldRef) and n.definition and n.base:
            found.append(("définition", n.base))
    return list(dict.fromkeys(found))


def items(program: Program) -> dict[Key, object]:
    """Every documented rule by (kind, name), in the pack's order."""
    out: dict[Key, object] = {}
    out.update({("exigence", r.name): r for r in program.requirements})
    out.update({("avis", n.name): n for n in program.notices})
    out.update({("montant", name): a for name, a in program.amounts.items()})
    out.update({("définition", name): d for name, d in program.definitions.items()})
    out.update({("barème", name): t for name, t in program.tables.items()})
    return out


@frozen
class Graph:
    """Who names whom, both ways."""

    uses: dict[Key, list[Key]]
    used_by: dict[Key, list[Key]]

    def closure(self, key: Key, kind: str) -> list[Key]:
        """The rules of `kind` that `key` depends on, directly or through definitions, first met first."""
        seen: dict[Key, None] = {}
        pending = list(self.uses.get(key, ()))
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen[current] = None
            if current[0] == "définition":
                pending[:0] = self.uses.get(current, ())
        return [k for k in seen if k[0] == kind]


def graph(all_items: dict[Key, object]) -> Graph:
    uses = {key: [k for k in references(item) if k in all_items and k != key]
            for key, item in all_items.items() if key[0] != "barème"}
    used_by: dict[Key, list[Key]] = {key: [] for key in all_items}
    for key, targets in uses.items():
        for target in targets:
            used_by[target].append(key)
    return Graph(uses, used_by)


def slug(name: str) -> str:
    """An ASCII file name: accents dropped, anything odd as « _ »."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name).strip("_").lower() or "regle"


def comment_above(span: Span) -> str:
    """The `#` comment block written right above a rule: the authors' explanation of it."""
    lines, line = [], span.line - 1
    while line >= 1:
        text = span.source.line_text(line).strip()
        if not text.startswith("#"):
            break
        lines.insert(0, text.lstrip("#").strip())
        line -= 1
    return " ".join(l for l in lines if l).strip()


def line_comment(span: Span, line: int | None = None) -> str:
    """The `#` comment at the end of a line (outside texts and « labels »), e.g. what a row's key stands for."""
    text = span.source.line_text(line or span.line)
    closing = None  # the character that ends the text or label being read
    for i, ch in enumerate(text):
        if closing is not None:
            closing = None if ch == closing else closing
        elif ch in ('"', "«"):
            closing = '"' if ch == '"' else "»"
        elif ch == "#":
            return text[i + 1:].strip()
    return ""


def where(span: Span) -> str:
    return f"{span.path}, ligne {span.line}"
