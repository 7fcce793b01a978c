"""`immat test`: every fixture against its stated expectation, with JUnit XML and coverage."""

from __future__ import annotations

import collections
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import click

from .. import __version__, escape
from ..coverage import Coverage
from ..diagnostics import junit_properties
from ..pipeline import FixtureRun, fixture_folders, run_fixtures
from ..source import PackIdentity
from . import BAD_INPUT, FOUND, OK, configured, exit_codes, _load, output_option, rules_option, written_to

RULE_KINDS = ("exigence", "exception", "alternative", "montant", "avis", "barème")


def _junit(run: FixtureRun, pack: PackIdentity, path: Path) -> None:
    failed = [r for r in run.results if not r.passed]
    suite = ET.Element("testsuite", name="immat", tests=str(len(run.results)), failures=str(len(failed)),
                       time=f"{sum(r.seconds for r in run.results):.3f}")
    junit_properties(suite, pack.properties())
    for r in run.results:
        case = ET.SubElement(suite, "testcase", classname="fixtures", name=r.name, time=f"{r.seconds:.3f}")
        if r.failures:
            failure = ET.SubElement(case, "failure", message=r.failures[0])
            failure.text = "\n".join(r.failures)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _percent(covered: Coverage, kinds) -> tuple[float, int, int]:
    keys = [k for k, t in covered.targets.items() if t.kind in kinds]
    reached = sum(k in covered.reached for k in keys)
    return 100.0 * reached / max(len(keys), 1), reached, len(keys)


def _coverage_lines(covered: Coverage) -> list[str]:
    percent, reached, total = _percent(covered, RULE_KINDS)
    lines = [f"Couverture des règles : {percent:.1f} % ({reached}/{total})"]
    lines += [f"  non atteint : {t.location} {t.kind} « {t.label} »" for t in covered.missed(RULE_KINDS)]
    rows = collections.defaultdict(lambda: [0, 0, ""])
    for key, t in covered.targets.items():
        if t.kind == "ligne":
            counts = rows[t.label.split(" : ", 1)[0]]
            counts[0] += key in covered.reached
            counts[1] += 1
            counts[2] = counts[2] or t.location.rsplit(":", 1)[0]
    percent, reached, total = _percent(covered, ("ligne",))
    lines.append(f"Lignes de barème atteintes : {percent:.1f} % ({reached}/{total})")
    lines += [f"  {name} ({where}) : {hit}/{count}" for name, (hit, count, where) in sorted(rows.items())]
    return lines


def _json(run: FixtureRun, pack: PackIdentity) -> str:
    covered = run.coverage
    document = {
        "rules": {"pack": pack.name, "digest": pack.digest},
        "immat": __version__,
        "fixtures": [{"name": r.name, "passed": r.passed, "failures": list(r.failures)} for r in run.results],
        "coverage": {
            "rules_percent": round(_percent(covered, RULE_KINDS)[0], 1),
            "rows_percent": round(_percent(covered, ("ligne",))[0], 1),
            "targets": [{"kind": t.kind, "label": t.label, "location": t.location, "reached": k in covered.reached}
                        for k, t in sorted(covered.targets.items())],
        },
    }
    return escape.json_dumps(document, indent=2) + "\n"  # a fixture's name may hold any character


@click.command("test", epilog="""
\b
Exemples :
  immat test
  immat test rules/ fixtures/ --junit rapport-junit.xml
  immat test --coverage --fail-under 95
""" + exit_codes(
    "une fixture diffère de son attendu, ou la couverture est sous --fail-under",
    "mauvaise utilisation, ou aucune fixture à tester"
))
@click.argument("rules_path", required=False, type=click.Path(path_type=Path, exists=True))
@click.argument("fixtures", required=False, type=click.Path(path_type=Path, exists=True, file_okay=False))
@rules_option
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), help="Écrit aussi un rapport JUnit XML.")
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Dit quelles exigences, exceptions, alternatives et lignes de barème aucune fixture n'atteint.")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
              help="Échoue (code 1) si la couverture des règles (hors lignes de barème) est sous ce pourcentage.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@output_option
def rule_tests(rules_path, fixtures, rules, junit, show_coverage, fail_under, fmt, output) -> None:
    """Vérifie chaque fixture (dossier.json) au regard de ce que son attendu.json annonce : verdict, pièces
    manquantes, informations à compléter, montants, avis.

    RULES_PATH : les règles (comme --rules) ; FIXTURES : le dossier des fixtures, par défaut celui que nomme
    [tool.immat] fixtures dans le pyproject.toml le plus proche, sinon fixtures/ du dossier courant."""
    checked = _load(rules_path or rules)
    fixtures = fixtures or configured().fixtures
    if not fixture_folders(fixtures):
        click.echo(f"erreur : aucune fixture (sous-dossier contenant un dossier.json) dans « {fixtures} » : "
                   "il n'y aurait rien à tester", err=True)
        sys.exit(BAD_INPUT)
    run = run_fixtures(checked.program, fixtures)
    if junit:
        _junit(run, checked.pack, junit)
    failed = [r for r in run.results if not r.passed]
    with written_to(output):
        _report(run, checked, failed, fmt, show_coverage or fail_under is not None)
    too_low = fail_under is not None and _percent(run.coverage, RULE_KINDS)[0] < fail_under
    sys.exit(FOUND if failed or too_low else OK)


def _report(run, checked, failed: list, fmt: str, show_coverage: bool) -> None:
    if fmt == "json":
        click.echo(_json(run, checked.pack), nl=False)
    else:
        for r in run.results:
            click.echo(f"{'ok ' if r.passed else 'ÉCHEC'} {r.name}")
            click.echo("".join(f"      {f}\n" for f in r.failures), nl=False)
        click.echo(f"Règles : {checked.pack.signed()}")
        click.echo(f"{len(run.results) - len(failed)} passed, {len(failed)} failed")
        if show_coverage:
            click.echo("\n".join(_coverage_lines(run.coverage)))
