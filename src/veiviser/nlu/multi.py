"""Finding two questions in one message.

"Hva koster det, og får jeg rabatt på forsikring?" holds two questions;
"ferie og feriepenger" holds one. A message is split only where a new clause
starts: after a question mark or sentence end followed by more text, or at
"og"/"and"/"også"/"samt" when the words after it open a question of their own
and both sides are long enough to stand alone.
"""

from __future__ import annotations

import re

from veiviser.text import normalize

MIN_WORDS = 2

# Norwegian chat often drops the subject of a statement: "er medlem hos dere
# og har blitt syk, hva har jeg krav på?" is context, then one question. A
# clause opened by one of these verbs is a yes/no question only when a
# subject follows the verb: a pronoun ("har jeg", "er det") or a definite
# noun ("dekker forsikringen", "er kontingenten"). "er medlem", "har blitt
# syk", "er permittert" are statements.
_SUBJECT_VERBS = {
    "kan",
    "får",
    "må",
    "skal",
    "bør",
    "er",
    "har",
    "blir",
    "vil",
    "gjelder",
    "finnes",
    "dekker",
    "koster",
    "trenger",
    "hjelper",
}
# Words that open a question or a request in Bokmål, Nynorsk and English.
_OPENERS = _SUBJECT_VERBS | {
    "hva",
    "hvordan",
    "hvor",
    "hvorfor",
    "hvem",
    "hvilken",
    "hvilke",
    "når",
    "kva",
    "korleis",
    "kor",
    "kvifor",
    "kven",
    "kvar",
    "hjelp",
    "what",
    "how",
    "where",
    "why",
    "who",
    "when",
    "can",
    "do",
    "does",
    "is",
    "are",
    "will",
    "should",
    "could",
}
_SUBJECTS = {
    "jeg",
    "eg",
    "du",
    "han",
    "hun",
    "ho",
    "den",
    "det",
    "vi",
    "me",
    "dere",
    "de",
    "dei",
    "man",
    "en",
    "noen",
    "nokon",
    "noe",
    "noko",
    "alle",
    "min",
    "mitt",
    "mine",
    "dette",
    "disse",
    "dykk",
}
# Endings of a definite noun: -en, -et, -a, -ene, -ane.
_DEFINITE = re.compile(r"\w{2,}(?:en|et|a|ene|ane)$")
# A short second part that points back with one of these asks more about the
# first part's subject ("hva er feriepenger, og når får jeg dem?"): one
# question. A longer one names its own subject ("... og kan jeg trekke den fra
# på skatten?") and stays a question of its own.
_BACK_REFERENCES = {"dem", "den", "dei", "disse", "dette", "them", "it", "those"}
MAX_FOLLOW_UP_WORDS = 5
_JOINERS = r"(?:og|også|samt|and|plus|dessuten)"
_SENTENCE_END = re.compile(r"(?<=[?!.])\s+(?=\S)")
_JOIN = re.compile(rf"[,;]?\s+{_JOINERS}\s+", re.IGNORECASE)


def split_questions(text: str) -> list[str]:
    """Split ``text`` into at most two questions.

    Returns:
        Two parts when the message clearly holds two questions, otherwise a
        list with the whole text.
    """
    for splitter in (_split_sentences, _split_at_joiner):
        parts = splitter(text)
        if len(parts) == 2:
            return parts
    return [text]


def _words(part: str) -> list[str]:
    return re.findall(r"[^\W_]+", normalize(part))


def _split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    if len(parts) != 2:
        return [text]
    first, second = parts
    # A statement followed by a question is usually context, not a second
    # question: "Jeg er syk. Hva gjør jeg?" is one question.
    if not first.endswith("?"):
        return [text]
    if min(len(_words(first)), len(_words(second))) < MIN_WORDS:
        return [text]
    if _points_back(_words(second)):
        return [text]
    return parts


def _split_at_joiner(text: str) -> list[str]:
    matches = list(_JOIN.finditer(text))
    for match in matches:
        first, second = text[: match.start()].strip(), text[match.end() :].strip()
        first_words, second_words = _words(first), _words(second)
        if len(first_words) < MIN_WORDS or len(second_words) < MIN_WORDS:
            continue
        if _points_back(second_words):
            continue
        if _opens_question(second_words) and _is_question(first_words):
            return [first, second]
    return [text]


def _points_back(words: list[str]) -> bool:
    return len(words) <= MAX_FOLLOW_UP_WORDS and any(
        word in _BACK_REFERENCES for word in words
    )


def _is_question(words: list[str]) -> bool:
    return any(_opens_question(words[start:]) for start in range(min(3, len(words))))


def _opens_question(words: list[str]) -> bool:
    if not words or words[0] not in _OPENERS:
        return False
    if words[0] not in _SUBJECT_VERBS:
        return True
    following = words[1:2]
    return bool(following) and (
        following[0] in _SUBJECTS or bool(_DEFINITE.fullmatch(following[0]))
    )
