"""Outcome → a report sized for its reader: JSON (stable key order, byte-identical runs), French text,
Markdown and HTML. By default, what the reader acts on; with `explain`, the reasoning behind it too."""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import re
import textwrap
import threading
from decimal import Decimal

import orjson

from . import __version__, escape
from .diagnostics import to_json as diagnostics_json
from .frozen import frozen
from .outcome import AmountOutcome, AmountStatus, Outcome, RequirementOutcome, Status, Step, StepKind, Verdict
from .program import Program
from .schema import Schema
from .source import shipped
from .values import Duration, Failure, Money, Percentage, Unknown, format_number, format_percent
from .vocabulary import Vocabulary, lower_first

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

# ------------------------------------------------------------------ what every format shows


def _asks(o: RequirementOutcome) -> bool:
    """The message says what to do: it is shown when there is something to do."""
    return o.status in (Status.MISSING, Status.UNKNOWN)


def _listed(o: Outcome, show_all: bool) -> tuple[RequirementOutcome, ...]:
    """The requirements a report lists: those that apply, or (`show_all`) those « sans objet » too."""
    return o.requirements if show_all else tuple(r for r in o.requirements if r.status is not Status.NOT_APPLICABLE)


@functools.lru_cache(maxsize=1024)  # a pack has tens of sources; every report cites them again
def short_citation(source: str) -> str:
    """A source's first clause without what its parentheses add, an act without its title:
    « Code de la route, art. R. 322-4 (cession) et R. 322-5 (…) ; arrêté du … » → « Code de la route,
    art. R. 322-4 et R. 322-5 »; « Arrêté du 14 août 2017 portant information du public … » → « Arrêté du
    14 août 2017 ». The full source is in the rule and in every report with --explain."""
    while (bare := re.sub(r" ?\([^()]*\)", "", source)) != source:
        source = bare
    first = re.split(r"(?: ; | : )(?![^«»]*»)", source, maxsplit=1)[0]  # not inside « a quotation »
    return re.sub(r" (?:portant|relati(?:f|ve)) .*", "", first)


def calculation_text(parts) -> str:
    """An amount's formula in one line, each operand written as its value: « 5 × 43 € × 1 × 1 »."""
    return "".join(text if value is None else value_text(value) for text, value in parts)


# ------------------------------------------------------------------ the dossier's own facts


@functools.cache
def _short_names(schema: Schema | None, pointer: str) -> dict[str, str]:
    return Vocabulary(schema.document).short_names(pointer) if schema is not None else {}


def _piece_names(schema: Schema | None) -> dict[str, str]:
    """Piece types as the dossier schema names them in French: ids are for machines."""
    return _short_names(schema, "/pieces/*/type")


def _named(schema: Schema, pointer: str, value) -> str | None:
    return _short_names(schema, pointer).get(value, value) if isinstance(value, str) else None


def _day(raw) -> str | None:
    try:
        return value_text(datetime.date.fromisoformat(raw)) if isinstance(raw, str) else None
    except ValueError:
        return raw


def _object(data: dict, key: str) -> dict:
    return data.get(key) if isinstance(data.get(key), dict) else {}


def dossier_facts(data: dict, schema: Schema) -> tuple[str, ...]:
    """What the dossier says of itself, in French (the words of its schema), for a report's header: the
    request, the purchase, the vehicle, the holders. A field the dossier does not give is left out."""
    channel, day = _named(schema, "/canal", data.get("canal")), _day(data.get("date_demande"))
    request = f"{channel} le {day}" if channel and day else channel or (f"Demande du {day}" if day else None)
    purchase, vehicle = _object(data, "achat"), _object(data, "vehicule")
    bought = [lower_first(w) for w in (_named(schema, "/achat/etat", purchase.get("etat")),
                                       _named(schema, "/achat/origine", purchase.get("origine"))) if w]
    if bought and isinstance(purchase.get("pays"), str):
        bought.append(f"({purchase['pays']})")
    if bought and (sold := _day(purchase.get("date"))):
        bought.append(f"le {sold}")
    described = [vehicle.get("immatriculation"), _labelled("genre", vehicle.get("genre")), vehicle.get("energie"),
                 _labelled("", vehicle.get("puissance_fiscale"), " CV"),
                 _labelled("", vehicle.get("co2_g_km"), " g/km de CO₂"),
                 _labelled("1re immatriculation le", _day(vehicle.get("date_premiere_immatriculation")))]
    holders = data.get("titulaires") if isinstance(data.get("titulaires"), list) else []
    names = [_person(h, i) for i, h in enumerate(holders)]
    facts = [request, "Achat : " + " ".join(bought) if bought else None,
             "Véhicule : " + ", ".join(str(d) for d in described if d) if any(described) else None,
             f"Titulaire{'s' if len(names) > 1 else ''} : " + ", ".join(names) if names else None]
    return tuple(f for f in facts if f)


