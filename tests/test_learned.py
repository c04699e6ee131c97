"""Learned links as evidence: the same text and class get the reviewer's decision; other texts only
a signal the model weighs, which never accepts on its own."""
import pytest

from conftest import SEED
from indicode.bulk import read_all
from indicode.catalogue.store import NIL, Catalogue, add_learned
from indicode.matcher.learned import LearnedLinks, Link
from indicode.matcher.linker import ACCEPT, NO_MATCH, Linker
from indicode.matcher.text import Canon


def _seed_items():
    rows, _ = read_all([SEED[k] for k in ("001", "002", "003", "004")], None)
    items = sorted({(r.name, r.level2, r.value) for r in rows if r.name.strip()})
    assert len(items) > 300
    return items


@pytest.fixture(scope="module")
def seed_items():
    return _seed_items()


def test_exact_decisions_and_evidence():
    links = LearnedLinks([Link("办件率", "11", "112000272"), Link("会议室租赁次数", "11", NIL),
                          Link("任务达标完成情况", "12", "112000272"), Link("x", "11", "999")], Canon(), {"112000272"})
    assert links.decision("办件率 ", "11") == "112000272" and links.decision("办件率", "12") is None
    assert links.decision("会议室租赁次数", "11") == NIL and links.decision("x", "11") is None  # unknown code dropped
    ev, nil = links.evidence("任务达标完成度")
    assert set(ev) == {"112000272"} and 0.5 < ev["112000272"]["learned_sim"] < 1.0 and nil == 0.0
    ev, nil = links.evidence("会议室租赁数")
    assert nil > 0.8 and "112000272" not in ev
    assert links.evidence("办公设备正常运行率") == ({}, 0.0)  # a short learned text is near only to short texts


def test_one_learned_link_creates_no_new_accept_in_the_seeds(linker, tmp_catalogue, seed_items):
    """Learning `办件率 [11] -> 112000272` used to accept 任务达标完成率 for 办公设备正常运行率,
    活动成功举办率 and four more seed rows."""
    before = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index).suggest_many(seed_items)
    add_learned(tmp_catalogue, [("办件率", "11", "112000272", "test", "test")])
    learned = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index)
    after = learned.suggest_many(seed_items)
    new = [(i[0], a.code) for i, b, a in zip(seed_items, before, after)
           if a.decision == ACCEPT and (b.decision != ACCEPT or b.code != a.code) and a.reason != "learned"]
    assert new == []
    s = learned.suggest("办件率", "11")
    assert (s.decision, s.code, s.reason, s.top.score) == (ACCEPT, "112000272", "learned", 1.0)
    assert all(c.score < 1.0 for c in s.candidates[1:])


def test_learned_nil_and_evidence_reach_the_suggestion(linker, tmp_catalogue):
    add_learned(tmp_catalogue, [("公务用车租赁次数", "11", NIL, "t", "t"),
                                ("设备完好达标率", "12", "222004394", "t", "t")])
    learned = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index)
    nil = learned.suggest("公务用车租赁次数", "11")
    assert (nil.decision, nil.reason) == (NO_MATCH, "learned")
    near = learned.suggest("公务用车租赁数", "11")
    assert near.top.features["learned_nil"] > 0.8 and near.reason == "score"
    other = learned.suggest("设备完好率", "12")
    c = next(c for c in other.candidates if c.code == "222004394")
    assert c.features["learned_sim"] > 0.5 and c.features["learned_votes"] > 0
    assert other.reason == "score"
