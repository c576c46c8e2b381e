"""Each metric of ``veiviser eval`` on a small hand-computed example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veiviser.errors import EvaluationDataError
from veiviser.nlu.decision import Decision
from veiviser.nlu.evaluation import EvalRow, evaluate, read_rows


def answer(intent: str) -> Decision:
    return Decision("answer", (intent,), 0.9)


def decline() -> Decision:
    return Decision("decline", (), 0.1)


def clarify(*intents: str) -> Decision:
    return Decision("clarify", intents, 0.4)


def multi(a: str, b: str) -> Decision:
    return Decision("multi", (a, b), 0.8)


# Ten rows: six single in-scope, two oos, two double questions.
ROWS = [
    EvalRow("a1", ("ferie",), ("short",)),  # answered right
    EvalRow("a2", ("ferie",), ("short",)),  # answered as sykdom: wrong
    EvalRow("a3", ("sykdom",), ("typo",)),  # answered right
    EvalRow("a4", ("sykdom",), ("typo",)),  # clarified, sykdom offered: hit
    EvalRow("a5", ("pris",)),  # declined
    EvalRow("a6", ("pris",)),  # multi that includes it: right
    EvalRow("o1", ("oos",), ("short",)),  # declined: right
    EvalRow("o2", ("oos",)),  # answered ferie: wrong
    EvalRow("m1", ("pris", "ferie")),  # multi with both: found
    EvalRow("m2", ("pris", "sykdom")),  # answered pris only: not both, not wrong
]
DECISIONS = [
    answer("ferie"),
    answer("sykdom"),
    answer("sykdom"),
    clarify("ferie", "sykdom"),
    decline(),
    multi("pris", "ferie"),
    decline(),
    answer("ferie"),
    multi("pris", "ferie"),
    answer("pris"),
]


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate(ROWS, DECISIONS)


def test_in_scope_accuracy_counts_answer_and_multi_with_the_label(report):
    assert report["in_scope_accuracy"] == pytest.approx(3 / 6)  # a1, a3, a6


def test_oos_recall_counts_declines(report):
    assert report["oos_recall"] == pytest.approx(1 / 2)


def test_wrong_answer_rate_is_over_all_rows(report):
    assert report["wrong_answer_rate"] == pytest.approx(2 / 10)  # a2, o2


def test_clarify_rates(report):
    assert report["clarify_rate"] == pytest.approx(1 / 10)
    assert report["clarify_hit_rate"] == pytest.approx(1.0)


def test_multi_recall_needs_both_intents(report):
    assert report["multi_recall"] == pytest.approx(1 / 2)


def test_macro_f1_by_hand(report):
    # ferie: predicted for a1, a6? no: a6 counts as pris. Predictions of
    # ferie: a1 (hit), o2 (miss) -> precision 1/2; recall 1/2 -> f1 1/2.
    # sykdom: predicted a2 (miss), a3 (hit) -> p 1/2; recall 1/2 -> f1 1/2.
    # pris: predicted a6 (hit) -> p 1; recall 1/2 -> f1 2/3.
    assert report["macro_f1"] == pytest.approx((0.5 + 0.5 + 2 / 3) / 3)


def test_confused_pairs_name_truth_and_answer(report):
    pairs = {
        (p["intent"], p["answered_as"]): p["count"] for p in report["confused_pairs"]
    }
    assert pairs == {("ferie", "sykdom"): 1, ("oos", "ferie"): 1}


def test_metrics_per_tag(report):
    short = report["by_tag"]["short"]
    assert short["n"] == 3
    assert short["in_scope_accuracy"] == pytest.approx(1 / 2)
    assert short["oos_recall"] == pytest.approx(1.0)
    assert report["by_tag"]["typo"]["clarify_rate"] == pytest.approx(1 / 2)


def test_report_is_json_with_fractions(report):
    data = json.loads(json.dumps(report))
    for key in ("in_scope_accuracy", "oos_recall", "wrong_answer_rate", "macro_f1"):
        assert 0.0 <= data[key] <= 1.0
    assert data["n"] == 10


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        pytest.param("{not json", "not valid JSON", id="invalid-json"),
        pytest.param('["text"]', "expected a JSON object", id="array"),
        pytest.param('{"text": ""}', '"text" must be', id="empty-text"),
        pytest.param('{"text": "hei"}', 'expected "intent"', id="no-label"),
        pytest.param(
            '{"text": "hei", "intents": ["a"]}', "two or more", id="one-intent-list"
        ),
        pytest.param(
            '{"text": "hei", "intent": "a", "tags": "x"}', '"tags"', id="tags-string"
        ),
    ],
)
def test_malformed_eval_lines_name_file_and_line(
    tmp_path: Path, line: str, problem: str
):
    path = tmp_path / "test.jsonl"
    path.write_text('{"text": "ok", "intent": "a"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationDataError) as caught:
        read_rows(path)
    assert f"{path}:2" in caught.value.message
    assert problem in caught.value.message


def test_empty_eval_file_is_an_error(tmp_path: Path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(EvaluationDataError, match="no rows"):
        read_rows(path)
