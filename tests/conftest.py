"""Shared test fixtures: one readable golden file per snapshot, and the repository root."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from immat import __version__

ROOT = Path(__file__).resolve().parent.parent

# The suite never writes to the user's ~/.cache: every run of immat it makes, in-process or in a subprocess,
# caches into a folder of its own, set before any test module is imported and removed at the end.
os.environ["IMMAT_CACHE_DIR"] = tempfile.mkdtemp(prefix="immat-cache-")
atexit.register(shutil.rmtree, os.environ["IMMAT_CACHE_DIR"], ignore_errors=True)


# A pack's digest changes with any byte of its files: kept in golden files, one edit to a rule would move
# every report's golden. Tests of their own check the digests; golden files show a placeholder.
DIGEST = re.compile(r'(empreinte |"digest": ")[0-9a-f]{12}\b')
# The same for immat's version, which every output names: a release would otherwise move every golden file.
VERSION = re.compile(r'(immat |"immat": ")' + re.escape(__version__) + r'\b')


class TextSnapshot(SingleFileSnapshotExtension):
    """Each golden file is plain UTF-8 text, readable alone and reviewable in a diff."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"

    def serialize(self, data, **kwargs):
        return VERSION.sub(r"\1…", DIGEST.sub(r"\1…", super().serialize(data, **kwargs)))


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
