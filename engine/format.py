"""Syntax tree → canonical rule text."""

from __future__ import annotations

import functools
from decimal import Decimal

import attrs

from . import parse
from . import syntax as s
from .frozen import frozen
from .source import SourceFile, Span

# Longest line the layout aims at; a longer condition is broken before its top-level « et » / « ou ».
# Texts (sources, messages) are never broken, so some lines stay longer.
WIDTH = 100

# Binding strength, loosest first, as in the grammar: expr > or > and > not > comparison > sum > product > atom.
QUANTIFIED, OR, AND, NOT, COMPARISON, SUM, PRODUCT, ATOM = range(8)

OPERATORS = {"!=": "≠", "<=": "≤", ">=": "≥", "*": "×", "-": "−"}


# ------------------------------------------------------------------ literals


def number(value: int | Decimal) -> str:
    """« 30 000 », « 2,76 »: groups of three digits, decimal comma, the decimals as written."""
    if isinstance(value, Decimal) and value.as_tuple().exponent < 0:
        whole, decimals = f"{value:f}".split(".")
        return f"{_grouped(whole)},{decimals}"
    return _grouped(str(int(value)))


def _grouped(digits: str) -> str:
    return f"{int(digits):,}".replace(",", " ")


def date(value) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


# ------------------------------------------------------------------ expressions


def expression(e: s.Expr) -> str:
    """One line of rule text, with only the parentheses the grammar needs (and a few for the reader)."""
    return _sub(e, QUANTIFIED)


def _sub(e: s.Expr, need: int) -> str:
    level, text = _print(e)
    return f"({text})" if level < need else text


def _arithmetic(e: s.Expr, need: int) -> str:
    # « durée entre A et B » ends with a sum that would swallow a following « + x » or « × x »:
    # inside arithmetic it is always parenthesised, as `pour (mois entre …)` in the shipped rules.
    if isinstance(e, (s.Between, s.UnitsBetween)):
        return f"({expression(e)})"
    return _sub(e, need)


def _logical(e: s.Expr, need: int) -> str:
    # `a ou x à défaut faux` parses as `a ou (x à défaut faux)` but reads as if the default covered both.
    if isinstance(e, s.Default):
        return f"({expression(e)})"
    return _sub(e, need)


@functools.singledispatch
def _print(e) -> tuple[int, str]:
    raise TypeError(f"pas de forme écrite pour {type(e).__name__}")


# Literals and the other atoms that print without looking at their neighbours.
_ATOMS = {
    s.Number: lambda e: number(e.value),
    s.Text: lambda e: f'"{e.value}"',
    s.DateLit: lambda e: date(e.value),
    s.Boolean: lambda e: "vrai" if e.value else "faux",
    s.MoneyLit: lambda e: f"{number(e.value.amount)} €",
    # The tree holds 0.5 for « 50 % »; normalize() drops the zeros the scaling leaves.
    s.Percent: lambda e: f"{number(e.value.scaleb(2).normalize())} %",
    s.DurationLit: lambda e: f"{number(e.count)} {e.unit}",
    s.Path: lambda e: e.dotted,
    s.Rank: lambda e: f"rang de {e.var}",
    s.First: lambda e: f"premier de {e.collection.dotted}",
    s.OutOfScope: lambda e: f'hors barème "{e.message}"',
    s.KeyRef: lambda e: "clé",
}
for _kind, _show in _ATOMS.items():
    _print.register(_kind, lambda e, show=_show: (ATOM, show(e)))


@_print.register(s.Or)
def _(e: s.Or):
    return OR, " ou ".join(_logical(o, AND) for o in e.operands)


@_print.register(s.And)
def _(e: s.And):
    return AND, " et ".join(_logical(o, NOT) for o in e.operands)


@_print.register(s.Not)
def _(e: s.Not):
    if isinstance(e.operand, s.IsSet):
        return COMPARISON, f"{_sub(e.operand.operand, SUM)} n'est pas renseigné"
    # `non a = b` is valid and means non (a = b), but reads as (non a) = b: only an atom goes bare.
    return NOT, f"non {_sub(e.operand, ATOM)}"


@_print.register(s.Compare)
def _(e: s.Compare):
    return COMPARISON, f"{_sub(e.left, SUM)} {OPERATORS.get(e.op, e.op)} {_sub(e.right, SUM)}"


