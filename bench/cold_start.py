"""Benchmark: wall time of a cold `immat validate` of one dossier, each run a new process.

Run with `python bench/cold_start.py [--runs N] [DOSSIER]` from the repository root. It prints the median and
the extremes of N runs with the cache filled by a first run (the usual case: the rules have not changed since
the last run), and of N runs without the cache (IMMAT_NO_CACHE=1: the rules are parsed and checked each time).
The cache lives in a temporary folder, so the user's own is neither read nor written. It runs the `immat` found
on PATH, named in the first line: installed as the quick start installs it (`pip install .`); an editable install
(`pip install -e .`) adds about 15 ms to Python's own start, for the import hook that finds the working copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def timed(command: list[str], env: dict[str, str], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dossier", nargs="?", default="fixtures/exemple/dossier.json")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    command = ["immat", "validate", args.dossier]
    print(f"immat : {shutil.which('immat')}")
    with tempfile.TemporaryDirectory() as folder:
        cached = {**os.environ, "IMMAT_CACHE_DIR": folder}
        subprocess.run(command, env=cached, stdout=subprocess.DEVNULL)  # fills the cache
        for name, env in [("cache filled", cached), ("without cache", {**cached, "IMMAT_NO_CACHE": "1"})]:
            seconds = timed(command, env, args.runs)
            print(f"{' '.join(command)}, {name}: median {statistics.median(seconds) * 1000:.0f} ms "
                  f"(min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f}) over {args.runs} runs")


if __name__ == "__main__":
    main()
