"""Compiled barèmes → their pages: every version as a table with its period, row sources and notes."""

from __future__ import annotations

import math
import re

from .. import ir
from .. import syntax as s
from ..format import validity
from ..ir import TableRef
from ..program import CompiledTable
from ..values import format_number
from . import french as fr
from . import links
from .document import Bullets, Columns, Details, Heading, Page, Para, Phrase, Strong, Table, phrase, plain, sentence
from .prose import Context

LONG_GRID = 36  # rows beyond which a plain two-column grid is shown in side-by-side slices
OPEN_UP_TO = 40  # a version with at most this many rows is shown unfolded


def table_page(site, table: CompiledTable) -> Page:
    key = ("barème", table.name)
    usages = _usages(site, table)
    blocks: list = [site.source(table.source), *site.note(table.span), *site.commentary(table)]
    if usages:
        blocks += [Heading(2, ("Comment il est consulté",)),
                   Bullets(tuple((Para(phrase(site.link(k), " : ", words, ".")),) for k, words, _ in usages))]
    blocks += [Heading(2, ("Versions et valeurs",)), *_versions(site, table, _key_header(usages))]
    blocks += site.relations(key)
    blocks += site.examples_table("Les lignes du barème utilisées", _examples(site, table))
    blocks.append(site.where(table.span, table.name))
    return Page(site.paths[key], table.title, "Barème", tuple(blocks))


def _usages(site, table: CompiledTable) -> list[tuple]:
    """(rule, how it looks the barème up, what it looks it up by) for every lookup of it in the pack."""
    found = []
    for key, item in site.items.items():
        if key[0] == "barème":
            continue
        ctx = site.prose.holder(Context(), getattr(item, "per_holder", False))
        for node in links.nodes(item):
            if isinstance(node, TableRef) and node.table.name == table.name:
                by = plain(site.prose.value(node.key, ctx).words) if node.key is not None else None
                found.append((key, site.prose.value(node, ctx).words, by))
    return found


def _key_header(usages) -> Phrase:
    """The key column is named after what the rules look it up by, when they all use the same key."""
    keys = {by for _, _, by in usages if by is not None}
    if len(keys) != 1:
        return ("Clé",)
    return (fr.upper_first(re.sub(r"^(le |la |les |l')", "", keys.pop())),)


def _versions(site, table: CompiledTable, key_header: Phrase) -> list:
    if table.groups:
        return [_groups_table(site, table, key_header)]
    if not table.keyed:
        return [_dated_values(site, [cp.period for cp in table.periods])]
    total = sum(len(cp.period.rows) for cp in table.periods)
    blocks = []
    for i, cp in enumerate(table.periods):
        period = cp.period
        if period.value is not None:
            blocks.append(Para(sentence(Strong(period_label(period)), " : ", _cell(site, period.value))))
            continue
        body: list = [_grid(site, period, key_header)]
        if period.source:
            body.append(Para(("Source de cette version : " + period.source,), "note"))
        summary = (period_label(period) + f" — {len(period.rows)} ligne" + ("s" if len(period.rows) > 1 else ""),)
        opened = total <= OPEN_UP_TO or len(table.periods) == 1 or i == len(table.periods) - 1
        blocks.append(Details(summary, tuple(body), open=opened))
    return blocks


def period_label(period: s.Period) -> str:
    if period.end is None:
        return f"En vigueur depuis le {fr.long_date(period.start)}"
    return f"En vigueur du {fr.long_date(period.start)} au {fr.long_date(period.end)}"


def key_label(key: s.Key) -> str:
    if key.text is not None:
        return f"« {key.text} »" if key.label is None else f"{key.label} ({key.text})"
    if key.low is None and key.high is None:
        return "toute valeur"
    if key.low is None:
        return f"jusqu'à {format_number(key.high)}"
    if key.high is None:
        return f"à partir de {format_number(key.low)}"
    if key.low == key.high:
        return format_number(key.low)
    return f"de {format_number(key.low)} à {format_number(key.high)}"


def group_label(table: CompiledTable, key: str) -> str:
    """A key of a barème by key groups, with its label when the rules give one."""
    return key_label(s.Key(text=key, label=table.labels.get(key), span=None))


def _cell(site, value: ir.Expr) -> Phrase:
    if isinstance(value, ir.OutOfScope):
        return phrase(Strong("hors barème"), " : ", value.message)
    return _computed(site, value)


