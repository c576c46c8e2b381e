"""Saving and loading trained models as data with a format version.

A model is an ``.npz`` archive of plain arrays plus one JSON document; no
pickles, so loading a model never runs code, and a model made by an
incompatible version is refused with a clear message.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict

import numpy as np

from veiviser.errors import ModelVersionMismatch
from veiviser.nlu.analysis import Analyser
from veiviser.nlu.decision import Policy
from veiviser.nlu.encoder import Encoder
from veiviser.nlu.features import DenseSpace, Features, SparseSpace
from veiviser.nlu.model import Linear, Memory, NluModel, TrainingConfig

# 2: weights split by block, neighbour memory, temperature.
FORMAT_VERSION = 2


def model_to_bytes(model: NluModel) -> bytes:
    """Serialise a trained model."""
    surface, counts = model.analyser.vocabulary()
    meta = {
        "format_version": FORMAT_VERSION,
        "classes": model.classes,
        "policy": asdict(model.policy),
        "config": asdict(model.config),
        "encoder_name": model.encoder_name,
        "temperature": model.temperature,
        "stats": model.stats,
        "surface": surface,
        "counts": counts,
        "word_terms": model.features.word.terms,
        "char_terms": model.features.char.terms,
    }
    arrays = {
        "meta": np.frombuffer(
            json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8
        ),
        "sparse_weights": model.linear.sparse_weights,
        "bias": model.linear.bias,
        "word_idf": model.features.word.idf,
        "char_idf": model.features.char.idf,
    }
    if model.features.dense is not None:
        arrays["dense_mean"] = model.features.dense.mean
        arrays["dense_scale"] = model.features.dense.scale
    if model.linear.dense_weights is not None:
        arrays["dense_weights"] = model.linear.dense_weights
    if model.memory is not None:
        arrays["memory_vectors"] = model.memory.vectors
        arrays["memory_labels"] = model.memory.labels
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def model_from_bytes(data: bytes, encoder: Encoder | None) -> NluModel:
    """Load a model saved by :func:`model_to_bytes`.

    Args:
        data: the saved bytes.
        encoder: the encoder to use; must be the one the model was trained with.

    Raises:
        ModelVersionMismatch: the data is from another format version, or the
            model needs an encoder that is not given.
    """
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        meta = json.loads(archive["meta"].tobytes().decode())
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelVersionMismatch(
                f"The stored model has format version {version}; this veiviser "
                f"reads version {FORMAT_VERSION}. Retrain with `veiviser train`."
            )
        encoder_name = meta["encoder_name"]
        if encoder_name is not None and (
            encoder is None or encoder.name != encoder_name
        ):
            have = encoder.name if encoder else "none"
            raise ModelVersionMismatch(
                f"The stored model needs the encoder {encoder_name!r}; the active "
                f"encoder is {have!r}. Retrain with `veiviser train`."
            )
        files = set(archive.files)
        dense = None
        if "dense_mean" in files:
            dense = DenseSpace(archive["dense_mean"], archive["dense_scale"])
        memory = None
        dense_weights = archive["dense_weights"] if "dense_weights" in files else None
        if "memory_vectors" in files:
            memory = Memory(archive["memory_vectors"], archive["memory_labels"])
        features = Features(
            word=SparseSpace("word", meta["word_terms"], archive["word_idf"]),
            char=SparseSpace("char", meta["char_terms"], archive["char_idf"]),
            dense=dense,
        )
        return NluModel(
            analyser=Analyser.from_vocabulary(meta["surface"], meta["counts"]),
            features=features,
            classes=meta["classes"],
            linear=Linear(archive["sparse_weights"], dense_weights, archive["bias"]),
            memory=memory,
            policy=Policy(**meta["policy"]),
            temperature=float(meta["temperature"]),
            encoder_name=encoder_name,
            config=TrainingConfig(**meta["config"]),
            stats=meta["stats"],
            encoder=encoder if encoder_name else None,
        )