@_print.register(s.Arith)
def _(e: s.Arith):
    # Left-associative: the right operand binds one level tighter, so a − (b − c) keeps its parentheses.
    level = SUM if e.op in ("+", "-") else PRODUCT
    left, right = _arithmetic(e.left, level), _arithmetic(e.right, level + 1)
    return level, f"{left} {OPERATORS.get(e.op, e.op)} {right}"


@_print.register(s.Negate)
def _(e: s.Negate):
    return ATOM, f"−{_arithmetic(e.operand, ATOM)}"


@_print.register(s.Between)
def _(e: s.Between):
    return ATOM, f"durée entre {_sub(e.start, SUM)} et {_sub(e.end, SUM)}"


@_print.register(s.UnitsBetween)
def _(e: s.UnitsBetween):
    return ATOM, f"{e.unit} entre {_sub(e.start, SUM)} et {_sub(e.end, SUM)}"


@_print.register(s.Quantifier)
def _(e: s.Quantifier):
    which = "tout" if e.every else "au moins un"
    return QUANTIFIED, f"{which} {e.var} dans {e.collection.dotted} vérifie {expression(e.condition)}"


@_print.register(s.Count)
def _(e: s.Count):
    if e.var is None:
        return ATOM, f"nombre de {e.collection.dotted}"
    return ATOM, f"nombre de {e.var} dans {e.collection.dotted} vérifiant ({expression(e.condition)})"


@_print.register(s.Lookup)
def _(e: s.Lookup):
    text = f"barème {e.table}"
    if e.key is not None:
        key = _arithmetic(e.key, ATOM)
        # In `barème t pour barème u à la date d` the date would go to u: the inner lookup is closed.
        text += f" pour ({key})" if e.date is not None and _takes_a_date(e.key) else f" pour {key}"
    if e.date is not None:
        text += f" à la date {_arithmetic(e.date, ATOM)}"
    return ATOM, text


def _takes_a_date(e: s.Expr) -> bool:
    """Whether `e` printed bare ends with a lookup that a following « à la date » would complete."""
    if isinstance(e, s.Lookup):
        return e.date is None or _takes_a_date(e.date)
    if isinstance(e, (s.Negate, s.Prefix)):
        return _takes_a_date(e.operand)
    return False


@_print.register(s.IsSet)
def _(e: s.IsSet):
    return COMPARISON, f"{_sub(e.operand, SUM)} est renseigné"


@_print.register(s.Default)
def _(e: s.Default):
    return COMPARISON, f"{_sub(e.operand, SUM)} à défaut {_sub(e.fallback, SUM)}"


@_print.register(s.Contains)
def _(e: s.Contains):
    return COMPARISON, f"{_sub(e.text, SUM)} contient {_sub(e.part, SUM)}"


@_print.register(s.Prefix)
def _(e: s.Prefix):
    # The count is a bare NUMBER token that the parser reads with int(): never grouped.
    return ATOM, f"les {e.count} premiers caractères de {_arithmetic(e.operand, ATOM)}"


# ------------------------------------------------------------------ comments


@frozen
class Comment:
    """A `#` comment of the source; the parser drops them, the formatter puts them back."""

    line: int
    text: str
    alone: bool  # the only thing on its line; otherwise it ends a line of rules
    blank_before: bool = False
    blank_after: bool = False


def comments(text: str) -> list[Comment]:
    """Every comment of a rule file that parses, in order, with the blank lines around the whole-line ones."""
    rows = text.split("\n")
    found = []
    for span in parse.comments(SourceFile("", text)):
        line = span.line
        alone = not rows[line - 1][:span.column - 1].strip()
        found.append(Comment(
            line, span.text.rstrip(), alone,
            blank_before=alone and line > 1 and not rows[line - 2].strip(),
            blank_after=alone and line < len(rows) and not rows[line].strip(),
        ))
    return found


# ------------------------------------------------------------------ layout


@attrs.define
class _Line:
    indent: int
    text: str
    anchor: int  # source line where what this line prints begins: comments are re-attached by it
    last: int  # source line where it ends: a comment between the two was inside it
    leading: list[Comment] = attrs.Factory(list)
    trailing: list[Comment] = attrs.Factory(list)


