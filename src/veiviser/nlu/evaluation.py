"""Evaluation files and the metrics of ``veiviser eval``.

Every number has one definition, so that figures from different runs and
different systems can be compared:

- ``in_scope_accuracy``: single-intent in-scope rows whose decision is
  *answer* with the labelled intent, or *multi* that includes it.
- ``oos_recall``: ``oos`` rows whose decision is *decline*.
- ``wrong_answer_rate``: over all rows, those answered (answer or multi)
  with no correct intent, answered ``oos`` rows included.
- ``clarify_rate``: rows whose decision is *clarify*; ``clarify_hit_rate``:
  clarified in-scope rows whose labelled intent is among the offered ones.
- ``multi_recall``: two-question rows where the decision is *multi* holding
  both labelled intents.
- ``macro_f1``: mean over labelled in-scope intents of the F1 of answering
  that intent (a decline or clarification is no prediction).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from veiviser.content.model import OUT_OF_SCOPE
from veiviser.errors import EvaluationDataError
from veiviser.nlu.decision import Decision
from veiviser.nlu.model import Example

MAX_LINE_CHARS = 10_000


@dataclass(frozen=True)
class EvalRow:
    """One evaluation question: its text, labelled intents and tags."""

    text: str
    intents: tuple[str, ...]
    tags: tuple[str, ...] = field(default=())

    @property
    def is_oos(self) -> bool:
        return self.intents == (OUT_OF_SCOPE,)

    @property
    def is_multi(self) -> bool:
        return len(self.intents) > 1


def read_rows(path: str | Path) -> list[EvalRow]:
    """Read a JSONL evaluation or training file.

    Each line is ``{"text", "intent"}`` or ``{"text", "intents": [a, b]}``,
    with optional ``"tags"``. Blank lines are skipped.

    Raises:
        EvaluationDataError: the file is missing or a line is malformed; the
            message names the file and line.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationDataError(f"{path}: cannot read the file ({error})") from error
    rows = [
        _parse_line(path, number, line)
        for number, line in enumerate(lines, 1)
        if line.strip()
    ]
    if not rows:
        raise EvaluationDataError(f"{path}: the file holds no rows")
    return rows


def _parse_line(path: Path, number: int, line: str) -> EvalRow:
    where = f"{path}:{number}"
    if len(line) > MAX_LINE_CHARS:
        raise EvaluationDataError(
            f"{where}: the line is over {MAX_LINE_CHARS} characters"
        )
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise EvaluationDataError(f"{where}: not valid JSON ({error.msg})") from error
    if not isinstance(data, dict):
        raise EvaluationDataError(
            f"{where}: expected a JSON object, got {type(data).__name__}"
        )
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise EvaluationDataError(f'{where}: "text" must be a non-empty string')
    if "intents" in data:
        intents = data["intents"]
        if not (
            isinstance(intents, list)
            and len(intents) >= 2
            and all(isinstance(i, str) and i for i in intents)
        ):
            raise EvaluationDataError(
                f'{where}: "intents" must be a list of two or more intent ids'
            )
    elif isinstance(data.get("intent"), str) and data["intent"]:
        intents = [data["intent"]]
    else:
        raise EvaluationDataError(
            f'{where}: expected "intent" (a string) or "intents" (a list)'
        )
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise EvaluationDataError(f'{where}: "tags" must be a list of strings')
    return EvalRow(text, tuple(intents), tuple(tags))


def training_examples(rows: Sequence[EvalRow]) -> list[Example]:
    """Training rows from a JSONL file (multi-intent lines cannot train)."""
    return [Example(row.text, row.intents[0]) for row in rows if not row.is_multi]


