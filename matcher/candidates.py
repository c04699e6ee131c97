"""Character candidates from an inverted index: the names most similar to a query by `fuzz.ratio`,
without scoring every name.

`fuzz.ratio(a, b)` is 2·LCS(a, b) / (|a| + |b|), and the longest common subsequence is at most the
characters the two share counted with multiplicity, Σ min(count_a(ch), count_b(ch)). The index keys
each name by its characters with their occurrence number (率1, 率2 …), so one pass over the postings
of the query's keys gives that sum for every name, hence an upper bound of its ratio. The names with
the highest bounds are then scored exactly (rapidfuzz), and the search widens until no name outside
the scored ones can beat the k-th best: the result is the exact top k by ratio, at the cost of the
query's postings plus a few hundred ratio computations instead of one per catalogue name.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist


def keys_of(text: str) -> list[str]:
    """A text's characters with their occurrence number: 完成率率 -> 完1 成1 率1 率2."""
    seen: Counter = Counter()
    out = []
    for ch in text:
        seen[ch] += 1
        out.append(f"{ch}{seen[ch]}")
    return out


class CharIndex:
    """Postings of character keys over a list of (canonical) names."""

    def __init__(self, vocab: list[str], ptr: np.ndarray, ids: np.ndarray, lengths: np.ndarray):
        self.vocab = {k: i for i, k in enumerate(vocab)}
        self.vocab_list = vocab
        self.ptr, self.ids, self.lengths = ptr, ids, lengths

    @classmethod
    def build(cls, names: list[str]) -> CharIndex:
        postings: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            for k in keys_of(n):
                postings.setdefault(k, []).append(i)
        vocab = sorted(postings)
        sizes = np.array([len(postings[k]) for k in vocab], dtype=np.int64)
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        ids = np.fromiter((i for k in vocab for i in postings[k]), dtype=np.int32, count=int(ptr[-1]))
        lengths = np.array([len(n) for n in names], dtype=np.int32)
        return cls(vocab, ptr, ids, lengths)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"char_ptr": self.ptr, "char_ids": self.ids, "char_len": self.lengths}

    def shared(self, query: str) -> np.ndarray:
        """Σ min(count) of shared characters between the query and every name."""
        parts = [self.ids[self.ptr[t]: self.ptr[t + 1]] for t in (self.vocab.get(k) for k in keys_of(query))
                 if t is not None]
        if not parts:
            return np.zeros(len(self.lengths), dtype=np.int64)
        return np.bincount(np.concatenate(parts), minlength=len(self.lengths))

    def top(self, query: str, names: list[str], k: int, first: int = 256) -> list[tuple[int, float]]:
        """The k names with the highest `fuzz.ratio` to the query, as (row id, ratio 0..100), best first
        (ties by row id, as `rapidfuzz.process.extract` orders them)."""
        n = len(self.lengths)
        if not query or not n:
            return []
        shared = self.shared(query)
        bound = 200.0 * shared / np.maximum(len(query) + self.lengths, 1)
        m = min(max(first, 4 * k), n)
        while True:
            if m >= n:
                pick = np.arange(n)
                rest_best = -1.0
            else:
                part = np.argpartition(-bound, m - 1)
                pick, rest = part[:m], part[m:]
                rest_best = float(bound[rest].max())
            scores = cdist([query], [names[i] for i in pick], scorer=fuzz.ratio, dtype=np.float32, workers=1)[0]
            order = sorted(range(len(pick)), key=lambda j: (-scores[j], pick[j]))[:k]
            best = [(int(pick[j]), float(scores[j])) for j in order]
            kth = best[-1][1] if len(best) == k else 0.0
            # no unscored name can reach the k-th score (1e-3: float rounding of the bound); names
            # sharing no character score 0, so past them only the order of ties at 0 could change
            # (a query of characters the catalogue lacks would otherwise score every name)
            if m >= n or rest_best < kth - 1e-3 or rest_best <= 0:
                return best
            m = min(4 * m, n)
