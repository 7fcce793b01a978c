"""Batches as a service runs them: JSON Lines from standard input or .jsonl.gz, reports to a file written whole
(-o) or resumed after a kill (--resume), CSV rows, a summary, a Dask cluster, a progress bar on a terminal."""

from __future__ import annotations

import gzip
import json
import os
import pty
import signal
import subprocess
import sys
import time

import pytest

from .conftest import ROOT

FIXTURES = sorted(ROOT.glob("fixtures/*/dossier.json"))


def _lines(copies: int = 1, broken: bool = True) -> list[str]:
    """The fixtures' dossiers as JSON Lines, `copies` times, and a broken line at the end."""
    lines = [json.dumps(json.loads(p.read_text("utf-8"))) for p in FIXTURES] * copies
    return lines + (["{pas du json"] if broken else [])


def _lot(tmp_path, copies: int = 1, name: str = "lot.jsonl") -> object:
    path = tmp_path / name
    path.write_text("\n".join(_lines(copies)) + "\n", "utf-8")
    return path


def _immat(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "immat.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, check=False, **kwargs)


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# ---------------------------------------------------------------- streams in


def test_json_lines_from_standard_input_give_one_record_a_line(cli):
    result = cli("validate", "--format", "jsonl", "-", input="\n".join(_lines()) + "\n")
    records = _records(result.stdout)
    assert len(records) == len(FIXTURES) + 1 and result.exit_code == 2
    assert records[0]["dossier"] == "<stdin>:1"
    assert records[-1]["errors"][0]["line"] == len(FIXTURES) + 1  # located in the stream
    assert f"<stdin>:{len(FIXTURES) + 1}:2: erreur[json-invalide]" in result.stderr


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_a_line_cut_short_is_located_on_that_line_not_the_next(cli, tmp_path, ending):
    """« { » alone on line 2: the JSON ends there, at its column 2, whatever ends the line (or the file)."""
    batch = tmp_path / "lot.jsonl"
    batch.write_bytes(f"{_lines()[0]}\n{{{ending}".encode("utf-8"))
    records = _records(cli("validate", "--format", "jsonl", batch).stdout)
    assert (records[1]["errors"][0]["line"], records[1]["errors"][0]["column"]) == (2, 2)


def test_a_gzipped_batch_gives_the_records_of_the_plain_one(cli, tmp_path):
    plain = _lot(tmp_path)
    packed = tmp_path / "lot.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = cli("validate", "--format", "jsonl", plain), cli("validate", "--format", "jsonl", packed)
    assert b.stdout.replace("lot.jsonl.gz", "lot.jsonl") == a.stdout and a.exit_code == b.exit_code == 2


def test_a_gzipped_batch_cut_short_keeps_what_it_read_and_says_where_it_stops(cli, tmp_path):
    packed = tmp_path / "lot.jsonl.gz"
    data = gzip.compress(_lot(tmp_path).read_bytes())
    packed.write_bytes(data[: len(data) // 2])
    result = cli("validate", "--format", "jsonl", packed)
    records = _records(result.stdout)
    assert result.exit_code == 2 and 0 < len(records) < len(FIXTURES)
    assert records[-1]["errors"][0]["code"] == "lecture-interrompue"
    assert "le fichier compressé est tronqué" in result.stderr


# ---------------------------------------------------------------- files out


def test_output_file_appears_whole_and_a_stopped_run_leaves_it_as_it_was(cli, tmp_path):
    lot, out = _lot(tmp_path), tmp_path / "rapports.jsonl"
    result = cli("validate", "--format", "jsonl", lot, "-o", out)
    assert result.stdout == "" and len(_records(out.read_text("utf-8"))) == len(FIXTURES) + 1
    # Stopped midway (SIGTERM), a second run leaves the first one's file as it was, and no partial file.
    before = out.read_bytes()
    process = subprocess.Popen([sys.executable, "-m", "immat.cli", "validate", "--format", "jsonl", "--jobs", "1",
                                str(_lot(tmp_path, 100, "grand.jsonl")), "-o", str(out)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".partiel") and p.stat().st_size for p in tmp_path.iterdir()) \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grand.jsonl", "lot.jsonl", "rapports.jsonl"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_run_killed_midway_and_resumed_writes_what_an_uninterrupted_run_writes(tmp_path, fmt):
    lot = _lot(tmp_path, 40)
    whole, resumed = tmp_path / f"entier.{fmt}", tmp_path / f"repris.{fmt}"
    assert _immat("validate", "--format", fmt, lot, "-o", whole).returncode == 2
    process = subprocess.Popen([sys.executable, "-m", "immat.cli", "validate", "--format", fmt, str(lot),
                                "--resume", str(resumed)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while (not resumed.exists() or resumed.stat().st_size < 200_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its workers, as a crash would
    process.wait()
    kept = resumed.read_bytes().count(b"\n")
    assert 0 < kept < whole.read_bytes().count(b"\n")
    again = _immat("validate", "--format", fmt, lot, "--resume", resumed)
    assert again.returncode == 2, again.stderr
    assert "Reprise de" in again.stderr and "Bilan : " in again.stderr
    assert resumed.read_bytes() == whole.read_bytes()


def test_resuming_with_another_input_is_refused(cli, tmp_path):
    out = tmp_path / "rapports.jsonl"
    cli("validate", "--format", "jsonl", _lot(tmp_path), "--resume", out)
    other = tmp_path / "autre.jsonl"
    other.write_text("\n".join(_lines()[3:]) + "\n", "utf-8")
    result = cli("validate", "--format", "jsonl", other, "--resume", out)
    assert result.exit_code == 2 and "ce n'est pas la même entrée" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--format", "text", "--resume", "r.txt"], "--format jsonl ou csv"),
    (["--format", "jsonl", "-o", "a.jsonl", "--resume", "b.jsonl"], "n'en donnez qu'un"),
    (["--format", "text", "--summary", "s.md"], "--format jsonl ou csv"),
])
def test_options_that_cannot_go_together_are_refused_before_anything_runs(cli, tmp_path, args, message):
    result = cli("validate", *args, ROOT / "fixtures/exemple/dossier.json")
    assert result.exit_code == 2 and message in result.output


# ---------------------------------------------------------------- CSV and summary


def test_csv_gives_a_header_and_one_row_a_dossier(cli, tmp_path):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(cli("validate", "--format", "csv", _lot(tmp_path)).stdout)))
    assert len(rows) == len(FIXTURES) + 1
    assert rows[-1]["erreur"].startswith("JSON mal formé") and rows[-1]["verdict"] == ""
    assert {r["verdict"] for r in rows[:-1]} >= {"complete", "incomplete", "rejected"}


def test_a_json_summary_escapes_a_file_name_as_the_records_do(cli, tmp_path):
    """A file name that reorders text (U+202E) is written \\u202e in the summary, as in the records."""
    lot = tmp_path / "lot\u202e.jsonl"
    lot.write_text("pas du json\n", "utf-8")
    cli("validate", "--format", "jsonl", lot, "--summary", tmp_path / "synthese.json", "-o", tmp_path / "r.jsonl")
    written = (tmp_path / "synthese.json").read_text("utf-8")
    assert "\u202e" not in written and "\\u202e" in written
    assert json.loads(written)["errors"][0]["dossier"].endswith("lot\u202e.jsonl:1")


@pytest.mark.parametrize("suffix", [".json", ".md", ".txt"])
def test_the_summary_is_written_beside_the_records(cli, tmp_path, suffix):
    summary = tmp_path / f"synthese{suffix}"
    result = cli("validate", "--format", "jsonl", _lot(tmp_path), "--summary", summary)
    text = summary.read_text("utf-8")
    expected = [json.loads((p.parent / "attendu.json").read_text("utf-8"))["verdict"] for p in FIXTURES
                if (p.parent / "attendu.json").exists()]
    if suffix == ".json":
        found = json.loads(text)
        assert found["dossiers"] == len(_records(result.stdout))
        assert found["verdicts"]["rejected"] == expected.count("rejected")
        assert found["errors"][-1]["location"].endswith(f"lot.jsonl:{len(FIXTURES) + 1}:2")
    else:
        assert text.lstrip("# ").startswith(f"Synthèse du lot : {len(FIXTURES) + 1} dossier(s)")
        assert "Lignes en erreur" in text


# ---------------------------------------------------------------- a cluster


def test_a_dask_local_cluster_writes_the_bytes_of_the_local_run(cli, tmp_path):
    lot = _lot(tmp_path, 2)
    local = cli("validate", "--format", "jsonl", "--jobs", "1", lot)
    spread = cli("validate", "--format", "jsonl", "--dask", "local:2", lot)
    assert spread.stdout == local.stdout and spread.exit_code == local.exit_code == 2


# ---------------------------------------------------------------- the terminal


def test_a_batch_on_a_terminal_shows_progress_on_standard_error_only(tmp_path):
    lot = _lot(tmp_path, 3)
    main, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "immat.cli", "validate", "--format", "jsonl", str(lot)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, env={**os.environ, "COLUMNS": "120"})
    os.close(follower)
    stdout, _ = process.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert len(stdout.decode().splitlines()) == 3 * len(FIXTURES) + 1  # records, and nothing else
    terminal = seen.decode("utf-8", errors="replace")
    assert "Vérification" in terminal and "dossiers/s" in terminal
    assert "erreur[json-invalide]" in terminal and "Bilan : " in terminal


def test_a_dask_local_cluster_gives_the_diff_of_the_local_run(cli, tmp_path):
    import shutil

    base = tmp_path / "regles"
    shutil.copytree(ROOT / "rules", base, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    frais = base / "frais.immat"
    frais.write_text(frais.read_text("utf-8").replace("depuis le 01/01/2021 : 11 €", "depuis le 01/01/2021 : 12 €"), "utf-8")
    lot = _lot(tmp_path, 2)
    args = ("diff", "--base", base, "--rules", ROOT / "rules", "--corpus", lot, "--format", "json")
    local, spread = cli(*args), cli(*args, "--dask", "local:2")
    assert spread.stdout == local.stdout and spread.exit_code == local.exit_code == 0
    found = json.loads(local.stdout)
    assert found["summary"]["unreadable"] == 2 * 1 + 1  # the fixture with a misspelt plate, twice, and the broken line
    assert any(r["id"] == "taxe_fixe" for r in found["rules"])
