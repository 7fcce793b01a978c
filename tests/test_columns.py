"""The batch evaluator (engine/batches.py, on engine/columns.py) against the compiled one: the same outcome for every dossier of a
batch, whatever the batch holds, under the shipped pack and each rule file of the language's tests; the same
bytes from the command; and its own arithmetic (amounts in millionths, dates as day numbers) against the
runtime's, which the compiled program uses."""

from __future__ import annotations

import datetime
import functools
import json
import random
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz.dossiers import mutate as mutate_dossier
from fuzz.dossiers import values_by_key
from immat import batches, columns as c
from immat.compile import Compiled
from immat.diagnostics import DiagnosticError
from immat.pipeline import load_rules, parse_dossier, render_batch, render_many
from immat.report import render_jsonl
from immat.runtime import money_minus, money_plus, money_times
from immat.schema import shipped_schema
from immat.values import Duration, Money, Percentage, add_months, shift

from .conftest import ROOT
from .test_compiled import LANGUAGE_PACKS, PARTIAL, _dossiers, mutated_program


@functools.cache
def _evaluators(rules: str | None):
    program = load_rules(rules).program
    return program, Compiled(program), batches.BatchEvaluator(program)


def _agree(rules: str | None, dossiers: list[dict]) -> batches.BatchEvaluator:
    """Every dossier of one batch gets the compiled program's outcome."""
    _, compiled, columns = _evaluators(rules)
    got = columns.evaluate_many([(f"d{i}", d) for i, d in enumerate(dossiers)])
    assert len(got) == len(dossiers)
    for i, (data, outcome) in enumerate(zip(dossiers, got)):
        assert outcome == compiled.evaluate(f"d{i}", data), f"dossier n° {i}"
    return columns


def _partial() -> list[dict]:
    return [parse_dossier(p.read_text("utf-8"), "d", shipped_schema()).data for p in PARTIAL]


def test_every_fixture_in_one_batch_gets_the_compiled_outcome():
    _agree(None, _dossiers() + _partial())


@pytest.mark.parametrize("rules", [None, *map(str, LANGUAGE_PACKS)], ids=lambda r: "rules" if r is None else r[-24:])
def test_every_pack_of_the_language_tests_gives_the_compiled_outcome_on_every_fixture(rules):
    columns = _agree(rules, _dossiers() + _partial())
    assert not columns.unsupported  # every construct of the language is evaluated on columns


def test_a_batch_of_one_and_a_batch_in_another_order_give_the_same_outcomes():
    dossiers = _dossiers()[:12]
    _agree(None, dossiers[:1])
    _agree(None, dossiers[::-1])
    _agree(None, [])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.sampled_from([None, *map(str, LANGUAGE_PACKS)]), rng=st.randoms(use_true_random=False),
       size=st.integers(1, 40))
def test_a_batch_of_mutated_dossiers_gets_the_compiled_outcomes_under_every_pack(rules, rng, size):
    _agree(rules, mutated_batch(rng, size))


def mutated_batch(rng, size: int) -> list[dict]:
    """Up to `size` fixtures, each mutated once, that the schema accepts."""
    values = values_by_key(_dossiers())
    batch = []
    for _ in range(size):
        try:
            batch.append(parse_dossier(mutate_dossier(rng.choice(_dossiers()), rng, values), "d",
                                       shipped_schema()).data)
        except DiagnosticError:
            continue
    return batch


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack=st.sampled_from(LANGUAGE_PACKS), rng=st.randoms(use_true_random=False))
def test_a_mutated_rule_file_that_checks_gives_the_compiled_outcomes(pack, rng, tmp_path_factory):
    program = mutated_program(pack, rng, tmp_path_factory)
    if program is None:
        return
    compiled, columns = Compiled(program), batches.BatchEvaluator(program)
    dossiers = random.Random(rng.random()).sample(_dossiers(), 20)
    for i, outcome in enumerate(columns.evaluate_many([("d", d) for d in dossiers])):
        assert outcome == compiled.evaluate("d", dossiers[i])


def test_the_columns_decide_a_complete_dossier_without_the_compiled_program():
    text = (ROOT / "fixtures" / "exemple" / "dossier.json").read_text("utf-8")
    example = parse_dossier(text, "d", shipped_schema()).data
    program, compiled, _ = _evaluators(None)
    columns = batches.BatchEvaluator(program)
    assert all(o == compiled.evaluate("d", example) for o in columns.evaluate_many([("d", example)] * 40))
    assert columns.handed_over == 0


# ---------------------------------------------------------------- the command


def _lot(count: int, name: str = "lot.jsonl") -> list[tuple[str, str]]:
    texts = [(ROOT / "fixtures" / f.name / "dossier.json").read_text("utf-8") for f in sorted((ROOT / "fixtures").iterdir())
             if (f / "dossier.json").exists()]
    lines = [json.dumps(json.loads(t)) for t in texts]
    lines += ["{pas du json", '{"reference": 3}']  # unreadable lines among them keep their place
    return [(f"{name}:{n + 1}", lines[n % len(lines)]) for n in range(count)]


def test_a_batch_gives_the_same_bytes_as_one_dossier_at_a_time():
    program = load_rules().program
    documents = _lot(300)
    together = list(render_many(program, documents, render_jsonl))
    alone = list(render_many(program, documents, render_jsonl, batch=1))
    assert together == alone
    assert sum(1 for r in together if hasattr(r, "text")) > 250