class _Layout:
    """Lines of one item, each anchored to the source line it comes from."""

    def __init__(self, text: str) -> None:
        self.file = SourceFile("", text)

    def at(self, offset: int) -> int:
        return self.file.position(offset)[0]

    def line(self, indent: int, text: str, anchor: int, until: Span | None = None) -> _Line:
        """A printed line; `until` is the span of the last thing it prints, when that may be on a later line."""
        last = self.at(max(until.end - 1, until.start)) if until is not None else anchor
        return _Line(indent, text, anchor, max(last, anchor))

    # -------------------------------------------------------------- clauses

    def clause(self, indent: int, prefix: str, e: s.Expr, anchor: int) -> list[_Line]:
        """`prefix e` on one line, or broken before each top-level « et » / « ou » when too long."""
        flat = prefix + expression(e)
        if indent + len(flat) <= WIDTH or not isinstance(e, (s.Or, s.And)):
            return [self.line(indent, flat, anchor, e.span)]
        word, need = ("ou", AND) if isinstance(e, s.Or) else ("et", NOT)
        first, *rest = e.operands
        lines = [self.line(indent, prefix + _logical(first, need), anchor, first.span)]
        # Operands line up under the first one, as in the shipped rules; with no prefix they hang.
        column = max(indent + len(prefix) - len(word) - 1, indent)
        for operand in rest:
            text = f"{word} {_logical(operand, need)}"
            lines.append(self.line(column, text, self.at(operand.span.start), operand.span))
        return lines

    def texts(self, item) -> list[_Line]:
        """The `titre` and `source` clauses (an empty one was not written: the checker reports it), then the
        notes and « non traité » in that order."""
        lines = []
        if item.title:
            lines.append(self.line(2, f'titre "{item.title}"', self.at(item.title_span.start)))
        if item.source:
            lines.append(self.line(2, f'source "{item.source}"', self.at(item.source_span.start)))
        lines += [self.line(2, f'note "{n.text}"', self.at(n.span.start)) for n in item.notes]
        return lines + [self.line(2, f'non traité "{n.text}"', self.at(n.span.start)) for n in item.not_handled]

    def applies(self, item) -> list[_Line]:
        if item.applies is None:
            return []
        return self.clause(2, "s'applique si ", item.applies, self.at(item.applies.span.start))

    def message(self, item) -> list[_Line]:
        if not item.message:
            return []
        return [self.line(2, f'message "{item.message}"', self.at(item.message_span.start))]

    def value_exception(self, e: s.ValueException) -> list[_Line]:
        anchor = self.at(e.span.start)
        flat = f"sauf si {expression(e.condition)} alors {expression(e.value)}"
        if 2 + len(flat) <= WIDTH:
            return [self.line(2, flat, anchor, e.span)]
        alors = self.clause(4, "alors ", e.value, self.at(e.value.span.start))
        return self.clause(2, "sauf si ", e.condition, anchor) + alors

    # -------------------------------------------------------------- requirements

    def requirement(self, r: s.Requirement) -> list[_Line]:
        lines = [self.line(0, f"{r.kind} {r.name}", self.at(r.span.start), r.name_span), *self.texts(r)]
        if r.per_holder:
            lines.append(self.line(2, "pour chaque titulaire", self.at(r.per_holder_span.start)))
        lines += self.applies(r)
        for e in r.exceptions:
            lines += self.exception(e)
        return lines + self.demand(2, "", r.demand) + self.message(r)

    def exception(self, e: s.Exception_) -> list[_Line]:
        anchor = self.at(e.span.start)
        if e.demand is None:
            return self.clause(2, "sauf si ", e.condition, anchor)
        flat = f"sauf si {expression(e.condition)} alors {_short_demand(e.demand)}"
        if _short_demand(e.demand) and 2 + len(flat) <= WIDTH:
            return [self.line(2, flat, anchor, e.span)]
        return self.clause(2, "sauf si ", e.condition, anchor) + self.demand(4, "alors ", e.demand)

    def demand(self, indent: int, lead: str, d: s.Demand) -> list[_Line]:
        """`exige …` at `indent`; alternatives and piece filters on continuation lines aligned under it."""
        anchor = self.at(d.span.start)
        if isinstance(d, s.ConditionDemand):
            return self.clause(indent, lead + "exige que ", d.condition, anchor)
        column = indent + len(lead)  # where « exige » starts: « ou » ends under it, filters go 8 further
        lines = []
        for i, spec in enumerate(d.alternatives):
            if i == 0:
                lines.append(self.line(indent, f'{lead}exige une pièce "{spec.piece_type}"', anchor, spec.type_span))
            else:
                text = f'ou une pièce "{spec.piece_type}"'
                lines.append(self.line(column + 3, text, self.at(spec.span.start), spec.type_span))
            lines += [self.line(column + 8, _filter(f), self.at(f.span.start), f.span) for f in spec.filters]
        return lines

    # -------------------------------------------------------------- definitions, amounts, notices

    def definition(self, d: s.Definition) -> list[_Line]:
        head, anchor = f"définition {d.name} =", self.at(d.span.start)
        value = expression(d.value)
        if len(head) + 1 + len(value) <= WIDTH:
            lines = [self.line(0, f"{head} {value}", anchor, d.value.span)]
        else:
            value_lines = self.clause(2, "", d.value, self.at(d.value.span.start))
            lines = [self.line(0, head, anchor, d.name_span), *value_lines]
        return lines + [line for e in d.exceptions for line in self.value_exception(e)]

    def amount(self, a: s.Amount) -> list[_Line]:
        head = self.line(0, f"montant {a.name}", self.at(a.span.start), a.name_span)
        lines = [head, *self.texts(a), *self.applies(a)]
        lines += self.clause(2, "vaut ", a.value, self.at(a.value.span.start))
        return lines + [line for e in a.exceptions for line in self.value_exception(e)]

    def notice(self, n: s.Notice) -> list[_Line]:
        head = self.line(0, f"avis {n.name}", self.at(n.span.start), n.name_span)
        lines = [head, *self.texts(n), *self.applies(n)]
        if n.when_pieces_missing:
            lines.append(self.line(2, "quand des pièces manquent", self.at(n.when_pieces_missing_span.start)))
        return lines + self.message(n)

    def import_(self, i: s.Import) -> list[_Line]:
        return [self.line(0, f'importe "{i.target}"', self.at(i.span.start), i.span)]

    # -------------------------------------------------------------- barèmes

    def table(self, t: s.Table) -> list[_Line]:
        lines = [self.line(0, f"barème {t.name}", self.at(t.span.start), t.name_span), *self.texts(t)]
        for period in t.periods:
            lines += self.period(2, period)
        for group in t.groups:
            lines.append(self.line(2, f'clé {_text_key(group.key, group.label)}', self.at(group.span.start)))
            lines += [line for period in group.periods for line in self.period(4, period)]
        return lines

    def period(self, indent: int, p: s.Period) -> list[_Line]:
        head, anchor = f"en vigueur {validity(p)}", self.at(p.span.start)
        if p.value is not None:
            return [self.line(indent, f"{head} : {_cell(p.value)}", anchor, p.value.span),
                    *self.row_source(indent + 2, p)]
        lines = [self.line(indent, head, anchor)]
        for row in p.rows:
            text = f"{_key(row.key)} : {_cell(row.value)}"
            lines.append(self.line(indent + 2, text, self.at(row.span.start), row.value.span))
            lines += self.row_source(indent + 4, row)
        return lines

    def row_source(self, indent: int, row: s.Row | s.Period) -> list[_Line]:
        if row.source is None:
            return []
        return [self.line(indent, f'source "{row.source}"', self.at(row.source_span.start))]

    def item(self, item) -> list[_Line]:
        build = {s.Requirement: self.requirement, s.Definition: self.definition, s.Amount: self.amount,
                 s.Table: self.table, s.Notice: self.notice, s.Import: self.import_}
        return build[type(item)](item)


