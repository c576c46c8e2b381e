"""What understanding decides about one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["answer", "multi", "clarify", "decline"]


@dataclass(frozen=True)
class Candidate:
    """An intent and the model's confidence that the message means it."""

    intent: str
    confidence: float


@dataclass(frozen=True)
class Decision:
    """The outcome of understanding one message.

    Attributes:
        kind: ``answer`` (one intent), ``multi`` (two questions, two intents),
            ``clarify`` (candidates too close to choose) or ``decline``.
        intents: the chosen intents: one for answer, two for multi, the
            offered ones for clarify, none for decline.
        confidence: the confidence of the best in-scope candidate.
        alternatives: the top candidates, best first (for staff and logs).
    """

    kind: Kind
    intents: tuple[str, ...]
    confidence: float
    alternatives: tuple[Candidate, ...] = field(default=())

    @property
    def intent(self) -> str | None:
        """The single chosen intent, for answer; None otherwise."""
        return self.intents[0] if self.kind == "answer" else None


@dataclass(frozen=True)
class Policy:
    """Thresholds that turn confidences into a decision.

    Attributes:
        decline: below this confidence the message is declined.
        clarify_margin: when the best two are closer than this, ask which.
        multi: each half of a two-question message must reach this.
    """

    decline: float = 0.35
    clarify_margin: float = 0.08
    multi: float = 0.55

    def decide(self, candidates: list[Candidate], oos_confidence: float) -> Decision:
        """Decide from in-scope candidates (best first) and the oos score.

        The model is asked which topic was meant in two cases: the best two
        are within ``clarify_margin`` of each other, or the best alone is
        below the decline threshold while the best two together reach it
        (the message is about one of two topics, which one is unclear; a
        decline would send away a member the model nearly understood). Either
        way the second must reach half the threshold, and the oos score must
        not beat the best.
        """
        alternatives = tuple(candidates[:5])
        if not candidates:
            return Decision("decline", (), 0.0, alternatives)
        best = candidates[0]
        if oos_confidence > best.confidence:
            return Decision("decline", (), best.confidence, alternatives)
        second = candidates[1] if len(candidates) > 1 else Candidate("", 0.0)
        close = best.confidence - second.confidence < self.clarify_margin
        unsure = close or best.confidence < self.decline
        floor = self.decline / 2
        # A second at half the threshold or more makes the best two reach
        # the threshold together.
        if unsure and second.confidence >= floor:
            third = [
                c
                for c in candidates[2:3]
                if best.confidence - c.confidence < 2 * self.clarify_margin
                and c.confidence >= floor
            ]
            return Decision(
                "clarify",
                tuple(c.intent for c in [best, second, *third]),
                best.confidence,
                alternatives,
            )
        if best.confidence < self.decline:
            return Decision("decline", (), best.confidence, alternatives)
        return Decision("answer", (best.intent,), best.confidence, alternatives)
