"""Outcome → JSON (stable key order, byte-identical runs) and a French text report for a person."""

from __future__ import annotations

import datetime
from decimal import Decimal

import attrs

from . import escape
from .diagnostics import to_json as diagnostics_json
from .outcome import AmountOutcome, AmountStatus, Outcome, RequirementOutcome, Status, Step, StepKind, Verdict
from .program import Program
from .values import Duration, Failure, Money, Percentage, Unknown, format_number, format_percent

VERDICT_WORDS = {
    Verdict.COMPLETE: "COMPLET",
    Verdict.INCOMPLETE: "INCOMPLET",
    Verdict.REJECTED: "REJETÉ",
}
# The state the ANTS online procedure shows for a request in each case (seed « Immatriculer un
# véhicule d'occasion sur le site de l'ANTS », note 3: the states of an online request).
ANTS_STATUS = {
    Verdict.COMPLETE: "En cours / Analyse par le service instructeur",
    Verdict.INCOMPLETE: "En attente télédéclarant",
    Verdict.REJECTED: "Rejetée",
}
STATUS_WORDS = {
    Status.SATISFIED: "satisfaite",
    Status.MISSING: "manquante",
    Status.NOT_APPLICABLE: "sans objet",
    Status.UNKNOWN: "information à compléter",
    Status.ERROR: "erreur",
}

# ------------------------------------------------------------------ JSON


def value_json(value):
    """A runtime value as JSON: exact decimals and money as strings, never floats."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Money):
        return value.decimal_string()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Duration):
        return {"months": value.months, "days": value.days}
    if isinstance(value, Unknown):
        return {"unknown": sorted(value.missing)}
    if isinstance(value, Failure):
        return {"error": value.message}
    if isinstance(value, list):
        return {"items": len(value)}
    return {"item": getattr(value, "pointer", str(value))}


SHOWN_ABOVE = "détaillé plus haut"
# Renderings leave out literal steps: a literal's value is already in its parent's words.


def _expanded(step: Step, seen: set) -> tuple[tuple[Step, ...], str | None]:
    """A definition is detailed where it first appears in a tree; later uses point back to it."""
    if step.kind is not StepKind.DEFINITION or not step.children:
        return step.children, step.note
    if step.text in seen:
        return (), SHOWN_ABOVE
    seen.add(step.text)
    return step.children, step.note


def step_json(step: Step, seen: set | None = None) -> dict:
    seen = set() if seen is None else seen
    children, note = _expanded(step, seen)
    out = {"kind": str(step.kind), "text": " ".join(step.text.split()), "value": value_json(step.value)}
    out["location"] = f"{step.span.path}:{step.span.line}" if step.span is not None else None
    if note:
        out["note"] = note
    out["children"] = [step_json(c, seen) for c in children if c.kind is not StepKind.LITERAL]
    return out


def _rule_json(rule) -> dict:
    return {"id": rule.id, "kind": rule.kind, "title": rule.title, "source": rule.source,
            "location": rule.location}


def requirement_json(o: RequirementOutcome) -> dict:
    return {
        **_rule_json(o.rule),
        "holder": None if o.holder is None else {"index": o.holder.index, "name": o.holder.name},
        "status": str(o.status),
        "pieces": list(o.pieces),
        "message": o.message,
        "missing_fields": list(o.missing_fields),
        "error": o.error,
        "reason": step_json(o.reason),
    }


def amount_json(o: AmountOutcome) -> dict:
    return {
        **_rule_json(o.rule),
        "status": str(o.status),
        "value": o.value.decimal_string() if isinstance(o.value, Money) else None,
        "missing_fields": list(o.missing_fields),
        "error": o.error,
        "unsettled_parts": [{"id": p.rule.id, "status": str(p.status)} for p in o.unsettled],
        "breakdown": step_json(o.breakdown),
    }


def outcome_json(o: Outcome) -> dict:
    counts = {str(s): 0 for s in Status}
    for r in o.requirements:
        counts[str(r.status)] += 1
    return {
        "dossier": o.dossier,
        "reference": o.reference,
        "rules": {"pack": o.rules.name, "digest": o.rules.digest} if o.rules is not None else None,
        "verdict": str(o.verdict),
        "ants_status": ANTS_STATUS[o.verdict],
        "summary": counts,
        "requirements": [requirement_json(r) for r in o.requirements],
        "amounts": [amount_json(a) for a in o.amounts],
        "notices": [{**_rule_json(n.rule), "message": n.message} for n in o.notices],
    }


def render_json(o: Outcome) -> str:
    return escape.json_dumps(outcome_json(o), indent=2) + "\n"


def render_jsonl(o: Outcome) -> str:
    return escape.json_dumps(outcome_json(o), separators=(",", ":")) + "\n"


def unreadable_json(name: str, diagnostics) -> dict:
    """The record a batch writes in the place of a report for a dossier that has none: where, and why
    (described in the report schema under $defs/sans_rapport)."""
    return {"dossier": name, "errors": [diagnostics_json(d) for d in diagnostics]}


def render_unreadable_json(name: str, diagnostics) -> str:
    return escape.json_dumps(unreadable_json(name, diagnostics), indent=2) + "\n"


def render_unreadable_jsonl(name: str, diagnostics) -> str:
    return escape.json_dumps(unreadable_json(name, diagnostics), separators=(",", ":")) + "\n"


# ------------------------------------------------------------------ French text


def value_text(value) -> str:
    if value is True:
        return "vrai"
    if value is False:
        return "faux"
    if isinstance(value, Unknown):
        return "inconnu (à compléter : " + ", ".join(sorted(value.missing)) + ")"
    if isinstance(value, Failure):
        return "erreur : " + value.message
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, Percentage):
        return format_percent(value)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return format_number(value)
    if isinstance(value, list):
        return f"{len(value)} élément(s)"
    return str(value)


def step_lines(step: Step, depth: int = 0, seen: set | None = None) -> list[str]:
    """The reasoning tree: the rule's own words, their value, and where they are written."""
    seen = set() if seen is None else seen
    children, note = _expanded(step, seen)
    where = f" ({step.span.path}:{step.span.line})" if step.span is not None and depth == 0 else ""
    text = " ".join(step.text.split())
    line = f"{'  ' * depth}{text} : {value_text(step.value)}{where}"
    if note:
        line += f" — {note}"
    lines = [line]
    for child in children:
        if child.kind is not StepKind.LITERAL:
            lines += step_lines(child, depth + 1, seen)
    return lines


