"""Print how fast the engine is on this machine (a benchmark, not a test: nothing is asserted)."""

import statistics
import time

import numpy as np

from kit.catalog import load_catalog, profile_params
from kit.cost import costs, frame
from kit.params import Scenario
from kit.recommend import decide, recommend
from kit.uncertainty import DRAWS, monte_carlo, summary


def timed(fn, repeat=5):
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    load_catalog()
    s = Scenario.make(profile_params("hybrid"))
    print(f"recommend without flips : {timed(lambda: recommend(s, with_flips=False)) * 1000:8.1f} ms")
    print(f"recommend with flips    : {timed(lambda: recommend(s)) * 1000:8.1f} ms")
    print(f"{DRAWS:,} draws, one scenario: {timed(lambda: monte_carlo(s)) * 1000:8.1f} ms  (aim <= 150 ms)")
    print(f"draws + tornado + 3 years: {timed(lambda: summary(s)) * 1000:8.1f} ms  (one engine call)")
    n = 100_000
    rng = np.random.default_rng(0)
    df = frame([{}] * n)
    df["monthly_requests"] = rng.integers(1_000, 1_000_000_000, n)
    df["sensitivity"] = rng.choice(["public", "internal", "confidential", "regulated", "on_prem_only"], n)
    print(f"costs, {n:,} scenarios : {timed(lambda: costs(df), 3):8.2f} s  (aim <= 0.05 s)")
    print(f"decide, {n:,} scenarios: {timed(lambda: decide(df), 3):8.2f} s")


if __name__ == "__main__":
    main()
