"""Query encoding without the real encoder: the lock that lives with an encoder object, the cache,
and the background thread of `QueryEncoder.stream`."""
import gc
import threading

import numpy as np
import pytest

from indicode.matcher import encoding
from indicode.matcher.encoding import QueryEncoder, encoder_lock, query_text
from indicode.matcher.text import MAX_TEXT
from test_vector_index import FakeEncoder


class CountingEncoder(FakeEncoder):
    def __init__(self, fail_after: int | None = None):
        super().__init__()
        self.calls, self.fail_after = [], fail_after

    def encode_queries(self, texts):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("encoder broke")
        self.calls.append(list(texts))
        return self._enc(texts)


def test_one_lock_per_encoder_object_gone_with_it():
    a, b = FakeEncoder(), FakeEncoder()
    assert QueryEncoder(a).lock is QueryEncoder(a).lock is encoder_lock(a)
    assert encoder_lock(a) is not encoder_lock(b)
    held = len(encoding._LOCKS)
    del a
    gc.collect()
    assert len(encoding._LOCKS) == held - 1  # no lock kept for a freed encoder (nor inherited by a new one)


def test_queries_are_encoded_once_as_cleaned():
    enc = CountingEncoder()
    qe = QueryEncoder(enc)
    v1 = qe.encode(["群众满意度(%)", "验收合格率"])
    assert qe.last_encoded == 2 and enc.calls == [["群众满意度", "验收合格率"]]
    v2 = qe.encode(["群众满意度（％）"])  # the same text once cleaned: from the cache
    assert qe.last_encoded == 0 and len(enc.calls) == 1 and np.allclose(v2[0], v1[0])
    assert query_text("x" * (MAX_TEXT + 50)) == "x" * MAX_TEXT and query_text("（）") == "（）"


def test_the_stream_yields_every_row_and_counts_what_it_encoded():
    enc = CountingEncoder()
    qe = QueryEncoder(enc)
    qe.encode(["t0"])
    texts = [f"t{i}" for i in range(10)]
    batches = list(qe.stream(texts, batch=4))
    assert batches[0][0] == [0] and batches[0][2] == 0  # cached rows first
    assert sorted(i for ids, _, _ in batches for i in ids) == list(range(10))
    assert qe.last_encoded == 9 and [len(c) for c in enc.calls[1:]] == [4, 4, 1]


def test_an_encoder_error_reaches_the_consumer_and_frees_the_lock():
    qe = QueryEncoder(CountingEncoder(fail_after=1))
    with pytest.raises(RuntimeError, match="encoder broke"):
        list(qe.stream([f"u{i}" for i in range(10)], batch=2))
    assert qe.lock.acquire(timeout=1)
    qe.lock.release()
    assert not [t for t in threading.enumerate() if t.name == "indicode-encode"]
