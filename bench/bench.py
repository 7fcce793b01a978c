"""Benchmark: dossiers per second for the shipped rules, beside a hand-written Python baseline.

Run with `python bench/bench.py [--dossiers N] [--repeats R] [--jobs J] [--batch]`. Both sides work on the same
generated dossiers in the same process; the rows run in turn, round after round, each figure is the median of the
rounds, and the ratio is the median over the rounds of the row's time over the baseline's in the same round (how many
times slower than plain Python the readable, explained rules are). The baseline is the
shipped pack written by hand, reading the same barème figures as plain dictionaries. Evaluation is timed two ways:
the compiled program one dossier at a time (what `immat validate` does for one dossier, and the API for each), and
the columns (immat.batches), which a JSON Lines batch uses, a batch of dossiers at a time; with every reasoning tree,
the same two ways (immat.explain, immat.trees), and what making those trees' objects alone costs, each distinct
step of the batches' trees made once more from its fields (the least a tree of these objects can cost). The last
rows run the command itself, `immat validate --format jsonl --jobs J lot.jsonl` with the same dossiers, as a new
process each time (starting it, reading the file and writing the reports included).
"""

from __future__ import annotations

import argparse
import functools
import datetime
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from decimal import ROUND_HALF_UP, Decimal

from immat.batches import collector_held, evaluator
from immat.compile import compiled
from immat.evaluate import evaluate
from immat.explain import explaining
from immat.outcome import Step
from immat.pipeline import BATCH, load_rules, render_many, validate
from immat.report import render_json, render_jsonl
from immat.trees import explain_many

CASES = [("neuf", "france"), ("neuf", "union_europeenne"), ("neuf", "hors_union_europeenne"),
         ("occasion", "france"), ("occasion", "union_europeenne"), ("occasion", "hors_union_europeenne")]
PIECES = ["justificatif_identite", "justificatif_domicile", "proces_verbal_controle_technique", "cerfa_13749",
          "cerfa_13750", "certificat_situation_administrative", "certificat_immatriculation_barre", "quitus_fiscal",
          "certificat_conformite", "facture_achat", "notice_descriptive", "certificat_immatriculation_etranger"]
POSTAL = ["69003", "75011", "13001", "35000", "59000", "20000", "97400", "33000", "67000", "44000"]
ENERGIES = ["essence", "gazole", "electrique"]


def generate(count: int, seed: int = 2021) -> list[dict]:
    rng = random.Random(seed)
    dossiers = []
    for n in range(count):
        request = datetime.date(2021, 1, 1) + datetime.timedelta(days=rng.randrange(4 * 365))
        first = max(request - datetime.timedelta(days=rng.randrange(30, 15 * 365)), datetime.date(2020, 3, 1))
        etat, origine = rng.choice(CASES)
        holders = [{"nom": f"Exemple{n}", "prenoms": "Camille",
                    "adresse": {"ligne": "1 rue de l'Essai", "code_postal": rng.choice(POSTAL), "commune": "Ville"},
                    "fournisseur_energie_partenaire": rng.random() < 0.3} for _ in range(rng.choice((1, 1, 2)))]
        pieces = [{"type": t, "titulaire": i} for i in range(len(holders)) for t in PIECES[:2] if rng.random() < 0.9]
        pieces += [{"type": t} for t in PIECES[3:] if rng.random() < 0.7]
        if rng.random() < 0.8:
            pieces.append({"type": PIECES[2], "date": (request - datetime.timedelta(days=rng.randrange(250))).isoformat(),
                           "resultat": rng.choice(("favorable", "favorable", "contre_visite"))})
        dossiers.append({
            "reference": f"BANC-{n:06d}", "date_demande": request.isoformat(),
            "canal": rng.choice(("en_ligne", "en_ligne", "professionnel_habilite")),
            "achat": {"etat": etat, "origine": origine, "date": request.isoformat(),
                      "cession_enregistree_par": "vendeur", "code_cession": "ABC123"},
            "vehicule": {"immatriculation": "FX-482-KD", "date_premiere_immatriculation": first.isoformat(),
                         "genre": "VP", "puissance_fiscale": rng.randrange(3, 12), "co2_g_km": rng.randrange(90, 240),
                         "norme_co2": "wltp", "energie": rng.choice(ENERGIES),
                         "masse_ordre_marche": rng.randrange(1000, 1500)},
            "titulaires": holders, "pieces": pieces,
        })
    return dossiers


