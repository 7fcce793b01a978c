"""The checker: every static error of a rule pack is reported, located, in French, before any dossier is read."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from .conftest import ROOT

HERE = pathlib.Path(__file__).parent
BAD_FILES = sorted((HERE / "check" / "bad").glob("*.immat"))
BAD_PACKS = sorted(p for p in (HERE / "check" / "bad_packs").iterdir() if p.is_dir())
CASES = BAD_FILES + BAD_PACKS
EXPECTATION = re.compile(r"^# attendu : (\S+) (\d+)$", re.MULTILINE)


def relative(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


def expected(case: pathlib.Path) -> tuple[str, str, int]:
    """(file, code, line) of the first error, from the « # attendu : code ligne » comment of the file holding it."""
    files = sorted(case.glob("*.immat")) if case.is_dir() else [case]
    found = [(f, m) for f in files if (m := EXPECTATION.search(f.read_text("utf-8")))]
    assert len(found) == 1, f"{case.name} : une seule ligne « # attendu : » attendue"
    file, match = found[0]
    return relative(file), match[1], int(match[2])


def diagnostics(cli, *args) -> list[dict]:
    result = cli("check", "--format", "json", *args)
    assert result.exit_code == 3  # an error in the rules
    return json.loads(result.stdout)


# ---------------------------------------------------------------- one text_snapshot file per case


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_check_locates_every_error(case, cli, text_snapshot):
    result = cli("check", relative(case))
    assert result.exit_code == 3
    assert result.output == text_snapshot


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_check_json_gives_file_code_and_line_of_first_error(case, cli):
    first = diagnostics(cli, relative(case))[0]
    assert (first["file"], first["code"], first["line"]) == expected(case)
    assert first["severity"] == "error"