def test_columns_that_fail_on_a_batch_leave_each_dossier_its_own_result(monkeypatch):
    program = load_rules().program
    documents = _lot(64)
    expected = render_batch(program, render_jsonl, False, documents)

    def broken(self, items):
        raise RuntimeError("anomalie")

    monkeypatch.setattr(batches.BatchEvaluator, "evaluate_many", broken)
    assert render_batch(program, render_jsonl, False, documents) == expected


def test_a_lot_on_the_command_line_is_checked_in_batches(cli, tmp_path):
    lot = tmp_path / "lot.jsonl"
    lot.write_text("".join(text + "\n" for _, text in _lot(100)), "utf-8")
    batched = cli("validate", "--format", "jsonl", "--jobs", "1", lot)
    records = [json.loads(line) for line in batched.stdout.splitlines()]
    assert len(records) == 100
    program = load_rules("rules").program  # as the command names the pack: by the folder it read
    alone = [r.text for r in render_many(program, _lot(100, str(lot)), render_jsonl, batch=1) if hasattr(r, "text")]
    assert [line + "\n" for line in batched.stdout.splitlines() if '"verdict"' in line] == alone


def test_the_last_round_of_a_batch_is_shared_between_the_workers():
    from immat.pipeline import _rounds

    chunks = list(_rounds(iter(range(2500)), 1000, 2))
    assert [len(c) for c in chunks] == [1000, 1000, 250, 250]  # not 1000, 1000, 500: one worker waiting
    assert [x for c in chunks for x in c] == list(range(2500))


# ---------------------------------------------------------------- amounts and dates


_AMOUNTS = st.decimals(min_value=-10**9 + 1, max_value=10**9 - 1, places=6, allow_nan=False, allow_infinity=False)
_FACTORS = st.one_of(st.integers(-10**6, 10**6),
                     st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
                     st.builds(Percentage, st.decimals(0, 2, places=3, allow_nan=False, allow_infinity=False)))


def _money_column(amounts) -> c.Column:
    return c._built("montant", [Money(a) for a in amounts], np.arange(len(amounts)), c._zeros(len(amounts)),
                    len(amounts))


@settings(max_examples=300, deadline=None)
@given(left=_AMOUNTS, right=_AMOUNTS, factor=_FACTORS)
def test_amounts_in_millionths_compute_as_the_runtime_does_or_are_left_to_it(left, right, factor):
    a, b = _money_column([left]), _money_column([right])
    kind = "entier" if factor.__class__ is int else "décimal"
    f = c._built(kind, [factor], np.arange(1), c._zeros(1), 1)
    for op, column, expected in (("+", c._money("+", a, b), money_plus(Money(left), Money(right))),
                                 ("-", c._money("-", a, b), money_minus(Money(left), Money(right))),
                                 ("*", c._money("*", a, f), money_times(Money(left), factor)),
                                 ("*", c._money("*", f, a), money_times(factor, Money(left)))):
        if column.state[0] != c.CLEAN:
            assert column.state[0] == c.OPEN
            continue
        assert column.objects(np.arange(1))[0] == expected, op
        cents, unheld = c._rounded(column.values)
        if not unheld[0]:
            assert str(Decimal(int(cents[0])).scaleb(-2)) == str(expected.rounded().amount), op
        else:
            assert str(expected.rounded().amount) == "-0.00"


def test_a_product_exact_on_the_grid_stays_in_the_columns():
    money = _money_column([Decimal("46.15"), Decimal("0.10")])
    rate = c._built("décimal", [Percentage("0.5"), Decimal("0.125")], np.arange(2), c._zeros(2), 2)
    product = c._money("*", money, rate)
    assert product.state.tolist() == [c.CLEAN, c.CLEAN]
    assert product.objects(np.arange(2)) == [Money("23.075"), Money("0.0125")]


_DAYS = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31))


@settings(max_examples=300, deadline=None)
@given(day=_DAYS, months=st.integers(-120_000, 120_000), days=st.integers(-4000, 4000))
def test_dates_as_day_numbers_shift_as_the_calendar_does(day, months, days):
    ordinals = np.asarray([day.toordinal()])
    moved, ok = c._add_months(ordinals, months)
    try:
        expected = add_months(day, months)
    except ArithmeticError:
        assert not ok[0]
    else:
        assert ok[0] and moved[0] == expected.toordinal()
    shifted, ok = c._shift(ordinals, Duration(months, days))
    try:
        expected = shift(day, Duration(months, days))
    except ArithmeticError:
        assert not ok[0]
    else:
        assert ok[0] and shifted[0] == expected.toordinal()


def test_month_ends_and_leap_days_shift_as_the_calendar_does():
    days = [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29), datetime.date(2023, 3, 31),
            datetime.date(9999, 12, 31), datetime.date(1, 1, 1)]
    for months in (-13, -1, 1, 11, 12, 48):
        moved, ok = c._add_months(np.asarray([d.toordinal() for d in days]), months)
        for d, m, good in zip(days, moved.tolist(), ok.tolist()):
            if good:
                assert datetime.date.fromordinal(m) == add_months(d, months)
            else:
                with pytest.raises(ArithmeticError):
                    add_months(d, months)


def test_a_batch_leaves_no_cycle_for_the_collector_it_holds_off():
    import gc

    program, _, _ = _evaluators(None)
    columns = batches.BatchEvaluator(program)
    batch = [("d", d) for d in (_dossiers() + _partial())]
    columns.evaluate_many(batch)
    gc.collect()
    assert gc.isenabled()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        columns.evaluate_many(batch)
        assert gc.collect() == 0, {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
