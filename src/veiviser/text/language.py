"""A cheap guess of the language a message is written in.

Good enough to filter the conversation log by language and to count English
questions; not a general language identifier.
"""

from __future__ import annotations

from veiviser.text.normalize import normalize
from veiviser.text.tokens import tokenize

_MARKERS = {
    "nn": {
        "eg",
        "ikkje",
        "kva",
        "korleis",
        "kvifor",
        "kven",
        "meg",
        "frå",
        "berre",
        "noko",
        "kan",
        "eit",
        "ein",
        "vere",
        "har",
        "skal",
        "òg",
        "mykje",
        "kor",
    },
    "nb": {
        "jeg",
        "ikke",
        "hva",
        "hvordan",
        "hvorfor",
        "hvem",
        "meg",
        "fra",
        "bare",
        "noe",
        "kan",
        "et",
        "en",
        "være",
        "har",
        "skal",
        "også",
        "mye",
        "hvor",
    },
    "en": {
        "i",
        "my",
        "the",
        "what",
        "how",
        "is",
        "do",
        "can",
        "you",
        "a",
        "to",
        "of",
        "and",
        "for",
        "when",
        "where",
        "who",
        "me",
        "are",
        "does",
    },
}
_ONLY = {
    lang: words - set().union(*(w for k, w in _MARKERS.items() if k != lang))
    for lang, words in _MARKERS.items()
}


def guess_language(text: str) -> str:
    """Return ``"nb"``, ``"nn"``, ``"en"`` or ``"und"`` (undetermined)."""
    tokens = tokenize(normalize(text))
    scores = {
        lang: sum(token in words for token in tokens) for lang, words in _ONLY.items()
    }
    best = max(scores, key=lambda lang: scores[lang])
    if scores[best] == 0:
        letters = set("".join(tokens))
        return "nb" if letters & set("æøå") else "und"
    return best
