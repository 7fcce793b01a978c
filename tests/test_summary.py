"""A batch's summary and CSV, made from the JSON Lines records `immat validate` writes for fixture dossiers."""

from __future__ import annotations

import csv
import io
import json

from immat.summary import csv_header, csv_row, summarize

from .conftest import ROOT

FIXTURES = ["exemple", "occasion_france_complet", "neuf_hors_ue_dedouanement_846a", "canal_application_mobile_avant_20_juillet_2020"]


def _lot(cli, tmp_path, extra: str = "") -> list[dict]:
    """The fixtures' dossiers as one JSON Lines file, plus `extra` lines, validated as a batch."""
    lines = [json.dumps(json.loads((ROOT / "fixtures" / name / "dossier.json").read_text("utf-8")))
             for name in FIXTURES]
    lot = tmp_path / "lot.jsonl"
    lot.write_text("\n".join(lines) + "\n" + extra, "utf-8")
    result = cli("validate", "--format", "jsonl", lot)
    return [json.loads(line) for line in result.stdout.splitlines()]


def _expected(name: str) -> dict:
    return json.loads((ROOT / "fixtures" / name / "attendu.json").read_text("utf-8"))


def test_the_summary_counts_the_verdicts_the_fixtures_expect(cli, tmp_path):
    summary = summarize(_lot(cli, tmp_path, '{"reference": "CASSÉ"\n')).as_json()
    wanted = [_expected(name)["verdict"] for name in FIXTURES]
    assert summary["verdicts"] == {v: wanted.count(v) for v in ("complete", "incomplete", "rejected")}
    assert (summary["dossiers"], summary["reports"], summary["error_lines"]) == (5, 4, 1)
    assert summary["errors"][0]["dossier"].endswith("lot.jsonl:5")
    # Each requirement the fixtures expect missing (for one holder or more) counts once per dossier that lacks it.
    missing = [r for name in FIXTURES for r in {m.split(" — ")[0] for m in _expected(name)["exigences_manquantes"]}]
    assert {m["id"]: m["dossiers"] for m in summary["missing"]} == {r: missing.count(r) for r in missing}


def test_the_summary_adds_up_each_amount_over_the_dossiers_that_compute_it(cli, tmp_path):
    records = _lot(cli, tmp_path)
    summary = summarize(records).as_json()
    fixed = next(a for a in summary["amounts"] if a["id"] == "taxe_fixe")
    wanted = [_expected(name)["montants"].get("taxe_fixe") for name in FIXTURES]
    computed = [w for w in wanted if w not in (None, "non couvert", "sans objet")]
    assert fixed["computed"] == len(computed)
    assert fixed["total"] == f"{sum(float(w) for w in computed):.2f}"


def test_the_summary_reads_as_french_text_and_markdown(cli, tmp_path):
    summary = summarize(_lot(cli, tmp_path, "pas du json\n"))
    text = summary.as_text()
    assert text.startswith("Synthèse du lot : 5 dossier(s), 4 rapport(s), 1 ligne(s) en erreur")
    assert "Pièces manquantes les plus fréquentes" in text and "Lignes en erreur" in text
    markdown = summary.as_markdown()
    assert "| Verdict | Dossiers |" in markdown and "## Montants" in markdown


def test_one_csv_row_per_dossier_error_lines_included(cli, tmp_path):
    records = _lot(cli, tmp_path, "pas du json\n")
    ids = [a["id"] for a in records[0]["amounts"]]
    text = csv_header(ids) + "".join(csv_row(r, ids) for r in records)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(FIXTURES) + 1
    example = rows[0]
    assert (example["verdict"], example["statut_ants"]) == ("incomplete", "En attente télédéclarant")
    assert "certificat_situation_administrative" in example["pieces_manquantes"]
    assert example["total"] == records[0]["amounts"][-1]["value"]
    assert rows[-1]["erreur"].startswith("JSON mal formé") and rows[-1]["verdict"] == ""


def test_a_csv_cell_that_looks_like_a_formula_opens_as_text():
    record = {"dossier": "=HYPERLINK(\"http://x\")", "reference": "@SUM(A1)", "verdict": "complete",
              "ants_status": "s", "requirements": [], "amounts": [{"id": "t", "status": "computed", "value": "-1.50"}]}
    row = next(csv.reader(io.StringIO(csv_row(record, ["t"]))))
    assert row[0].startswith("'=") and row[1].startswith("'@") and row[6] == "-1.50"


def test_the_summary_names_the_rules_immat_and_the_span_of_dates_its_reports_name(cli, tmp_path):
    records = _lot(cli, tmp_path)
    days = sorted(_expected_day(name) for name in FIXTURES)
    summary = summarize(records)
    assert summary.as_json()["evaluation_dates"] == {"first": days[0], "last": days[-1]}
    (produced,) = summary.as_json()["produced_by"]
    assert produced["pack"] == "rules" and produced["immat"] == records[0]["immat"]
    first, last = (f"{d[8:10]}/{d[5:7]}/{d[:4]}" for d in (days[0], days[-1]))
    assert f"Appliquées du {first} au {last}" in summary.as_text()
    # A file resumed from an older immat holds records without a version: the summary names none for them.
    older = [{k: v for k, v in records[0].items() if k not in ("immat", "evaluation_date")}]
    assert summarize(older).as_text().splitlines()[2] == f"Règles : rules (empreinte {produced['digest']})"


def _expected_day(name: str) -> str:
    return json.loads((ROOT / "fixtures" / name / "dossier.json").read_text("utf-8"))["date_demande"]
