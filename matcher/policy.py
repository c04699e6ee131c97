"""The decision policy: from a top candidate's score and features to accept / review / no-match.

Plain functions over features and scores (no encoder, no index), so each rule can be read and tested
on its own. The score decides by the model's two thresholds; `may_accept` keeps guesses that two
things are the same from being accepted without a person; learned links of other texts can only
raise a question (`doubted_by_learned`).
"""
from __future__ import annotations

from .results import Verdict


def may_accept(features: dict[str, float]) -> bool:
    """Whether a suggestion may be accepted without a person: not when the code names an object the
    query has only part of (员工 for 馆员, 制服采购 for 设备采购) or none of (采购时效 for 办文时效),
    nor when the query reaches it only as one of the instances its name lists (人员 for 补助对象（人员、
    企业…）: 服务人员 are staff, not beneficiaries), nor a count in person-times for a count of
    persons (驻场运营人次数 is not 驻场运营人员数), nor when a generic code stands in for a query of
    another level-1 class or of no class given (任务完成率, an output, for a 效益 indicator). Each is
    a guess that two things are the same, and a wrong code costs a reviewer more than a question
    (DOMAIN.md)."""
    return (not features.get("object_partial") and not features.get("object_none") and not features.get("scope")
            and not features.get("unit_differs")
            and not (features.get("head_generic") and not (features.get("class_same") or features.get("class_level1"))))


def verdict(score: float, features: dict[str, float], accept: float, review: float) -> Verdict:
    """A top candidate's verdict by its score (as shown: the catalogue evidence alone) and match type:
    accept at or above `accept` when it may be accepted at all, review at or above `review`."""
    if score >= accept and may_accept(features):
        return Verdict.ACCEPT
    return Verdict.REVIEW if score >= review else Verdict.NO_MATCH


def doubted_by_learned(features: dict[str, float], alone: float, best_alone: float) -> bool:
    """Whether learned links of other texts put an accept in question: they changed the top (another
    candidate scores higher on the catalogue evidence alone: `alone` below `best_alone`), or a
    reviewer called a text nearer to the query than the code's name (by character ratio) "no code
    fits"."""
    near_nil = features.get("learned_nil", 0.0) > features.get("ratio", 0.0)
    return near_nil or alone < best_alone


def top_verdict(score: float, features: dict[str, float], alone: float, best_alone: float,
                accept: float, review: float) -> Verdict:
    """The verdict of a top candidate, an accept demoted to review where learned links doubt it."""
    v = verdict(score, features, accept, review)
    if v == Verdict.ACCEPT and doubted_by_learned(features, alone, best_alone):
        return Verdict.REVIEW
    return v
