"""Learned links as evidence: the same text and class get the reviewer's decision; other texts only
a signal the model weighs, which never accepts on its own."""
import pytest

from conftest import SEED
from indicode.bulk import read_all
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import NIL
from indicode.matcher import policy
from indicode.matcher.learned import LearnedLinks, Link
from indicode.matcher.linker import Linker
from indicode.matcher.results import Verdict
from workspace_fixtures import teach


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
                          Link("任务达标完成情况", "12", "112000272"), Link("x", "11", "999")], {"112000272"})
    assert links.decision("办件率 ", "11") == "112000272" and links.decision("办件率", "12") is None
    assert links.decision("会议室租赁次数", "11") == NIL and links.decision("x", "11") is None  # unknown code dropped
    ev, q = links.evidence("任务达标完成度")
    assert set(ev) == {"112000272"} and 0.75 < ev["112000272"]["learned_sim"] < 1.0 and q["learned_nil"] == 0.0
    ev, q = links.evidence("会议室租赁数")
    assert q["learned_nil"] > 0.8 and "112000272" not in ev
    # a short learned text is near only to short texts
    assert links.evidence("办公设备正常运行率") == ({}, {"learned_nil": 0.0, "learned_nil_same": 0.0})


def test_near_identical_texts_take_a_decisions_evidence_strongly():
    """The same text up to years, titles, places and numbers: `learned_same` for the code decided
    (however far the texts are by characters), `learned_nil_same` for "no code fits"; evidence only,
    the decision stays keyed by the text itself."""
    from indicode.matcher.learned import near_key

    links = LearnedLinks([Link("2025年度宣传册印刷数量", "11", "111000240"), Link("海珠区充电桩巡查次数", "11", NIL)])
    ev, q = links.evidence("2026年度宣传册印刷数量", near_key("2026年度宣传册印刷数量"))
    assert ev["111000240"]["learned_same"] == 1.0 and q["learned_nil_same"] == 0.0
    ev, q = links.evidence("越秀区充电桩巡查次数", near_key("越秀区充电桩巡查次数"))
    assert q["learned_nil_same"] == 1.0 and not any(f["learned_same"] for f in ev.values())
    ev, q = links.evidence("宣传册发放数量", near_key("宣传册发放数量"))
    assert not any(f["learned_same"] for f in ev.values()) and q["learned_nil_same"] == 0.0
    assert links.decision("2026年度宣传册印刷数量", "11") is None  # not a decision
    assert near_key("按时完成率") != near_key("及时(按期)完工率")  # the same meaning is not the same text


@pytest.mark.slow
def test_one_learned_link_creates_no_new_accept_in_the_seeds(linker, tmp_catalogue, seed_items):
    """Learning `办件率 [11] -> 112000272` used to accept 任务达标完成率 for 办公设备正常运行率,
    活动成功举办率 and four more seed rows."""
    before = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index).suggest_many(seed_items)
    taught = teach(tmp_catalogue, [("办件率", "11", "112000272")])
    learned = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index, learned=taught)
    after = learned.suggest_many(seed_items)
    new = [(i[0], a.code) for i, b, a in zip(seed_items, before, after, strict=True)
           if a.decision == Verdict.ACCEPT and (b.decision != Verdict.ACCEPT or b.code != a.code)
           and a.reason != "learned"]
    assert new == []
    s = learned.suggest("办件率", "11")
    assert (s.decision, s.code, s.reason, s.top.score) == (Verdict.ACCEPT, "112000272", "learned", 1.0)
    assert all(c.score < 1.0 for c in s.candidates[1:])


def test_learned_nil_and_evidence_reach_the_suggestion(linker, tmp_catalogue):
    taught = teach(tmp_catalogue, [("公务用车租赁次数", "11", NIL), ("设备完好达标率", "12", "222004394")])
    learned = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index, learned=taught)
    nil = learned.suggest("公务用车租赁次数", "11")
    assert (nil.decision, nil.reason) == (Verdict.NO_MATCH, "learned")
    near = learned.suggest("公务用车租赁数", "11")
    assert near.top.features["learned_nil"] > 0.8 and near.reason == "score"
    other = learned.suggest("设备完好率", "12")
    c = next(c for c in other.candidates if c.code == "222004394")
    assert c.features["learned_sim"] > 0.5 and c.features["learned_votes"] > 0
    assert other.reason == "score"


def test_nearest_learned_texts_are_the_exact_top_by_ratio():
    """The character index gives the same nearest learned texts as scoring every text."""
    import random

    from rapidfuzz import fuzz, process

    from indicode.matcher.learned import MIN_SIM, NEAREST

    rng = random.Random(3)
    chars = "任务完成率及时验收合格满意度服务对象群众工作项目设备运行正常采购资金拨付补助人员数"
    texts = sorted({"".join(rng.choice(chars) for _ in range(rng.randint(3, 12))) for _ in range(3000)})
    links = LearnedLinks([Link(t, "11", "112000272" if i % 2 else NIL) for i, t in enumerate(texts)], {"112000272"})
    for _ in range(40):
        q = "".join(rng.choice(chars) for _ in range(rng.randint(2, 10)))
        want = process.extract(q, links.texts, scorer=fuzz.ratio, limit=NEAREST, score_cutoff=MIN_SIM * 100)
        got = [(i, s) for i, s in links._index.top(q, links.texts, NEAREST) if s >= MIN_SIM * 100]
        assert [(i, round(s, 3)) for _, s, i in want] == [(i, round(s, 3)) for i, s in got], q


