"""The decision rule: answer, ask which topic, or decline."""

from __future__ import annotations

import pytest

from veiviser.nlu.decision import Candidate, Policy

POLICY = Policy(decline=0.6, clarify_margin=0.08)


def candidates(*pairs: tuple[str, float]) -> list[Candidate]:
    return [Candidate(intent, confidence) for intent, confidence in pairs]


def test_a_confident_best_is_answered():
    decision = POLICY.decide(candidates(("ferie", 0.9), ("sykdom", 0.05)), 0.05)
    assert (decision.kind, decision.intents) == ("answer", ("ferie",))


def test_oos_above_the_best_declines():
    decision = POLICY.decide(candidates(("ferie", 0.4), ("sykdom", 0.1)), 0.5)
    assert decision.kind == "decline"
    assert decision.intents == ()


def test_two_close_candidates_are_offered_even_above_the_threshold():
    decision = POLICY.decide(
        candidates(("faktura", 0.47), ("kontingent_pris", 0.45)), 0.0
    )
    assert (decision.kind, decision.intents) == (
        "clarify",
        ("faktura", "kontingent_pris"),
    )


def test_two_candidates_that_together_pass_the_threshold_are_offered():
    # Neither alone reaches 0.6 and they are 0.16 apart: a decline would send
    # away a member whose question is about one of these two.
    decision = POLICY.decide(
        candidates(("kontakt", 0.53), ("advokathjelp", 0.37), ("kurs", 0.02)), 0.05
    )
    assert (decision.kind, decision.intents) == ("clarify", ("kontakt", "advokathjelp"))


def test_a_third_candidate_is_offered_only_when_near_the_best():
    near = POLICY.decide(
        candidates(("ferie", 0.40), ("sykdom", 0.31), ("overtid", 0.30)), 0.0
    )
    far = POLICY.decide(
        candidates(("ferie", 0.56), ("sykdom", 0.31), ("overtid", 0.30)), 0.0
    )
    assert near.intents == ("ferie", "sykdom", "overtid")
    assert far.intents == ("ferie", "sykdom")


@pytest.mark.parametrize(
    "pairs",
    [
        # The second is under half the threshold: nothing to offer.
        (("ferie", 0.55), ("sykdom", 0.25)),
        # A close second under half the threshold: still nothing to offer.
        (("ferie", 0.33), ("sykdom", 0.29)),
        # Only one candidate.
        (("ferie", 0.5),),
    ],
)
def test_a_weak_best_without_a_strong_second_is_declined(pairs):
    decision = POLICY.decide(candidates(*pairs), 0.0)
    assert decision.kind == "decline"


def test_a_best_above_the_threshold_with_a_distant_second_is_answered():
    decision = POLICY.decide(candidates(("ferie", 0.62), ("sykdom", 0.36)), 0.0)
    assert (decision.kind, decision.intents) == ("answer", ("ferie",))


def test_no_candidates_declines():
    assert POLICY.decide([], 0.0).kind == "decline"
