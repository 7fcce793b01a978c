"""The command line's conventions, as the tools a CI team already uses have them (pytest, ruff, OPA)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import ROOT

EXAMPLE = "fixtures/exemple/dossier.json"


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_the_version_names_the_shipped_pack_and_its_digest(cli, flag):
    result = cli(flag)
    assert result.exit_code == 0
    assert re.fullmatch(r"immat \S+ — paquet livré \(empreinte [0-9a-f]{12}\)\n", result.output)
    # The digest is the one every report of the shipped pack names.
    digest = result.output.split("empreinte ")[1][:12]
    assert f'"digest":"{digest}"' in cli("validate", "--format", "jsonl", EXAMPLE).stdout


@pytest.mark.parametrize("args", [["-h"], ["validate", "-h"], ["check", "-h"], ["diff", "-h"]])
def test_minus_h_is_help_for_the_group_and_every_command(cli, args):
    result = cli(*args)
    assert result.exit_code == 0 and "Utilisation :" in result.output and "--help" in result.output


def test_python_minus_m_immat_is_the_command():
    result = subprocess.run([sys.executable, "-m", "immat", "validate", EXAMPLE], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 1 and "Verdict : INCOMPLET" in result.stdout


def test_several_dossiers_in_json_are_one_array_and_one_stays_an_object(cli, tmp_path):
    import json

    one = cli("validate", "--format", "json", EXAMPLE)
    assert isinstance(json.loads(one.stdout), dict)
    lot = tmp_path / "lot.jsonl"
    lot.write_text((ROOT / EXAMPLE).read_text("utf-8").replace("\n", " ") + "\n{pas du json\n", "utf-8")
    several = json.loads(cli("validate", "--format", "json", EXAMPLE, lot).stdout)
    assert [("errors" in r) for r in several] == [False, False, True]
    assert several[0]["verdict"] == "incomplete"
    empty = tmp_path / "vide"
    empty.mkdir()
    (record,) = json.loads(cli("validate", "--format", "json", empty).stdout)  # the error record of an empty folder
    assert record["errors"][0]["code"] == "aucun-dossier"


def test_fmt_reads_standard_input_and_writes_the_canonical_form(cli):
    assert cli("fmt", "-", input="définition   x=1\n").stdout == "définition x = 1\n"
    changed = cli("fmt", "--check", "-", input="définition   x=1\n")
    assert changed.exit_code == 1 and changed.stdout == "<stdin>\n"
    assert cli("fmt", "--check", "-", input="définition x = 1\n").exit_code == 0
    broken = cli("fmt", "-", input="définition x = \n")
    assert broken.exit_code == 3 and "<stdin>:1:" in broken.stderr


def test_check_reads_one_rule_file_on_standard_input(cli):
    text = 'exigence y\n  titre "T"\n  source "S"\n  exige que vehicule.genre = "VP"\n  message "m"\n'
    assert cli("check", "-", input=text).exit_code == 0
    wrong = cli("check", "--format", "gnu", "-", input=text.replace('"VP"', '"VX"'))
    assert wrong.exit_code == 3
    assert wrong.stdout.startswith("<stdin>:4:30: erreur[valeur-inconnue]: « VX »")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_that_completes_commands(cli, shell):
    result = cli("completion", shell)
    assert result.exit_code == 0 and "_IMMAT_COMPLETE" in result.stdout


def test_the_completion_script_completes_a_command_name():
    import os

    env = {**os.environ, "_IMMAT_COMPLETE": "bash_complete", "COMP_WORDS": "immat val", "COMP_CWORD": "1"}
    result = subprocess.run([sys.executable, "-m", "immat"], env=env, capture_output=True, text=True, check=False)
    assert "validate" in result.stdout


@pytest.mark.parametrize("args", [["-h"], ["validate", "--help"], ["check", "-h"]])
def test_help_is_in_french_from_its_first_word(cli, args):
    result = cli(*args)
    assert result.output.startswith("Utilisation : immat")
    assert "Affiche cette aide et quitte." in result.output
    assert not re.search(r"Show this message|Usage:", result.output)


@pytest.mark.parametrize("args, message", [
    (["validate", "--nope"], "Erreur : Option inconnue : '--nope'."),
    (["validate"], "Erreur : Argument manquant 'PATHS...'."),
    (["validate", "--format", "xml", EXAMPLE], "Valeur invalide pour '--format' : 'xml' n'est pas l'une des valeurs"),
    (["valider"], "Erreur : Commande inconnue : 'valider'."),
])
def test_usage_errors_are_in_french_and_exit_2(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2 and message in result.output
    assert "Essayez « immat" in result.output


SUPPRESSED = '''définition jamais_lue = 1   # immat: ignore[definition-inutilisee]
# une décision de rédaction : gardée pour la prochaine version
# immat: ignore[definition-inutilisee]
définition gardée = 2
définition oubliée = 3
exigence e
  titre "T"
  source "S"
  exige que vehicule.genre = "VP"   # immat: ignore[valeur-inconnue]
  message "m"
'''


def test_an_inline_comment_silences_a_warning_of_its_line_and_check_lists_it(cli, tmp_path):
    rules = tmp_path / "regles.immat"
    rules.write_text(SUPPRESSED, "utf-8")
    result = cli("check", "--strict", "--format", "gnu", rules)
    # The unused definitions of lines 1 and 4 are silenced, on their line or by a comment alone above; line 5's
    # is not: --strict still fails on it.
    assert result.exit_code == 1
    assert [line.split(":")[1] for line in result.stdout.splitlines()] == ["5"]
    assert "ignoré par « # immat: ignore[definition-inutilisee] » : " in result.stderr
    assert "0 erreur(s), 1 avertissement(s), 2 ignoré(s)" in result.stderr
    rules.write_text(SUPPRESSED.replace("définition oubliée = 3\n", ""), "utf-8")
    assert cli("check", "--strict", rules).exit_code == 0


def test_an_error_is_never_silenced(cli, tmp_path):
    rules = tmp_path / "regles.immat"
    rules.write_text(SUPPRESSED.replace('"VP"', '"VX"'), "utf-8")
    result = cli("check", "--format", "gnu", rules)
    assert result.exit_code == 3 and "erreur[valeur-inconnue]" in result.stdout


@pytest.mark.parametrize("color, no_color, coloured", [
    ("always", "", True), ("always", "1", True), ("never", "", False), ("auto", "", False),
])
def test_color_is_chosen_by_flag_and_no_color(cli, monkeypatch, color, no_color, coloured):
    monkeypatch.setenv("NO_COLOR", no_color)
    result = cli("--color", color, "validate", EXAMPLE)
    assert ("\x1b[" in result.stdout) is coloured  # the test's output is not a terminal: auto gives none
    assert "Verdict" in result.stdout


@pytest.mark.parametrize("args", [
    ["check", "--format", "json"], ["test"], ["explain", EXAMPLE, "--rule", "taxe_fixe"], ["schema", "report"],
    ["validate", "--format", "jsonl", EXAMPLE],
], ids=lambda a: a[0])
def test_every_command_that_writes_a_report_takes_minus_o(cli, tmp_path, args):
    # (diff -o writes the whole report beside the comment on standard output: tests/test_diff.py)
    alone = cli(*args)
    out = tmp_path / "sortie"
    written = cli(*args, "-o", out)
    assert written.exit_code == alone.exit_code and written.stdout == ""
    assert out.read_text("utf-8") == alone.stdout and alone.stdout


def test_check_writes_junit_with_a_failed_case_an_error_and_a_skipped_one_a_warning(cli, tmp_path):
    import xml.etree.ElementTree as ET

    rules = tmp_path / "regles.immat"
    rules.write_text(SUPPRESSED.replace('"VP"', '"VX"'), "utf-8")
    result = cli("check", "--format", "junit", rules)
    assert result.exit_code == 3
    suite = ET.fromstring(result.stdout.split("?>", 1)[1])
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "0")
    assert suite.find("testcase/failure").get("message").startswith("« VX » n'est pas une valeur possible")
    rules.write_text(SUPPRESSED.replace("# immat: ignore[definition-inutilisee]", ""), "utf-8")
    warned = ET.fromstring(cli("check", "--format", "junit", rules).stdout.split("?>", 1)[1])
    assert (warned.get("failures"), warned.get("skipped")) == ("0", "3")  # the three unused definitions
    clean = ET.fromstring(cli("check", "--format", "junit").stdout.split("?>", 1)[1])
    assert clean.get("tests") == "1" and clean.find("testcase/failure") is None


@pytest.mark.parametrize("command, has, lacks", [
    ("validate", ["1  un dossier au moins est incomplet", "130, 143"], []),
    ("check", ["1  un avertissement, avec --strict", "3  les règles"], ["130, 143"]),
    ("fmt", ["1  un fichier changerait, avec --check"], ["130, 143"]),
    ("completion", ["2  mauvaise utilisation"], ["3  les règles", "1  "]),
    ("serve", ["1  le service n'a pas pu démarrer", "130, 143  arrêté par Ctrl-C ou SIGTERM"], ["vérification interrompue"]),
])
def test_each_command_s_help_gives_its_own_exit_codes(cli, command, has, lacks):
    text = cli(command, "--help").output.split("Codes de sortie :")[1]
    assert all(h in text for h in has) and not any(x in text for x in lacks)
