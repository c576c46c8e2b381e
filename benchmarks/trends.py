"""False-alarm and detection rates of the trend test on simulated series.

Run: ``python benchmarks/trends.py [--runs 1000] [--seed 0]``. Prints a
Markdown table for docs/insight.md and docs/benchmarks.md.

Each run simulates 63 days (eight baseline weeks and the window) for 30
intents with base rates from 1 to 30 questions a day and a weekday rhythm.
*Quiet* runs are Poisson, or negative binomial (each week's level varies by a
gamma factor with a 20 % coefficient of variation, as real weeks do). A
*spike* run multiplies one intent's window by 2 or 3; detection is counted
for that intent at low, middle and high base rates.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import numpy as np

from veiviser.insight.trends import TrendRule, detect

END = date(2026, 6, 14)
RHYTHM = np.array([1.3, 1.2, 1.15, 1.1, 0.95, 0.2, 0.1])
INTENTS = 30
BASE_RATES = np.linspace(1.0, 30.0, INTENTS)
SPIKE_AT = {"low (3/day)": 2, "middle (10/day)": 9, "high (30/day)": 29}


def simulate(
    rng: np.random.Generator, weekly_cv: float, spike: tuple[int, float] | None
) -> dict[str, dict[date, int]]:
    """One run: per intent, a count per day."""
    rule = TrendRule()
    days = [END - timedelta(days=n) for n in range(rule.span_days - 1, -1, -1)]
    weekdays = np.array([d.weekday() for d in days])
    week_of = np.array([(END - d).days // 7 for d in days])
    in_window = np.array([(END - d).days < 7 for d in days])
    series = {}
    for index, rate in enumerate(BASE_RATES):
        level = np.ones(9)
        if weekly_cv:
            shape = 1 / weekly_cv**2
            level = rng.gamma(shape, 1 / shape, size=9)
        mean = rate * RHYTHM[weekdays] / RHYTHM.mean() * level[week_of]
        if spike and spike[0] == index:
            mean = np.where(in_window, mean * spike[1], mean)
        counts = rng.poisson(mean)
        series[f"i{index}"] = dict(zip(days, counts.tolist(), strict=True))
    return series


def quiet_rates(rng, runs: int, weekly_cv: float) -> tuple[float, float]:
    """Share of runs with any flag, and share of intent tests flagged."""
    any_flag = flags = 0
    for _ in range(runs):
        results = detect(simulate(rng, weekly_cv, None), END)
        flagged = sum(r.flagged for r in results)
        any_flag += flagged > 0
        flags += flagged
    return any_flag / runs, flags / (runs * INTENTS)


def detection_rate(
    rng, runs: int, weekly_cv: float, index: int, factor: float
) -> float:
    """Share of runs in which the spiking intent is flagged."""
    found = 0
    for _ in range(runs):
        results = detect(simulate(rng, weekly_cv, (index, factor)), END)
        found += any(r.flagged and r.intent == f"i{index}" for r in results)
    return found / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    print(f"{args.runs} runs per cell, {INTENTS} intents, alpha 0.01 (Holm),", end=" ")
    print(f"seed {args.seed}")
    print()
    print("| series | false alarm: runs with any flag | per intent test |")
    print("|---|---|---|")
    for name, cv in (("quiet, Poisson", 0.0), ("quiet, weekly level varies 20 %", 0.2)):
        runs_rate, test_rate = quiet_rates(rng, args.runs, cv)
        print(f"| {name} | {runs_rate:.1%} | {test_rate:.3%} |")
    print()
    print(
        "| spike intent's base rate | 2× detected | 3× detected "
        "| 3× detected, weekly level varies 20 % |"
    )
    print("|---|---|---|---|")
    for label, index in SPIKE_AT.items():
        two = detection_rate(rng, args.runs, 0.0, index, 2.0)
        three = detection_rate(rng, args.runs, 0.0, index, 3.0)
        three_nb = detection_rate(rng, args.runs, 0.2, index, 3.0)
        print(f"| {label} | {two:.1%} | {three:.1%} | {three_nb:.1%} |")
    print()
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
