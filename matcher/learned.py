"""Reviewers' decisions (a workspace's decisions in force, as learned links) as the linker uses them.

- **Decisions**: the same text (as `clean` leaves it) in the same class gets the reviewer's decision
  as is: a code with `accept`, or NIL with `no-match`.
- **Near-identical texts**: a text that differs from a decided one only in what changes between
  documents (years, titles, place names, numbers and units: `text.near_text`) takes the decision's
  evidence strongly: `learned_same` for its code (a fixed ranker weight, `features.FIXED_WEIGHTS`,
  and never below review: `policy.learned_verdict`), `learned_nil_same` when it was "no code fits"
  (no match). Evidence only: the decision itself stays keyed by the text as `clean` leaves it.
- **Evidence**: for any other text a learned link is a signal, never an alias. The nearest learned
  texts of a code give that candidate `learned_sim` (character similarity of the texts as `clean`
  leaves them: alike in writing, not only in meaning, since reviewers take different codes of one
  measure for texts that only mean the same; the ratio falls with a difference in length, so a short
  text such as `办件率` is near only to texts about as short) and `learned_votes` (how many learned
  links of that code are near); the
  nearest learned NIL gives the query `learned_nil`. The ranker weighs `learned_sim` and
  `learned_votes` like any other feature, with weights fitted on labelled links each scored with the
  links of *other* sources as learned (`calibration.pair_table`): they reorder candidates; the
  decision model's learned part (`ScoreModel.learned_decide`, fitted the same way) may lift the top to
  review or drop it to no match (`Linker._with_learned`), and a suggestion is never accepted because of
  them; a near learned NIL turns an accept into a review (`policy.doubted_by_learned`).
"""
from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..catalogue.records import NIL, Learned
from .candidates import CharIndex
from .text import clean, near_text

LEARNED_FEATURES = ["learned_sim", "learned_votes", "learned_same"]  # per candidate code
QUERY_FEATURES = ["learned_nil", "learned_nil_same"]  # per query: the nearest "no code fits"
MIN_SIM = 0.75  # below this a learned text says nothing about the query (0.5 reordered tied generic codes
                # on the learning curve: 物业管理工作按时完成率 by a learned 按时完成率, docs/accuracy.md)
NEAREST = 32  # learned texts looked at per query (bounded time on a large review history)


@dataclass(frozen=True)
class Link:
    text: str
    level2: str
    code: str  # a catalogue code or NIL


def near_key(text: str) -> str:
    """What near-identical texts share: `text.near_text` as `clean` leaves it ('' for none). Not the
    canonical spelling: texts that only mean the same (按时完成率, 及时(按期)完工率) are not the same
    text, and reviewers take different codes of one measure for them (任务按时完成率, 项目完成及时率)."""
    t = near_text(text)
    return clean(t) if t else ""


class LearnedLinks:
    """The learned links of one catalogue, prepared once: exact decisions and a character index."""

    def __init__(self, links: list[Link], known=None):
        """Links to codes not in `known` (a container, when given: the catalogue's codes that may be
        suggested, asked code by code) are ignored: the catalogue they pointed into has changed, or
        a library disabled the code. Texts are compared as `clean` leaves them, not in their
        canonical spelling (see `near_key`)."""
        keep = [link for link in links if link.code == NIL or known is None or link.code in known]
        self.exact: dict[tuple[str, str], str] = {(clean(link.text), link.level2): link.code for link in keep}
        self.texts: list[str] = []
        self.codes: list[str] = []
        self.near: dict[str, dict[str, None]] = defaultdict(dict)  # near key -> the codes decided for it
        for (text, _), code in self.exact.items():
            if text:
                self.texts.append(text)
                self.codes.append(code)
        for link in keep:
            key = near_key(link.text)
            if key:
                self.near[key][self.exact[(clean(link.text), link.level2)]] = None

    @classmethod
    def of_records(cls, records: Iterable[Learned], *, known=None) -> LearnedLinks:
        """From stored decisions (`catalogue.records.Learned`: a workspace's decisions in force)."""
        return cls([Link(link.text, link.level2, link.code) for link in records], known)

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

    def evidence(self, qclean: str, qnear: str = "") -> tuple[dict[str, dict[str, float]], dict[str, float]]:
        """Per code, its learned features for this query (`LEARNED_FEATURES`); and the query's own
        (`QUERY_FEATURES`). `qclean`: the query as `clean` leaves it; `qnear`: its `near_key`."""
        per_code, nil = self._nearest(qclean)
        same = self.near.get(qnear, {}) if qnear else {}
        for code in same:
            if code != NIL:
                per_code.setdefault(code, dict.fromkeys(LEARNED_FEATURES, 0.0))["learned_same"] = 1.0
        return per_code, {"learned_nil": nil, "learned_nil_same": float(NIL in same)}

    def _nearest(self, qclean: str) -> tuple[dict[str, dict[str, float]], float]:
        """Per code, the similarity and votes of its nearest learned texts; the nearest NIL's."""
        if not self.texts or not qclean:
            return {}, 0.0
        best: dict[str, float] = defaultdict(float)
        votes: dict[str, int] = defaultdict(int)
        nil = 0.0
        for i, sim in self._index.top(qclean, self.texts, NEAREST):
            if sim < MIN_SIM * 100:
                break  # best first: the rest are farther still
            code, s = self.codes[i], sim / 100.0
            if code == NIL:
                nil = max(nil, s)
                continue
            best[code] = max(best[code], s)
            votes[code] += 1
        return ({c: {"learned_sim": best[c], "learned_votes": min(1.0, math.log1p(votes[c]) / math.log(4)),
                     "learned_same": 0.0} for c in best}, nil)
