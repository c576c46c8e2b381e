"""Cost of content care: conflict warnings per keystroke, and intent health.

    python benchmarks/content_care.py                 # demo KB and synthetic KB
    python benchmarks/content_care.py --skip-health   # warnings only

Warnings: the median of repeated calls of ``phrase_conflicts`` for one typed
phrase and for a pasted block of 50, with a model fitted on the base (the
n-gram model, no encoder; the check costs one batch classification either
way). Health: one ``compute_health`` on the demo base (5 folds), and the
phrase-overlap part alone on the synthetic base of 300 intents x 40 phrases
(its O(phrases²) comparison is what grows fastest).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from veiviser.content import KnowledgeBase
from veiviser.content.yaml_io import load_knowledge_base
from veiviser.nlu import TrainingConfig, examples_from_kb
from veiviser.nlu.model import fit
from veiviser.service.conflicts import matching_form, phrase_conflicts
from veiviser.service.health import _overlaps, compute_health

sys.path.insert(0, str(Path(__file__).parent))
from live_edit import synthetic_kb

DEMO = Path(__file__).resolve().parent.parent / "src" / "veiviser" / "demo" / "kb"
TYPED = "hvor mange feriedager har jeg som lærling"


def _median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def warnings_cost(name: str, kb: KnowledgeBase) -> None:
    examples = examples_from_kb(kb)
    started = time.perf_counter()
    model = fit(examples, None, TrainingConfig())
    print(f"{name}: {len(examples)} phrases, model fitted in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    target = kb.intents[0].id
    pasted = [e.text + " i dag" for e in examples[:50]]
    one = _median_ms(lambda: phrase_conflicts([TYPED], target, kb, model), 9)
    block = _median_ms(lambda: phrase_conflicts(pasted, target, kb, model), 5)
    print(f"  warnings, one phrase: {one:.1f} ms; a paste of 50: {block:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-health", action="store_true")
    args = parser.parse_args()
    demo = load_knowledge_base(DEMO)
    synthetic = synthetic_kb()
    warnings_cost("demo", demo)
    warnings_cost("synthetic", synthetic)
    if args.skip_health:
        return
    started = time.perf_counter()
    report = compute_health(demo, None)
    method = report["method"]
    print(f"demo health ({method['folds']} folds, {method['max_iter']} iterations, "
          f"no encoder): {time.perf_counter() - started:.1f} s, "
          f"{len(report['confused'])} confused pairs, "
          f"{len(report['too_few'])} intents under 25 phrases")  # fmt: skip
    active = synthetic.active_intents()
    forms = {i.id: [matching_form(p) for p in i.phrases] for i in active}
    started = time.perf_counter()
    _overlaps(active, forms)
    print(f"synthetic overlap check ({sum(map(len, forms.values()))} phrases): "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
