"""Ranking with a hand-made model and hand-made candidates: the ranker's order, scores on the
catalogue evidence alone, the margin, and the cap that keeps scores in the list's order."""
import math

import pytest

from indicode.matcher.model import ScoreModel
from indicode.matcher.rank import MAX_MARGIN, MAX_SCORE, offered_first, ranked, shown, without_learned
from indicode.matcher.results import Candidate


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def model(**kw) -> ScoreModel:
    """raw = vec + 2·learned_sim; score = sigmoid(raw alone + m·margin + 4·cov_name)."""
    base = dict(weights={"vec": 1.0, "learned_sim": 2.0}, bias=0.0, calib_a=1.0, calib_b=0.0, calib_m=0.0,
                accept=0.9, review=0.5, use_fixed=False, decide={"cov_name": 4.0})
    return ScoreModel(**{**base, **kw})


def cand(m: ScoreModel, code: str, **features) -> Candidate:
    return Candidate(code, code, code, "11", 0.0, m.raw(features), features)


def test_the_decision_model_never_reorders_and_the_cap_holds_the_order():
    """B's own score (cov_name pulls it up: sigmoid(1 + 4)) is above A's (sigmoid(2)): shown below A,
    it is capped at A's score."""
    m = model()
    a, b = cand(m, "A", vec=2.0), cand(m, "B", vec=1.0, cov_name=1.0)
    out = ranked([b, a], m)
    assert [c.code for c in out] == ["A", "B"]
    assert a.score == pytest.approx(sigmoid(2.0))
    assert sigmoid(1.0 + 4.0) > a.score and b.score == a.score  # capped


def test_a_score_below_the_one_above_is_kept():
    m = model()
    a, b = cand(m, "A", vec=2.0, cov_name=1.0), cand(m, "B", vec=1.0)
    ranked([a, b], m)
    assert (a.score, b.score) == (pytest.approx(sigmoid(6.0)), pytest.approx(sigmoid(1.0)))


def test_learned_evidence_reorders_but_never_makes_a_code_look_surer():
    """C leads on learned evidence (raw 2.5) but is scored on the catalogue evidence alone (0.5):
    its score, and so every score under it, is sigmoid(0.5)."""
    m = model()
    a, c = cand(m, "A", vec=2.0), cand(m, "C", vec=0.5, learned_sim=1.0)
    out = ranked([a, c], m)
    assert [x.code for x in out] == ["C", "A"]
    assert (c.raw, c.alone, a.alone) == (2.5, 0.5, 2.0)
    assert c.score == pytest.approx(sigmoid(0.5)) and a.score == c.score


def test_ties_in_raw_go_by_code():
    m = model()
    out = ranked([cand(m, "Z", vec=1.0), cand(m, "B", vec=1.0), cand(m, "M", vec=1.0)], m)
    assert [c.code for c in out] == ["B", "M", "Z"]


def test_the_margin_is_over_the_best_other_candidate():
    m = model(calib_m=1.0, decide={})
    a, b = cand(m, "A", vec=2.0), cand(m, "B", vec=1.5)
    ranked([a, b], m)
    assert a.score == pytest.approx(sigmoid(2.0 + 0.5)) and b.score == pytest.approx(sigmoid(1.5 - 0.5))
    lone = cand(m, "L", vec=1.0)
    ranked([lone], m)
    assert lone.score == pytest.approx(sigmoid(1.0 + MAX_MARGIN))
    far = [cand(m, "F", vec=20.0), cand(m, "G", vec=1.0)]
    ranked(far, m)
    assert far[0].score == pytest.approx(sigmoid(20.0 + MAX_MARGIN))  # margins beyond MAX_MARGIN say no more


def test_features_without_learned_evidence_are_kept_as_they_are():
    plain = {"vec": 1.0, "learned_sim": 0.0, "learned_nil": 0.0}
    assert without_learned(plain) is plain
    f = {"vec": 1.0, "learned_sim": 0.7, "learned_votes": 0.5, "learned_nil": 0.2}
    assert without_learned(f) == {"vec": 1.0, "learned_sim": 0.0, "learned_votes": 0.0, "learned_nil": 0.0,
                                  "learned_same": 0.0, "learned_nil_same": 0.0}
    assert without_learned({"vec": 1.0, "learned_same": 1.0})["learned_same"] == 0.0
    assert f["learned_sim"] == 0.7  # not changed in place


def test_scores_shown_stop_below_one():
    m = model()
    cs = shown(ranked([cand(m, "A", vec=9.0), cand(m, "B", vec=0.0)], m))
    assert cs[0].score == MAX_SCORE and cs[1].score == pytest.approx(sigmoid(0.0))


def test_an_offered_code_goes_first_and_the_list_still_reads_in_score_order():
    m = model()
    cs = ranked([cand(m, "A", vec=1.0), cand(m, "B", vec=0.5), cand(m, "G", vec=-1.0)], m)
    g = cs[2]
    own = g.score
    assert cs[0].score > own
    out = offered_first(cs, g)
    assert [c.code for c in out] == ["G", "A", "B"]
    assert out[0].score == own and all(c.score <= own for c in out[1:])
