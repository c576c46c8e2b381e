"""Anomaly flags per intent: is this week unusual against the last eight?

The test, per intent (documented with its measured error rates in
``docs/insight.md``):

1. Counts per Oslo day come from the rollups. The *window* is the last seven
   complete days, the *baseline* the 56 days before it.
2. Weekly rhythm: weekday factors are estimated from the baseline pooled over
   all intents (smoothed), and each day's *exposure* is its weekday factor.
   For a seven-day window the rhythm cancels exactly; for shorter windows and
   for the expected line per day it does not.
3. Under "no change" the window's count, given the window-plus-baseline
   total, is binomial with p = window exposure / total exposure (the exact
   conditional test for two Poisson rates, which also accounts for the
   baseline being an estimate).
4. Over-dispersion: real weeks vary more than Poisson. Weekly totals are
   modelled as negative binomial, variance m + a·m², with one extra-variation
   parameter ``a`` pooled over all intents' baseline weeks (one intent's
   eight weeks are too few to estimate it alone). An intent's dispersion is
   φ = 1 + a·m for its weekly mean m, and the effective counts shrink to
   n/φ, the quasi-Poisson adjustment.
5. Multiple testing: Holm's step-down correction over every intent with any
   traffic keeps the chance of one or more false flags in a quiet week at
   most ``alpha``.
6. A flag also needs at least ``min_count`` questions in the window and a
   ratio of at least ``min_ratio``: significant but tiny changes are noise to
   a reader.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scipy.special import betainc

WEEK = 7


@dataclass(frozen=True)
class TrendRule:
    """The knobs of the test; the defaults are the documented ones."""

    window_days: int = 7
    baseline_weeks: int = 8
    alpha: float = 0.01
    min_count: int = 10
    min_ratio: float = 1.5

    @property
    def baseline_days(self) -> int:
        return self.baseline_weeks * WEEK

    @property
    def span_days(self) -> int:
        return self.window_days + self.baseline_days


@dataclass(frozen=True)
class IntentTrend:
    """One intent's window against its baseline."""

    intent: str
    observed: int
    expected: float
    ratio: float
    p_value: float
    adjusted_p: float
    dispersion: float
    flagged: bool


def window_days(window_end: date, rule: TrendRule) -> tuple[list[date], list[date]]:
    """The baseline days and the window days, both oldest first."""
    first = window_end - timedelta(days=rule.span_days - 1)
    days = [first + timedelta(days=n) for n in range(rule.span_days)]
    return days[: rule.baseline_days], days[rule.baseline_days :]


def weekday_factors(
    totals: Mapping[date, int], baseline: Sequence[date]
) -> list[float]:
    """Relative traffic per weekday (Monday first), averaging 1.

    Pooled over all intents for stability, with one pseudo-count per weekday
    so a quiet baseline gives flat factors rather than zeros.
    """
    per_weekday = [0.0] * WEEK
    for day in baseline:
        per_weekday[day.weekday()] += totals.get(day, 0)
    total = sum(per_weekday)
    return [WEEK * (count + 1) / (total + WEEK) for count in per_weekday]


def weekly_totals(counts: Sequence[int]) -> list[int]:
    """Sums of consecutive whole weeks."""
    return [sum(counts[start : start + WEEK]) for start in range(0, len(counts), WEEK)]


# Limitation: the error of the pooled extra variation is not propagated, so
# with strongly varying weeks the family-wise false-alarm rate is about 2 %
# rather than 1 % (docs/insight.md); a parametric bootstrap would retire it.
def extra_variation(baselines: Sequence[Sequence[int]]) -> float:
    """The pooled ``a`` of variance = m + a·m² over weekly totals, at least 0.

    Method of moments: for k weeks with mean m, the sum of squared deviations
    has expectation (k - 1)(m + a·m²); pooled over intents.
    """
    excess = scale = 0.0
    for counts in baselines:
        weeks = weekly_totals(counts)
        if len(weeks) < 2:
            continue
        mean = sum(weeks) / len(weeks)
        squares = sum((week - mean) ** 2 for week in weeks)
        excess += squares - (len(weeks) - 1) * mean
        scale += (len(weeks) - 1) * mean**2
    return max(0.0, excess / scale) if scale > 0 else 0.0