@pytest.mark.parametrize("case", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_opens_with_a_comment_saying_what_it_shows(case):
    first_line = case.read_text("utf-8").splitlines()[0]
    assert first_line.startswith("# ") and not first_line.startswith("# attendu")


def test_every_case_but_one_shows_a_single_error(cli):
    counts = {case.stem: len(diagnostics(cli, relative(case))) for case in CASES}
    assert {name for name, count in counts.items() if count != 1} == {"erreurs_multiples"}


# ---------------------------------------------------------------- what the diagnostics say


def test_all_errors_of_a_file_are_reported_in_file_order(cli):
    found = diagnostics(cli, "tests/check/bad/erreurs_multiples.immat")
    assert [(d["line"], d["code"]) for d in found] == [
        (3, "source-manquante"), (5, "valeur-inconnue"), (5, "nom-inconnu"),
        (6, "champ-inconnu"), (7, "piece-inconnue"), (13, "type"),
    ]


def test_gnu_format_prints_one_line_per_error(cli):
    result = cli("check", "--format", "gnu", "tests/check/bad/erreurs_multiples.immat")
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert all(re.match(r"tests/check/bad/erreurs_multiples\.immat:\d+:\d+: erreur\[[a-z-]+\]: ", line)
               for line in lines)


@pytest.mark.parametrize("case, suggestion", [
    ("champ_inconnu", "vehicule.dispense_controle_technique"),
    ("nom_inconnu", "âge_du_véhicule"),
    ("valeur_inconnue", "occasion"),
    ("valeur_inconnue_casse", "EL"),
    ("piece_inconnue", "justificatif_domicile"),
])
def test_unknown_name_comes_with_a_suggestion(case, suggestion, cli):
    (found,) = diagnostics(cli, f"tests/check/bad/{case}.immat")
    assert found["help"] == f"vouliez-vous dire « {suggestion} » ?"


def test_unknown_field_is_underlined_whole(cli):
    (found,) = diagnostics(cli, "tests/check/bad/champ_inconnu.immat")
    assert (found["line"], found["column"], found["end_column"]) == (7, 11, 31)


def test_duplicate_identifier_notes_the_first_definition(cli):
    (found,) = diagnostics(cli, "tests/check/bad/identifiant_duplique.immat")
    assert (found["line"], found["notes"]) == (9, [{
        "message": "première définition ici", "file": "tests/check/bad/identifiant_duplique.immat",
        "line": 3, "column": 9,
    }])


def test_duplicate_identifier_across_files_notes_the_other_file(cli):
    (found,) = diagnostics(cli, "tests/check/bad_packs/identifiant_duplique_entre_fichiers")
    (note,) = found["notes"]
    assert note["file"] == "tests/check/bad_packs/identifiant_duplique_entre_fichiers/frais.immat"


def test_exceptions_in_conflict_are_reported_with_both_locations(cli):
    (found,) = diagnostics(cli, "tests/check/bad/exceptions_en_conflit.immat")
    assert found["line"] == 4
    assert [(n["line"], n["message"]) for n in found["notes"]] == [(5, "exception en conflit")]


def _two_exceptions(tmp_path, first: str, second: str) -> str:
    rules = tmp_path / "taux.immat"
    rules.write_text(f"définition taux = 100 %\n  sauf si {first} alors 0 %\n  sauf si {second} alors 50 %\n",
                     encoding="utf-8")
    return str(rules)


@pytest.mark.parametrize("first, second", [
    ("vehicule.co2_g_km ≤ 140", "vehicule.co2_g_km ≥ 219"),
    ("vehicule.co2_g_km < 140", "vehicule.co2_g_km ≥ 140"),
    ("140 > vehicule.co2_g_km", "vehicule.co2_g_km >= 140"),  # a literal on the left, ASCII operators
    ("vehicule.co2_g_km ≥ 141 et vehicule.co2_g_km ≤ 218", "vehicule.co2_g_km ≥ 219"),
    ("vehicule.co2_g_km ≥ 10 et vehicule.co2_g_km ≤ 10", "vehicule.co2_g_km ≠ 10"),  # only 10, ruled out
    ("vehicule.co2_g_km = 3", "vehicule.co2_g_km = 4"),
    ("achat.prix_ttc < 10 000 €", "achat.prix_ttc > 10 000 €"),
    ("date_demande < 01/01/2024", "date_demande ≥ 01/01/2024"),
])
def test_exceptions_on_disjoint_ranges_are_not_a_conflict(cli, tmp_path, first, second):
    result = cli("check", _two_exceptions(tmp_path, first, second))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("first, second", [
    ("vehicule.co2_g_km ≤ 150", "vehicule.co2_g_km ≥ 140"),
    ("vehicule.co2_g_km ≤ 140", "vehicule.co2_g_km ≥ 140"),  # touching bounds: 140 is in both
    ("vehicule.co2_g_km ≥ 100 et vehicule.co2_g_km ≤ 200", "vehicule.co2_g_km ≥ 150 et vehicule.co2_g_km ≤ 160"),
    ("vehicule.co2_g_km ≤ 140", "vehicule.puissance_fiscale ≥ 219"),  # two different values
    ("vehicule.co2_g_km ≠ 3", "vehicule.co2_g_km ≠ 4"),
])
def test_exceptions_on_overlapping_ranges_are_a_conflict(cli, tmp_path, first, second):
    found = [d for d in diagnostics(cli, _two_exceptions(tmp_path, first, second)) if d["severity"] == "error"]
    assert [(d["code"], d["line"], d["notes"][0]["line"]) for d in found] == [("conflit-exceptions", 2, 3)]


def test_key_names_the_row_key_only_inside_a_barème_row(cli, tmp_path):
    rules = tmp_path / "cle.immat"
    rules.write_text("définition d = clé + 1\n", encoding="utf-8")
    (found,) = [d for d in diagnostics(cli, str(rules)) if d["severity"] == "error"]
    assert (found["code"], found["line"], found["column"]) == ("cle-hors-ligne", 1, 16)


def test_cycle_names_every_definition_in_it(cli):
    (found,) = diagnostics(cli, "tests/check/bad/cycle.immat")
    assert found["message"] == "définitions circulaires : base → plafond → total → base"


def test_name_from_a_file_not_imported_names_that_file(cli):
    (found,) = diagnostics(cli, "tests/check/bad_packs/nom_non_importe")
    assert "tests/check/bad_packs/nom_non_importe/commun.immat" in found["message"]


def test_file_checked_alone_still_reads_the_file_it_imports(cli):
    result = cli("check", "tests/parse/good/importe.immat")
    assert result.exit_code == 0


def test_exclusive_exceptions_are_not_a_conflict(cli):
    result = cli("check", "tests/parse/good/definition_exceptions.immat")
    assert result.exit_code == 0


def test_shipped_rules_have_no_error(cli):
    result = cli("check")
    assert result.exit_code == 0
    assert result.output.startswith("0 erreur(s), 0 avertissement(s) ; règles : rules (empreinte ")


def test_check_output_is_the_same_every_run(cli):
    first = cli("check", "--format", "json", "tests/check/bad/erreurs_multiples.immat").output
    assert cli("check", "--format", "json", "tests/check/bad/erreurs_multiples.immat").output == first
