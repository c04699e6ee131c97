"""The decision policy as plain functions: `may_accept`, the verdict by score and thresholds, and the
learned-evidence demotion. No encoder, no index."""
import pytest

from indicode.matcher.policy import doubted_by_learned, may_accept, top_verdict, verdict
from indicode.matcher.results import Verdict

ACCEPT, REVIEW = 0.9, 0.5  # thresholds of a hand-made model


@pytest.mark.parametrize("blocker", ["object_partial", "object_none", "scope", "unit_differs"])
def test_a_guess_that_two_things_are_the_same_is_never_accepted(blocker):
    assert may_accept({"class_same": 1.0, "object_full": 1.0})
    assert not may_accept({"class_same": 1.0, blocker: 1.0})
    assert may_accept({"class_same": 1.0, blocker: 0.0})  # a feature at 0 is no blocker


@pytest.mark.parametrize("klass,ok", [({"class_same": 1.0}, True), ({"class_level1": 1.0}, True),
                                      ({"class_diff": 1.0}, False), ({}, False)])
def test_a_generic_code_needs_the_querys_own_level1_class(klass, ok):
    assert may_accept({"head_generic": 1.0, **klass}) is ok
    assert may_accept(klass)  # a particular code is not held to it


def test_the_verdict_follows_the_thresholds_inclusively():
    assert verdict(ACCEPT, {}, ACCEPT, REVIEW) == Verdict.ACCEPT
    assert verdict(ACCEPT - 1e-9, {}, ACCEPT, REVIEW) == Verdict.REVIEW
    assert verdict(REVIEW, {}, ACCEPT, REVIEW) == Verdict.REVIEW
    assert verdict(REVIEW - 1e-9, {}, ACCEPT, REVIEW) == Verdict.NO_MATCH


def test_a_sure_guess_is_reviewed_and_a_weak_one_is_no_match():
    assert verdict(0.99, {"object_partial": 1.0}, ACCEPT, REVIEW) == Verdict.REVIEW
    assert verdict(0.2, {"object_partial": 1.0}, ACCEPT, REVIEW) == Verdict.NO_MATCH


def test_verdicts_are_the_machine_words():
    assert [str(v) for v in Verdict] == ["accept", "review", "no-match"]
    assert Verdict.NO_MATCH == "no-match" and {Verdict.ACCEPT: 1}.get("accept") == 1


def test_learned_links_doubt_an_accept_when_they_changed_the_top():
    assert doubted_by_learned({"ratio": 0.9}, alone=1.0, best_alone=2.0)
    assert not doubted_by_learned({"ratio": 0.9}, alone=2.0, best_alone=2.0)


def test_a_nearer_text_called_no_code_fits_doubts_an_accept():
    """Nearer than the code's own name, by character ratio; as near is no doubt."""
    assert doubted_by_learned({"ratio": 0.7, "learned_nil": 0.8}, alone=2.0, best_alone=2.0)
    assert not doubted_by_learned({"ratio": 0.8, "learned_nil": 0.8}, alone=2.0, best_alone=2.0)


def test_doubt_demotes_an_accept_to_review_and_nothing_else():
    doubt = {"ratio": 0.5, "learned_nil": 0.9}
    assert top_verdict(0.95, {"ratio": 0.5}, 2.0, 2.0, ACCEPT, REVIEW) == Verdict.ACCEPT
    assert top_verdict(0.95, doubt, 2.0, 2.0, ACCEPT, REVIEW) == Verdict.REVIEW
    assert top_verdict(0.95, {"ratio": 0.5}, 1.0, 2.0, ACCEPT, REVIEW) == Verdict.REVIEW
    assert top_verdict(0.6, doubt, 1.0, 2.0, ACCEPT, REVIEW) == Verdict.REVIEW
    assert top_verdict(0.3, doubt, 1.0, 2.0, ACCEPT, REVIEW) == Verdict.NO_MATCH  # never raised to review