def _facts(o: Outcome) -> tuple[str, ...]:
    # Written only by the reports that show them (a JSON record only with --explain): they cost a batch 5 %.
    return dossier_facts(o.data, o.schema) if o.data is not None else ()


def _labelled(before: str, value, after: str = "") -> str | None:
    return None if value is None else f"{before} {value_text(value)}{after}".strip()


def _person(holder, index: int) -> str:
    data = holder if isinstance(holder, dict) else {}
    return " ".join(p for p in (data.get("prenoms"), data.get("nom")) if isinstance(p, str) and p) or (
        f"titulaire n° {index + 1}")


# ------------------------------------------------------------------ JSON


_PLAIN = frozenset({type(None), bool, int, str})  # most values of a tree, found by one look-up


def value_json(value):
    """A runtime value as JSON: exact decimals and money as strings, never floats."""
    if value.__class__ in _PLAIN or isinstance(value, (bool, int, str)):
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


def _kept(store: dict, bound: int, key, alive, make):
    """`make()`, kept in `store` under a key made of `alive`'s identity: the entry keeps `alive`, so that its id
    is not reused while the entry lasts. Hashing by identity costs nothing where hashing a Span or an outcome by
    value, a thousand times a dossier, cost more than what is kept. At `bound` entries, the store starts again."""
    found = store.get(key)
    if found is None:
        if len(store) >= bound:
            store.clear()
        found = store[key] = (alive, make())
    return found[1]


_WORDS: dict[tuple[str, int], tuple[object, tuple[str, str | None]]] = {}


def _step_words(text: str, span) -> tuple[str, str | None]:
    """A step's text on one line and its file:line: the same for every dossier, worked out once (the program's
    steps are a few thousand; a batch writes them a million times)."""
    return _kept(_WORDS, 65536, (text, id(span)), span,
                 lambda: (" ".join(text.split()), f"{span.path}:{span.line}" if span is not None else None))


def step_json(step: Step, seen: set | None = None) -> dict:
    seen = set() if seen is None else seen
    children, note = _expanded(step, seen)
    return _step_dict(step, note, [step_json(c, seen) for c in children if c.kind is not StepKind.LITERAL])


def _step_dict(step: Step, note: str | None, children: list) -> dict:
    """A step's JSON, its children's already written, its keys in the order every report keeps."""
    text, location = _step_words(step.text, step.span)
    out = {"kind": str(step.kind), "text": text, "value": value_json(step.value), "location": location}
    if note:
        out["note"] = note
    out["children"] = children
    return out


class _Steps(threading.local):
    """What writing explained records knows of the steps it met, by identity (an entry keeps its step, so that its
    id is not reused): `names`, the definitions each step's JSON may detail, one bit each (`bits`); `forms`, by
    step and those of them detailed before it, its JSON bytes or the number of the record that met it first;
    `recent`, the JSON the record being written made of each. Kept while a batch is written (steps_kept), else
    for one record; each thread has its own (serve writes records in several)."""

    def __init__(self) -> None:
        self.names: dict[int, tuple[Step, int]] = {}
        self.bits: dict[str, int] = {}
        self.forms: dict[tuple[int, int], object] = {}
        self.recent: dict[tuple[int, int], tuple[dict, int]] = {}
        self.record = 0  # the number of the record being written
        self.held = False

    def of(self, step: Step) -> int:
        found = self.names.get(id(step))
        if found is not None:
            return found[1]
        names = 0
        for child in step.children:
            if child.kind is not StepKind.LITERAL:
                names |= self.of(child)
        if step.kind is StepKind.DEFINITION and step.children:
            names |= self.bit(step.text)
        self.names[id(step)] = (step, names)
        return names

    def bit(self, name: str) -> int:
        found = self.bits.get(name)
        if found is None:
            found = self.bits[name] = 1 << len(self.bits)
        return found

    def next_record(self) -> None:
        self.record += 1
        self.recent.clear()

    def forget(self) -> None:
        for kept in (self.recent, self.names, self.bits, self.forms):
            kept.clear()


