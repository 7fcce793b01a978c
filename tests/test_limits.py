"""Hostile and extreme input, as an instructor's batch may hold it: a located error or a report for each dossier,
never a traceback, a hang or an aborted batch (issue 9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from immat.cli import main
from immat.dossier import MAX_BYTES

from .conftest import ROOT

EXAMPLE = ROOT / "fixtures/exemple/dossier.json"


@pytest.fixture
def immat(monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(*args, input=None):
        return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


def example(**changes) -> dict:
    """The example dossier with `changes`, keyed by JSON pointer."""
    dossier = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for pointer, value in changes.items():
        *parents, last = pointer.split("/")[1:]
        node = dossier
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
    return dossier


def immat_subprocess(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "immat.cli", *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


# ---------------------------------------------------------------- values the schema admits, or refuses with a pointer

SURROGATE = json.dumps(example()).replace('"EXEMPLE-2021-001"', '"EX\\udfff"').replace('"Jeanne"', '"\\ud800"')
# (dossier text, exit code, what stderr or the report must say)
EXTREMES = {
    "surrogate": (SURROGATE, 2, ["/reference: erreur[json-invalide]", "\\udfff",
                                 "/titulaires/0/prenoms: erreur[json-invalide]"]),
    "piece_9999": (json.dumps(example(**{"/pieces/2/date": "9999-12-31", "/date_demande": "9999-12-31"})), 1,
                   ["date impossible à calculer : 31/12/9999 + 6 mois sort du calendrier"]),
    "puissance_1e25": (json.dumps(example(**{"/vehicule/puissance_fiscale": 10**25})), 2,
                       ["/vehicule/puissance_fiscale: erreur[schema]: doit être inférieur ou égal à 999"]),
    "co2_huge": (json.dumps(example(**{"/vehicule/co2_g_km": 10**30})), 2, ["/vehicule/co2_g_km"]),
    "masse_huge": (json.dumps(example(**{"/vehicule/masse_ordre_marche": 10**30})), 2,
                   ["/vehicule/masse_ordre_marche"]),
    "prix_1e300": (json.dumps(example(**{"/achat/prix_ttc": 1})).replace('"prix_ttc": 1', '"prix_ttc": 1e300'), 2,
                   ["/achat/prix_ttc: erreur[schema]: doit être inférieur ou égal à 1\u202f000\u202f000\u202f000"]),
}


@pytest.mark.parametrize("case", EXTREMES, ids=str)
def test_an_extreme_value_gives_a_located_error_or_a_report(immat, tmp_path, case):
    text, code, said = EXTREMES[case]
    (tmp_path / "dossier.json").write_text(text, encoding="utf-8")
    alone = immat("validate", "--format", "json", tmp_path / "dossier.json")
    assert alone.exit_code == code
    assert all(s in alone.stderr + alone.stdout for s in said), alone.stderr
    good = json.dumps(example())
    (tmp_path / "lot.jsonl").write_text("\n".join([good, text, good]) + "\n", encoding="utf-8")
    batch = immat("validate", "--format", "jsonl", tmp_path / "lot.jsonl")
    assert batch.exit_code == code
    assert [r["dossier"].rsplit(":", 1)[1] for r in records(batch.stdout)] == ["1", "2", "3"]


def test_an_amount_too_large_for_the_cent_is_an_error_of_that_amount(immat, tmp_path):
    (tmp_path / "regles.immat").write_text(
        'exigence essai\n  titre "Essai"\n  source "Essai"\n  exige que vrai\n  message "Essai."\n\n'
        'montant enorme\n  titre "Énorme"\n  source "Essai"\n'
        '  vaut vehicule.puissance_fiscale × 1 000 000 000 000 000 000 000 000 €\n', encoding="utf-8")
    (tmp_path / "dossier.json").write_text(json.dumps(example(**{"/vehicule/puissance_fiscale": 999})))
    result = immat("validate", "--rules", tmp_path, "--format", "jsonl", tmp_path / "dossier.json")
    assert result.exit_code == 0  # an amount does not decide the verdict
    (amount,) = json.loads(result.stdout)["amounts"]
    assert amount["status"] == "error"
    assert amount["error"].startswith("montant hors des limites du calcul")


# ---------------------------------------------------------------- bounds on input


@pytest.mark.parametrize("pointer, value, said", [
    ("/pieces", [{"type": "justificatif_identite"}] * 101, "/pieces: erreur[schema]: liste trop longue : 101 "
                                                            "éléments, au plus 100 admis"),
    ("/titulaires", [{"nom": "X"}] * 11, "/titulaires: erreur[schema]: liste trop longue : 11 éléments, au plus 10"),
    ("/titulaires/0/nom", "N" * 1001, "/titulaires/0/nom: erreur[schema]: texte trop long : 1\u202f001 caractères, "
                                      "au plus 1\u202f000 admis"),
])
def test_lists_and_texts_are_bounded(immat, tmp_path, pointer, value, said):
    (tmp_path / "dossier.json").write_text(json.dumps(example(**{pointer: value})), encoding="utf-8")
    result = immat("validate", tmp_path / "dossier.json")
    assert result.exit_code == 2
    assert said in result.stderr
    assert "NNNNNNNNNN" not in result.stderr  # the text too long is not copied into the message


def test_a_dossier_over_the_size_limit_is_not_read(immat, tmp_path):
    text = json.dumps(example())
    (tmp_path / "gros.json").write_text(text + " " * (MAX_BYTES - len(text) + 1), encoding="utf-8")
    result = immat("validate", tmp_path / "gros.json")
    assert result.exit_code == 2
    assert "erreur[trop-volumineux]: dossier trop volumineux : plus de 1\u202f000\u202f000 octets" in result.stderr
    (tmp_path / "juste.json").write_text(text + " " * (MAX_BYTES - len(text)), encoding="utf-8")
    assert immat("validate", tmp_path / "juste.json").exit_code == 1


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_device_or_a_fifo_is_refused_at_once(tmp_path, special):
    if special == "fifo":
        special = tmp_path / "lot.jsonl"
        os.mkfifo(special)  # no writer: opening it to read would wait forever
    process = immat_subprocess("validate", special)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "ce n'est pas un fichier ordinaire" in stderr and "immat validate -" in stderr


def test_endless_standard_input_stops_at_the_limit():
    with open("/dev/zero", "rb") as zeros:
        process = immat_subprocess("validate", "-", stdin=zeros)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "<stdin>: erreur[trop-volumineux]" in stderr


# ---------------------------------------------------------------- batches lose nothing


def test_every_line_of_a_batch_has_its_record_at_its_place(immat, tmp_path):
    good = json.dumps(example()).encode()
    lines = [
        "\ufeff".encode() + good,            # 1: a BOM at the start, reported on line 1 only
        good + b"\r",                        # 2: CRLF line end
        b'{"reference": "a\rb"}',            # 3: a lone CR inside a text is inside the line
        b"",                                 # 4: blank, no record
        b'{"reference": "\xff"}',            # 5: not UTF-8
        b"{oops",                            # 6
        b"x" * (MAX_BYTES + 10),             # 7: too long, skipped without being held
        good,                                # 8
    ]
    batch = tmp_path / "lot.jsonl"
    batch.write_bytes(b"\n".join(lines) + b"\n")
    result = immat("validate", "--format", "jsonl", batch)
    assert result.exit_code == 2
    found = records(result.stdout)
    assert [r["dossier"] for r in found] == [f"{batch}:{n}" for n in (1, 2, 3, 5, 6, 7, 8)]
    assert "verdict" in found[1] and "verdict" in found[6]
    errors = {r["dossier"].rsplit(":", 1)[1]: r["errors"][0] for r in found if "errors" in r}
    assert {n: (e["code"], e["line"]) for n, e in errors.items()} == {
        "1": ("json-invalide", 1), "3": ("json-invalide", 3), "5": ("encodage", 5), "6": ("json-invalide", 6),
        "7": ("trop-volumineux", 7)}
    assert errors["1"]["message"] == "JSON mal formé : marque d'ordre des octets (BOM) en tête du texte"
    assert errors["5"]["column"] == 16
    assert f"{batch}:6:2: erreur[json-invalide]" in result.stderr


# A patch of the engine, run as the main script so that the spawned workers run it too: a dossier whose
# evaluation raises, and one whose worker process dies, alone or in a batch evaluated on columns.
FAULTY = """
import multiprocessing, os
from immat.batches import BatchEvaluator
from immat.compile import Compiled

