"""A batch's JSON Lines records → what an instructor reads of the whole: a summary, and one CSV row a dossier.

Both read the records a batch writes (reports and error records, as the report schema describes them), not the
evaluation's objects: a summary is the same for a run on one machine, on a cluster or resumed, and can be made
again from the output file alone.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

import attrs

from . import escape
from .values import Money, format_number

VERDICT_WORDS = {"complete": "complet", "incomplete": "incomplet", "rejected": "rejeté"}
STATUS_WORDS = {"unknown": "à compléter", "not_covered": "non couvert", "error": "erreur"}
TOP = 10  # the most frequent missing requirements and fields a summary lists


@attrs.define
class _Amount:
    title: str
    computed: int = 0
    total: Decimal = Decimal(0)
    open: Counter = attrs.field(factory=Counter)  # statuses other than computed and not applicable


@attrs.define
class Summary:
    """Counts over the records of one batch, added one by one in their order."""

    reports: int = 0
    verdicts: Counter = attrs.field(factory=Counter)
    missing: Counter = attrs.field(factory=Counter)  # requirement id → dossiers where it is missing
    titles: dict = attrs.field(factory=dict)  # requirement id → (title, pieces)
    to_complete: Counter = attrs.field(factory=Counter)  # field pointer → dossiers that must give it
    amounts: dict = attrs.field(factory=dict)  # amount id → _Amount
    errors: list = attrs.field(factory=list)  # (dossier, location, message) of each line without a report
    produced_by: set = attrs.field(factory=set)  # (pack, digest, immat version) the reports name
    dates: list = attrs.field(factory=list)  # the first and last evaluation dates the reports name

    def add(self, record: dict) -> None:
        if "errors" in record:
            first = record["errors"][0] if record["errors"] else {}
            where = ":".join(str(first[k]) for k in ("file", "line", "column") if first.get(k) is not None)
            self.errors.append((record.get("dossier"), where, first.get("message", "")))
            return
        self.reports += 1
        self.verdicts[record["verdict"]] += 1
        rules = record.get("rules") or {}
        self.produced_by.add((rules.get("pack"), rules.get("digest"), record.get("immat")))
        if day := record.get("evaluation_date"):  # ISO dates: their order is the text's
            self.dates[:] = [min(self.dates[0], day), max(self.dates[1], day)] if self.dates else [day, day]
        fields, missing = set(), set()  # a dossier counts once, whatever its number of holders
        for r in record.get("requirements", ()):
            if r["status"] == "missing":
                missing.add(r["id"])
                self.titles.setdefault(r["id"], (r["title"], tuple(r.get("pieces", ()))))
            fields.update(r.get("missing_fields", ()))
        for a in record.get("amounts", ()):
            amount = self.amounts.setdefault(a["id"], _Amount(a["title"]))
            if a["status"] == "computed":
                amount.computed += 1
                amount.total += Decimal(a["value"])
            elif a["status"] != "not_applicable":
                amount.open[a["status"]] += 1
            fields.update(a.get("missing_fields", ()))
        self.to_complete.update(fields)
        self.missing.update(missing)

    @property
    def dossiers(self) -> int:
        return self.reports + len(self.errors)

    def as_json(self) -> dict:
        return {
            "dossiers": self.dossiers,
            "reports": self.reports,
            "error_lines": len(self.errors),
            "verdicts": {v: self.verdicts[v] for v in VERDICT_WORDS},
            "missing": [{"id": rid, "title": self.titles[rid][0], "pieces": list(self.titles[rid][1]),
                         "dossiers": n} for rid, n in _ranked(self.missing)],
            "to_complete": [{"field": field, "dossiers": n} for field, n in _ranked(self.to_complete)],
            "amounts": [{"id": aid, "title": a.title, "computed": a.computed, "total": str(Money(a.total).rounded()
                                                                                         .amount),
                         **({"not_computed": dict(sorted(a.open.items()))} if a.open else {})}
                        for aid, a in self.amounts.items()],
            "errors": [{"dossier": d, "location": w, "message": m} for d, w, m in self.errors],
            "produced_by": [{"pack": p, "digest": d, "immat": v} for p, d, v in sorted(self.produced_by, key=str)],
            "evaluation_dates": {"first": self.dates[0], "last": self.dates[1]} if self.dates else None,
        }

    def as_text(self) -> str:
        return "\n".join(_lines(self, markdown=False)) + "\n"

    def as_markdown(self) -> str:
        return "\n".join(_lines(self, markdown=True)) + "\n"


def summarize(records) -> Summary:
    summary = Summary()
    for record in records:
        summary.add(record)
    return summary


def _ranked(counts: Counter) -> list[tuple[str, int]]:
    """The most frequent first, then by name: the same order whatever order the records came in."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def _lines(s: Summary, markdown: bool) -> list[str]:
    cell = escape.markdown if markdown else (lambda text: escape.visible(str(text)))
    heading = (lambda t: ["", f"## {t}", ""]) if markdown else (lambda t: ["", t])

    def table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
        if markdown:
            return [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}",
                    *(f"| {' | '.join(cell(str(c)) for c in row)} |" for row in rows)]
        cells = [[cell(str(c)) for c in row] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]

    title = f"Synthèse du lot : {_n(s.dossiers)} dossier(s), {_n(s.reports)} rapport(s), " \
            f"{_n(len(s.errors))} ligne(s) en erreur"
    out = [f"# {title}" if markdown else title]
    out += [""] + [cell(line) for line in _provenance(s)]
    out += heading("Verdicts")
    out += table(("Verdict", "Dossiers"), [(VERDICT_WORDS[v], _n(s.verdicts[v])) for v in VERDICT_WORDS])
    if s.missing:
        out += heading("Pièces manquantes les plus fréquentes")
        out += table(("Exigence", "Dossiers"), [(s.titles[rid][0], _n(n)) for rid, n in _ranked(s.missing)])
    if s.to_complete:
        out += heading("Informations à compléter les plus fréquentes")
        out += table(("Champ du dossier", "Dossiers"), [(field, _n(n)) for field, n in _ranked(s.to_complete)])
    if s.amounts:
        out += heading("Montants")
        out += table(("Montant", "Dossiers où il est calculé", "Somme", "Non calculé"),
                     [(a.title, _n(a.computed), str(Money(a.total)),
                       ", ".join(f"{STATUS_WORDS.get(status, status)} : {_n(n)}" for status, n in sorted(a.open.items()))
                       or "—")
                      for a in s.amounts.values()])
    if s.errors:
        out += heading("Lignes en erreur")
        out += table(("Où", "Pourquoi"), [(where or dossier, message) for dossier, where, message in s.errors])
    return out


