"""Every fixture dossier meets the expectation written beside it, and its full report is snapshotted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from immat.cli import main
from immat.coverage import coverage
from immat.diagnostics import DiagnosticError
from immat.pipeline import load_rules, validate

from .conftest import ROOT

FIXTURES = sorted(p.parent for p in (ROOT / "fixtures").glob("*/dossier.json"))
AMOUNT_WORDS = {"not_applicable": "sans objet", "not_covered": "non couvert"}


def _label(requirement: dict) -> str:
    holder = requirement["holder"]
    return requirement["id"] + (f" — {holder['name']}" if holder else "")


def _amount(amount: dict) -> str | None:
    return amount["value"] if amount["status"] == "computed" else AMOUNT_WORDS.get(amount["status"], amount["status"])


def run(folder: Path):
    relative = (folder / "dossier.json").relative_to(ROOT).as_posix()
    return CliRunner().invoke(main, ["validate", "--format", "json", relative], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: p.name)
def test_fixture_meets_its_stated_expectation(folder):
    expected = json.loads((folder / "attendu.json").read_text(encoding="utf-8"))
    result = run(folder)
    if expected["verdict"] == "illisible":
        assert result.exit_code == 2
        for pointer in expected["erreurs"]:
            assert f": {pointer}: erreur" in result.stderr
        return
    report = json.loads(result.stdout)
    assert report["verdict"] == expected["verdict"]
    by_status = lambda status: sorted(_label(r) for r in report["requirements"] if r["status"] == status)
    assert by_status("missing") == sorted(expected["exigences_manquantes"])
    if "informations_a_completer" in expected:
        assert by_status("unknown") == sorted(expected["informations_a_completer"])
    if "exigences_satisfaites" in expected:
        assert set(expected["exigences_satisfaites"]) <= set(by_status("satisfied"))
    amounts = {a["id"]: _amount(a) for a in report["amounts"]}
    for rule_id, value in expected.get("montants", {}).items():
        assert amounts[rule_id] == value, rule_id
    if "avis" in expected:
        assert sorted(n["id"] for n in report["notices"]) == sorted(expected["avis"])


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: p.name)
def test_fixture_full_report_snapshot(folder, text_snapshot):
    result = run(folder)
    assert (result.stdout or result.stderr) == text_snapshot


def test_every_rule_of_the_pack_is_exercised_by_a_fixture():
    """Each requirement, exception, alternative, amount, notice and barème is reached by some fixture."""
    program = load_rules().program
    outcomes = []
    for folder in FIXTURES:
        text = (folder / "dossier.json").read_text(encoding="utf-8")
        try:
            outcomes.append(validate(program, text, folder.name))
        except DiagnosticError:
            continue  # an unreadable fixture shows a dossier error, not a rule
    missed = coverage(program, outcomes).missed(["exigence", "exception", "alternative", "montant", "avis", "barème"])
    assert not missed, "jamais atteint par une fixture :\n" + "\n".join(
        f"  {t.location} {t.kind} {t.label}" for t in missed)