@pytest.mark.slow
def test_learned_links_reorder_but_never_change_how_sure(linker, tmp_catalogue, seed_items):
    """Scores rest on the catalogue evidence alone, so the decision always agrees with the score shown
    (a learned NIL used to show 0.21 under a `review`); learned links only reorder, and an accept needs
    the catalogue's own top and no reviewer's "no code fits" on a nearer text. Three exceptions, each
    said in the suggestion: a generic code offered for review (reason `generic`), the catalogue's own
    top a reviewer took for a text written almost the same (reviewed, reason `similar`), and a
    reviewer's decision on a near-identical text (never no match, or no match for "no code fits")."""
    plain = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index)
    before = plain.suggest_many(seed_items)
    sampled = zip(seed_items[::7], before[::7], strict=True)
    taught = teach(tmp_catalogue, [(t, l2, NIL if i % 3 == 0 else b.top.code)
                                   for i, ((t, l2, _), b) in enumerate(sampled) if b.top])
    learned = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index, learned=taught)
    m = learned.model
    for item, b, a in zip(seed_items, before, learned.suggest_many(seed_items), strict=True):
        if a.reason in ("learned", "generic", "similar"):
            continue
        if a.top.features.get("learned_same") or a.top.features.get("learned_nil_same"):
            assert a.decision == policy.learned_verdict(a.decision, a.top.features), item
            continue
        own = {c.code: c.alone for c in b.candidates}
        assert all(abs(c.alone - own[c.code]) < 1e-9 for c in a.candidates if c.code in own), item
        level = (Verdict.ACCEPT if a.top.score >= m.accept else Verdict.REVIEW if a.top.score >= m.review
                 else Verdict.NO_MATCH)
        assert a.decision == level or (a.decision == Verdict.REVIEW and level == Verdict.ACCEPT), \
            (item, a.decision, a.top.score)
        if a.top.code != b.top.code or a.top.features["learned_nil"] > a.top.features["ratio"]:
            assert a.decision != Verdict.ACCEPT, item


def test_a_decision_reaches_the_near_identical_texts_of_other_documents(linker, tmp_catalogue):
    """A decision on 2025年度宣传册印刷数量 speaks for 2026年度宣传册印刷数量 (at least reviewed, its code
    first); "no code fits" for 2025年度海报张贴面积 makes 越秀区2026年海报张贴面积 no match."""
    from indicode.i18n import CHINESE, use_language
    from indicode.matcher.present import check_items, why

    plain = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index)
    taught = teach(tmp_catalogue, [("2025年度宣传册印刷数量", "11", "111000240"), ("2025年度海报张贴面积", "11", NIL)])
    learned = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index, learned=taught)
    before, after = plain.suggest("2026年度宣传册印刷数量", "11"), learned.suggest("2026年度宣传册印刷数量", "11")
    assert before.decision == Verdict.NO_MATCH
    assert (after.decision, after.code, after.reason) == (Verdict.REVIEW, "111000240", "score")
    assert after.top.score == pytest.approx(next(c.score for c in before.candidates if c.code == "111000240"), abs=0.02)
    with use_language(CHINESE):
        assert "审核人已为相近文本选定此编码" in why(after.top)
    poster = learned.suggest("越秀区2026年海报张贴面积", "11")
    assert poster.decision == Verdict.NO_MATCH and check_items(poster) == ["near text no code"]
    assert learned.suggest("宣传册发放数量", "11").decision == plain.suggest("宣传册发放数量", "11").decision


def test_the_catalogues_own_top_a_reviewer_took_for_an_almost_same_text_is_reviewed_not_dropped(linker,
                                                                                                  tmp_catalogue,
                                                                                                  tmp_path):
    """按时发放春节慰问金 taken for 113000306 (补助发放及时率, its catalogue top, scored under the review line):
    按时发放中秋慰问金, written almost the same, is reviewed with that code and says why, never accepted;
    not when a reviewer called a nearer text "no code fits", nor when the code they took is not the
    catalogue's own top."""
    from indicode.i18n import CHINESE, use_language
    from indicode.matcher.present import check_items, check_words

    asked = ("按时发放中秋慰问金", "", "")
    plain = Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index).suggest(*asked)
    assert (plain.decision, plain.top.code) == (Verdict.NO_MATCH, "113000306")

    import itertools

    fresh = itertools.count()

    def taught(*links):  # each in a workspace of its own
        return Linker(Catalogue.load(tmp_catalogue), linker.encoder, linker.model, linker.index,
                      learned=teach(tmp_catalogue, list(links), tmp_path / f"ws{next(fresh)}.sqlite"))

    s = taught(("按时发放春节慰问金", "", "113000306")).suggest(*asked)
    assert (s.decision, s.code, s.reason) == (Verdict.REVIEW, "113000306", "similar")
    assert plain.top.score <= s.top.score < linker.model.review  # reviewed for the reviewers' choice, not its score
    [item] = [c for c in check_items(s) if c.startswith("similar text")]
    with use_language(CHINESE):
        assert "审核人曾为写法几乎相同的文本选定此编码（相似度 0.78）" in check_words(item)
    guarded = taught(("按时发放春节慰问金", "", "113000306"), ("按时发放中秋慰问品", "", NIL)).suggest(*asked)
    assert guarded.decision == Verdict.NO_MATCH and guarded.reason != "similar"
    settled = taught(("按时发放春节慰问金", "", "113000306"), ("广州市越秀区2025年度按时发放中秋慰问金", "", NIL))
    assert settled.suggest(*asked).decision == Verdict.NO_MATCH  # a near-identical text was called "no code fits"
    elsewhere = taught(("按时发放春节慰问金", "", "113001668")).suggest(*asked)  # the catalogue's second
    assert elsewhere.top.code == "113001668" and elsewhere.decision == Verdict.NO_MATCH  # ranked first by them
