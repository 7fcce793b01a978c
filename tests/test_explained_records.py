"""An explained JSON Lines record is written from the JSON bytes of the steps met in earlier records
(report.step_fragment): it must be the record written from plain dictionaries, byte for byte, whatever the
records before it held."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from immat import escape
from immat.explain import explaining
from immat.outcome import Step, StepKind
from immat.pipeline import load_rules
from immat.report import outcome_json, render_jsonl, steps_kept
from immat.trees import explain_many

from .conftest import ROOT
from .test_compiled import _dossiers


def written_from_dicts(outcome) -> str:
    """The explained record as json.dumps would write the report's dictionaries."""
    return escape.json_dumps(outcome_json(outcome, explain=True), known_plain=True, separators=(",", ":")) + "\n"


def _example():
    data = json.loads((ROOT / "fixtures" / "exemple" / "dossier.json").read_text("utf-8"))
    return explaining(load_rules().program).evaluate("exemple", data)


def _with_reasons(outcome, reasons: list[Step]):
    return outcome.__class__(outcome.dossier, outcome.reference, outcome.verdict,
                             tuple(r.__class__(r.rule, r.holder, r.status, r.pieces, r.message, r.missing_fields,
                                               reason, r.error) for r, reason in zip(outcome.requirements, reasons)),
                             outcome.amounts, outcome.notices, outcome.evaluated_on, outcome.rules, outcome.data,
                             outcome.schema)


def test_a_subtree_is_written_as_its_place_in_each_tree_asks():
    """The same subtree, under a tree that details its definition above it and under one that does not: each
    record writes it as its own tree places it, the first time and when its bytes are kept."""
    example = _example()
    leaf = Step(StepKind.FIELD, "véhicule.puissance_fiscale", 7, None)
    definition = Step(StepKind.DEFINITION, "puissance retenue", 7, None, (leaf,))
    compared = Step(StepKind.COMPARE, "puissance retenue ≥ 5", True, None, (definition,))
    shown_above = Step(StepKind.CONDITION, "détaillée avant", True, None, (definition, compared))
    shown_here = Step(StepKind.CONDITION, "détaillée ici", True, None, (compared,))
    count = len(example.requirements)
    records = [_with_reasons(example, [shown_above, shown_here] * (count // 2) + [shown_here] * (count % 2)),
               _with_reasons(example, [shown_here, shown_above] * (count // 2) + [shown_above] * (count % 2))]
    for outcome in records * 3:
        written = render_jsonl(outcome, explain=True)
        assert written == written_from_dicts(outcome)
    reasons = [r["reason"] for r in json.loads(written)["requirements"]]
    assert reasons[0]["children"][0]["children"][0]["children"][0]["value"] == 7  # the last record's, here
    assert reasons[1]["children"][1]["children"][0]["note"] == "détaillé plus haut"


def test_a_value_orjson_cannot_write_as_json_dumps_is_written_as_json_dumps_does():
    """An integer beyond 64 bits, and a lone surrogate, in a tree: the record is written without kept bytes."""
    example = _example()
    for value in (2**70, "\ud800"):
        odd = Step(StepKind.FIELD, "véhicule.masse", value, None)
        outcome = _with_reasons(example, [Step(StepKind.CONDITION, "r", True, None, (odd,))]
                                * len(example.requirements))
        for _ in range(2):
            written = render_jsonl(outcome, explain=True)
            assert written == written_from_dicts(outcome)
        assert json.loads(written)["requirements"][0]["reason"]["children"][0]["value"] == value


def test_records_written_in_several_threads_at_once_are_each_their_own():
    """serve writes records in several threads: each keeps what it knows of the steps apart."""
    outcomes = explain_many(load_rules().program, [(f"d{i}", d) for i, d in enumerate(_dossiers())])
    expected = [written_from_dicts(o) for o in outcomes]

    def write(batch: bool) -> list[str]:
        if not batch:
            return [render_jsonl(o, explain=True) for o in outcomes]
        with steps_kept():
            return [render_jsonl(o, explain=True) for o in outcomes]

    with ThreadPoolExecutor(4) as pool:
        assert all(got == expected for got in pool.map(write, [True, False, True, False, True, False]))