real, real_many = Compiled.evaluate, BatchEvaluator.evaluate_many

def fault(data):
    if data["reference"] == "PANNE":
        raise RuntimeError("panne simulée")
    if data["reference"] == "SORTIE" and multiprocessing.parent_process() is not None:
        os._exit(9)

def evaluate(self, name, data):
    fault(data)
    return real(self, name, data)

def evaluate_many(self, items):
    for _, data in items:
        fault(data)
    return real_many(self, items)

Compiled.evaluate, BatchEvaluator.evaluate_many = evaluate, evaluate_many

if __name__ == "__main__":
    from immat.cli import main
    main()
"""


def _faulty_batch(tmp_path, faults: dict[int, str], size: int = 600) -> Path:
    dossier = example()
    lines = []
    for n in range(size):  # more than one window, so that worker processes really run
        dossier["reference"] = faults.get(n, f"LOT-{n:04d}")
        lines.append(json.dumps(dossier))
    batch = tmp_path / "lot.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "faulty.py").write_text(FAULTY, encoding="utf-8")
    return batch


def _run_faulty(tmp_path, batch, jobs: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, tmp_path / "faulty.py", "validate", "--format", "jsonl", "--jobs",
                           str(jobs), batch], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("jobs, size", [(1, 20), (1, 600), (2, 600)])
def test_an_anomaly_of_one_dossier_costs_only_its_verdict(tmp_path, jobs, size):
    batch = _faulty_batch(tmp_path, {7: "PANNE", size - 2: "PANNE"}, size)
    result = _run_faulty(tmp_path, batch, jobs)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    found = records(result.stdout)
    assert [r["dossier"] for r in found] == [f"{batch}:{n + 1}" for n in range(size)]
    assert [n for n, r in enumerate(found) if "errors" in r] == [7, size - 2]
    assert found[7]["errors"][0]["code"] == "non-evalue"
    assert "erreur interne d'immat (RuntimeError)" in found[7]["errors"][0]["message"]
    assert "2 non évalué(s) (anomalie d'immat)" in result.stderr


def test_a_worker_that_dies_is_reported_and_the_batch_goes_on(tmp_path):
    batch = _faulty_batch(tmp_path, {100: "SORTIE"})
    result = _run_faulty(tmp_path, batch, 2)
    assert result.returncode == 2, result.stderr
    assert "un processus de vérification s'est arrêté brutalement" in result.stderr
    found = records(result.stdout)
    assert [r["dossier"] for r in found] == [f"{batch}:{n + 1}" for n in range(600)]
    assert [n for n, r in enumerate(found) if "errors" in r] == [100]  # the others were checked again
    assert "s'est arrêté brutalement" in found[100]["errors"][0]["message"]


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("signum, code, how", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_an_interrupted_batch_says_so_and_exits_128_plus_the_signal(tmp_path, jobs, signum, code, how):
    batch = _faulty_batch(tmp_path, {}, size=20000)
    # As from a terminal: a test runner started in the background by a shell without job control has Ctrl-C
    # ignored, and its children would inherit that.
    process = immat_subprocess("validate", "--format", "jsonl", "--jobs", jobs, batch,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    process.stdout.readline()  # the batch is under way
    time.sleep(0.2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert f"Vérification interrompue ({how})" in stderr
    assert "Traceback" not in stderr
