"""On-disk cache of query vectors, one SQLite file per encoder, so that a second run over the same
or a grown document encodes only the texts it has not seen."""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np

from .encoders import encoder_slug


def user_cache() -> Path:
    """indicode's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "indicode"


def cache_dir() -> Path:
    """Where query vectors are cached: $INDICODE_CACHE_DIR, else the user cache."""
    return Path(os.environ.get("INDICODE_CACHE_DIR") or user_cache())


class VectorCache:
    def __init__(self, encoder_name: str, dim: int, folder: Path | None = None):
        folder = folder or cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"vectors-{encoder_slug(encoder_name)}-{hashlib.sha1(encoder_name.encode()).hexdigest()[:8]}.sqlite"
        self.dim = dim
        self._con = sqlite3.connect(self.path, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")

    @staticmethod
    def key(role: str, text: str) -> str:
        return hashlib.sha1(f"{role}\x00{text}".encode()).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})"
            for k, blob in self._con.execute(q, chunk):
                v = np.frombuffer(blob, dtype=np.float32)
                if v.shape[0] == self.dim:
                    out[k] = v
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._con:
            self._con.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                  [(k, np.asarray(v, np.float32).tobytes()) for k, v in items.items()])

    def encode(self, texts: list[str], encode_fn, role: str = "query", batch: int = 64,
               on_batch=None) -> tuple[np.ndarray, int]:
        """Vectors of texts (in order), encoding only the unseen ones, in batches; returns
        (vectors, number newly encoded). `on_batch(n)` is called after each encoded batch."""
        keys = [self.key(role, t) for t in texts]
        have = self.get_many(sorted(set(keys)))
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in have))
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            vecs = encode_fn(chunk)
            new = {self.key(role, t): v for t, v in zip(chunk, vecs)}
            self.put_many(new)
            have.update(new)
            if on_batch:
                on_batch(len(chunk))
        out = np.stack([have[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        return out, len(todo)
