"""The CI kit a rules repository copies (.github/, ci/gitlab-ci.yml, .pre-commit-hooks.yaml): its commands, run in
order on a fresh clone of this repository, as a pull request's job would run them (not GitHub itself)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

ACTION = ROOT / ".github" / "actions" / "immat" / "action.yml"


def _clone(tmp_path: Path) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("le kit se rejoue dans un clone git du dépôt")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True)
    return clone


def _script(step: dict, inputs: dict) -> str:
    """A step's shell script with the action's inputs written in, as the runner expands them."""
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m[1]], step["run"])


def test_the_composite_action_s_commands_pass_in_order_on_a_fresh_clone(tmp_path):
    clone = _clone(tmp_path)
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    inputs = {name: spec["default"] for name, spec in action["inputs"].items()}
    summary = tmp_path / "summary.md"
    bin_dir = str(Path(sys.executable).parent)  # the immat installed here stands for the action's install step
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    ran = []
    for step in action["runs"]["steps"]:
        if "run" not in step or "pip install" in step["run"]:
            continue
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", _script(step, inputs)], cwd=clone, env=env,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, (step["name"], done.stderr)
        ran.append(step["name"])
    assert ran == ["Vérifier les règles", "Échouer sur une erreur des règles", "Tester les fixtures",
                   "Effet du changement sur les dossiers", "Mise en forme"]
    sarif = json.loads((clone / "immat.sarif").read_text("utf-8"))
    assert sarif["runs"][0]["tool"]["driver"]["name"] == "immat"
    assert (clone / "junit.xml").read_text("utf-8").startswith("<?xml")
    assert "### immat diff : effet du changement de règles" in summary.read_text("utf-8")
    assert (clone / "immat-diff.md").exists()


def test_the_workflow_uses_the_action_with_the_whole_history():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "immat.yml").read_text("utf-8"))
    steps = workflow["jobs"]["regles"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    assert any(s.get("uses") == "./.github/actions/immat" for s in steps)


def test_the_gitlab_example_reports_junit_code_quality_and_coverage(tmp_path):
    job = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text("utf-8"))["immat"]
    assert job["artifacts"]["reports"] == {"junit": "junit.xml", "codequality": "gl-code-quality-report.json"}
    output = subprocess.run([sys.executable, "-m", "immat", "test", "--coverage", "rules", "fixtures"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert re.search(job["coverage"].strip("/"), output.stdout + output.stderr)
    report = subprocess.run([sys.executable, "-m", "immat", "check", "--format", "gitlab", "tests/lint"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    issues = json.loads(report.stdout)
    assert issues and {"description", "check_name", "fingerprint", "severity", "location"} <= set(issues[0])


def test_the_pre_commit_hooks_run_the_commands_they_name():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    assert hooks["immat-fmt"]["entry"] == "immat fmt" and hooks["immat-check"]["entry"] == "immat check"
    for hook in hooks.values():
        assert re.search(hook["files"], "rules/frais.immat")
