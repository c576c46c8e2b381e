"""From a member's text to what the features see.

Three views of one message: stems for word n-grams, folded and spell-corrected
tokens for character n-grams, and a repaired surface text for the dense
encoder: the message as written, case and punctuation kept (the encoder reads
both; only a message typed in capitals or Title Case is lower-cased), with
only typos fixed and ASCII spellings turned back into æ/ø/å where the training
phrases use them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from veiviser.text import calm_case, fold, normalize, stem, tokenize
from veiviser.text.spelling import SpellingCorrector
from veiviser.text.tokens import map_tokens


@dataclass(frozen=True)
class Analysed:
    """The views of one text that the features are computed from."""

    stems: str
    folded: str
    surface: str


class Analyser:
    """Analyses texts against the vocabulary of the training phrases."""

    def __init__(self, training_texts: Iterable[str]) -> None:
        surfaces: dict[str, Counter[str]] = defaultdict(Counter)
        tokens: list[str] = []
        for text in training_texts:
            for token in tokenize(normalize(text)):
                surfaces[fold(token)][token] += 1
                tokens.append(token)
        self.speller = SpellingCorrector(tokens)
        # The most common way the training phrases write each folded word.
        self._surface = {
            key: forms.most_common(1)[0][0] for key, forms in surfaces.items()
        }

    @classmethod
    def from_vocabulary(
        cls, surface: dict[str, str], counts: dict[str, int]
    ) -> Analyser:
        """Rebuild an analyser from a stored vocabulary."""
        analyser = cls.__new__(cls)
        analyser.speller = SpellingCorrector.from_counts(counts)
        analyser._surface = dict(surface)
        return analyser

    def vocabulary(self) -> tuple[dict[str, str], dict[str, int]]:
        """The stored form: folded word → surface form, and word frequencies."""
        return dict(self._surface), dict(self.speller.counts)

    def analyse(self, text: str) -> Analysed:
        """Return the three views of ``text``."""
        raw = tokenize(normalize(text))
        corrected = [self.speller.correct(token) for token in raw]
        stems = [fold(stem(self._surface.get(token, token))) for token in corrected]
        return Analysed(
            stems=" ".join(stems),
            folded=" ".join(corrected),
            surface=map_tokens(
                calm_case(normalize(text, casefold=False)), self._repair
            ),
        )

    def _repair(self, token: str) -> str:
        """The token as the training phrases spell it, or as typed if unchanged."""
        typed = token.casefold()
        known = self._surface.get(self.speller.correct(typed), typed)
        return token if known == typed else known
