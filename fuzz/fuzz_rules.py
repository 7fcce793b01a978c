"""A longer fuzzing campaign than the suite's: mutated rule files through parse + check.

    python fuzz/fuzz_rules.py [--iterations N] [--seed S]

Every input must give either a program or located diagnostics; anything else (an exception, a diagnostic
without a place) is a failure, printed with the seed that reproduces it. Prints the inputs tried, the share
that still parsed and checked, and the failures.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz.campaign import campaign  # noqa: E402
from fuzz.mutate import mutate  # noqa: E402
from immat.check import check  # noqa: E402
from immat.diagnostics import DiagnosticError  # noqa: E402
from immat.schema import shipped_schema  # noqa: E402
from immat.parse import parse_module  # noqa: E402
from immat.source import SourceFile  # noqa: E402

RULES = sorted((ROOT / "rules").glob("*.immat"))


def pack() -> dict[str, object]:
    """The shipped rule files, parsed once: a mutated file is checked among the others, its imports found."""
    return {path.name: parse_module(SourceFile(path.name, path.read_text("utf-8"))) for path in RULES}


def run_one(name: str, text: str, modules: dict) -> str:
    """"program", "diagnostics", or raises: what the pack gives with `name` replaced by `text`."""
    try:
        module = parse_module(SourceFile(name, text))
    except DiagnosticError as exc:
        assert all(d.span is not None or d.file for d in exc.diagnostics), "diagnostic sans position"
        return "diagnostics"
    program, diagnostics = check([*(m for n, m in modules.items() if n != name), module], shipped_schema())
    assert all(d.span is not None or d.file for d in diagnostics), "diagnostic sans position"
    return "program" if program is not None else "diagnostics"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    texts = {path: path.read_text("utf-8") for path in RULES}
    modules = pack()

    def make(seed: int):
        path = RULES[seed % len(RULES)]
        return path.name, (path.name, mutate(texts[path], random.Random(seed)))

    return campaign(args.iterations, args.seed, make, lambda given: run_one(*given, modules),
                    {"program": "acceptées", "diagnostics": "erreurs situées"})

if __name__ == "__main__":
    sys.exit(main())
