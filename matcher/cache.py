"""On-disk cache of query vectors, one SQLite file per encoder, so that a second run over the same
or a grown document encodes only the texts it has not seen.

A single suggestion does not write: its vectors wait in memory and are written in one transaction
by a background thread when enough have gathered (and at exit), so no commit sits on the answer's
path. Bulk encoding writes
each batch as it goes. When the cache folder cannot be written the cache lives in memory only, with
one warning line. All access goes through one connection behind a lock: threads may share a cache.

A cache nobody holds any more (the Linker a server reload replaced) writes its deferred vectors and
closes its files at once; the ones still alive at exit are written by one exit hook that keeps only
weak references, so no cache is kept alive until exit by being registered.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import sqlite3
import sys
import threading
import weakref
from pathlib import Path

import numpy as np

from .encoders import encoder_slug

FLUSH_AT = 64  # deferred vectors written together once this many have gathered
# At most this many vectors are kept (about 1.5 KB each): a server answers any text a page sends, so
# the cache must not grow with them without end. Past the cap new vectors are simply not kept.
MAX_VECTORS = 500_000


def user_cache() -> Path:
    """indicode's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "indicode"


def cache_dir() -> Path:
    """Where query vectors are cached: $INDICODE_CACHE_DIR, else the user cache."""
    return Path(os.environ.get("INDICODE_CACHE_DIR") or user_cache())


# every cache still alive, for the exit hook; weak, so a dropped cache is freed (and closed) at once
_LIVE: weakref.WeakSet[VectorCache] = weakref.WeakSet()


@atexit.register
def _flush_live() -> None:
    """At exit, write the deferred vectors of every cache still alive."""
    for cache in list(_LIVE):
        cache.flush()