# An explained record holds about 1 150 steps on the shipped pack, most of them the same objects from one dossier
# to the next (trees.py shares them within a batch). A step met again in a later record of the batch is written
# once, as JSON bytes that the records after it splice in (orjson.Fragment); one met in a single record (most of
# the 200 distinct steps of a record) is written with its record, not kept. What a step writes depends on the
# definitions already detailed above it (_expanded), so its bytes are kept by those, of the ones it may detail
# itself, that were.
_STEPS = _Steps()


@contextlib.contextmanager
def steps_kept():
    """The steps' JSON kept from one explained JSON Lines record to the next while a batch is written."""
    _STEPS.held = True
    try:
        yield
    finally:
        _STEPS.held = False
        _STEPS.forget()


def step_fragment(step: Step, seen: list[int]) -> dict | orjson.Fragment:
    """step_json(step), the definitions detailed before it a mask of _STEPS.bits in seen[0], and in it after;
    orjson raises JSONEncodeError on what it does not write as json.dumps does (an integer beyond 64 bits, a
    lone surrogate)."""
    found = _STEPS.names.get(id(step))
    shown = seen[0] & (_STEPS.of(step) if found is None else found[1])
    key = (id(step), shown)
    found = _STEPS.forms.get(key)
    if found == _STEPS.record:  # met before in this record
        found = _STEPS.recent[key]
    if found is not None and found.__class__ is tuple:  # (its JSON, the definitions it details)
        seen[0] |= found[1]
        return found[0]
    now, children, note = [shown], step.children, step.note
    if step.kind is StepKind.DEFINITION and children:  # as _expanded
        bit = _STEPS.bit(step.text)
        if shown & bit:
            children, note = (), SHOWN_ABOVE
        now[0] |= bit
    out = _step_dict(step, note, [step_fragment(c, now) for c in children if c.kind is not StepKind.LITERAL])
    added = now[0] ^ shown
    if found is None:  # met in no record before this one
        _STEPS.forms[key] = _STEPS.record
        _STEPS.recent[key] = (out, added)
    else:  # met in an earlier record
        out = orjson.Fragment(orjson.dumps(out))
        _STEPS.forms[key] = (out, added)
    seen[0] |= added
    return out


# A key with nothing to say (no holder, no missing field, no error…) is left out: the record stays the
# size of what its reader acts on. The keys present always come in this order.
def _rule_json(rule, explain: bool) -> dict:
    out = {"id": rule.id, "kind": rule.kind, "title": rule.title}
    if explain:
        out |= {"source": rule.source, "citation": short_citation(rule.source), "location": rule.location}
    return out


def requirement_json(o: RequirementOutcome, explain: bool = False, step=step_json) -> dict:
    out = _rule_json(o.rule, explain)
    if o.holder is not None:
        out["holder"] = {"index": o.holder.index, "name": o.holder.name}
    out["status"] = str(o.status)
    if o.pieces:
        out["pieces"] = list(o.pieces)
    if _asks(o):
        out["message"] = o.message
    if o.missing_fields:
        out["missing_fields"] = list(o.missing_fields)
    if o.error:
        out["error"] = o.error
    if explain:
        out["reason"] = step(o.reason)
    return out


