"""The loop of a fuzzing campaign: inputs made from successive seeds, every failure printed with its seed."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable


def campaign(iterations: int, seed: int, make: Callable[[int], tuple[str, object]],
             run_one: Callable[[object], str], outcomes: dict[str, str]) -> int:
    """`make(seed)` gives (what it is, the input), `run_one` an outcome key of `outcomes` (its French label) or
    raises; prints the figures and returns the exit code (1 when something failed)."""
    counts = dict.fromkeys(outcomes, 0)
    failures = 0
    started = time.perf_counter()
    for n in range(iterations):
        what, given = make(seed + n)
        try:
            counts[run_one(given)] += 1
        except Exception:  # noqa: BLE001 — the point of a fuzzer: report whatever escapes
            failures += 1
            print(f"ÉCHEC (graine {seed + n}, {what}) :", file=sys.stderr)
            traceback.print_exc()
    elapsed = time.perf_counter() - started
    figures = ", ".join(f"{counts[k]} {label}" for k, label in outcomes.items())
    print(f"{iterations} entrées essayées en {elapsed:.1f} s (graine de départ {seed}) : {figures}, {failures} échec(s)")
    return 1 if failures else 0
