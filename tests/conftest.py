"""Shared test fixtures: one readable golden file per snapshot, and the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

ROOT = Path(__file__).resolve().parent.parent


class TextSnapshot(SingleFileSnapshotExtension):
    """Each golden file is plain UTF-8 text, readable alone and reviewable in a diff."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def text_snapshot(snapshot):
    return snapshot.use_extension(TextSnapshot)


# ---------------------------------------------------------------- the rule language's tests (parse, check, evaluate)


@pytest.fixture
def cli(monkeypatch):
    """Runs `immat ARGS…` in-process from the repository root, so the paths it prints are relative and stable."""
    from click.testing import CliRunner

    from immat.cli import main

    monkeypatch.chdir(ROOT)

    def run(*args, input: str | None = None):
        result = CliRunner().invoke(main, [str(a) for a in args], input=input)
        # CliRunner turns a crash into exit code 1, the code for « problems found »: never let that pass.
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run