def amount_json(o: AmountOutcome, explain: bool = False, step=step_json) -> dict:
    out = {**_rule_json(o.rule, explain), "status": str(o.status)}
    if isinstance(o.value, Money) and o.status is AmountStatus.COMPUTED:
        out["value"] = o.value.decimal_string()
    if o.calculation:
        out["calculation"] = calculation_text(o.calculation)
    if o.missing_fields:
        out["missing_fields"] = list(o.missing_fields)
    if o.error:
        out["error"] = o.error
    if o.unsettled:
        out["unsettled_parts"] = [{"id": p.rule.id, "status": str(p.status)} for p in o.unsettled]
    if explain:
        out["breakdown"] = step(o.breakdown)
    return out


_STATUSES = tuple(map(str, Status))

# A result's JSON by the result's identity: the batch evaluator (batches.py) hands the same outcome objects to
# every dossier they fit, and a record is written of them without change. Small: the shared outcomes are a few
# hundred, the others met once.
_MADE: dict[int, tuple[object, dict]] = {}


def _made(o, make) -> dict:
    return _kept(_MADE, 4096, id(o), o, lambda: make(o))


def _notice_json(n, explain: bool = False) -> dict:
    return {**_rule_json(n.rule, explain), "message": n.message}


def outcome_json(o: Outcome, explain: bool = False, show_all: bool = False, step=step_json) -> dict:
    """The report as JSON; `step` writes each reasoning tree's root."""
    counts = dict.fromkeys(_STATUSES, 0)
    for r in o.requirements:
        counts[r.status] += 1  # a StrEnum member finds the key of its text
    out = {
        "dossier": o.dossier,
        "reference": o.reference,
        "rules": {"pack": o.rules.name, "digest": o.rules.digest} if o.rules is not None else None,
        "immat": __version__,
        "evaluation_date": o.evaluated_on.isoformat() if o.evaluated_on else None,
        "verdict": str(o.verdict),
        "ants_status": ANTS_STATUS[o.verdict],
    }
    if explain:  # what a report for people heads with, for a page that shows the JSON report to a person
        out["facts"] = list(_facts(o))
        return out | {
            "summary": counts,
            "requirements": [requirement_json(r, True, step) for r in _listed(o, True)],
            "amounts": [amount_json(a, True, step) for a in o.amounts],
            "notices": [_notice_json(n, True) for n in o.notices],
        }
    return out | {
        "summary": counts,
        "requirements": [_made(r, requirement_json) for r in _listed(o, show_all)],
        "amounts": [_made(a, amount_json) for a in o.amounts],
        "notices": [_made(n, _notice_json) for n in o.notices],
    }


def _tree_fragment(step: Step) -> dict | orjson.Fragment:
    return step_fragment(step, [0])


def render_json(o: Outcome, explain: bool = False, show_all: bool = False) -> str:
    return escape.json_dumps(outcome_json(o, explain, show_all), known_plain=True, indent=2) + "\n"


def render_jsonl(o: Outcome, explain: bool = False, show_all: bool = False) -> str:
    if explain:
        _STEPS.next_record()
        try:
            return escape.safe_text(orjson.dumps(outcome_json(o, True, show_all, _tree_fragment))) + "\n"
        except orjson.JSONEncodeError:  # a value orjson does not write as json.dumps does: written below
            pass
        finally:
            if not _STEPS.held:
                _STEPS.forget()
    return escape.json_dumps(outcome_json(o, explain, show_all), known_plain=True, separators=(",", ":")) + "\n"


def unreadable_json(name: str, diagnostics) -> dict:
    """The record a batch writes in the place of a report for a dossier that has none: where, and why
    (described in the report schema under $defs/sans_rapport)."""
    return {"dossier": name, "errors": [diagnostics_json(d) for d in diagnostics]}


def report_schema() -> dict:
    """The JSON Schema of a report and of the record in its place (engine/schemas/report.schema.json)."""
    with open(shipped("immat", "schemas", "report.schema.json"), "rb") as stream:
        return json.load(stream)


def render_unreadable_json(name: str, diagnostics) -> str:
    return escape.json_dumps(unreadable_json(name, diagnostics), indent=2) + "\n"


def render_unreadable_jsonl(name: str, diagnostics) -> str:
    return escape.json_dumps(unreadable_json(name, diagnostics), separators=(",", ":")) + "\n"


# ------------------------------------------------------------------ French text