def _provenance(s: Summary) -> list[str]:
    """Which rules and which immat produced the reports, and the span of their dates de référence."""
    # A record an older immat wrote (a resumed file) names no version.
    lines = [f"Règles : {pack} (empreinte {digest})" + (f" — immat {version}" if version else "")
             for pack, digest, version in sorted(s.produced_by, key=str)]
    if s.dates:
        first, last = (f"{day[8:10]}/{day[5:7]}/{day[:4]}" for day in s.dates)
        lines.append(f"Appliquées au {first}" if first == last else f"Appliquées du {first} au {last}")
    return lines


def _n(count: int) -> str:
    return format_number(count)


# ------------------------------------------------------------------ CSV

def csv_header(amount_ids: list[str]) -> str:
    return _csv_line(["dossier", "reference", "verdict", "statut_ants", "pieces_manquantes",
                      "informations_a_completer", *amount_ids, "date_de_reference", "regles", "empreinte", "immat",
                      "erreur"])


def csv_row(record: dict, amount_ids: list[str]) -> str:
    """One dossier's row: missing requirements by the pieces that would satisfy each (« a ou b ; c »), the
    amounts' values (empty when not computed), and for a line without a report, its first error."""
    if "errors" in record:
        first = record["errors"][0] if record["errors"] else {}
        return _csv_line([record.get("dossier", ""), "", "", "", "", "", *([""] * (len(amount_ids) + 4)),
                          first.get("message", "")])
    requirements = record.get("requirements", ())
    missing = [" ou ".join(r.get("pieces", ()) or (r["id"],)) for r in requirements if r["status"] == "missing"]
    fields = sorted({f for item in (*requirements, *record.get("amounts", ())) for f in item.get("missing_fields", ())})
    values = {a["id"]: a.get("value", "") for a in record.get("amounts", ())}
    rules = record.get("rules") or {}
    return _csv_line([record["dossier"], record.get("reference") or "", record["verdict"], record["ants_status"],
                      " ; ".join(missing), " ; ".join(fields), *(values.get(i, "") for i in amount_ids),
                      record.get("evaluation_date") or "", rules.get("pack", ""), rules.get("digest", ""),
                      record.get("immat", ""), ""])


def _csv_line(cells: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([escape.csv_cell(str(c)) for c in cells])
    return out.getvalue()