def _cell(value: s.Expr) -> str:
    # A barème's value is a sum in the grammar: anything looser keeps its parentheses.
    return _sub(value, SUM)


def _short_demand(d: s.Demand) -> str:
    """The demand as it fits after `alors` on the exception's line, or "" when it needs lines of its own."""
    if isinstance(d, s.ConditionDemand):
        return f"exige que {expression(d.condition)}"
    if len(d.alternatives) == 1 and not d.alternatives[0].filters:
        return f'exige une pièce "{d.alternatives[0].piece_type}"'
    return ""


def _filter(f: s.PieceFilter) -> str:
    if isinstance(f, s.Dated):
        return f"datée d'au plus {_sub(f.max_age, ATOM)} avant {_sub(f.reference, SUM)}"
    if isinstance(f, s.OfHolder):
        return "du titulaire"
    return f"avec {_sub(f.condition, COMPARISON)}"


def validity(p: s.Period) -> str:
    """« du 01/01/2021 au 31/12/2021 » or « depuis le 01/01/2021 », as rule files write a period."""
    if p.end is None:
        return f"depuis le {date(p.start)}"
    return f"du {date(p.start)} au {date(p.end)}"


def _text_key(text: str, label: str | None) -> str:
    return f'"{text}"' if label is None else f'"{text}" « {label} »'


