"""The command line as instructors and CI use it: real fixtures in, exit codes and reports out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from immat.cli import main

from .conftest import ROOT

EXAMPLE = "fixtures/exemple/dossier.json"


@pytest.fixture
def immat(monkeypatch):
    """Run `immat …` from the repository root, as the README does; stdout and stderr kept apart."""
    monkeypatch.chdir(ROOT)

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def example_json() -> dict:
    return json.loads((ROOT / EXAMPLE).read_text(encoding="utf-8"))


def test_validate_example_prints_the_french_report(immat, text_snapshot):
    result = immat("validate", EXAMPLE)
    assert result.exit_code == 1  # the example lacks one proof of address: incomplete
    assert result.stdout.startswith("Dossier EXEMPLE-2021-001")
    assert "Verdict : INCOMPLET" in result.stdout
    assert result.stdout == text_snapshot


def test_validate_json_report_matches_its_schema_and_snapshot(immat, text_snapshot):
    result = immat("validate", "--format", "json", EXAMPLE)
    report = json.loads(result.stdout)
    schema = json.loads(immat("schema", "report").stdout)
    jsonschema.Draft202012Validator(schema).validate(report)
    # What the example lacks and costs is stated in fixtures/exemple/attendu.json and checked by test_fixtures.
    assert report["verdict"] == "incomplete"
    assert report["ants_status"] == "En attente télédéclarant"
    assert result.stdout == text_snapshot


def test_json_report_is_byte_identical_from_run_to_run(immat):
    first = immat("validate", "--format", "json", EXAMPLE).stdout
    assert first == immat("validate", "--format", "json", EXAMPLE).stdout


def test_complete_dossier_exits_zero(immat):
    dossier = example_json()
    dossier["pieces"] += [
        {"type": "justificatif_domicile", "titulaire": 0},
        {"type": "certificat_situation_administrative"},
        {"type": "certificat_immatriculation_barre", "mention_vendu_le": "2021-06-01", "signature_vendeur": True},
    ]
    result = immat("validate", "-", input=json.dumps(dossier))
    assert result.exit_code == 0
    assert "Verdict : COMPLET" in result.stdout


def test_check_passes_on_the_shipped_rules(immat):
    result = immat("check")
    assert result.exit_code == 0, result.output
    assert "0 erreur(s)" in result.stderr


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} no longer in {path.name}: update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _positions(path: Path, needle: str) -> list[tuple[str, int, int]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(path.name, n, line.index(needle) + 1) for n, line in enumerate(lines, start=1) if needle in line]


def test_check_reports_every_error_of_a_broken_copy(immat, tmp_path, text_snapshot):
    broken = tmp_path / "regles"
    shutil.copytree(ROOT / "rules", broken, ignore=shutil.ignore_patterns("__*"))
    _break(broken / "controle_technique.immat", "sauf si vehicule.dispense_controle_technique",
           "sauf si vehicule.dispense_ct")
    _break(broken / "canal.immat", 'canal à défaut "en_ligne") ≠ "en_ligne"', 'canal à défaut "en_ligne") ≠ "internet"')
    _break(broken / "frais.immat", '  source "CIBS, art. L421-30 1°', '  # source "…')
    result = immat("check", "--format", "json", str(broken))
    assert result.exit_code == 1
    found = sorted((Path(d["file"]).name, d["line"], d["column"], d["code"]) for d in json.loads(result.stdout))
    expected = [(name, line, column + len("sauf si "), "champ-inconnu")
                for name, line, column in _positions(broken / "controle_technique.immat", "sauf si vehicule.dispense_ct")]
    expected += [p + ("valeur-inconnue",) for p in _positions(broken / "canal.immat", '"internet"')]
    name, line, _ = _positions(broken / "frais.immat", "montant taxe_fixe")[0]
    expected.append((name, line, len("montant ") + 1, "source-manquante"))
    assert found == sorted(expected)
    text = immat("check", str(broken)).stdout.replace(str(tmp_path), "<tmp>")
    assert text == text_snapshot


def test_rule_syntax_error_is_located_and_exits_2(immat, tmp_path):
    rules = tmp_path / "regles.immat"
    rules.write_text('définition x = achat.etat == "neuf"\n', encoding="utf-8")
    result = immat("validate", "--rules", str(rules), EXAMPLE)
    assert result.exit_code == 2
    assert "regles.immat:1:28: erreur[syntaxe]" in result.stderr
    assert "Traceback" not in result.output


def test_malformed_json_gives_line_and_column(immat):
    result = immat("validate", "-", input='{"reference": "X",\n "canal": "en_ligne"\n "achat": {}}')
    assert result.exit_code == 2
    # The missing comma is placed where it belongs: right after the value that needs it.
    assert result.stderr.startswith("<stdin>:2:21: erreur[json-invalide]: JSON mal formé : virgule manquante")


def test_schema_violations_are_all_reported_in_french_with_pointers(immat):
    dossier = example_json()
    dossier["canal"] = "guichet"
    dossier["vehicule"]["date_premiere_immatriculation"] = "2015-02-30"
    result = immat("validate", "-", input=json.dumps(dossier))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith("<stdin>: /canal: erreur[schema]") for line in lines)
    assert any("/vehicule/date_premiere_immatriculation" in line and "date invalide" in line for line in lines)


def test_batch_goes_on_after_a_bad_dossier_and_keeps_input_order(immat, tmp_path):
    good = example_json()
    (tmp_path / "a.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "b.json").write_text("{oops", encoding="utf-8")
    good["reference"] = "EXEMPLE-C"
    (tmp_path / "c.json").write_text(json.dumps(good), encoding="utf-8")
    result = immat("validate", "--format", "jsonl", str(tmp_path))
    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("reference") for r in records] == ["EXEMPLE-2021-001", None, "EXEMPLE-C"]
    assert records[1]["errors"][0]["code"] == "json-invalide"  # the bad file keeps its place in the stream
    assert "b.json:1:2: erreur[json-invalide]" in result.stderr
    assert "2 incomplet(s)" in result.stderr and "1 illisible(s)" in result.stderr


def test_json_lines_input_gives_one_report_per_line(immat, tmp_path):
    lines = [example_json() for _ in range(3)]
    for n, d in enumerate(lines):
        d["reference"] = f"L{n}"
    batch = tmp_path / "lot.jsonl"
    batch.write_text("\n".join(json.dumps(d) for d in lines) + "\n", encoding="utf-8")
    result = immat("validate", "--format", "jsonl", str(batch))
    assert [json.loads(line)["dossier"] for line in result.stdout.splitlines()] == [
        f"{batch}:1", f"{batch}:2", f"{batch}:3"]


def test_schema_command_prints_the_dossier_schema(immat):
    schema = json.loads(immat("schema", "dossier").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "vehicule" in schema["properties"]


def test_installed_command_works_from_any_directory(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "immat.cli", "validate", str(ROOT / EXAMPLE)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Verdict : INCOMPLET" in result.stdout


def test_parallel_batch_keeps_input_order_and_reports_bad_lines(immat, tmp_path):
    dossier = example_json()
    lines = []
    for n in range(600):  # more than one window of work, so worker processes really run
        dossier["reference"] = f"LOT-{n:04d}"
        lines.append(json.dumps(dossier) if n != 300 else "{pas du json")
    batch = tmp_path / "lot.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = immat("validate", "--format", "jsonl", "--jobs", "2", str(batch))
    assert result.exit_code == 2
    references = [json.loads(line).get("reference") for line in result.stdout.splitlines()]
    assert references == [f"LOT-{n:04d}" if n != 300 else None for n in range(600)]
    assert f"{batch}:301:2: erreur[json-invalide]" in result.stderr  # located in the batch file itself


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_markdown_and_html_reports_snapshot(immat, fmt, text_snapshot):
    result = immat("validate", "--format", fmt, EXAMPLE)
    assert result.exit_code == 1
    assert "En attente télédéclarant" in result.stdout
    assert result.stdout == text_snapshot


def test_html_report_is_a_self_contained_page(immat):
    page = immat("validate", "--format", "html", EXAMPLE).stdout
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "http" not in page.split("<body>")[0]  # nothing to fetch: it prints and travels as one file


def test_explain_shows_the_reasoning_of_one_rule(immat, text_snapshot):
    result = immat("explain", EXAMPLE, "--rule", "controle_technique")
    assert result.exit_code == 0
    assert "datée d'au plus délai_du_contrôle_technique avant date_demande : vrai" in result.stdout
    assert result.stdout == text_snapshot


def test_explain_unknown_rule_suggests_the_right_one(immat):
    result = immat("explain", EXAMPLE, "--rule", "controle_techniqe")
    assert result.exit_code == 2
    assert "vouliez-vous dire « controle_technique » ?" in result.stderr


@pytest.mark.parametrize("command", main.list_commands(None))
def test_every_command_has_help_with_an_example_and_exit_codes(immat, command):
    result = immat(command, "--help")
    assert result.exit_code == 0
    assert "Exemple" in result.stdout and "Codes de sortie" in result.stdout
