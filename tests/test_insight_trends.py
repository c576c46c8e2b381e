"""The trend test: a planted spike is flagged, quiet series are not."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from veiviser.insight.alerts import flag_sentence, norwegian_number
from veiviser.insight.trends import (
    TrendRule,
    detect,
    dispersion,
    extra_variation,
    holm,
    upper_tail,
    weekday_factors,
    window_days,
)

END = date(2026, 6, 14)  # a Sunday
RHYTHM = (1.3, 1.2, 1.1, 1.1, 0.9, 0.3, 0.2)


def quiet_series(
    rng: np.random.Generator, intents: int = 30, spike: dict[str, float] | None = None
) -> dict[str, dict[date, int]]:
    """Poisson counts with a weekly rhythm; ``spike`` multiplies the last week."""
    rule = TrendRule()
    days = [END - timedelta(days=n) for n in range(rule.span_days)]
    series = {}
    for index in range(intents):
        rate = 2.0 + 20.0 * index / intents
        name = f"intent{index}"
        factor = (spike or {}).get(name, 1.0)
        series[name] = {
            day: int(
                rng.poisson(
                    rate
                    * RHYTHM[day.weekday()]
                    * (factor if (END - day).days < 7 else 1)
                )
            )
            for day in days
        }
    return series


def test_planted_spike_is_flagged_with_its_ratio():
    rng = np.random.default_rng(7)
    series = quiet_series(rng, spike={"intent20": 3.0})

    results = detect(series, END)

    flagged = [r for r in results if r.flagged]
    assert [r.intent for r in flagged] == ["intent20"]
    assert 2.3 < flagged[0].ratio < 3.8
    assert flagged[0].adjusted_p < 0.01


def test_quiet_series_raise_no_flag():
    rng = np.random.default_rng(11)
    false_alarms = sum(
        any(r.flagged for r in detect(quiet_series(rng), END)) for _ in range(50)
    )
    # The family-wise rate is held at 1 %; 50 quiet weeks may give one.
    assert false_alarms <= 1


def test_small_counts_never_flag_however_unusual():
    series = {"rare": {END: 4}}  # nothing before, four questions now

    (result,) = detect(series, END)

    assert math.isinf(result.ratio)
    assert not result.flagged  # under the minimum count of 10


def test_window_and_baseline_are_seven_and_fifty_six_days():
    baseline, window = window_days(END, TrendRule())
    assert len(baseline) == 56 and len(window) == 7
    assert window[-1] == END and baseline[-1] == window[0] - timedelta(days=1)


def test_weekday_factors_follow_the_rhythm_and_average_one():
    baseline, _ = window_days(END, TrendRule())
    totals = {day: int(100 * RHYTHM[day.weekday()]) for day in baseline}
    factors = weekday_factors(totals, baseline)
    assert sum(factors) == pytest.approx(7)
    assert factors[0] > factors[4] > factors[6]


def test_extra_variation_is_zero_for_steady_weeks_and_grows_with_variation():
    steady = [10] * 56
    wild = ([0] * 7 + [40] * 7) * 4
    assert extra_variation([steady, steady]) == 0.0
    assert dispersion(steady, 0.0) == 1.0
    extra = extra_variation([wild, steady])
    assert extra > 0.1
    assert dispersion(wild, extra) > dispersion([1] * 56, extra) > 1.0


def test_upper_tail_matches_the_binomial_distribution():
    from scipy.stats import binom

    assert upper_tail(7, 20, 0.2) == pytest.approx(binom.sf(6, 20, 0.2))
    assert upper_tail(0, 20, 0.2) == 1.0


def test_holm_adjusts_step_down_and_keeps_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_flag_sentence_is_norwegian_with_decimal_comma():
    rng = np.random.default_rng(3)
    series = quiet_series(rng, spike={"intent25": 3.0})
    flagged = next(r for r in detect(series, END) if r.flagged)

    sentence = flag_sentence(flagged, "utmelding")

    assert sentence.startswith("Uvanlig mange spørsmål om utmelding denne uka: ")
    assert sentence.endswith(f"{norwegian_number(flagged.ratio)} × normalt")
    assert "," in norwegian_number(3.14) and norwegian_number(3.14) == "3,1"
