"""Language understanding: features, classifier, decision and evaluation."""

from veiviser.nlu.decision import Candidate, Decision, Policy
from veiviser.nlu.encoder import Encoder, load_encoder
from veiviser.nlu.model import (
    Example,
    NluModel,
    TrainingConfig,
    examples_from_kb,
    train,
)
from veiviser.nlu.persist import model_from_bytes, model_to_bytes

__all__ = [
    "Candidate",
    "Decision",
    "Encoder",
    "Example",
    "NluModel",
    "Policy",
    "TrainingConfig",
    "examples_from_kb",
    "load_encoder",
    "model_from_bytes",
    "model_to_bytes",
    "train",
]
