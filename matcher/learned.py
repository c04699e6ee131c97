"""Reviewers' decisions (a workspace's decisions in force, as learned links) as the linker uses them.

- **Decisions**: the same text (as `clean` leaves it) in the same class gets the reviewer's decision
  as is: a code with `accept`, or NIL with `no-match`.
- **Evidence**: for any other text a learned link is a signal, never an alias. The nearest learned
  texts of a code give that candidate `learned_sim` (character similarity of the canonical texts,
  which already falls with a difference in length, so a short text such as `办件率` is near only to
  texts about as short) and `learned_votes` (how many learned links of that code are near); the
  nearest learned NIL gives the query `learned_nil`. The ranker weighs `learned_sim` and
  `learned_votes` like any other feature, with weights fitted on labelled links each scored with the
  links of *other* sources as learned (`calibration.pair_table`): they reorder candidates, never
  change a score (`rank.ranked`), and a suggestion is never accepted because of them; a
  near learned NIL turns an accept into a review (`policy.doubted_by_learned`).
"""
from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass

from ..catalogue.records import NIL
from .candidates import CharIndex
from .text import clean

LEARNED_FEATURES = ["learned_sim", "learned_votes"]  # per candidate code
MIN_SIM = 0.5  # below this a learned text says nothing about the query
NEAREST = 32  # learned texts looked at per query (bounded time on a large review history)


@dataclass(frozen=True)
class Link:
    text: str
    level2: str
    code: str  # a catalogue code or NIL


class LearnedLinks:
    """The learned links of one catalogue, prepared once: exact decisions and a character index."""

    def __init__(self, links: list[Link], canon, known=None):
        """`canon` folds a text to its canonical spelling; links to codes not in `known` (a
        container, when given: the catalogue's codes that may be suggested, asked code by code) are
        ignored: the catalogue they pointed into has changed, or a library disabled the code."""
        keep = [link for link in links if link.code == NIL or known is None or link.code in known]
        self.exact: dict[tuple[str, str], str] = {(clean(link.text), link.level2): link.code for link in keep}
        self.texts: list[str] = []
        self.codes: list[str] = []
        for (text, _), code in self.exact.items():
            c = canon(text, cleaned=True)
            if c:
                self.texts.append(c)
                self.codes.append(code)

    @classmethod
    def of_records(cls, records, canon, known=None) -> LearnedLinks:
        """From stored decisions (`catalogue.records.Learned`: a workspace's decisions in force)."""
        return cls([Link(link.text, link.level2, link.code) for link in records], canon, known)

    @functools.cached_property
    def _index(self) -> CharIndex:
        """The nearest learned texts of a query come from a character index (`candidates.CharIndex`:
        the exact top by `fuzz.ratio`), not from scoring every text: 5.1 -> 2.0 ms per suggestion
        with 5×10^4 learned links (`scripts/bench_learned.py`). Built on first use, so start-up
        (and a server's reload after each feedback) does not pay for it."""
        return CharIndex.build(self.texts)

    def __len__(self) -> int:
        return len(self.texts)

    def decision(self, text: str, level2: str) -> str | None:
        """The reviewer's decision for this very text and class (a code or NIL), else None."""
        return self.exact.get((clean(text), level2))

    def evidence(self, qcanon: str) -> tuple[dict[str, dict[str, float]], float]:
        """Per code, its learned features for this query; and the query's `learned_nil`."""
        if not self.texts or not qcanon:
            return {}, 0.0
        best: dict[str, float] = defaultdict(float)
        votes: dict[str, int] = defaultdict(int)
        nil = 0.0
        for i, sim in self._index.top(qcanon, self.texts, NEAREST):
            if sim < MIN_SIM * 100:
                break  # best first: the rest are farther still
            code, s = self.codes[i], sim / 100.0
            if code == NIL:
                nil = max(nil, s)
                continue
            best[code] = max(best[code], s)
            votes[code] += 1
        return ({c: {"learned_sim": best[c], "learned_votes": min(1.0, math.log1p(votes[c]) / math.log(4))}
                 for c in best}, nil)
