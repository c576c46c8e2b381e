"""``veiviser eval``: measure understanding on a test file or by cross-validation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import numpy as np

from veiviser.content import load_knowledge_base
from veiviser.content.model import OUT_OF_SCOPE
from veiviser.demo import KB_PATH
from veiviser.nlu.evaluation import EvalRow, evaluate, read_rows, training_examples
from veiviser.nlu.model import Example, examples_from_kb, in_scope_only, train
from veiviser.settings import Settings


def kb_source(kb: str) -> Path:
    """The path of a knowledge base argument (``demo`` is the built-in one)."""
    return KB_PATH if kb == "demo" else Path(kb)


@click.command("eval")
@click.option(
    "--train", "train_path", type=click.Path(dir_okay=False), help="Training JSONL."
)
@click.option(
    "--test", "test_path", type=click.Path(dir_okay=False), help="Test JSONL."
)
@click.option(
    "--dev",
    "dev_path",
    type=click.Path(dir_okay=False),
    help="Dev JSONL for the threshold.",
)
@click.option("--kb", help="Knowledge base: a YAML file or folder, or 'demo'.")
@click.option(
    "--folds", type=click.IntRange(2, 20), help="Cross-validate the knowledge base."
)
@click.option("--no-oos-train", is_flag=True, help="Leave oos rows out of training.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def eval_command(
    settings: Settings,
    train_path: str | None,
    test_path: str | None,
    dev_path: str | None,
    kb: str | None,
    folds: int | None,
    no_oos_train: bool,
    as_json: bool,
) -> None:
    """Measure understanding: in-scope accuracy, OOS recall, wrong answers."""
    from veiviser.cli.main import encoder_from

    if (train_path is None) == (kb is None):
        raise click.UsageError("Give exactly one of --train or --kb.")
    if test_path is None and folds is None:
        raise click.UsageError("Give --test, or --folds with --kb.")
    if folds is not None and kb is None:
        raise click.UsageError("--folds cross-validates a knowledge base; give --kb.")

    if kb is not None:
        examples = examples_from_kb(load_knowledge_base(kb_source(kb)))
    else:
        examples = training_examples(read_rows(train_path))
    if no_oos_train:
        examples = in_scope_only(examples)
    encoder = encoder_from(settings)
    dev = training_examples(read_rows(dev_path)) if dev_path else None

    started = time.perf_counter()
    if folds is not None:
        rows, decisions = _cross_validate(examples, encoder, settings.seed, folds)
    else:
        model = train(examples, encoder, dev=dev)
        rows = read_rows(test_path)
        decisions = model.classify_many([row.text for row in rows])
    report = evaluate(rows, decisions)
    report["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report))


def _cross_validate(examples: list[Example], encoder, seed: int, folds: int):
    rng = np.random.default_rng(seed)
    assignment = np.arange(len(examples)) % folds
    rng.shuffle(assignment)
    rows: list[EvalRow] = []
    decisions = []
    for fold in range(folds):
        train_rows = [e for e, f in zip(examples, assignment, strict=True) if f != fold]
        test_rows = [e for e, f in zip(examples, assignment, strict=True) if f == fold]
        model = train(train_rows, encoder)
        decisions.extend(model.classify_many([e.text for e in test_rows]))
        rows.extend(EvalRow(e.text, (e.intent,)) for e in test_rows)
    return rows, decisions


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:5.1f}"


def format_report(report: dict) -> str:
    """The report as a readable table."""
    keys = [
        "in_scope_accuracy",
        "oos_recall",
        "wrong_answer_rate",
        "clarify_rate",
        "clarify_hit_rate",
        "multi_recall",
        "macro_f1",
    ]
    lines = [f"{'metric':<20} {'all':>6}   n={report['n']}"]
    lines += [f"{key:<20} {_percent(report[key]):>6}" for key in keys]
    if report["by_tag"]:
        lines += ["", f"{'tag':<14} {'n':>4} {'in-scope':>9} {'oos':>6} {'wrong':>6}"]
        for tag, sub in report["by_tag"].items():
            accuracy = _percent(sub["in_scope_accuracy"])
            recall = _percent(sub["oos_recall"])
            wrong = _percent(sub["wrong_answer_rate"])
            lines.append(
                f"{tag:<14} {sub['n']:>4} {accuracy:>9} {recall:>6} {wrong:>6}"
            )
    if report["weakest_intents"]:
        lines += ["", "weakest intents (f1 / recall / n):"]
        for item in report["weakest_intents"]:
            f1, recall = _percent(item["f1"]), _percent(item["recall"])
            lines.append(f"  {item['intent']:<24} {f1} {recall} {item['n']:>4}")
    if report["confused_pairs"]:
        lines += ["", "most confused (labelled -> answered as):"]
        for pair in report["confused_pairs"]:
            answered = pair["answered_as"]
            label = "decline" if answered == OUT_OF_SCOPE else answered
            lines.append(f"  {pair['intent']:<24} -> {label:<24} {pair['count']:>4}")
    lines.append(f"\n{report['seconds']} s")
    return "\n".join(lines)