def dispersion(baseline_counts: Sequence[int], extra: float) -> float:
    """φ of an intent: 1 for Poisson, more for weekly variation."""
    weeks = weekly_totals(baseline_counts)
    mean = sum(weeks) / len(weeks) if weeks else 0.0
    return 1.0 + extra * mean


def upper_tail(observed: float, total: float, p: float) -> float:
    """P(X >= observed) for X ~ Binomial(total, p), for real-valued counts."""
    if observed <= 0:
        return 1.0
    if observed > total:
        return 0.0
    return float(betainc(observed, total - observed + 1, p))


def score_intent(
    counts: Mapping[date, int],
    baseline: Sequence[date],
    window: Sequence[date],
    factors: Sequence[float],
    extra: float = 0.0,
) -> tuple[int, float, float, float]:
    """Observed count, expected count, p-value and dispersion of one intent."""
    base_counts = [counts.get(day, 0) for day in baseline]
    observed = sum(counts.get(day, 0) for day in window)
    base_total = sum(base_counts)
    window_exposure = sum(factors[day.weekday()] for day in window)
    base_exposure = sum(factors[day.weekday()] for day in baseline)
    expected = base_total * window_exposure / base_exposure
    phi = dispersion(base_counts, extra)
    p_window = window_exposure / (window_exposure + base_exposure)
    p_value = upper_tail(observed / phi, (observed + base_total) / phi, p_window)
    return observed, expected, p_value, phi


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the order given."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def detect(
    series: Mapping[str, Mapping[date, int]],
    window_end: date,
    rule: TrendRule | None = None,
    totals: Mapping[date, int] | None = None,
) -> list[IntentTrend]:
    """Test every intent's last window against its baseline.

    Args:
        series: per intent, the count per Oslo day (missing days are zero).
        window_end: the last day of the window (a complete day).
        rule: the test's settings.
        totals: all traffic per day, for the weekday factors; defaults to
            the sum of ``series``.

    Returns:
        One result per intent with any traffic in the span, largest ratio
        among the flagged first, then by p-value.
    """
    rule = rule or TrendRule()
    baseline, window = window_days(window_end, rule)
    if totals is None:
        totals = _summed(series)
    factors = weekday_factors(totals, baseline)
    span = set(baseline) | set(window)
    active = {
        intent: counts
        for intent, counts in series.items()
        if any(counts.get(day, 0) for day in span)
    }
    extra = extra_variation(
        [[counts.get(day, 0) for day in baseline] for counts in active.values()]
    )
    raw = {
        intent: score_intent(counts, baseline, window, factors, extra)
        for intent, counts in active.items()
    }
    names = list(raw)
    adjusted = dict(zip(names, holm([raw[name][2] for name in names]), strict=True))
    results = [_result(name, raw[name], adjusted[name], rule) for name in names]
    return sorted(results, key=lambda r: (not r.flagged, -r.ratio, r.p_value))


def _result(
    intent: str,
    raw: tuple[int, float, float, float],
    adjusted: float,
    rule: TrendRule,
) -> IntentTrend:
    observed, expected, p_value, phi = raw
    ratio = observed / expected if expected > 0 else (math.inf if observed else 1.0)
    flagged = (
        adjusted < rule.alpha and observed >= rule.min_count and ratio >= rule.min_ratio
    )
    return IntentTrend(
        intent, observed, expected, ratio, p_value, adjusted, phi, flagged
    )


def _summed(series: Mapping[str, Mapping[date, int]]) -> dict[date, int]:
    totals: dict[date, int] = {}
    for counts in series.values():
        for day, count in counts.items():
            totals[day] = totals.get(day, 0) + count
    return totals
