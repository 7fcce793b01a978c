"""Benchmark: a long batch end to end, as a service runs it — JSON Lines in, default records out, to a file.

Run with `python bench/batch.py [--dossiers N] [--jobs J]`. Generates N dossiers (bench.generate) into a JSON
Lines file, then times `immat validate --format jsonl LOT -o RAPPORTS` as a new process on 1 and J processes
and on a Dask LocalCluster of J workers (when the extra is installed), and prints for each: dossiers per second,
the peak memory of the largest process of the run (the command or one of its workers), and the bytes written per
dossier. The same runs on a fifth of the input show whether the memory stays flat as the batch grows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import generate  # noqa: E402 - the generator of the evaluation benchmark, on purpose the same

# Runs one command and prints the peak resident memory (kB) of the largest process it waited for.
_MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
            "stderr=subprocess.DEVNULL).returncode; print(code, resource.getrusage(resource.RUSAGE_CHILDREN)"
            ".ru_maxrss)")


def run(lot: Path, out: Path, extra: list[str]) -> tuple[float, int]:
    command = [sys.executable, "-m", "immat.cli", "validate", "--format", "jsonl", str(lot), "-o", str(out), *extra]
    started = time.perf_counter()
    measured = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    code, peak = measured.stdout.split()
    if code not in ("0", "1"):  # 1: some generated dossiers are incomplete
        raise SystemExit(f"immat validate exited with {code}")
    return seconds, int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    ways = [("1 process", ["--jobs", "1"]), (f"{args.jobs} processes", ["--jobs", str(args.jobs)])]
    if importlib.util.find_spec("distributed") is not None:
        ways.append((f"Dask LocalCluster, {args.jobs} workers", ["--dask", f"local:{args.jobs}"]))
    print(f"{'input':>9}  {'how':34} {'dossiers/s':>11} {'peak memory':>12} {'bytes/dossier':>14}")
    with tempfile.TemporaryDirectory() as folder:
        for count in (args.dossiers // 5, args.dossiers):
            lot, out = Path(folder) / "lot.jsonl", Path(folder) / "rapports.jsonl"
            with open(lot, "w", encoding="utf-8") as stream:
                for start in range(0, count, 10_000):  # never the whole input in memory here either
                    batch = generate(min(10_000, count - start), seed=2021 + start)
                    stream.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in batch)
            for label, extra in ways:
                seconds, peak = run(lot, out, extra)
                print(f"{count:9,}  {label:34} {count / seconds:11,.0f} {peak / 1024:9,.0f} MB "
                      f"{out.stat().st_size / count:14,.0f}")


if __name__ == "__main__":
    main()