def evaluate(rows: Sequence[EvalRow], decisions: Sequence[Decision]) -> dict:
    """Compute every metric, overall and per tag.

    Returns:
        A JSON-ready dict: the fractions defined in this module's docstring,
        ``n``, ``weakest_intents``, ``confused_pairs`` and ``by_tag``.
    """
    report = _metrics(rows, decisions)
    tags = sorted({tag for row in rows for tag in row.tags})
    report["by_tag"] = {}
    for tag in tags:
        pairs = [(r, d) for r, d in zip(rows, decisions, strict=True) if tag in r.tags]
        sub_rows, sub_decisions = zip(*pairs, strict=True)
        sub = _metrics(sub_rows, sub_decisions)
        sub.pop("weakest_intents")
        sub.pop("confused_pairs")
        report["by_tag"][tag] = sub
    return report


def _answered(decision: Decision) -> bool:
    return decision.kind in ("answer", "multi")


def _metrics(rows: Sequence[EvalRow], decisions: Sequence[Decision]) -> dict:
    single = [
        (r, d)
        for r, d in zip(rows, decisions, strict=True)
        if not r.is_multi and not r.is_oos
    ]
    oos = [(r, d) for r, d in zip(rows, decisions, strict=True) if r.is_oos]
    multi = [(r, d) for r, d in zip(rows, decisions, strict=True) if r.is_multi]
    clarified = [
        (r, d) for r, d in zip(rows, decisions, strict=True) if d.kind == "clarify"
    ]
    clarified_in = [(r, d) for r, d in clarified if not r.is_oos]

    correct_single = sum(_answered(d) and r.intents[0] in d.intents for r, d in single)
    wrong = sum(
        _answered(d) and (r.is_oos or not set(r.intents) & set(d.intents))
        for r, d in zip(rows, decisions, strict=True)
    )
    return {
        "n": len(rows),
        "in_scope_accuracy": _ratio(correct_single, len(single)),
        "oos_recall": _ratio(sum(d.kind == "decline" for _, d in oos), len(oos)),
        "wrong_answer_rate": _ratio(wrong, len(rows)),
        "clarify_rate": _ratio(len(clarified), len(rows)),
        "clarify_hit_rate": _ratio(
            sum(bool(set(r.intents) & set(d.intents)) for r, d in clarified_in),
            len(clarified_in),
        ),
        "multi_recall": _ratio(
            sum(
                d.kind == "multi" and set(r.intents) <= set(d.intents) for r, d in multi
            ),
            len(multi),
        ),
        **_per_intent(single, oos),
    }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _predicted(row: EvalRow, decision: Decision) -> str | None:
    if decision.kind == "answer":
        return decision.intents[0]
    if decision.kind == "multi":
        return (
            row.intents[0]
            if row.intents[0] in decision.intents
            else decision.intents[0]
        )
    return None


def _per_intent(single: list, oos: list) -> dict:
    truth_counts: Counter[str] = Counter(r.intents[0] for r, _ in single)
    predicted_counts: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    for row, decision in [*single, *oos]:
        predicted = _predicted(row, decision)
        if predicted is None:
            continue
        predicted_counts[predicted] += 1
        if predicted == row.intents[0]:
            hits[predicted] += 1
        else:
            confusions[(row.intents[0], predicted)] += 1
    per_intent = []
    for intent, n in truth_counts.items():
        precision = (
            hits[intent] / predicted_counts[intent] if predicted_counts[intent] else 0.0
        )
        recall = hits[intent] / n
        f1 = (
            2 * precision * recall / (precision + recall) if precision + recall else 0.0
        )
        per_intent.append(
            {
                "intent": intent,
                "f1": f1,
                "precision": precision,
                "recall": recall,
                "n": n,
            }
        )
    per_intent.sort(key=lambda item: (item["f1"], item["intent"]))
    macro = (
        sum(item["f1"] for item in per_intent) / len(per_intent) if per_intent else None
    )
    return {
        "macro_f1": macro,
        "weakest_intents": per_intent[:10],
        "confused_pairs": [
            {"intent": truth, "answered_as": predicted, "count": count}
            for (truth, predicted), count in sorted(
                confusions.items(), key=lambda kv: (-kv[1], kv[0])
            )[:10]
        ],
    }
