"""Benchmark: dossiers per second for the shipped rules, beside a hand-written Python baseline.

Run with `python bench/bench.py [--dossiers N] [--repeats R]`. Both sides work on the same generated
dossiers in the same process; the figures are medians over the repeats, and the ratio is
engine time / baseline time (how many times slower the readable rules are than plain Python).
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import time
from decimal import Decimal

from immat.evaluate import evaluate
from immat.pipeline import load_rules, validate
from immat.report import render_json

PIECES = ["justificatif_identite", "justificatif_domicile", "proces_verbal_controle_technique",
          "certificat_immatriculation_timbre_ct"]


def generate(count: int, seed: int = 2021) -> list[dict]:
    rng = random.Random(seed)
    dossiers = []
    for n in range(count):
        request = datetime.date(2021, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        first = request - datetime.timedelta(days=rng.randrange(30, 20 * 365))
        holders = [{"nom": f"Fictif{n}", "prenoms": "Camille",
                    "fournisseur_energie_partenaire": rng.random() < 0.3} for _ in range(rng.choice((1, 1, 2)))]
        pieces = []
        for index in range(len(holders)):
            for kind in PIECES[:2]:
                if rng.random() < 0.9:
                    pieces.append({"type": kind, "titulaire": index})
        if rng.random() < 0.8:
            ct_date = request - datetime.timedelta(days=rng.randrange(0, 250))
            pieces.append({"type": PIECES[2], "date": ct_date.isoformat(),
                           "resultat": rng.choice(("favorable", "favorable", "contre_visite"))})
        dossiers.append({
            "reference": f"BENCH-{n:06d}",
            "date_demande": request.isoformat(),
            "canal": rng.choice(("en_ligne", "professionnel_habilite")),
            "achat": {"etat": rng.choice(("neuf", "occasion")),
                      "origine": rng.choice(("france", "union_europeenne", "hors_union_europeenne"))},
            "vehicule": {"date_premiere_immatriculation": first.isoformat(), "co2_g_km": rng.randrange(90, 260),
                         "norme_co2": "wltp", "dispense_controle_technique": rng.random() < 0.05},
            "titulaires": holders,
            "pieces": pieces,
        })
    return dossiers


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError


def _malus_2021(co2: int) -> Decimal:
    grid = {133: Decimal(50), 134: Decimal(75), 135: Decimal(100)}
    if co2 <= 132:
        return Decimal(0)
    if co2 >= 219:
        return Decimal(30000)
    return grid.get(co2, Decimal(1000))


def baseline(d: dict) -> dict:
    """The shipped rules written by hand in plain Python: the speed a readable rule engine competes with."""
    request = datetime.date.fromisoformat(d["date_demande"])
    first = datetime.date.fromisoformat(d["vehicule"]["date_premiere_immatriculation"])
    achat, vehicule, pieces = d["achat"], d["vehicule"], d["pieces"]
    out = {}
    if achat["etat"] == "occasion" and _add_months(first, 48) < request and not vehicule["dispense_controle_technique"]:
        earliest = _add_months(request, -6)
        out["controle_technique"] = any(
            p["type"] == PIECES[2] and earliest <= datetime.date.fromisoformat(p["date"]) <= request
            and p.get("resultat") != "contre_visite" or p["type"] == PIECES[3] for p in pieces)
    if achat["etat"] == "occasion" and achat["origine"] != "france":
        out["canal"] = d["canal"] == "en_ligne"
    for index, holder in enumerate(d["titulaires"]):
        mine = [p for p in pieces if p.get("titulaire", 0) == index]
        out[f"identite/{index}"] = any(p["type"] == PIECES[0] for p in mine)
        if not holder["fournisseur_energie_partenaire"]:
            out[f"domicile/{index}"] = any(p["type"] == PIECES[1] for p in mine)
    malus = Decimal(0)
    first_year = first.year == 2021
    if achat["etat"] == "neuf" and first_year:
        malus = _malus_2021(vehicule["co2_g_km"])
    out["total"] = Decimal(11) + Decimal("2.76") + malus
    return out


def timed(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    program = load_rules().program
    load_seconds = time.perf_counter() - started
    dossiers = generate(args.dossiers)
    texts = [json.dumps(d) for d in dossiers]
    n = len(dossiers)

    rows = [
        ("baseline: hand-written Python on parsed dicts", timed(lambda: [baseline(d) for d in dossiers], args.repeats)),
        ("immat: evaluate parsed dicts", timed(lambda: [evaluate(program, "b", d) for d in dossiers], args.repeats)),
        ("immat: JSON text → schema → evaluate → JSON report",
         timed(lambda: [render_json(validate(program, t, "b")) for t in texts], args.repeats)),
    ]
    base = rows[0][1]
    print(f"rules loaded and checked once in {load_seconds * 1000:.1f} ms")
    print(f"{n} generated dossiers, median of {args.repeats} runs")
    print(f"{'work':55} {'dossiers/s':>12} {'ratio':>8}")
    for label, seconds in rows:
        print(f"{label:55} {n / seconds:12,.0f} {seconds / base:7.1f}×")


if __name__ == "__main__":
    main()