# A row that computes on its key reads as a tariff does, operator by operator: « 210 € plus (la clé moins 140)
# fois 30 € », where « la somme de … et du produit de … » would bury the figures.
OPERATOR_WORDS = {"+": " plus ", "-": " moins ", "*": " fois ", "/": " divisé par "}
BINDING = {"+": 0, "-": 0, "*": 1, "/": 1}


def _computed(site, e: ir.Expr, need: int = 0) -> Phrase:
    if not isinstance(e, ir.Arith):
        return site.prose.value(e).words
    level = BINDING[e.op]
    # (a − b) − c reads without parentheses, a − (b − c) with them.
    words = phrase(_computed(site, e.left, level), OPERATOR_WORDS[e.op], _computed(site, e.right, level + 1))
    return phrase("(", words, ")") if level < need else words


def _grid(site, period: s.Period, key_header: Phrase):
    notes = [links.line_comment(r.span) for r in period.rows]
    header = [key_header, ("Valeur",)]
    has_notes, has_sources = any(notes), any(r.source for r in period.rows)
    header += [("Note",)] * has_notes + [("Source",)] * has_sources
    rows = []
    for row, note in zip(period.rows, notes):
        cells = [(key_label(row.key),), _cell(site, row.value)]
        cells += [(note,)] * has_notes + [(row.source or "",)] * has_sources
        rows.append(tuple(cells))
    if len(rows) <= LONG_GRID or has_notes or has_sources:
        return Table(tuple(header), tuple(rows), numeric=(1,))
    size = math.ceil(len(rows) / 3)
    slices = (tuple(rows[i:i + size]) for i in range(0, len(rows), size))
    return Columns(tuple(Table(tuple(header), part, numeric=(1,)) for part in slices))


def _dated_values(site, periods) -> Table:
    has_sources = any(p.source for p in periods)
    header = [("En vigueur",), ("Valeur",)] + [("Source",)] * has_sources
    rows = [tuple([(validity(p),), _cell(site, p.value)] + [(p.source or "",)] * has_sources) for p in periods]
    return Table(tuple(header), tuple(rows), numeric=(1,))


def _groups_table(site, table: CompiledTable, key_header: Phrase) -> Table:
    periods = [p for versions in table.groups.values() for p in versions]
    has_sources = any(p.source for p in periods)
    notes = {key: _group_comment(versions[0], key) for key, versions in table.groups.items() if versions}
    has_notes = any(notes.values())
    header = [key_header] + [("Note",)] * has_notes + [("En vigueur",), ("Valeur",)] + [("Source",)] * has_sources
    rows, starts = [], []
    for key, versions in table.groups.items():
        starts.append(len(rows))
        shown = group_label(table, key)
        for i, p in enumerate(versions):
            cells = [(shown,) if i == 0 else ()] + [(notes.get(key, ""),) if i == 0 else ()] * has_notes
            cells += [(validity(p),), _cell(site, p.value)] + [(p.source or "",)] * has_sources
            rows.append(tuple(cells))
    return Table(tuple(header), tuple(rows), numeric=(2 + has_notes,), groups=tuple(starts))


def _group_comment(first: s.Period, key: str) -> str:
    """The comment on the `clé "…"` line that opens a key's history (what a key without label stands for)."""
    source = first.span.source
    for line in range(first.span.line - 1, max(first.span.line - 4, 0), -1):
        if re.match(rf'\s*clé\s+"{re.escape(key)}"', source.line_text(line)):
            return links.line_comment(first.span, line)
    return ""


def _examples(site, table: CompiledTable) -> list:
    labels = {}
    versions = [cp.period for cp in table.periods] + [p for group in table.groups.values() for p in group]
    group_of = {id(p): k for k, group in table.groups.items() for p in group}
    for version in versions:
        for line in version.rows or (version,):
            where = period_label(version).replace("En vigueur", "version en vigueur")
            if isinstance(line, s.Row):
                label = f"{key_label(line.key)} ({where})"
            elif id(version) in group_of:
                key = group_of[id(version)]
                label = f"{group_label(table, key)}, {where}"
            else:
                label = where
            labels[(line.span.path, line.span.start)] = label
    rows = []
    for example in site.examples:
        used = [label for key, label in labels.items() if key in site.reached[example.name]]
        if used:
            rows.append(site._example_row(example, ("; ".join(used),)))
    return rows
