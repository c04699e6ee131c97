"""Ranking: the candidates in the ranker's order, each with its score from the decision model.

The ranker orders (`raw`, learned evidence included); the decision model says how sure, on the
catalogue evidence alone (`alone`): learned links of other texts reorder codes, and only the
decision (`Linker._with_learned`, review or no match) weighs them, never an accept. A candidate's
score is capped at the score of the one ranked above it, so the list is also in the order of the
scores shown (ordering by the decision model's score instead cost 1.3 points of top-1 by source: it
weighs the match type and similarity for the decision, not for choosing between codes).
"""
from __future__ import annotations

from .learned import LEARNED_FEATURES, QUERY_FEATURES
from .model import ScoreModel
from .results import Candidate

MAX_MARGIN = 4.0  # margins beyond this say nothing more (and a lone candidate has this margin)
MAX_SCORE = 0.99  # shown at most (1.00 is kept for a reviewer's own decision); the decision uses the
                  # score before this cap, so an accept threshold above 0.99 stays meaningful


def without_learned(features: dict[str, float]) -> dict[str, float]:
    """A candidate's features on the catalogue evidence alone (the same dict when it has none)."""
    if not any(features.get(k) for k in (*LEARNED_FEATURES, *QUERY_FEATURES)):
        return features
    return {**features, **dict.fromkeys((*LEARNED_FEATURES, *QUERY_FEATURES), 0.0)}


def ranked(cands: list[Candidate], model: ScoreModel) -> list[Candidate]:
    """The candidates best first by `raw` (ties by code), each given `alone` and its capped `score`;
    the margin of a candidate is over the best other one, on the catalogue evidence alone."""
    alone = {c.code: without_learned(c.features) for c in cands}
    for c in cands:
        c.alone = c.raw if alone[c.code] is c.features else model.raw(alone[c.code])
    order = sorted(cands, key=lambda c: (-c.raw, c.code))
    by_alone = sorted((c.alone for c in cands), reverse=True)
    best = by_alone[0]
    second = by_alone[1] if len(by_alone) > 1 else best - MAX_MARGIN
    cap = 1.0
    for c in order:
        other = second if c.alone >= best else best
        c.score = cap = min(cap, model.calibrated(c.alone, min(c.alone - other, MAX_MARGIN),
                                                  c.features.get("object_partial", 0.0), alone[c.code]))
    return order


def shown(cands: list[Candidate]) -> list[Candidate]:
    """Scores as shown: at most MAX_SCORE, in the order of the list."""
    for c in cands:
        c.score = min(c.score, MAX_SCORE)
    return cands


def offered_first(cands: list[Candidate], first: Candidate) -> list[Candidate]:
    """`first` moved to the top (a generic code offered when no closer code fits), the others capped
    at its score, so the list still reads in the order of the scores shown."""
    rest = [c for c in cands if c is not first]
    for c in rest:
        c.score = min(c.score, first.score)
    return [first, *rest]