def _label(o: RequirementOutcome) -> str:
    holder = f" — {o.holder.name}" if o.holder else ""
    return f"{o.rule.title}{holder} [{o.rule.id}]"


@attrs.frozen
class Entry:
    """One line of a report section, with its details and, when asked, its reasoning tree."""

    mark: str
    label: str
    details: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()


@attrs.frozen
class Section:
    title: str
    entries: tuple[Entry, ...]
    counted: bool = True


def _requirement_entry(o: RequirementOutcome, mark: str, explain: bool) -> Entry:
    details = []
    if o.status in (Status.MISSING, Status.UNKNOWN):
        details.append(o.message)
    if o.pieces and o.status is Status.MISSING:
        details.append("Pièces acceptées : " + " ou ".join(o.pieces))
    if o.missing_fields:
        details.append("Informations à compléter : " + ", ".join(o.missing_fields))
    if o.error:
        details.append(f"Erreur : {o.error}")
    if explain or o.status not in (Status.SATISFIED, Status.NOT_APPLICABLE):
        details.append(f"Source : {o.rule.source}")
    reason = tuple(step_lines(o.reason)) if explain else ()
    return Entry(mark, _label(o), tuple(details), reason)


def _amount_value(a: AmountOutcome) -> str:
    if a.unsettled:
        return "non calculé, faute de : " + " ; ".join(f"{p.rule.title} ({_part_state(p)})" for p in a.unsettled)
    if a.status is AmountStatus.COMPUTED:
        return str(a.value)
    if a.status is AmountStatus.NOT_APPLICABLE:
        return "sans objet"
    if a.status is AmountStatus.NOT_COVERED:
        return f"non couvert : {a.error}"
    if a.status is AmountStatus.UNKNOWN:
        return "à compléter : " + ", ".join(a.missing_fields)
    return f"erreur : {a.error}"


def _part_state(a: AmountOutcome) -> str:
    if a.status is AmountStatus.UNKNOWN:
        return "à compléter : " + ", ".join(a.missing_fields)
    return "non couvert" if a.status is AmountStatus.NOT_COVERED else "erreur"


def sections(o: Outcome, explain: bool = False) -> list[Section]:
    """Verdict first (in the header), then what is missing and what to do, then the rest."""
    by = {s: [r for r in o.requirements if r.status is s] for s in Status}

    def section(title, outcomes, mark, show_reason):
        return Section(title, tuple(_requirement_entry(r, mark, show_reason) for r in outcomes))

    found = [
        section("Demande irrecevable", [r for r in by[Status.MISSING] if r.rule.kind == "recevabilité"], "✗", True),
        section("Pièces manquantes", [r for r in by[Status.MISSING] if r.rule.kind != "recevabilité"], "✗", explain),
        section("Informations à compléter", by[Status.UNKNOWN], "?", True),
        section("Erreurs dans l'application des règles", by[Status.ERROR], "!", True),
        Section("À savoir", tuple(Entry("•", f"{n.rule.title} : {n.message}") for n in o.notices), False),
        Section("Montants", tuple(Entry("", f"{a.rule.title} : {_amount_value(a)}",
                                        reason=tuple(step_lines(a.breakdown)) if explain else ())
                                  for a in o.amounts), False),
        section("Exigences satisfaites", by[Status.SATISFIED], "✓", explain),
        section("Sans objet pour ce dossier", by[Status.NOT_APPLICABLE], "–", explain),
    ]
    return [sec for sec in found if sec.entries]