class VectorCache:
    def __init__(self, encoder_name: str, dim: int, folder: Path | None = None):
        folder = folder or cache_dir()
        digest = hashlib.sha1(encoder_name.encode()).hexdigest()[:8]
        self.path = folder / f"vectors-{encoder_slug(encoder_name)}-{digest}.sqlite"
        self.dim = dim
        self._lock = threading.RLock()
        self._pending: dict[str, np.ndarray] = {}
        self._write_lock = threading.Lock()  # one writer at a time, on its own connection
        self._writer: sqlite3.Connection | None = None
        self.flusher: threading.Thread | None = None  # the last background write
        self._mem: dict[str, np.ndarray] | None = None  # the cache when the folder cannot be written
        self._con: sqlite3.Connection | None = None  # None: vectors kept in memory only (`_mem`)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.path, check_same_thread=False)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
            self._con.commit()
            self._stored = self._con.execute("SELECT max(rowid) FROM vec").fetchone()[0] or 0  # cheap bound
        except (OSError, sqlite3.Error) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            print(f"indicode: warning: cannot write the vector cache in {folder} ({why}); "
                  "vectors are kept in memory for this run only", file=sys.stderr)
            self._con, self._mem = None, {}
        _LIVE.add(self)

    def close(self) -> None:
        """Write the deferred vectors and close the cache's files; it then keeps vectors in memory."""
        self.flush()
        with self._write_lock, self._lock:
            for con in (self._con, self._writer):
                if con is not None:
                    con.close()
            self._con = self._writer = None
            # vectors put after the flush above (another thread) stay usable from memory
            self._memory().update(self._pending)
            self._pending.clear()

    def __del__(self) -> None:
        # the last reference is gone: nothing is lost, and no file stays open (the connections sit in
        # reference cycles of their own, which the Linker's gc.freeze would otherwise keep for ever)
        try:
            self.close()
        except Exception:  # noqa: BLE001 - a half-made cache, or interpreter shutdown: nothing to save
            pass

    @staticmethod
    def key(role: str, text: str) -> str:
        return hashlib.sha1(f"{role}\x00{text}".encode()).hexdigest()

    def _memory(self) -> dict[str, np.ndarray]:
        """The vectors kept in memory, which hold them all once the cache has no file (`_con` None)."""
        if self._mem is None:
            self._mem = {}
        return self._mem

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            con = self._con
            store = self._memory() if con is None else self._pending
            out = {k: store[k] for k in keys if k in store}
            if con is None:
                return out
            rest = [k for k in keys if k not in out]
            for i in range(0, len(rest), 500):
                chunk = rest[i : i + 500]
                q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})"
                for k, blob in con.execute(q, chunk):
                    v = np.frombuffer(blob, dtype=np.float32)
                    if v.shape[0] == self.dim:
                        out[k] = v
            return out

    def put_many(self, items: dict[str, np.ndarray], defer: bool = False) -> None:
        """Store vectors: now, or (`defer`) with the next batch of FLUSH_AT."""
        with self._lock:
            if self._con is None:
                mem = self._memory()
                room = MAX_VECTORS - len(mem)
                mem.update(list(items.items())[: max(room, 0)])
                return
            room = MAX_VECTORS - self._stored - len(self._pending)
            if room <= 0:
                return
            self._pending.update(list(items.items())[:room])
            if defer and len(self._pending) >= FLUSH_AT and not (self.flusher and self.flusher.is_alive()):
                self.flusher = threading.Thread(target=self.flush, name="indicode-cache-write", daemon=True)
                self.flusher.start()
        if not defer:
            # outside `_lock`: flush takes `_write_lock` before `_lock`, as the background writer does
            self.flush()

    def flush(self) -> None:
        """Write the pending vectors on the writer connection, while readers go on reading (WAL);
        they stay readable from memory until written. A full disk loses only the cache, with one
        warning line."""
        with self._write_lock:
            with self._lock:
                if self._con is None or not self._pending:
                    return
                batch = dict(self._pending)
            try:
                if self._writer is None:
                    self._writer = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
                with self._writer:
                    self._writer.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                             [(k, np.asarray(v, np.float32).tobytes()) for k, v in batch.items()])
            except sqlite3.Error as exc:
                with self._lock:
                    print(f"indicode: warning: cannot write the vector cache {self.path} ({exc}); "
                          "vectors are kept in memory for this run only", file=sys.stderr)
                    self._mem = dict(self._pending)
                    self._con = None
                    self._pending.clear()
                return
            with self._lock:
                for k in batch:
                    self._pending.pop(k, None)
                self._stored += len(batch)

    def encode(self, texts: list[str], encode_fn, role: str = "query", batch: int = 64,
               on_batch=None, defer: bool = False) -> tuple[np.ndarray, int]:
        """Vectors of texts (in order), encoding only the unseen ones, in batches; returns
        (vectors, number newly encoded). `on_batch(n)` is called after each encoded batch; `defer`
        leaves the writing of new vectors to a later batch (see `put_many`)."""
        done = 0
        out = np.zeros((len(texts), self.dim), np.float32)
        for chunk_ids, vecs, new in self.encode_iter(texts, encode_fn, role, batch, defer):
            out[chunk_ids] = vecs
            done += new
            if on_batch and new:
                on_batch(new)
        return out, done

    def encode_iter(self, texts: list[str], encode_fn, role: str = "query", batch: int = 64,
                    defer: bool = False):
        """Yield (row numbers, their vectors, newly encoded) batch by batch, the cached rows first, so a
        consumer can match one batch while the next is encoded."""
        keys = [self.key(role, t) for t in texts]
        have = self.get_many(sorted(set(keys)))
        cached = [i for i, k in enumerate(keys) if k in have]
        if cached:
            yield cached, np.stack([have[keys[i]] for i in cached]), 0
        rows_of: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if k not in have:
                rows_of.setdefault(k, []).append(i)
        todo = list(rows_of)
        text_of = {keys[rows[0]]: texts[rows[0]] for rows in rows_of.values()}
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            vecs = encode_fn([text_of[k] for k in chunk])
            self.put_many(dict(zip(chunk, vecs, strict=True)), defer=defer)
            ids = [r for k in chunk for r in rows_of[k]]
            yield ids, np.stack([v for k, v in zip(chunk, vecs, strict=True) for _ in rows_of[k]]), len(chunk)
