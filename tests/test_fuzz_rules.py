"""Mutated real rule files (tokens deleted, duplicated, swapped, wrapped in parentheses, random Unicode) through
parse + check: a program or located diagnostics, never an exception. `python fuzz/fuzz_rules.py` runs longer
campaigns with the same mutations."""

from __future__ import annotations

import functools

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz.fuzz_rules import RULES, pack, run_one
from fuzz.mutate import mutate


@functools.cache
def _pack():
    return pack(), {path.name: path.read_text("utf-8") for path in RULES}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from([path.name for path in RULES]), rng=st.randoms(use_true_random=False))
def test_a_mutated_rule_file_gives_a_program_or_located_diagnostics(name, rng):
    modules, texts = _pack()
    assert run_one(name, mutate(texts[name], rng), modules) in ("program", "diagnostics")


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from([path.name for path in RULES]), noise=st.text(min_size=1, max_size=30),
       where=st.floats(min_value=0, max_value=1))
def test_random_unicode_anywhere_in_a_rule_file_gives_a_program_or_located_diagnostics(name, noise, where):
    modules, texts = _pack()
    text = texts[name]
    cut = int(len(text) * where)
    assert run_one(name, text[:cut] + noise + text[cut:], modules) in ("program", "diagnostics")