def value_text(value) -> str:
    exact = _TEXT_BY_TYPE.get(type(value))
    if exact is not None:  # the usual operands of a calculation, found in one look-up
        return exact(value)
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


# What value_text gives these exact types (a bool, a subclass, go the whole way).
_TEXT_BY_TYPE = {Money: str, int: format_number, Decimal: format_number, Percentage: format_percent}


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


def _label(o: RequirementOutcome, explain: bool = True) -> str:
    holder = f" — {o.holder.name}" if o.holder else ""
    return f"{o.rule.title}{holder}" + (f" [{o.rule.id}]" if explain else "")


@frozen
class Entry:
    """One line of a report section, with its details and, when asked, its reasoning tree."""

    mark: str
    label: str
    details: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    cited: str = ""  # the short citation of an entry without details, after its label


@frozen
class Section:
    """A titled list of entries; one without entries is a line of its own (« … : 21 exigence(s), listées… »)."""

    title: str
    entries: tuple[Entry, ...] = ()
    counted: bool = True


@frozen
class Fee:
    """One row of the fees table: the amount's title, its value (or why there is none), and how it is reached."""

    title: str
    value: str
    detail: str


@frozen
class Fees:
    title: str
    rows: tuple[Fee, ...]


def _requirement_entry(o: RequirementOutcome, mark: str, explain: bool, pieces: dict[str, str]) -> Entry:
    details = []
    if _asks(o):
        details.append(o.message)
    if o.pieces and o.status is Status.MISSING:
        accepted = "Pièce acceptée" if len(o.pieces) == 1 else "Pièces acceptées (une seule suffit)"
        details.append(f"{accepted} : " + " ; ".join(pieces.get(p, p) for p in o.pieces))
    if o.missing_fields:
        details.append("Informations à compléter : " + ", ".join(o.missing_fields))
    if o.error:
        details.append(f"Erreur : {o.error}")
    cited = ""
    if explain:
        details.append(f"Source : {o.rule.source}")
    elif details:
        details.append(f"Source : {short_citation(o.rule.source)}")
    else:
        cited = short_citation(o.rule.source)
    reason = tuple(step_lines(o.reason)) if explain else ()
    return Entry(mark, _label(o, explain), tuple(details), reason, cited)


def _amount_words(a: AmountOutcome) -> tuple[str, str]:
    """An amount's value (or the word for why it has none) and what explains it: its calculation or reason."""
    if a.unsettled:
        return "non calculé", "faute de : " + " ; ".join(f"{p.rule.title} ({_part_state(p)})" for p in a.unsettled)
    if a.status is AmountStatus.COMPUTED:
        return str(a.value), calculation_text(a.calculation)
    if a.status is AmountStatus.NOT_APPLICABLE:
        return "sans objet", ""
    if a.status is AmountStatus.NOT_COVERED:
        return "non couvert", a.error
    if a.status is AmountStatus.UNKNOWN:
        return "à compléter", ", ".join(a.missing_fields)
    return "erreur", a.error


def _part_state(a: AmountOutcome) -> str:
    if a.status is AmountStatus.UNKNOWN:
        return "à compléter : " + ", ".join(a.missing_fields)
    return "non couvert" if a.status is AmountStatus.NOT_COVERED else "erreur"


def sections(o: Outcome, explain: bool = False, show_all: bool = False) -> list[Section | Fees]:
    """Verdict first (in the header), then what is missing and what to do, then the rest."""
    by = {s: [r for r in o.requirements if r.status is s] for s in Status}

    def section(title, outcomes, mark):
        return Section(title, tuple(_requirement_entry(r, mark, explain, _piece_names(o.schema)) for r in outcomes))

    unlisted = by[Status.NOT_APPLICABLE] if not (show_all or explain) else []
    trees = tuple(Entry("", f"{a.rule.title} [{a.rule.id}]", reason=tuple(step_lines(a.breakdown)))
                  for a in o.amounts if explain)
    found = [
        section("Demande irrecevable", [r for r in by[Status.MISSING] if r.rule.kind == "recevabilité"], "✗"),
        section("Pièces manquantes", [r for r in by[Status.MISSING] if r.rule.kind != "recevabilité"], "✗"),
        section("Informations à compléter", by[Status.UNKNOWN], "?"),
        section("Erreurs dans l'application des règles", by[Status.ERROR], "!"),
        Section("À savoir", tuple(Entry("•", f"{n.rule.title} : {n.message}") for n in o.notices), False),
        Fees("Montants", tuple(Fee(a.rule.title, *_amount_words(a)) for a in o.amounts)),
        Section("Détail des montants", trees, False),
        section("Exigences satisfaites", by[Status.SATISFIED], "✓"),
        section("Sans objet pour ce dossier", [] if unlisted else by[Status.NOT_APPLICABLE], "–"),
    ]
    listed = [sec for sec in found if (sec.rows if isinstance(sec, Fees) else sec.entries)]
    if unlisted:
        listed.append(Section(f"Sans objet pour ce dossier : {len(unlisted)} exigence(s), listées avec --tout",
                              counted=False))
    return listed


