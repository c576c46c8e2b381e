"""Conflict warnings for training phrases: advice before a phrase does harm.

A phrase can pull questions away from the right answer in two ways, and
:func:`phrase_conflicts` finds both without touching the database:

- **near duplicate**: it nearly repeats a phrase of *another* intent (the
  rapidfuzz token-sort ratio of the two matching forms, see
  :func:`matching_form`, is at least ``NEAR_DUPLICATE``);
- **model elsewhere**: the model in use answers it with another intent,
  confidently (at least ``CONFIDENT``).

Warnings never block a save; the studio shows them while the editor types,
and imports or bulk pastes can call the same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process

from veiviser.content import KnowledgeBase
from veiviser.nlu import NluModel
from veiviser.text import fold, normalize, tokenize

# Token-sort ratio (0-100) from which two phrases count as near duplicates.
NEAR_DUPLICATE = 85.0
# Model confidence from which "the model sends it elsewhere" is worth a word.
CONFIDENT = 0.6
# Phrases checked per call: a pasted list longer than this is cut, and the
# caller says so.
MAX_CHECKED = 200
MAX_PHRASE_CHARS = 500

Kind = Literal["near_duplicate", "model_elsewhere"]


@dataclass(frozen=True)
class PhraseWarning:
    """One piece of advice about one phrase.

    Attributes:
        phrase: the phrase as the editor typed it.
        kind: ``near_duplicate`` or ``model_elsewhere``.
        other_intent: the intent the phrase collides with.
        other_title: that intent's title.
        score: similarity in per cent (near duplicate) or the model's
            confidence in per cent (model elsewhere), rounded.
        other_phrase: the near-duplicate phrase of the other intent.
    """

    phrase: str
    kind: Kind
    other_intent: str
    other_title: str
    score: int
    other_phrase: str | None = None


# Cached: every keystroke compares against every phrase of the base, and the
# phrases rarely change between two keystrokes.
@lru_cache(maxsize=100_000)
def matching_form(text: str) -> str:
    """The form phrases are compared in: normalised, æ/ø/å folded, words only.

    ``matching_form("Hvor mye er kontingenten??") == "hvor mye er kontingenten"``
    and ``lønn``, ``loenn`` and ``lonn`` compare equal.
    """
    return " ".join(fold(token) for token in tokenize(normalize(text)))


def split_phrases(text: str) -> list[str]:
    """The phrases of a typed or pasted block: one per line, blanks dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def phrase_conflicts(
    phrases: Sequence[str],
    intent_id: str,
    kb: KnowledgeBase,
    model: NluModel | None,
    *,
    near_duplicate: float = NEAR_DUPLICATE,
    confident: float = CONFIDENT,
) -> list[PhraseWarning]:
    """Warnings for phrases meant for ``intent_id`` (which may not exist yet).

    Args:
        phrases: the phrases to check; only the first ``MAX_CHECKED`` are,
            each cut at ``MAX_PHRASE_CHARS``.
        intent_id: the intent the phrases are for; its own phrases never
            count as duplicates.
        kb: the knowledge base to compare with (drafts included: a draft
            becomes active with one click).
        model: the model in use, or None to skip the model check.
        near_duplicate: the similarity (0-100) that counts as a near duplicate.
        confident: the confidence (0-1) from which the model's other intent
            is reported.

    Returns:
        The warnings, in the order of the phrases; per phrase at most one
        near duplicate (the closest) and one model warning.
    """
    checked = [p[:MAX_PHRASE_CHARS] for p in phrases if p.strip()][:MAX_CHECKED]
    if not checked:
        return []
    titles = {intent.id: intent.title for intent in kb.intents}
    duplicates = _near_duplicates(checked, intent_id, kb, near_duplicate)
    elsewhere = _model_elsewhere(checked, intent_id, titles, model, confident)
    warnings: list[PhraseWarning] = []
    for index, phrase in enumerate(checked):
        found = duplicates.get(index)
        if found is not None:
            other_intent, other_phrase, score = found
            warnings.append(
                PhraseWarning(
                    phrase,
                    "near_duplicate",
                    other_intent,
                    titles[other_intent],
                    score,
                    other_phrase,
                )
            )
        if index in elsewhere:
            other_intent, confidence = elsewhere[index]
            warnings.append(
                PhraseWarning(
                    phrase,
                    "model_elsewhere",
                    other_intent,
                    titles.get(other_intent, other_intent),
                    confidence,
                )
            )
    return warnings


def _near_duplicates(
    phrases: list[str], intent_id: str, kb: KnowledgeBase, cutoff: float
) -> dict[int, tuple[str, str, int]]:
    others = [
        (intent.id, phrase)
        for intent in kb.intents
        if intent.id != intent_id
        for phrase in intent.phrases
    ]
    if not others:
        return {}
    queries = [matching_form(p) for p in phrases]
    choices = [matching_form(phrase) for _, phrase in others]
    scores = process.cdist(
        queries, choices, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff
    )
    found: dict[int, tuple[str, str, int]] = {}
    for index, row in enumerate(scores):
        if not queries[index]:
            continue  # punctuation or emoji only: nothing to compare
        best = int(np.argmax(row))
        if row[best] >= cutoff:
            other_intent, other_phrase = others[best]
            found[index] = (other_intent, other_phrase, round(float(row[best])))
    return found


def _model_elsewhere(
    phrases: list[str],
    intent_id: str,
    titles: dict[str, str],
    model: NluModel | None,
    confident: float,
) -> dict[int, tuple[str, int]]:
    if model is None:
        return {}
    found: dict[int, tuple[str, int]] = {}
    for index, scores in enumerate(model.scores(phrases)):
        if not scores.candidates:
            continue
        best = scores.candidates[0]
        if best.intent == intent_id or best.intent not in titles:
            continue
        if best.confidence >= confident and best.confidence > scores.oos:
            found[index] = (best.intent, round(best.confidence * 100))
    return found
