"""Every fixture dossier meets the expectation written beside it, and its report is snapshotted."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from immat.cli import main
from immat.pipeline import fixture_folders, load_rules, run_fixtures

from .conftest import ROOT

FIXTURES = fixture_folders(ROOT / "fixtures")


@pytest.fixture(scope="module")
def fixture_run():
    return run_fixtures(load_rules().program, ROOT / "fixtures")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: p.name)
def test_fixture_meets_its_stated_expectation(folder, fixture_run):
    (result,) = [r for r in fixture_run.results if r.name.endswith("/" + folder.name)]
    assert not result.failures, "\n".join(result.failures)


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: p.name)
def test_fixture_report_snapshot(folder, text_snapshot):
    """The instructor's report of each fixture, without the reasoning trees (a few are snapshotted by test_cli's
    `immat explain`), so that a one-line rule change moves a few lines per fixture here, not whole trees."""
    relative = (folder / "dossier.json").relative_to(ROOT).as_posix()
    result = CliRunner().invoke(main, ["validate", "--format", "text", relative], catch_exceptions=False)
    assert (result.stdout or result.stderr) == text_snapshot


def test_every_rule_of_the_pack_is_exercised_by_a_fixture(fixture_run):
    """Each requirement, exception, alternative, amount, notice and barème is reached by some fixture."""
    missed = fixture_run.coverage.missed(["exigence", "exception", "alternative", "montant", "avis", "barème"])
    assert not missed, "jamais atteint par une fixture :\n" + "\n".join(
        f"  {t.location} {t.kind} {t.label}" for t in missed)


def test_immat_test_command_agrees(fixture_run):
    result = CliRunner().invoke(main, ["test"], catch_exceptions=False)
    failed = sum(not r.passed for r in fixture_run.results)
    assert result.stdout.splitlines()[-1] == f"{len(fixture_run.results) - failed} passed, {failed} failed"
