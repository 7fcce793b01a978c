"""Batches on a Dask cluster (a LocalCluster of 2 worker processes): the same records, in the same order, as on
one machine, error records included."""

from __future__ import annotations

import json

import pytest

from immat.cluster import connect, render_on_cluster
from immat.diagnostics import DiagnosticError
from immat.pipeline import Unreadable, load_rules, render_many
from immat.report import render_jsonl

from .conftest import ROOT


def _documents() -> list[tuple[str, str]]:
    lines = [json.dumps(json.loads(p.read_text("utf-8"))) for p in sorted(ROOT.glob("fixtures/*/dossier.json"))]
    lines = lines * 3 + ["{pas du json", "[]"]
    return [(f"lot.jsonl:{n}", line) for n, line in enumerate(lines, start=1)]


def _shown(results) -> list:
    return [(r.name, tuple(d.message for d in r.diagnostics)) if isinstance(r, Unreadable) else r.text
            for r in results]


def test_a_local_cluster_gives_the_records_of_one_machine_in_input_order():
    program = load_rules().program
    documents = _documents()
    alone = _shown(render_many(program, documents, render_jsonl, 1))
    with connect("local:2") as client:
        assert len(client.scheduler_info()["workers"]) == 2
        spread = _shown(render_on_cluster(client, program, documents, render_jsonl, chunk=25))
    assert spread == alone
    assert len(spread) == len(documents) and isinstance(spread[-1], tuple)


@pytest.mark.parametrize("address", ["local:0", "local:deux"])
def test_a_bad_local_address_is_a_clear_error(address):
    with pytest.raises(DiagnosticError, match="écrivez local:N"):
        with connect(address):
            pass


def test_the_python_api_checks_a_list_of_files_on_a_cluster(tmp_path):
    from immat.cluster import validate_files

    lot = tmp_path / "lot.jsonl"
    lot.write_text("\n".join(text for _, text in _documents()) + "\n", "utf-8")
    single = ROOT / "fixtures" / "exemple" / "dossier.json"
    records = [json.loads(r) for r in validate_files([single, lot], "local:2")]
    assert records[0]["dossier"] == str(single) and records[0]["verdict"] == "incomplete"
    assert len(records) == 1 + len(_documents())
    assert records[-1]["dossier"] == f"{lot}:{len(_documents())}" and "errors" in records[-1]


def test_an_address_that_is_not_one_is_a_clear_error():
    with pytest.raises(DiagnosticError, match="adresse mal formée"):
        with connect("nimporte"):
            pass
