"""Query encoding: the vectors of query texts through the on-disk cache of one encoder, one
encoding at a time per encoder, and a background thread that encodes ahead for bulk matching."""
from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Iterator

import numpy as np

from .cache import VectorCache
from .encoders import Encoder
from .text import MAX_TEXT, clean

# One lock per encoder object, kept while the object lives (weak keys: a freed encoder takes its
# lock with it, and a new object never inherits an old one's).
_LOCKS: weakref.WeakKeyDictionary[Encoder, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def encoder_lock(encoder: Encoder) -> threading.RLock:
    """The lock of one encoder object, the same for every user of it: one encoding at a time (an
    encoding already uses every core)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(encoder)
        if lock is None:
            lock = _LOCKS[encoder] = threading.RLock()
        return lock


def query_text(text: str) -> str:
    """What a query is encoded from: its first MAX_TEXT characters as `clean` leaves them (so width
    and punctuation never matter; the text itself when cleaning leaves nothing)."""
    return clean(text[:MAX_TEXT]) or text[:MAX_TEXT]


class QueryEncoder:
    """Query vectors of one encoder, through its vector cache: only unseen texts are encoded. The
    cache is opened on first use (in the cache folder of that moment)."""

    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.lock = encoder_lock(encoder)
        self.last_encoded = 0  # texts the last encoding call had to encode (not cached)
        self._cache: VectorCache | None = None

    def _opened(self) -> VectorCache:
        """The vector cache (call with `lock` held)."""
        if self._cache is None:
            self._cache = VectorCache(self.encoder.name, self.encoder.dim)
        return self._cache

    def encode(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Query vectors of texts (`query_text` of each)."""
        prepped = [query_text(t) for t in texts]
        with self.lock:
            # one or a few texts (a suggestion being typed): the new vectors are written later, in a
            # batch, not on the answer's path
            vecs, self.last_encoded = self._opened().encode(prepped, self.encoder.encode_queries, role="query",
                                                            on_batch=on_batch, defer=len(prepped) <= 8)
            return vecs

    def stream(self, texts: list[str], batch: int = 64) -> Iterator[tuple[list[int], np.ndarray, int]]:
        """Yield (row numbers, query vectors, newly encoded) batch by batch while a background thread
        encodes the next batches: bulk matching overlaps encoding (the encoder's C engine runs
        without the GIL). Cached texts come first. Sets `last_encoded` when done."""
        prepped = [query_text(t) for t in texts]
        q: queue.Queue = queue.Queue(maxsize=4)
        stop = threading.Event()
        worker = threading.Thread(target=self._produce, args=(prepped, batch, q, stop), name="indicode-encode",
                                  daemon=True)
        worker.start()
        encoded = 0
        try:
            while True:
                item = q.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                encoded += item[2]
                yield item
        finally:  # also when the consumer stops early: let the encoder thread finish its batch and end
            stop.set()
            while worker.is_alive():
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            self.last_encoded = encoded

    def _produce(self, prepped: list[str], batch: int, q: queue.Queue, stop: threading.Event) -> None:
        """The background thread of `stream`: batches into `q`, then `_END` (or the exception, raised
        by the consumer)."""
        try:
            with self.lock:
                for item in self._opened().encode_iter(prepped, self.encoder.encode_queries, "query", batch):
                    if stop.is_set():
                        return
                    q.put(item)
            q.put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)


_END = object()
