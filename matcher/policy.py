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
    nor when the query reaches it as one of the instances its name lists through persons named by
    their work (补助对象（人员、企业…）数 for 救助站工作人员数: staff, not the persons aided), nor a
    count in person-times for a count of persons (驻场运营人次数 is not 驻场运营人员数), nor when a
    generic code stands in for a query of another level-1 class or of no class given (任务完成率, an
    output, for a 效益 indicator; a class read from the text is not given), nor a code of another
    class than the row is filed under unless the texts are the same (系统正常运行率 filed under 12 is
    not the class-22 code of that name without a person: the row or the code is misfiled). Each is a
    guess that two things are the same, and a wrong code costs a reviewer more than a question
    (DOMAIN.md)."""
    return (not features.get("object_partial") and not features.get("object_none") and not features.get("scope_staff")
            and not features.get("unit_differs")
            and not (features.get("head_generic") and not given_class_agrees(features))
            and not (class_filed_apart(features) and not features.get("exact")))


def given_class_agrees(features: dict[str, float]) -> bool:
    """The class the row gives (not one read from its text) is the code's, at level 1 at least."""
    return bool(features.get("class_same") or features.get("class_level1")) and not features.get("class_guessed")


def class_filed_apart(features: dict[str, float]) -> bool:
    """The row is filed under another class than the code's (a class read from the text files nothing)."""
    return bool(features.get("class_level1") or features.get("class_diff")) and not features.get("class_guessed")


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
    if features.get("learned_same"):
        return False  # a reviewer took this code for a near-identical text
    near_nil = features.get("learned_nil", 0.0) > features.get("ratio", 0.0)
    return near_nil or alone < best_alone


def top_verdict(score: float, features: dict[str, float], alone: float, best_alone: float,
                accept: float, review: float) -> Verdict:
    """The verdict of a top candidate, an accept demoted to review where learned links doubt it."""
    v = verdict(score, features, accept, review)
    if v == Verdict.ACCEPT and doubted_by_learned(features, alone, best_alone):
        return Verdict.REVIEW
    return v


def learned_verdict(v: Verdict, features: dict[str, float]) -> Verdict:
    """A top's verdict where reviewers decided a near-identical text (`learned.py`: the same text up
    to years, titles, places and numbers): the code they took is never "no match" (at least
    reviewed); "no code fits" for such a text makes it no match unless a reviewer also took this
    code for one (then a person decides)."""
    if features.get("learned_same"):
        return Verdict.REVIEW if v == Verdict.NO_MATCH or features.get("learned_nil_same") else v
    if features.get("learned_nil_same"):
        return Verdict.NO_MATCH
    return v


def fixed_by_learned(features: dict[str, float]) -> bool:
    """Reviewers decided a near-identical text: `learned_verdict` has settled the verdict."""
    return bool(features.get("learned_same") or features.get("learned_nil_same"))


def agreed_by_learned(features: dict[str, float], alone: float, best_alone: float) -> bool:
    """Whether reviewers took the catalogue's own top (no candidate scores higher on the catalogue
    evidence alone) for a text written almost the same as the query (`learned_sim`: at least
    `learned.MIN_SIM` by character ratio), nearer than any text they called "no code fits": such a
    top is reviewed, never left as no match (按时发放春节慰问金 learned, 按时发放中秋慰问金 asked). It
    never accepts."""
    if fixed_by_learned(features):  # a near-identical text's decision settles it (`learned_verdict`)
        return False
    sim = features.get("learned_sim", 0.0)
    return sim > 0.0 and sim > features.get("learned_nil", 0.0) and alone >= best_alone
