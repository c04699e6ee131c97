"""Candidate generation: which catalogue names a query is scored against, given its collaborators
(the vector index, the prepared names with their character index) and the codes learned links
point to.

A small catalogue is scanned whole. Otherwise the candidates are the union of the K_EACH nearest
names by vector (FAISS), the K_EACH most similar by characters (`candidates.CharIndex`, exact top by
`fuzz.ratio`), and every spelling of the codes given (a reviewer's decision for the text, the codes
near learned texts point to).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np

from .features import Query
from .names import NameTable
from .vector_index import VectorIndex

K_EACH = 64  # candidates: the K nearest names by vector and the K most similar by characters
# up to this many names every name is scored: about what the K + K candidates cost, so the cost per
# query grows smoothly with the catalogue (no jump where the candidate path starts)
FULL_SCAN_MAX = 2 * K_EACH


class CandidateGenerator:
    """Row ids of the names to score for a query (rows of the vector index and of the name table)."""

    def __init__(self, index: VectorIndex, table: NameTable, full_scan_max: int = FULL_SCAN_MAX):
        self.index, self.table = index, table
        self.all_vecs = index.vectors() if len(index.names) <= full_scan_max else None  # the whole scan

    def __call__(self, q: Query, qvec: np.ndarray, codes: Iterable[str] = ()) -> dict[int, float]:
        """Candidate row ids with their vector similarity to the query, in the order found: by
        vector, by characters, then the spellings of `codes` (every one of them is among them)."""
        if self.all_vecs is not None:
            return dict(enumerate((self.all_vecs @ qvec).tolist()))
        sims, ids = self.index.search(qvec[None, :], K_EACH)
        out = {int(i): float(s) for s, i in zip(sims[0], ids[0], strict=True) if i >= 0}
        rows = [i for i, _ in self.table.chars.top(q.canon, self.table.canon, K_EACH)]
        rows += [i for code in codes for i in self.ids_of(code)]
        for i in rows:
            if i not in out:
                out[i] = float(self.index.index.reconstruct(i) @ qvec)
        return out

    def ids_of(self, code: str) -> list[int]:
        """Row ids of every spelling of a code, ascending (looked up, not scanned: asked for each code
        a learned text points to, on every query)."""
        pos = self._code_pos.get(code)
        if pos is None:
            return []
        order, starts = self._rows_by_code
        return sorted(int(i) for i in order[starts[pos]:starts[pos + 1]])

    @functools.cached_property
    def _rows_by_code(self) -> tuple[np.ndarray, np.ndarray]:
        """Row ids grouped by code position, and where each code's group starts (built once)."""
        code_of = np.asarray(self.table.code_of)
        order = np.argsort(code_of, kind="stable")
        starts = np.searchsorted(code_of[order], np.arange(len(self.table.code_list) + 1))
        return order, starts

    @functools.cached_property
    def _code_pos(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.table.code_list)}
