"""The decision policy as plain functions: `may_accept`, the verdict by score and thresholds, and the
learned-evidence demotion. No encoder, no index."""
import pytest

from indicode.matcher.policy import doubted_by_learned, learned_verdict, may_accept, top_verdict, verdict
from indicode.matcher.results import Verdict

ACCEPT, REVIEW = 0.9, 0.5  # thresholds of a hand-made model


@pytest.mark.parametrize("blocker", ["object_partial", "object_none", "scope_staff", "unit_differs"])
def test_a_guess_that_two_things_are_the_same_is_never_accepted(blocker):
    assert may_accept({"class_same": 1.0, "object_full": 1.0})
    assert not may_accept({"class_same": 1.0, blocker: 1.0})
    assert may_accept({"class_same": 1.0, blocker: 0.0})  # a feature at 0 is no blocker


def test_a_scope_match_is_accepted_unless_it_names_staff():
    """补助对象（人员…）数 for 临时救助人数 may be accepted; for 救助站工作人员数 (staff) never."""
    assert may_accept({"class_same": 1.0, "scope": 1.0})
    assert not may_accept({"class_same": 1.0, "scope": 1.0, "scope_staff": 1.0})


@pytest.mark.parametrize("klass,ok", [({"class_same": 1.0}, True), ({"class_level1": 1.0, "exact": 1.0}, True),
                                      ({"class_diff": 1.0}, False), ({}, False),
                                      ({"class_same": 1.0, "class_guessed": 1.0}, False)])
def test_a_generic_code_needs_the_querys_own_level1_class(klass, ok):
    """…given by the row: a class read from the text is a guess."""
    assert may_accept({"head_generic": 1.0, **klass}) is ok
    assert may_accept({k: v for k, v in klass.items() if k != "class_diff"})  # a particular code is not held to it


@pytest.mark.parametrize("klass", [{"class_level1": 1.0}, {"class_diff": 1.0}])
def test_a_code_of_another_class_than_the_row_is_accepted_only_for_the_same_text(klass):
    """系统正常运行率 filed under 12 is accepted as the class-22 code of that very name (shown as a
    difference); a different text of another class is reviewed; a class read from the text files the
    row under nothing."""
    assert not may_accept({"object_full": 1.0, **klass})
    assert may_accept({"object_full": 1.0, "exact": 1.0, **klass})
    assert may_accept({"object_full": 1.0, "class_guessed": 1.0, **klass})


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


def test_a_decision_on_a_near_identical_text_is_never_no_match():
    """The code a reviewer took for a near-identical text is at least reviewed (an accept stays one);
    their "no code fits" makes it no match, unless one also took this code (then a person decides)."""
    same, nil = {"learned_same": 1.0}, {"learned_nil_same": 1.0}
    assert learned_verdict(Verdict.NO_MATCH, same) == Verdict.REVIEW
    assert learned_verdict(Verdict.ACCEPT, same) == Verdict.ACCEPT
    assert learned_verdict(Verdict.ACCEPT, nil) == Verdict.NO_MATCH
    assert learned_verdict(Verdict.REVIEW, nil) == Verdict.NO_MATCH
    assert learned_verdict(Verdict.ACCEPT, {**same, **nil}) == Verdict.REVIEW
    assert learned_verdict(Verdict.REVIEW, {"learned_sim": 0.9}) == Verdict.REVIEW  # mere nearness decides nothing
    # the reviewer agrees with the top: learned links changed it, but that is no doubt
    assert not doubted_by_learned({"ratio": 0.5, "learned_same": 1.0}, alone=1.0, best_alone=2.0)
