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


def _keys(node) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    return {k for v in node for k in _keys(v)} if isinstance(node, list) else set()


def test_default_json_lines_record_is_compact_and_without_reasoning(immat):
    record = immat("validate", "--format", "jsonl", EXAMPLE).stdout_bytes
    assert len(record) < 4096 and record.count(b"\n") == 1
    report = json.loads(record)
    assert not _keys(report) & {"reason", "breakdown", "source", "location"}
    # The requirements that apply are listed; the 21 « sans objet » are counted.
    assert {r["status"] for r in report["requirements"]} == {"satisfied", "missing"}
    assert report["summary"]["not_applicable"] == 21
    missing = [r for r in report["requirements"] if r["status"] == "missing"]
    assert all(r["message"] and r["pieces"] for r in missing)
    assert not any("message" in r for r in report["requirements"] if r["status"] == "satisfied")


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("flags", [["--explain"], ["--tout"], ["--explain", "--tout"]], ids=" ".join)
def test_every_shape_of_the_json_report_matches_the_schema(immat, fmt, flags):
    schema = json.loads(immat("schema", "report").stdout)
    report = json.loads(immat("validate", "--format", fmt, *flags, EXAMPLE).stdout)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert len(report["requirements"]) == sum(report["summary"].values()) == 29
    explained = "--explain" in flags
    assert all(("reason" in r) is explained and ("source" in r) is explained for r in report["requirements"])
    assert all(("breakdown" in a) is explained for a in report["amounts"])


def test_explained_json_has_the_reasoning_trees(immat):
    report = json.loads(immat("validate", "--format", "json", "--explain", EXAMPLE).stdout)
    (ct,) = [r for r in report["requirements"] if r["id"] == "controle_technique"]
    assert [c["kind"] for c in ct["reason"]["children"]] == ["applies", "exception", "demand"]
    assert ct["source"].startswith("Code de la route, art. R. 323-22")
    (tax,) = [a for a in report["amounts"] if a["id"] == "taxe_regionale"]
    assert tax["breakdown"]["value"] == "215.00" and tax["breakdown"]["children"]
    # What a page showing this report to a person needs: the header's facts, each source as reports cite it.
    text = immat("validate", EXAMPLE).stdout
    assert report["facts"] and all(f"\n{fact}\n" in text for fact in report["facts"])
    assert ct["citation"] == "Code de la route, art. R. 323-22 I 3°" and f"({ct['citation']})" in text
    assert "facts" not in json.loads(immat("validate", "--format", "json", EXAMPLE).stdout)


def test_the_regional_tax_shows_its_calculation_in_one_line(immat):
    """The example's car: 5 CV × 43 € (Auvergne-Rhône-Alpes, 2021), no reduction, no clean-energy rate."""
    report = json.loads(immat("validate", "--format", "json", EXAMPLE).stdout)
    amounts = {a["id"]: a for a in report["amounts"]}
    assert (amounts["taxe_regionale"]["value"], amounts["taxe_regionale"]["calculation"]) == (
        "215.00", "5 × 43 € × 100 % × 100 %")
    assert amounts["total"]["calculation"] == "215 € + 0 € + 0 € + 0 € + 11 € + 2,76 € + 0 €"
    assert "calculation" not in amounts["taxe_fixe"]  # « vaut 11 € »: nothing to calculate
    rows = {"text": "  215 €  Taxe régionale (Y.1) : 5 × 43 € × 100 % × 100 %",
            "markdown": "| Taxe régionale (Y.1) | 215 € | 5 × 43 € × 100 % × 100 % |",
            "html": '<td>Taxe régionale (Y.1)</td><td class="somme">215 €</td><td>5 × 43 € × 100 % × 100 %</td>'}
    for fmt, row in rows.items():
        assert row in immat("validate", "--format", fmt, EXAMPLE).stdout


def test_sans_objet_requirements_are_counted_and_listed_with_tout(immat):
    default = immat("validate", EXAMPLE).stdout
    assert "Sans objet pour ce dossier : 21 exigence(s), listées avec --tout" in default
    assert "Procuration pour la personne" not in default
    listed = immat("validate", "--tout", EXAMPLE).stdout
    assert "Sans objet pour ce dossier (21)" in listed
    assert "  – Procuration pour la personne qui fait la démarche à la place du titulaire" in listed
    assert "procuration :" not in listed  # the list, without the reasoning trees --explain adds
    for fmt in ("markdown", "html"):
        assert "Procuration pour la personne" in immat("validate", "--format", fmt, "--tout", EXAMPLE).stdout


