"""The demo knowledge base: complete, consistent and not copied from eval."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from veiviser.content import load_knowledge_base
from veiviser.demo import KB_PATH
from veiviser.text import normalize

MIN_PHRASES = 25
MIN_DECLINES = 150
OVERLAP_LIMIT = 85
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(KB_PATH)


@pytest.fixture(scope="module")
def topics(shared_dir: Path) -> list[dict]:
    return yaml.safe_load((shared_dir / "eval" / "topics.yaml").read_text())["topics"]


@pytest.fixture(scope="module")
def dev_texts(shared_dir: Path) -> list[str]:
    lines = (shared_dir / "eval" / "dev.jsonl").read_text(encoding="utf-8")
    return [json.loads(line)["text"].lower() for line in lines.splitlines() if line]


def test_every_topic_is_an_intent_with_its_title(kb, topics):
    for topic in topics:
        intent = kb.intent(topic["id"])
        assert intent.title == topic["title"]
        assert intent.group is not None


def test_handover_topics_are_marked(kb, topics):
    for topic in topics:
        assert kb.intent(topic["id"]).handover == bool(topic.get("handover"))


def test_every_intent_has_enough_phrases(kb):
    thin = {i.id: len(i.phrases) for i in kb.intents if len(i.phrases) < MIN_PHRASES}
    assert thin == {}


def test_enough_decline_examples(kb):
    assert len(kb.decline_examples) >= MIN_DECLINES


def test_no_phrase_in_two_intents(kb):
    owners: dict[str, set[str]] = {}
    for intent in kb.intents:
        for phrase in intent.phrases:
            owners.setdefault(normalize(phrase), set()).add(intent.id)
    for example in kb.decline_examples:
        owners.setdefault(normalize(example), set()).add("oos")
    shared = {text: ids for text, ids in owners.items() if len(ids) > 1}
    assert shared == {}


def test_no_phrase_repeated_within_an_intent(kb):
    for intent in kb.intents:
        counts = Counter(normalize(p) for p in intent.phrases)
        assert [text for text, n in counts.items() if n > 1] == [], intent.id


def _too_close(training: list[str], evaluation: list[str]) -> list[str]:
    scores = process.cdist(
        [t.lower() for t in training], evaluation, scorer=fuzz.ratio, workers=1
    )
    return [
        training[row]
        for row in range(len(training))
        if scores[row].max() >= OVERLAP_LIMIT
    ]


def test_no_training_text_is_close_to_an_evaluation_question(kb, dev_texts):
    training = [p for i in kb.intents for p in i.phrases] + kb.decline_examples
    too_close = _too_close(training, dev_texts)
    # Only our own text is shown (no locals, no fixture values), so a failure
    # does not teach the evaluation set.
    if too_close:
        pytest.fail(
            "training text too close to evaluation questions:\n" + "\n".join(too_close),
            pytrace=False,
        )


LOOKALIKES = Path(__file__).parent.parent / "benchmarks" / "data" / "lookalikes.jsonl"


def test_our_lookalike_questions_are_neither_training_nor_evaluation_text(
    kb, dev_texts
):
    # benchmarks/data/lookalikes.jsonl is our own check of questions that
    # borrow another topic's words; it measures, so it must not be trained on,
    # and it must not stand in for the evaluation questions either.
    rows = [json.loads(line) for line in LOOKALIKES.read_text().splitlines() if line]
    texts = [row["text"] for row in rows]
    topics = {i.id for i in kb.intents} | {"oos"}
    assert {row["intent"] for row in rows} <= topics
    training = {normalize(p) for i in kb.intents for p in i.phrases}
    training |= {normalize(d) for d in kb.decline_examples}
    trained_on = [t for t in texts if normalize(t) in training]
    too_close = _too_close(texts, dev_texts)
    if trained_on or too_close:
        pytest.fail(
            "look-alike questions in training or near evaluation:\n"
            + "\n".join(trained_on + too_close),
            pytrace=False,
        )


def test_every_button_points_to_an_existing_intent(kb):
    ids = {intent.id for intent in kb.intents}
    for intent in kb.intents:
        for button in intent.buttons:
            assert button.intent in ids


def test_every_link_is_well_formed(kb):
    for intent in kb.intents:
        for text in filter(None, [intent.answer, intent.personal_answer]):
            for label, target in LINK.findall(text):
                assert label.strip(), f"{intent.id}: link without text to {target}"
                assert re.match(
                    r"^(https://[a-z0-9.-]+\.example(/\S*)?|tel:\+?[0-9]+|mailto:\S+@\S+\.example)$",
                    target,
                ), f"{intent.id}: {target}"
