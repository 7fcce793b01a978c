"""A longer fuzzing campaign than the suite's: mutated and damaged fixture dossiers through validation,
evaluation and every report format.

    python fuzz/fuzz_dossiers.py [--iterations N] [--seed S]

Every input must give the same reports twice, or located diagnostics; anything else is a failure, printed with
the seed that reproduces it. Prints the inputs tried, how many gave a report, and the failures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz.campaign import campaign  # noqa: E402
from fuzz.dossiers import damage, mutate, run_one, values_by_key  # noqa: E402
from immat.pipeline import fixture_folders  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    folders = fixture_folders(ROOT / "fixtures")
    texts = [(f / "dossier.json").read_text("utf-8") for f in folders]
    dossiers = [json.loads(t) for t in texts]
    pool = values_by_key(dossiers)

    def make(seed: int):
        rng = random.Random(seed)
        k = rng.randrange(len(texts))
        text = mutate(dossiers[k], rng, pool) if rng.random() < 0.7 else damage(texts[k], rng)
        return folders[k].name, text

    return campaign(args.iterations, args.seed, make, run_one,
                    {"report": "rapports", "diagnostics": "refus localisés"})

if __name__ == "__main__":
    sys.exit(main())
