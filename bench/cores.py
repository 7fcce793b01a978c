"""How much faster two processes run than one on this machine, for plain Python work that shares nothing.

Run with `python bench/cores.py [--rounds R]`. Each round adds integers in a loop twice in this process, then
once in each of two forked processes at the same time; the ratio is the first time over the second. It is what
the machine gives to two processes before any of immat's work is shared between them: the ceiling of `--jobs 2`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time


def work(count: int) -> int:
    total = 0
    for i in range(count):
        total += i
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=3_000_000, help="integers added by each part of the work")
    args = parser.parse_args()
    context = multiprocessing.get_context("fork")
    ratios = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        work(args.count)
        work(args.count)
        one = time.perf_counter() - start
        start = time.perf_counter()
        processes = [context.Process(target=work, args=(args.count,)) for _ in range(2)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        ratios.append(one / (time.perf_counter() - start))
    print("two processes against one, the same work:", " ".join(f"{r:.2f}×" for r in ratios))
    print(f"median {statistics.median(ratios):.2f}×, min {min(ratios):.2f}×, max {max(ratios):.2f}×")


if __name__ == "__main__":
    main()