def _heading(o: Outcome) -> tuple[str, str, str]:
    name = f"{o.reference} ({o.dossier})" if o.reference else o.dossier
    return f"Dossier {name}", f"Verdict : {VERDICT_WORDS[o.verdict]}", f"Statut ANTS attendu : {ANTS_STATUS[o.verdict]}"


def _pack(o: Outcome) -> list[str]:
    """The rules the dossier was checked against, so that a report can be traced to them."""
    return [f"Règles : {o.rules}"] if o.rules is not None else []


def _section_title(sec: Section) -> str:
    return f"{sec.title} ({len(sec.entries)})" if sec.counted else sec.title


def render_text(o: Outcome, explain: bool = False) -> str:
    # Each line is made visible whole: the line breaks are the renderer's, never a value's.
    lines = [*_heading(o), *_pack(o)]
    for sec in sections(o, explain):
        lines += ["", _section_title(sec)]
        for entry in sec.entries:
            lines.append(f"  {entry.mark} {entry.label}" if entry.mark else f"  {entry.label}")
            lines += [f"      {d}" for d in entry.details]
            lines += [f"      {r}" for r in entry.reason]
    return "\n".join(map(escape.visible, lines)) + "\n"


def render_markdown(o: Outcome, explain: bool = False) -> str:
    title, verdict, ants = _heading(o)
    lines = [f"# {escape.markdown(title)}", "", f"**{verdict}** — {ants}"]
    lines += [line for pack in _pack(o) for line in ("", escape.markdown(pack))]
    for sec in sections(o, explain):
        lines += ["", f"## {_section_title(sec)}", ""]
        for entry in sec.entries:
            mark = f"{entry.mark} " if entry.mark else ""
            lines.append(f"- {mark}**{escape.markdown(entry.label)}**")
            lines += [f"  - {escape.markdown(d)}" for d in entry.details]
            if entry.reason:
                reason = [escape.visible(r) for r in entry.reason]
                fence = escape.markdown_fence(reason)
                lines += ["", f"  {fence}text"] + [f"  {r}" for r in reason] + [f"  {fence}"]
    return "\n".join(lines) + "\n"


HTML_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
.verdict { font-size: 1.2rem; font-weight: bold; padding: .5rem .8rem; border-radius: .3rem; display: inline-block; }
.complete { background: #e3f4e1; } .incomplete { background: #fff2cc; } .rejected { background: #fadbd8; }
li { margin: .4rem 0; } .details { color: #444; font-size: .92rem; } pre { background: #f6f6f6; padding: .5rem;
overflow-x: auto; font-size: .8rem; } @media print { body { margin: 0; max-width: none; } pre { white-space: pre-wrap; } }
"""


def render_html(o: Outcome, explain: bool = False) -> str:
    """A self-contained page for one dossier, to print or send."""
    title, verdict, ants = _heading(o)
    body = [f"<h1>{escape.html(title)}</h1>",
            f'<p class="verdict {o.verdict}">{escape.html(verdict)}</p>', f"<p>{escape.html(ants)}</p>"]
    body += [f'<p class="rules">{escape.html(pack)}</p>' for pack in _pack(o)]
    for sec in sections(o, explain):
        body.append(f"<h2>{escape.html(_section_title(sec))}</h2><ul>")
        for entry in sec.entries:
            details = "".join(f'<div class="details">{escape.html(d)}</div>' for d in entry.details)
            reason = f"<pre>{chr(10).join(map(escape.html, entry.reason))}</pre>" if entry.reason else ""
            body.append(f"<li>{escape.html(entry.mark)} <strong>{escape.html(entry.label)}</strong>"
                        f"{details}{reason}</li>")
        body.append("</ul>")
    return ('<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f"<title>{escape.html(title)}</title><style>{HTML_STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def explanations(o: Outcome, rule_id: str | None = None, program: Program | None = None) -> list[str]:
    """The reasoning tree of each requirement (per holder), amount or notice named `rule_id`, or of all.

    With the `program`, each rule's source is followed by its notes and « non traité » clauses: the full
    reasoning is for the person who asks for it, not part of the instructor's report.
    """
    trees = []
    for r in o.requirements:
        if rule_id in (None, r.rule.id):
            head = f"{_label(r)} : {STATUS_WORDS[r.status]}"
            trees.append("\n".join(map(escape.visible, [head, *_cited(r.rule, program)] + step_lines(r.reason))))
    for a in o.amounts:
        if rule_id in (None, a.rule.id):
            head = f"{a.rule.title} [{a.rule.id}] : {_amount_value(a)}"
            trees.append("\n".join(map(escape.visible, [head, *_cited(a.rule, program)] + step_lines(a.breakdown))))
    return trees


def _cited(rule, program: Program | None) -> list[str]:
    item = program.reported(rule.id) if program is not None else None
    lines = [f"Source : {rule.source}"]
    if item is not None:
        lines += [f"Note : {n.text}" for n in item.notes] + [f"Non traité : {n.text}" for n in item.not_handled]
    return lines
