"""Synthetic member traffic for demos, sent through the real chat pipeline.

Members are simulated by their questions only: each conversation picks a
visitor (some return), a topic weighted the way union traffic is (dues,
payment and invoices most of all), and a training phrase of that topic with
small variations a person would make. Some ask off-topic questions and are
declined, some press a button, some rate the reply. Times follow a daily and
weekly rhythm over the past ``days`` days, and one topic gets a planted
spike in the last complete week so the trend flags have something to find.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from veiviser.content import KnowledgeBase
from veiviser.insight.clock import day_start, days_between, oslo_day

log = logging.getLogger(__name__)

# Relative traffic by Oslo weekday (Monday first) and hour: office hours,
# a lunch dip and an evening bump; weekends are quiet.
WEEKDAY_WEIGHT = (1.25, 1.15, 1.1, 1.05, 0.9, 0.35, 0.3)
HOUR_WEIGHT = (
    0.1, 0.05, 0.03, 0.03, 0.05, 0.1, 0.3, 0.8, 1.5, 2.0, 2.0, 1.7,
    1.2, 1.6, 1.7, 1.5, 1.2, 0.9, 0.8, 0.9, 1.0, 0.8, 0.5, 0.25,
)  # fmt: skip
# Topics members ask about most; matched against intent ids.
POPULAR = ("kontingent", "betal", "faktura", "innmeld", "ferie", "lonn")
SPIKE_PREFERENCE = ("utmelding",)
GREETINGS = ("", "", "", "hei, ", "hei! ", "hallo, ")
DECLINE_SHARE = 0.08
RETURNING_SHARE = 0.35
BUTTON_SHARE = 0.12
FEEDBACK_SHARE = 0.3


@dataclass(frozen=True)
class SimulationPlan:
    """What to simulate.

    Attributes:
        days: how many days back from ``now`` traffic starts.
        conversations_per_day: average on a Monday-to-Friday day.
        spike_intent: the intent that gets a spike in the last complete
            week; None picks one (utmelding if present), "" plants none.
        spike_factor: how many times its normal traffic it gets.
        seed: the same seed and knowledge base give the same traffic.
    """

    days: int
    conversations_per_day: float = 30.0
    spike_intent: str | None = None
    spike_factor: float = 3.0
    seed: int = 0


@dataclass
class SimulationReport:
    """What was sent."""

    conversations: int = 0
    messages: int = 0
    feedback: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    days: list[date] = field(default_factory=list)
    spike_intent: str = ""


class TrafficModel:
    """Draws who asks what, and when, from a knowledge base and a seed."""

    def __init__(self, kb: KnowledgeBase, plan: SimulationPlan) -> None:
        self.random = random.Random(plan.seed)
        self.plan = plan
        self.intents = [i for i in kb.intents if i.status == "active" and i.phrases]
        if not self.intents:
            raise ValueError("the knowledge base has no active intent with phrases")
        self.weights = [self._weight(rank, i.id) for rank, i in enumerate(self.intents)]
        self.declines = list(kb.decline_examples) or ["hva blir været i morgen"]
        self.spike = self._spike_intent(plan.spike_intent)
        self.visitors: list[str] = []

    def conversations_on(self, day: date, spike_window: set[date]) -> int:
        """How many conversations open on ``day`` (Poisson around the rhythm)."""
        mean = self.plan.conversations_per_day * WEEKDAY_WEIGHT[day.weekday()]
        return _poisson(self.random, mean)

    def spike_extra(self, day: date, spike_window: set[date]) -> int:
        """Extra conversations about the spike topic on a spike day."""
        if not self.spike or day not in spike_window:
            return 0
        share = self.weights[self._index(self.spike)] / sum(self.weights)
        mean = self.plan.conversations_per_day * WEEKDAY_WEIGHT[day.weekday()]
        return _poisson(self.random, mean * share * (self.plan.spike_factor - 1))

    def moment(self, day: date) -> datetime:
        """A time on ``day`` following the hourly rhythm (Oslo wall clock)."""
        hour = self.random.choices(range(24), HOUR_WEIGHT)[0]
        seconds = hour * 3600 + self.random.randrange(3600)
        # Adding seconds to the UTC midnight keeps DST days 23 or 25 hours.
        return day_start(day) + timedelta(seconds=seconds)

    def visitor(self) -> str:
        """A visitor id: often a returning one, else a new one."""
        if self.visitors and self.random.random() < RETURNING_SHARE:
            return self.random.choice(self.visitors)
        fresh = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
        self.visitors.append(fresh)
        return fresh

    def question(self, intent_id: str | None = None) -> str:
        """A member's question: a phrase with small variations, or off-topic."""
        if intent_id is None and self.random.random() < DECLINE_SHARE:
            return self.vary(self.random.choice(self.declines))
        if intent_id is None:
            intent = self.random.choices(self.intents, self.weights)[0]
        else:
            intent = self.intents[self._index(intent_id)]
        return self.vary(self.random.choice(intent.phrases))

    def vary(self, phrase: str) -> str:
        """Small human variations: a greeting, case, a typo, a question mark."""
        text = phrase
        roll = self.random.random()
        if roll < 0.15 and len(text) > 6:
            at = self.random.randrange(1, len(text) - 2)
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        elif roll < 0.3:
            text = text.lower()
        if self.random.random() < 0.4 and not text.endswith("?"):
            text += "?"
        return (self.random.choice(GREETINGS) + text).strip()

    def _weight(self, rank: int, intent_id: str) -> float:
        # Zipf-like by position, with the everyday money topics on top.
        base = 1.0 / math.sqrt(rank + 2)
        return base * (4.0 if any(p in intent_id for p in POPULAR) else 1.0)

    def _spike_intent(self, wanted: str | None) -> str:
        ids = [i.id for i in self.intents]
        if wanted is not None:
            if wanted and wanted not in ids:
                raise ValueError(f"no active intent {wanted!r} to plant a spike in")
            return wanted
        for preferred in SPIKE_PREFERENCE:
            if preferred in ids:
                return preferred
        return ids[len(ids) // 2]

    def _index(self, intent_id: str) -> int:
        return next(n for n, i in enumerate(self.intents) if i.id == intent_id)


def spike_window(now: datetime) -> set[date]:
    """The last seven complete Oslo days: where the trend test looks."""
    yesterday = oslo_day(now) - timedelta(days=1)
    return set(days_between(yesterday - timedelta(days=6), yesterday))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means of one day's traffic.
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