def test_text_report_fits_a_printed_page_and_names_pieces_in_french(immat):
    lines = immat("validate", EXAMPLE).stdout.splitlines()
    assert len(lines) <= 50 and max(map(len, lines)) <= 100
    assert lines[3:7] == [
        "Demande faite en ligne sur le site de l'ANTS le 15/06/2021",
        "Achat : véhicule d'occasion acheté en France le 01/06/2021",
        "Véhicule : FX-482-KD, genre VP, essence, 5 CV, 118 g/km de CO₂, 1re immatriculation le 10/03/2015",
        "Titulaires : Jeanne Fictif, Paul Fictif",
    ]
    assert "      Pièce acceptée : Certificat de situation administrative" in lines
    assert "      Source : Code de la route, art. R. 322-4 et R. 322-5" in lines
    assert not any("certificat_situation_administrative" in line for line in lines)  # ids are for JSON


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
    assert result.exit_code == 3
    found = sorted((Path(d["file"]).name, d["line"], d["column"], d["code"]) for d in json.loads(result.stdout))
    expected = [(name, line, column + len("sauf si "), "champ-inconnu")
                for name, line, column in _positions(broken / "controle_technique.immat", "sauf si vehicule.dispense_ct")]
    expected += [p + ("valeur-inconnue",) for p in _positions(broken / "canal.immat", '"internet"')]
    name, line, _ = _positions(broken / "frais.immat", "montant taxe_fixe")[0]
    expected.append((name, line, len("montant ") + 1, "source-manquante"))
    assert found == sorted(expected)
    text = immat("check", str(broken)).stdout.replace(str(tmp_path), "<tmp>")
    assert text == text_snapshot


def test_rule_syntax_error_is_located_and_exits_3(immat, tmp_path):
    rules = tmp_path / "regles.immat"
    rules.write_text('définition x = achat.etat == "neuf"\n', encoding="utf-8")
    result = immat("validate", "--rules", str(rules), EXAMPLE)
    assert result.exit_code == 3
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


# A few reasoning trees, small and chosen so that together they show every kind of step the evaluator
# writes: the instructor's reports no longer carry them, and a one-line rule change moves only these lines.
TREES = [
    ("fixtures/ants_avec_code_cession/dossier.json", None, "canal_application_mobile"),
    ("fixtures/ants_avec_code_cession/dossier.json", None, "justificatif_identite"),
    ("fixtures/guadeloupe_code_insee/dossier.json", None, "majoration_ile_de_france_mobilites"),
    ("-", "tests/evaluate/quantificateurs.immat", "un_partenaire"),
    ("-", "tests/evaluate/quantificateurs.immat", "deux_identites"),
]
QUANTIFIED = json.dumps({"reference": "ESSAI", "titulaires": [{"fournisseur_energie_partenaire": False}, {}],
                         "pieces": [{"type": "justificatif_identite"}, {"type": "justificatif_domicile"}]})


def _kinds(step: dict) -> set[str]:
    return {step["kind"]}.union(*(_kinds(c) for c in step["children"]))


def test_the_snapshotted_trees_show_every_kind_of_step(immat):
    from immat.outcome import StepKind

    shown = set()
    for dossier, rules, rule in TREES:
        options = ("--rules", rules) if rules else ()
        report = json.loads(immat("validate", *options, "--format", "json", "--explain", dossier,
                                  input=QUANTIFIED).stdout)
        (found,) = [r for r in report["requirements"] + report["amounts"] if r["id"] == rule]
        shown |= _kinds(found.get("reason") or found["breakdown"])
    # Literals are part of their parent's words, never a line of their own.
    assert shown == {str(k) for k in StepKind} - {"literal"}


@pytest.mark.parametrize(("dossier", "rules", "rule"), TREES, ids=[t[2] for t in TREES])
def test_reasoning_tree_snapshot(immat, text_snapshot, dossier, rules, rule):
    options = ("--rules", rules) if rules else ()
    result = immat("explain", *options, dossier, "--rule", rule, input=QUANTIFIED)
    assert result.exit_code == 0, result.output
    assert result.stdout == text_snapshot
