"""The reasoning trees made on a batch's columns (engine/trees.py) against the compiled program's
(engine/explain.py): the same outcome, trees included, and the same report bytes, for every dossier of a batch,
whatever the batch holds, under the shipped pack and each rule file of the language's tests."""

from __future__ import annotations

import functools
import gc
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from immat import trees
from immat.explain import explaining
from immat.pipeline import load_rules, render_many
from immat.report import render_json, render_jsonl, steps_kept

from .conftest import ROOT
from .test_explained_records import written_from_dicts
from .test_columns import _lot, _partial, mutated_batch
from .test_compiled import LANGUAGE_PACKS, _dossiers, mutated_program


@functools.cache
def _program(rules: str | None):
    return load_rules(rules).program


def _agree(program, dossiers: list[dict]) -> None:
    """Every dossier of one batch gets the compiled program's explained outcome, and the same report."""
    recording = explaining(program)
    got = trees.explain_many(program, [(f"d{i}", d) for i, d in enumerate(dossiers)])
    assert len(got) == len(dossiers)
    expected = [recording.evaluate(f"d{i}", data) for i, data in enumerate(dossiers)]
    for i, (outcome, wanted) in enumerate(zip(got, expected)):
        assert outcome == wanted, f"dossier n° {i}"
        assert render_json(outcome, explain=True) == render_json(wanted, explain=True), f"dossier n° {i}"
    with steps_kept():  # as a batch's records are written: each from the JSON of steps met in the ones before
        written = [render_jsonl(outcome, explain=True) for outcome in got]
    assert written == [written_from_dicts(wanted) for wanted in expected]


@pytest.mark.parametrize("rules", [None, *map(str, LANGUAGE_PACKS)], ids=lambda r: "rules" if r is None else r[-24:])
def test_every_fixture_gets_the_compiled_programs_trees_under_every_pack(rules, monkeypatch):
    made = []  # the dossiers the columns could not explain, which the compiled program does
    real = trees._explained

    def counting(batch, items, outcomes, amounts):
        explained = real(batch, items, outcomes, amounts)
        made.append(len(explained))
        return explained

    monkeypatch.setattr(trees, "_explained", counting)
    if rules is None:  # on the shipped pack, no dossier's tree needs the compiled program (a step left out of
        # the rows that need it would send its dossier there)
        monkeypatch.setattr(trees, "explaining", lambda p: pytest.fail("explained by the compiled program"))
    dossiers = _dossiers() + _partial()
    _agree(_program(rules), dossiers)
    assert made == [len(dossiers)]  # the trees came from the columns, not from a fallback for the batch


def test_the_example_is_explained_on_columns_without_the_compiled_program(monkeypatch):
    example = json.loads((ROOT / "fixtures" / "exemple" / "dossier.json").read_text("utf-8"))
    program = _program(None)
    monkeypatch.setattr(trees, "explaining", lambda p: pytest.fail("explained by the compiled program"))
    explained = trees.explain_many(program, [("d", example)] * 40)
    assert all(o == explained[0] for o in explained)
    assert all(r.reason is not None for r in explained[0].requirements)
    assert all(a.breakdown is not None for a in explained[0].amounts)


def test_a_batch_of_one_and_a_batch_in_another_order_give_the_same_trees():
    dossiers = _dossiers()[:12]
    _agree(_program(None), dossiers[:1])
    _agree(_program(None), dossiers[::-1])
    _agree(_program(None), [])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.sampled_from([None, *map(str, LANGUAGE_PACKS)]), rng=st.randoms(use_true_random=False),
       size=st.integers(1, 40))
def test_a_batch_of_mutated_dossiers_gets_the_compiled_trees_under_every_pack(rules, rng, size):
    _agree(_program(rules), mutated_batch(rng, size))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack=st.sampled_from(LANGUAGE_PACKS), rng=st.randoms(use_true_random=False))
def test_a_mutated_rule_file_that_checks_gives_the_compiled_trees(pack, rng, tmp_path_factory):
    program = mutated_program(pack, rng, tmp_path_factory)
    if program is None:
        return
    _agree(program, random.Random(rng.random()).sample(_dossiers(), 20))


def test_explained_batches_give_the_same_bytes_as_one_dossier_at_a_time():
    program = _program(None)
    documents = _lot(120)
    explained = functools.partial(render_jsonl, explain=True)
    together = list(render_many(program, documents, explained, explain=True))
    alone = list(render_many(program, documents, explained, explain=True, batch=1))
    assert together == alone
    assert sum(1 for r in together if hasattr(r, "text")) > 100


def test_explaining_a_batch_leaves_no_cycle_for_the_collector():
    program = _program(None)
    batch = [("d", d) for d in (_dossiers() + _partial())]
    trees.explain_many(program, batch)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        trees.explain_many(program, batch)
        assert gc.collect() == 0, {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_dossier_whose_tree_the_columns_cannot_make_is_explained_by_the_compiled_program(monkeypatch):
    real = trees.value_keys

    def open_on_row_three(column):  # as if every value of dossier n° 3 were one the columns cannot hold
        keys = real(column)
        if len(column.state) > 3:
            keys[0] = keys[0].copy()
            keys[0][3] = -1
        return keys

    monkeypatch.setattr(trees, "value_keys", open_on_row_three)
    asked = []
    recording = explaining(_program(None))
    monkeypatch.setattr(trees, "explaining", lambda p: asked.append(p) or recording)
    _agree(_program(None), _dossiers()[:10])
    assert len(asked) == 1


def test_a_dossier_with_many_pieces_of_one_type_gets_the_compiled_tree():
    dossiers = _dossiers()[:6]
    crowded = json.loads(json.dumps(dossiers[0]))
    crowded["pieces"] = [*crowded.get("pieces", []), *[{"type": "justificatif_domicile", "titulaire": 0}] * 9,
                         *[{"type": "proces_verbal_controle_technique", "date": f"2021-0{m}-01",
                            "resultat": "favorable"} for m in range(1, 10)]]
    _agree(_program(None), [*dossiers, crowded, crowded])


_KEYS = st.lists(st.lists(st.one_of(st.integers(-1, 5), st.integers(-1, 2**62)), min_size=6, max_size=6),
                 min_size=0, max_size=5)


@settings(max_examples=300, deadline=None)
@given(keys=_KEYS)
def test_rows_are_numbered_by_their_combination_of_keys(keys):
    import numpy as np

    n = 6
    arrays = [np.asarray(k, dtype=np.int64) for k in keys]
    numbers, first = trees.numbered(arrays, n)
    combos = list(zip(*keys)) if keys else [()] * n
    bad = [any(v < 0 for v in c) for c in combos]
    assert [x < 0 for x in numbers.tolist()] == bad
    seen: dict = {}
    for row, combo in enumerate(combos):  # the same combination, the same number; another, another
        if not bad[row]:
            assert seen.setdefault(combo, numbers[row]) == numbers[row]
    assert len(set(seen.values())) == len(seen) == len(first)
    assert sorted(numbers[first].tolist()) == list(range(len(first)))
    assert all(combos[r] not in [combos[q] for q in range(r)] for r in first.tolist())  # each one's first row