# ------------------------------------------------------------------ the baseline, by hand


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _months_between(start: datetime.date, end: datetime.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if _add_months(start, months) > end else months


class Figures:
    """The barème figures of the shipped pack as plain data: what a hand-written program would embed."""

    def __init__(self, program) -> None:
        tables = program.tables
        self.regions = {k: r.value.value for k, r in tables["région_par_département"].periods[0].texts.items()
                        if hasattr(r.value, "value")}
        self.tariffs = self._history(tables["tarif_cheval_fiscal"])
        self.electric = self._history(tables["taxe_régionale_électrique"])
        self.genre = {k: r.value.value for k, r in tables["taxe_régionale_par_genre"].periods[0].texts.items()
                      if hasattr(r.value, "value")}
        # A gram the pack leaves « hors barème » has no figure: the baseline refuses it, as _usable expects.
        self.malus = [(p.period.start, p.period.end,
                       {r.key.low: getattr(r.value, "value", None) for r in p.ranges})
                      for p in tables["malus_co2_wltp"].periods]

    @staticmethod
    def _history(table):
        return {key: [(p.start, p.end, getattr(p.value, "value", None)) for p in versions]
                for key, versions in table.groups.items()}


def _in_force(history, day):
    return next(v for start, end, v in history if start <= day and (end is None or day <= end))


def _malus(figures: Figures, co2: int, day: datetime.date) -> Decimal:
    for start, end, grid in figures.malus:
        if start <= day and (end is None or day <= end):
            grams = [k for k in grid if k is not None]
            first, last = min(grams), max(grams)
            if co2 < first:
                return Decimal(0)
            money = grid[min(co2, last)]
            if money is None:
                raise LookupError(co2)
            return money.amount
    raise LookupError(day)


_WEIGHT_2024 = ((1600, 1800, 10), (1800, 1900, 15), (1900, 2000, 20), (2000, 2100, 25), (2100, 10**6, 30))


def _weight_malus(mass: int, first: datetime.date) -> Decimal:
    """CIBS L421-75: nothing before 2022; 10 €/kg over 1 800 kg in 2022-2023; tranches from 1 600 kg in 2024-2025."""
    if first.year < 2022:
        return Decimal(0)
    if first.year < 2024:
        return Decimal(max(0, mass - 1800) * 10)
    if first.year < 2026:
        return Decimal(sum(max(0, min(mass, high) - low) * rate for low, high, rate in _WEIGHT_2024))
    if mass <= 1500:
        return Decimal(0)
    raise LookupError(first)  # 2026 tranches over 1 500 kg: « hors barème »


def baseline(figures: Figures, d: dict) -> dict:
    """The shipped rules, written by hand: documents per case, CT, holders, channels, fees."""
    request = datetime.date.fromisoformat(d["date_demande"])
    achat, vehicule, pieces = d["achat"], d["vehicule"], d["pieces"]
    first = datetime.date.fromisoformat(vehicule["date_premiere_immatriculation"])
    types = {p["type"] for p in pieces}
    used, france = achat["etat"] == "occasion", achat["origine"] == "france"
    out = {"identite": [any(p["type"] == PIECES[0] and p.get("titulaire", 0) == i for p in pieces)
                        for i in range(len(d["titulaires"]))]}
    if not d["titulaires"][0]["fournisseur_energie_partenaire"]:
        out["domicile"] = any(p["type"] == PIECES[1] and p.get("titulaire", 0) == 0 for p in pieces)
    if used and _add_months(first, 48) < request:
        earliest = _add_months(request, -6)
        out["ct"] = any(p["type"] == PIECES[2] and p.get("resultat") == "favorable"
                        and earliest <= datetime.date.fromisoformat(p["date"]) <= request for p in pieces)
    for name, needed in (("cerfa", "cerfa_13749" if france else "cerfa_13750"),
                         ("situation", PIECES[5]), ("barre", PIECES[6]), ("quitus", PIECES[7])):
        out[name] = needed in types
    out["canal"] = france or not used or d["canal"] == "en_ligne"
    departement = d["titulaires"][0]["adresse"]["code_postal"][:2]
    departement = {"20": "2A", "97": d["titulaires"][0]["adresse"]["code_postal"][:3]}.get(departement, departement)
    region = figures.regions[departement]
    coefficient = figures.genre[vehicule["genre"]]
    if used and coefficient == 1 and _months_between(first, request) >= 120:
        coefficient = Decimal("0.5")
    if vehicule["energie"] == "electrique":
        coefficient *= _in_force(figures.electric[region], request)
    regional = (vehicule["puissance_fiscale"] * _in_force(figures.tariffs[region], request).amount * coefficient)
    malus = Decimal(0)
    if not used or not france:
        day = request if not used else first
        malus = _malus(figures, vehicule["co2_g_km"], day) + _weight_malus(vehicule["masse_ordre_marche"], day)
    total = regional + Decimal(11) + Decimal("2.76") + malus
    out["total"] = total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return out


# ------------------------------------------------------------------ timing


def distinct_steps(outcomes) -> list[Step]:
    """Every step of the outcomes' trees once, children before their parent."""
    seen: set[int] = set()
    order: list[Step] = []

    def walk(step: Step) -> None:
        if id(step) not in seen:
            seen.add(id(step))
            for child in step.children:
                walk(child)
            order.append(step)

    for outcome in outcomes:
        for step in [r.reason for r in outcome.requirements] + [a.breakdown for a in outcome.amounts]:
            if step is not None:
                walk(step)
    return order


def floor(program, chunks) -> float:
    """The seconds it takes to make each distinct step of the chunks' trees again from its fields, as trees.py makes
    it (tuple.__new__ of the named tuple), and nothing else: the trees are made first, untimed, a chunk at a time
    (kept for every round, they would weigh on the other rows: each full collection of the cycle collector, here
    and in forked workers, would walk them)."""
    spent, make = 0.0, tuple.__new__
    for chunk in chunks:
        steps = distinct_steps(explain_many(program, chunk))
        start = time.perf_counter()
        for step in steps:
            make(Step, step)
        spent += time.perf_counter() - start
    return spent


def each(work, items) -> None:
    """`work` on every item, each result dropped as a batch drops it once written: kept, a hundred thousand
    trees would time the garbage collector walking them, not the evaluation."""
    for item in items:
        work(item)


def held(work):
    """`work(batch)` with the cycle collector held off until its result is dropped, as pipeline.render_batch
    holds it until a batch is written."""
    def run(batch) -> None:
        with collector_held():
            work(batch)
    return run


def timed(rows, repeats: int) -> list[tuple[str, float, float]]:
    """Each row's median time and median ratio to the first row (the baseline). The rows run in turn, one round
    after another, and each ratio is taken within its round: on a shared machine whose speed drifts over
    minutes, a slow moment then weighs on every row of its round alike, not on the rows it happened to fall on.
    A row whose work returns a float has timed itself: that is its time."""
    times: dict[str, list[float]] = {label: [] for label, _ in rows}
    for _ in range(repeats):
        for label, work in rows:
            start = time.perf_counter()
            spent = work()
            times[label].append(spent if isinstance(spent, float) else time.perf_counter() - start)
    base = times[rows[0][0]]
    return [(label, statistics.median(seconds), statistics.median(s / b for s, b in zip(seconds, base)))
            for label, seconds in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch", action="store_true",
                        help="only the baseline and the JSON Lines batch on 1 and JOBS processes: for a long batch, "
                             "where starting the workers no longer counts")
    args = parser.parse_args()

    started = time.perf_counter()
    program = load_rules().program
    load_seconds = time.perf_counter() - started
    figures = Figures(program)
    one_by_one, recording, batched = compiled(program), explaining(program), evaluator(program)
    dossiers = [d for d in generate(args.dossiers) if _usable(figures, d)]
    named = [(f"b{i}", d) for i, d in enumerate(dossiers)]
    chunks = [named[i:i + BATCH] for i in range(0, len(named), BATCH)]
    texts = [json.dumps(d) for d in dossiers]
    documents = [(f"banc:{n}", t) for n, t in enumerate(texts)]
    n = len(dossiers)
    explained = functools.partial(render_jsonl, explain=True)
    rows = [
        ("baseline: hand-written Python on parsed dicts", lambda: each(lambda d: baseline(figures, d), dossiers)),
        ("immat: evaluate parsed dicts (compiled, one at a time)",
         lambda: each(lambda d: one_by_one.evaluate("b", d), dossiers)),
        (f"immat: the same, on columns ({BATCH} dossiers together)", lambda: each(held(batched.evaluate_many), chunks)),
        ("immat: the same with every reasoning tree (compiled, recorded)",
         lambda: each(lambda d: recording.evaluate("b", d), dossiers)),
        (f"immat: the same with every reasoning tree (columns, {BATCH} together)",
         lambda: each(held(functools.partial(explain_many, program)), chunks)),
        ("immat: only making those trees' distinct steps again (a floor)", lambda: floor(program, chunks)),
        ("immat: the same with every reasoning tree (reference walker)",
         lambda: each(lambda d: evaluate(program, "b", d), dossiers)),
        ("immat: text → schema → evaluate → JSON report (indented)",
         lambda: [render_json(validate(program, t, "b")) for t in texts]),
        ("immat: the same, JSON Lines, 1 process",
         lambda: list(render_many(program, documents, render_jsonl, 1))),
        (f"immat: the same, JSON Lines, {args.jobs} processes",
         lambda: list(render_many(program, documents, render_jsonl, args.jobs, window=256))),
        ("immat: JSON Lines with every reasoning tree (--explain), 1 process",
         lambda: list(render_many(program, documents, explained, 1, explain=True))),
    ]
    if args.batch:
        rows = [rows[0], *(row for row in rows if "JSON Lines, " in row[0] and "--explain" not in row[0])]
    with tempfile.TemporaryDirectory() as folder:
        batch = Path(folder) / "lot.jsonl"
        batch.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
        rows += [(f"immat validate --format jsonl --jobs {jobs} lot.jsonl (a new process)",
                  functools.partial(_command, batch, jobs)) for jobs in (1, args.jobs)]
        results = timed(rows, args.repeats)
    print(f"rules loaded and checked once in {load_seconds * 1000:.1f} ms")
    print(f"{n} generated dossiers, median of {args.repeats} rounds")
    print(f"{'work':68} {'dossiers/s':>12} {'ratio':>8}")
    for label, seconds, ratio in results:
        print(f"{label:68} {n / seconds:12,.0f} {ratio:7.1f}×")


def _command(batch: Path, jobs: int) -> None:
    """The batch as a user runs it, the reports written to a file beside it."""
    with open(batch.with_suffix(".out"), "wb") as out:
        done = subprocess.run([sys.executable, "-m", "immat.cli", "validate", "--format", "jsonl", "--jobs",
                               str(jobs), str(batch)], stdout=out, stderr=subprocess.PIPE)
    if done.returncode not in (0, 1):  # 1: some dossiers are incomplete, as generated
        raise SystemExit(done.stderr.decode())


def _usable(figures: Figures, d: dict) -> bool:
    """Keep dossiers whose figures exist in every version the baseline reads (no « hors barème »)."""
    try:
        baseline(figures, d)
    except (LookupError, StopIteration, TypeError, AttributeError):
        return False
    return True


if __name__ == "__main__":
    main()