def _heading(o: Outcome) -> tuple[str, str, str]:
    name = f"{o.reference} ({o.dossier})" if o.reference else o.dossier
    return f"Dossier {name}", f"Verdict : {VERDICT_WORDS[o.verdict]}", f"Statut ANTS attendu : {ANTS_STATUS[o.verdict]}"


def _pack(o: Outcome) -> list[str]:
    """The rules the dossier was checked against, at which date and by which immat, so that a report can be
    traced to what produced it."""
    if o.rules is None:
        return []
    day = f"appliquées au {o.evaluated_on:%d/%m/%Y}" if o.evaluated_on else "date de référence inconnue"
    return [f"Règles : {o.rules}, {day} — immat {__version__}"]


def _section_title(sec: Section | Fees) -> str:
    return f"{sec.title} ({len(sec.entries)})" if isinstance(sec, Section) and sec.counted else sec.title


WIDTH = 100  # a printed page's line


def _wrapped(line: str, indent: str) -> list[str]:
    """One line of the text report, made visible, then wrapped to the page, continued at `indent`."""
    return textwrap.wrap(escape.visible(line), WIDTH, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def _cited_after(lines: list[str], cited: str) -> list[str]:
    """A citation is never cut: it ends the last line if it fits there, else it has a line of its own."""
    if not cited:
        return lines
    cited = escape.visible(f"({cited})")
    if len(lines[-1]) + 1 + len(cited) <= WIDTH:
        return [*lines[:-1], f"{lines[-1]} {cited}"]
    return [*lines, f"    {cited}"]


def _fee_lines(fees: Fees) -> list[str]:
    """The fees as an aligned table: each value right-aligned in its column, then what the fee is and how."""
    width = max(len(f.value) for f in fees.rows)
    lines = []
    for fee in fees.rows:
        row = f"  {fee.value:>{width}}  {fee.title}" + (f" : {fee.detail}" if fee.detail else "")
        lines += _wrapped(row, " " * (width + 4))
    return lines


def render_text(o: Outcome, explain: bool = False, show_all: bool = False) -> str:
    # Each line is made visible whole: the line breaks are the renderer's, never a value's.
    lines = [line for head in (*_heading(o), *_facts(o), *_pack(o)) for line in _wrapped(head, "  ")]
    for sec in sections(o, explain, show_all):
        lines += ["", escape.visible(_section_title(sec))]
        if isinstance(sec, Fees):
            lines += _fee_lines(sec)
            continue
        for entry in sec.entries:
            lines += _cited_after(_wrapped(f"  {entry.mark} {entry.label}" if entry.mark else f"  {entry.label}",
                                           "    "), entry.cited)
            lines += [part for d in entry.details for part in _wrapped(f"      {d}", "      ")]
            lines += [escape.visible(f"      {r}") for r in entry.reason]
    return "\n".join(lines) + "\n"


def render_markdown(o: Outcome, explain: bool = False, show_all: bool = False) -> str:
    title, verdict, ants = _heading(o)
    lines = [f"# {escape.markdown(title)}", "", f"**{verdict}** — {ants}"]
    if facts := _facts(o):
        lines += ["", *(f"- {escape.markdown(fact)}" for fact in facts)]
    lines += [line for pack in _pack(o) for line in ("", escape.markdown(pack))]
    for sec in sections(o, explain, show_all):
        lines += ["", f"## {escape.markdown(_section_title(sec))}"]
        if isinstance(sec, Fees):
            lines += ["", "| Montant | Somme | Détail |", "|---|--:|---|"]
            lines += [f"| {escape.markdown(f.title)} | {escape.markdown(f.value)} | {escape.markdown(f.detail)} |"
                      for f in sec.rows]
            continue
        lines += [""] if sec.entries else []
        for entry in sec.entries:
            mark = f"{entry.mark} " if entry.mark else ""
            cited = f" ({escape.markdown(entry.cited)})" if entry.cited else ""
            lines.append(f"- {mark}**{escape.markdown(entry.label)}**{cited}")
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
ul { list-style: none; padding-left: 1rem; } li { margin: .4rem 0; } .details { color: #444; font-size: .92rem; }
pre { background: #f6f6f6; padding: .5rem; overflow-x: auto; font-size: .8rem; }
.facts { padding: 0; } .facts li { margin: .1rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; } th, td { text-align: left; padding: .2rem .5rem;
border-bottom: 1px solid #e4e4e4; vertical-align: top; } td.somme { text-align: right; white-space: nowrap; }
@media print {
  @page { margin: 1.2cm; } html { font-size: 9pt; } body { margin: 0; max-width: none; }
  h1 { font-size: 1.3rem; margin: 0; } h2 { font-size: 1rem; margin: .8rem 0 .3rem; break-after: avoid; }
  p { margin: .3rem 0; } .verdict { font-size: 1rem; padding: .2rem .5rem; }
  li { margin: .15rem 0; break-inside: avoid; } tr { break-inside: avoid; }
  th, td { padding: .1rem .4rem; } pre { white-space: pre-wrap; }
}
"""


def render_html(o: Outcome, explain: bool = False, show_all: bool = False) -> str:
    """A self-contained page for one dossier, to print or send."""
    title, verdict, ants = _heading(o)
    body = [f"<h1>{escape.html(title)}</h1>",
            f'<p class="verdict {o.verdict}">{escape.html(verdict)}</p>', f"<p>{escape.html(ants)}</p>"]
    if facts := _facts(o):
        body.append('<ul class="facts">' + "".join(f"<li>{escape.html(f)}</li>" for f in facts) + "</ul>")
    body += [f'<p class="rules">{escape.html(pack)}</p>' for pack in _pack(o)]
    for sec in sections(o, explain, show_all):
        body.append(f"<h2>{escape.html(_section_title(sec))}</h2>")
        if isinstance(sec, Fees):
            rows = "".join(f'<tr><td>{escape.html(f.title)}</td><td class="somme">{escape.html(f.value)}</td>'
                           f"<td>{escape.html(f.detail)}</td></tr>" for f in sec.rows)
            body.append("<table><thead><tr><th>Montant</th><th>Somme</th><th>Détail</th></tr></thead>"
                        f"<tbody>{rows}</tbody></table>")
            continue
        if not sec.entries:
            continue
        body.append("<ul>")
        for entry in sec.entries:
            details = "".join(f'<div class="details">{escape.html(d)}</div>' for d in entry.details)
            reason = f"<pre>{chr(10).join(map(escape.html, entry.reason))}</pre>" if entry.reason else ""
            cited = f" ({escape.html(entry.cited)})" if entry.cited else ""
            body.append(f"<li>{escape.html(entry.mark)} <strong>{escape.html(entry.label)}</strong>{cited}"
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
            value, detail = _amount_words(a)
            head = f"{a.rule.title} [{a.rule.id}] : {value}" + (f" ({detail})" if detail else "")
            trees.append("\n".join(map(escape.visible, [head, *_cited(a.rule, program)] + step_lines(a.breakdown))))
    return trees


def _cited(rule, program: Program | None) -> list[str]:
    item = program.reported(rule.id) if program is not None else None
    lines = [f"Source : {rule.source}"]
    if item is not None:
        lines += [f"Note : {n.text}" for n in item.notes] + [f"Non traité : {n.text}" for n in item.not_handled]
    return lines