def _key(k: s.Key) -> str:
    if k.text is not None:
        return _text_key(k.text, k.label)
    if k.low is None:
        return f"jusqu'à {number(k.high)}"
    if k.high is None:
        return f"à partir de {number(k.low)}"
    if k.low == k.high:
        return number(k.low)
    return f"de {number(k.low)} à {number(k.high)}"


# ------------------------------------------------------------------ the file


def format_module(module: s.Module, text: str) -> str:
    """The canonical text of a parsed rule file; `text` is its source, whose comments are kept."""
    layout = _Layout(text)
    units = [(node, layout.item(node)) for node in (*module.imports, *module.items)]
    header, footer = _attach(comments(text), [line for _, lines in units for line in lines])
    out = _comment_block(header, "")
    if header and units and header[-1].blank_after:
        out.append("")
    rows = text.split("\n")
    for i, (node, lines) in enumerate(units):
        if i > 0 and _separated(units[i - 1], (node, lines), rows):
            out.append("")
        out += _render_unit(lines)
    if footer:
        if out and footer[0].blank_before:
            out.append("")
        out += _comment_block(footer, "")
    return "\n".join(out) + "\n" if out else ""


def _attach(found: list[Comment], lines: list[_Line]) -> tuple[list[Comment], list[Comment]]:
    """Hang each comment on a line: above the construct it is in or precedes, or after the line it ended.

    Returns the comments above the first construct (they stay at the top of the file) and those below
    the last one.
    """
    if not lines:
        return found, []
    first = min(line.anchor for line in lines)
    header, footer = [], []
    for c in found:
        if c.alone and c.line < first:
            header.append(c)
            continue
        target = _previous(lines, c.line) if not c.alone else _inside(lines, c.line) or _next(lines, c.line)
        if target is None:
            footer.append(c)
        else:
            (target.leading if c.alone else target.trailing).append(c)
    return header, footer


def _inside(lines: list[_Line], line: int) -> _Line | None:
    """The line printing the construct a comment was written in the middle of: the comment goes above it."""
    around = [candidate for candidate in lines if candidate.anchor < line <= candidate.last]
    return max(reversed(around), key=lambda candidate: candidate.anchor, default=None)


def _next(lines: list[_Line], line: int) -> _Line | None:
    after = [candidate for candidate in lines if candidate.anchor > line]
    return min(after, key=lambda candidate: candidate.anchor, default=None)


def _previous(lines: list[_Line], line: int) -> _Line | None:
    before = [candidate for candidate in lines if candidate.anchor <= line]
    # Several output lines may come from one source line: the comment ended the last of them.
    return max(reversed(before), key=lambda candidate: candidate.anchor, default=None) or _next(lines, line)


def _separated(previous: tuple, current: tuple, rows: list[str]) -> bool:
    """One blank line between items; none between imports, nor after a one-line definition that the
    author wrote right above the next definition."""
    (before, before_lines), (node, lines) = previous, current
    if isinstance(before, s.Import) and isinstance(node, s.Import):
        return False
    if not (isinstance(before, s.Definition) and isinstance(node, s.Definition)) or len(before_lines) > 1:
        return True
    start = min([lines[0].anchor] + [c.line for c in lines[0].leading])
    # A run the author wrote without blank lines stays a run; a blank line in the source starts a new one.
    return any(not row.strip() for row in rows[before_lines[0].anchor:start - 1])


def _render_unit(lines: list[_Line]) -> list[str]:
    out = []
    for i, line in enumerate(lines):
        pad = " " * line.indent
        trailing = line.trailing if len(line.trailing) == 1 else []
        # Two comments that ended source lines now joined into one line go above it, in order.
        leading = line.leading + (line.trailing if len(line.trailing) > 1 else [])
        out += _comment_block(leading, pad, blank_lines=i == 0)
        if i == 0 and line.leading and line.leading[-1].blank_after:
            out.append("")
        out.append(pad + line.text + "".join(f"  {c.text}" for c in trailing))
    return out


def _comment_block(found: list[Comment], pad: str, blank_lines: bool = True) -> list[str]:
    """Whole-line comments; between items the blank lines that split them into paragraphs are kept."""
    out = []
    for i, c in enumerate(found):
        if i > 0 and blank_lines and c.blank_before:
            out.append("")
        out.append(pad + c.text)
    return out
