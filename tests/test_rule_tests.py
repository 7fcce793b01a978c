"""`immat test`: fixtures against their attendu.json, JUnit XML, coverage and --fail-under."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from immat.cli import main

from .conftest import ROOT


@pytest.fixture
def corpus(tmp_path):
    """Two fixtures: the bundled example as is, and a copy whose expectation is wrong on purpose."""
    shutil.copytree(ROOT / "fixtures" / "exemple", tmp_path / "exemple")
    shutil.copytree(ROOT / "fixtures" / "exemple", tmp_path / "faux")
    expected = json.loads((tmp_path / "faux" / "attendu.json").read_text(encoding="utf-8"))
    expected["verdict"] = "complete"
    expected["montants"]["total"] = "1.00"
    (tmp_path / "faux" / "attendu.json").write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def immat(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_wrong_expectation_fails_with_what_differs(corpus):
    result = immat("test", str(ROOT / "rules"), str(corpus))
    assert result.exit_code == 1
    assert "« complete » attendu, « incomplete » obtenu" in result.stdout
    assert "montant total : « 1.00 » attendu, « 228.76 » obtenu" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_all_expectations_met_exits_zero(corpus):
    shutil.rmtree(corpus / "faux")
    assert immat("test", str(ROOT / "rules"), str(corpus)).exit_code == 0


def test_junit_report_lists_each_fixture(corpus, tmp_path):
    report = tmp_path / "junit.xml"
    immat("test", str(ROOT / "rules"), str(corpus), "--junit", str(report))
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [name.rsplit("/", 1)[-1] for name in failed] == ["faux"]


def test_coverage_names_what_no_fixture_reaches_and_fail_under(corpus):
    shutil.rmtree(corpus / "faux")
    result = immat("test", str(ROOT / "rules"), str(corpus), "--coverage")
    assert "non atteint : rules/neuf_france.immat" in result.stdout
    assert "Lignes de barème atteintes" in result.stdout
    assert immat("test", str(ROOT / "rules"), str(corpus), "--fail-under", "99").exit_code == 1


def test_json_format_gives_coverage_targets(corpus):
    document = json.loads(immat("test", str(ROOT / "rules"), str(corpus), "--format", "json").stdout)
    assert {f["passed"] for f in document["fixtures"]} == {True, False}
    reached = {t["label"] for t in document["coverage"]["targets"] if t["reached"]}
    assert "controle_technique" in reached


def test_coverage_counts_a_row_that_computes_on_its_key(tmp_path):
    case = tmp_path / "malus_150_g"
    case.mkdir()
    dossier = {"reference": "ESSAI", "date_demande": "2024-01-10",
               "vehicule": {"co2_g_km": 150, "places_assises": 5, "date_premiere_immatriculation": "2024-01-01"}}
    (case / "dossier.json").write_text(json.dumps(dossier), encoding="utf-8")
    expected = {"verdict": "complete", "montants": {"malus": "510.00", "part": "50.00"}}
    (case / "attendu.json").write_text(json.dumps(expected), encoding="utf-8")
    result = immat("test", str(ROOT / "tests" / "evaluate" / "baremes_calcules.immat"), str(tmp_path), "--format", "json")
    document = json.loads(result.stdout)
    assert [f["passed"] for f in document["fixtures"]] == [True]
    rows = {t["label"]: t["reached"] for t in document["coverage"]["targets"] if t["kind"] == "ligne"}
    assert rows["malus_par_gramme : de 141 à 218 : 210 € + (clé − 140) * 30 €"] is True
    assert rows["malus_par_gramme : jusqu'à 140 : 0 €"] is False
