"""Mutated fixture dossiers through validation, evaluation and every report format: the same reports twice, or
located diagnostics, never an exception. `python fuzz/fuzz_dossiers.py` runs longer campaigns."""

from __future__ import annotations

import functools
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz.dossiers import damage, mutate, run_one, values_by_key
from immat.pipeline import fixture_folders

from .conftest import ROOT

FIXTURES = fixture_folders(ROOT / "fixtures")


@functools.cache
def _text(folder) -> str:
    return (folder / "dossier.json").read_text("utf-8")


@functools.cache
def _pool() -> dict:
    return values_by_key([json.loads(_text(f)) for f in FIXTURES])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folder=st.sampled_from(FIXTURES), rng=st.randoms(use_true_random=False))
def test_a_mutated_fixture_gives_the_same_reports_twice_or_located_diagnostics(folder, rng):
    assert run_one(mutate(json.loads(_text(folder)), rng, _pool())) in ("report", "diagnostics")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folder=st.sampled_from(FIXTURES), rng=st.randoms(use_true_random=False))
def test_a_damaged_json_text_gives_located_diagnostics_or_a_report(folder, rng):
    assert run_one(damage(_text(folder), rng)) in ("report", "diagnostics")
