"""Outcome → JSON (stable key order, byte-identical runs) and a French text report for a person."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from .outcome import AmountOutcome, AmountStatus, Outcome, RequirementOutcome, Status, Step, Verdict
from .values import Duration, Failure, Money, Unknown, format_number

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
    Status.MISSING: "manquant",
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


def step_json(step: Step) -> dict:
    out = {"kind": str(step.kind), "text": step.text, "value": value_json(step.value)}
    out["location"] = f"{step.span.path}:{step.span.line}" if step.span is not None else None
    if step.note:
        out["note"] = step.note
    out["children"] = [step_json(c) for c in step.children]
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
        "breakdown": step_json(o.breakdown),
    }


def outcome_json(o: Outcome) -> dict:
    counts = {str(s): 0 for s in Status}
    for r in o.requirements:
        counts[str(r.status)] += 1
    return {
        "dossier": o.dossier,
        "reference": o.reference,
        "verdict": str(o.verdict),
        "ants_status": ANTS_STATUS[o.verdict],
        "summary": counts,
        "requirements": [requirement_json(r) for r in o.requirements],
        "amounts": [amount_json(a) for a in o.amounts],
        "notices": [{**_rule_json(n.rule), "message": n.message} for n in o.notices],
    }


def render_json(o: Outcome) -> str:
    return json.dumps(outcome_json(o), ensure_ascii=False, indent=2) + "\n"


def render_jsonl(o: Outcome) -> str:
    return json.dumps(outcome_json(o), ensure_ascii=False, separators=(",", ":")) + "\n"


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
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return format_number(value)
    if isinstance(value, list):
        return f"{len(value)} élément(s)"
    return str(value)


def step_lines(step: Step, depth: int = 0) -> list[str]:
    """The reasoning tree: the rule's own words, their value, and where they are written."""
    where = f" ({step.span.path}:{step.span.line})" if step.span is not None and depth == 0 else ""
    text = " ".join(step.text.split())
    line = f"{'  ' * depth}{text} : {value_text(step.value)}{where}"
    if step.note:
        line += f" — {step.note}"
    lines = [line]
    for child in step.children:
        lines += step_lines(child, depth + 1)
    return lines


def _label(o: RequirementOutcome) -> str:
    holder = f" — {o.holder.name}" if o.holder else ""
    return f"{o.rule.title}{holder} [{o.rule.id}]"


def _requirement_block(o: RequirementOutcome, mark: str, explain: bool) -> list[str]:
    lines = [f"  {mark} {_label(o)}"]
    if o.status in (Status.MISSING, Status.UNKNOWN):
        lines.append(f"      {o.message}")
    if o.pieces and o.status is Status.MISSING:
        lines.append("      Pièces acceptées : " + " ou ".join(o.pieces))
    if o.missing_fields:
        lines.append("      Informations à compléter : " + ", ".join(o.missing_fields))
    if o.error:
        lines.append(f"      Erreur : {o.error}")
    if explain or o.status not in (Status.SATISFIED, Status.NOT_APPLICABLE):
        lines.append(f"      Source : {o.rule.source}")
    if explain:
        lines += ["      " + line for line in step_lines(o.reason)]
    return lines


def _section(title: str, outcomes, mark: str, explain: bool) -> list[str]:
    if not outcomes:
        return []
    lines = ["", f"{title} ({len(outcomes)})"]
    for o in outcomes:
        lines += _requirement_block(o, mark, explain)
    return lines


def _amount_line(a: AmountOutcome) -> str:
    if a.status is AmountStatus.COMPUTED:
        shown = str(a.value)
    elif a.status is AmountStatus.NOT_APPLICABLE:
        shown = "sans objet"
    elif a.status is AmountStatus.NOT_COVERED:
        shown = f"non couvert : {a.error}"
    elif a.status is AmountStatus.UNKNOWN:
        shown = "à compléter : " + ", ".join(a.missing_fields)
    else:
        shown = f"erreur : {a.error}"
    return f"  {a.rule.title} : {shown}"


def render_text(o: Outcome, explain: bool = False) -> str:
    """Verdict first, then what is missing and what to do, then the rest."""
    by = {s: [r for r in o.requirements if r.status is s] for s in Status}
    rejected = [r for r in by[Status.MISSING] if r.rule.kind == "recevabilité"]
    missing = [r for r in by[Status.MISSING] if r.rule.kind != "recevabilité"]
    name = f"{o.reference} ({o.dossier})" if o.reference else o.dossier
    lines = [f"Dossier {name}", f"Verdict : {VERDICT_WORDS[o.verdict]}",
             f"Statut ANTS attendu : {ANTS_STATUS[o.verdict]}"]
    lines += _section("Demande irrecevable", rejected, "✗", True)
    lines += _section("Pièces manquantes", missing, "✗", explain)
    lines += _section("Informations à compléter", by[Status.UNKNOWN], "?", True)
    lines += _section("Erreurs dans l'application des règles", by[Status.ERROR], "!", True)
    if o.notices:
        lines += ["", "À savoir"] + [f"  • {n.rule.title} : {n.message}" for n in o.notices]
    if o.amounts:
        lines += ["", "Montants"] + [_amount_line(a) for a in o.amounts]
    lines += _section("Exigences satisfaites", by[Status.SATISFIED], "✓", explain)
    lines += _section("Sans objet pour ce dossier", by[Status.NOT_APPLICABLE], "–", explain)
    return "\n".join(lines) + "\n"
