"""The component scores of one (query, catalogue name) pair, without the encoder: names prepared by
`features.name_info` over a small hand-made catalogue, queries as the linker makes them."""
import pytest

from indicode.matcher.features import FEATURES, CharWeights, Query, measure_heads, name_info, pair_features
from indicode.matcher.text import clean, kind_of, scope_of

NAMES = ["员工满意度", "群众满意度", "服务对象满意度", "任务完成率", "项目验收合格率", "采购时效", "安全事故发生率",
         "驻场运营人员数", "补助对象（人员、企业、特定群体等）数"]
WEIGHTS = CharWeights([clean(n) for n in NAMES])


def name(text: str, head: str, level2: str):
    return name_info(clean(text), head, level2, kind_of(text), 0.0, WEIGHTS, scope_of(text))


def query(text: str, level2: str = "", value: str = "") -> Query:
    canon = clean(text)
    return Query(text, canon, level2, kind_of(text, value), WEIGHTS.profile(canon))


def on(f: dict) -> set[str]:
    return {k for k, v in f.items() if v}


def test_the_catalogues_own_name_matches_in_every_component():
    f = pair_features(query("项目验收合格率", "12"), name("项目验收合格率", "验收合格率", "12"), 0.83)
    assert f["vec"] == 0.83  # the vector similarity is passed through, not recomputed
    assert (f["ratio"], f["exact"], f["cov_name"], f["cov_query"], f["suffix"]) == (1.0, 1.0, 1.0, 1.0, 1.0)
    # 项目 is a generic object: the name is the generic code of its class, not a particular object
    assert on(f) >= {"head_match", "head_generic", "generic_in_class", "class_same", "kind_agree"}
    assert not on(f) & {"object_full", "object_partial", "object_none", "class_diff", "kind_conflict", "scope"}
    assert set(FEATURES) - {"popularity", "learned_sim", "learned_votes", "learned_same"} <= set(f)


@pytest.mark.parametrize("given,signal", [("12", "class_same"), ("11", "class_level1"), ("1", "class_level1"),
                                          ("22", "class_diff"), ("", None)])
def test_class_agreement_is_one_of_three_signals(given, signal):
    """Same level-2 class, same level-1 class only (also when only the level-1 digit is given), or a
    different level-1 class; no class given says nothing."""
    f = pair_features(query("项目验收合格率", given), name("项目验收合格率", "验收合格率", "12"), 0.5)
    classes = {k for k in ("class_same", "class_level1", "class_diff") if f[k]}
    assert classes == ({signal} if signal else set())
    assert f["generic_in_class"] == float(given == "12")


def test_a_partly_shared_object_is_partial():
    """馆员 for 员工: 员 is shared, 工 is not."""
    f = pair_features(query("馆员满意度", "31"), name("员工满意度", "满意度", "31"), 0.9)
    assert f["object_partial"] == 1.0 and f["object_full"] == 0.0 and f["object_none"] == 0.0
    assert 0.0 < f["mod_cov"] < 1.0 and f["cov_name"] < 1.0 and f["head_match"] == 1.0


def test_none_of_the_object_is_none():
    f = pair_features(query("审批时效", "13"), name("采购时效", "时效", "13"), 0.9)
    assert f["object_none"] == 1.0 and f["object_partial"] == 0.0 and f["mod_cov"] == 0.0


def test_a_count_against_a_rate_is_a_kind_conflict():
    f = pair_features(query("安全事故发生次数", "22", "0次"), name("安全事故发生率", "发生率", "22"), 0.9)
    assert f["kind_conflict"] == 1.0 and f["kind_agree"] == 0.0 and f["object_full"] == 1.0
    same = pair_features(query("安全事故发生率", "22"), name("安全事故发生率", "发生率", "22"), 0.9)
    assert same["kind_conflict"] == 0.0 and same["kind_agree"] == 1.0


def test_person_times_differ_from_persons():
    n = name("驻场运营人员数", "人员数", "11")
    assert pair_features(query("驻场运营人次数", "11"), n, 0.9)["unit_differs"] == 1.0
    assert pair_features(query("驻场运营人员数", "11"), n, 0.9)["unit_differs"] == 0.0


def test_a_generic_code_is_covered_by_its_head_alone():
    """服务对象 stands for whoever is served: 各单位满意度 covers all a query must cover of it."""
    f = pair_features(query("各单位满意度", "31"), name("服务对象满意度", "满意度", "31"), 0.7)
    assert f["cov_name"] == 1.0 and f["head_generic"] == 1.0 and f["generic_in_class"] == 1.0
    specific = pair_features(query("各单位满意度", "31"), name("群众满意度", "满意度", "31"), 0.7)
    assert specific["head_generic"] == 0.0 and specific["cov_name"] < 1.0


def test_an_instance_of_a_scope_list_reaches_the_generic_name():
    """补助对象（人员、企业…）数: a count of 人员 aided is in its scope; a count of staff (人员 without 补助)
    is not, and shares none of its object."""
    n = name("补助对象（人员、企业、特定群体等）数", "数", "11")
    aid = pair_features(query("特困人员补助数", "11"), n, 0.6)
    assert aid["scope"] == 1.0 and aid["mod_cov"] == 1.0 and aid["cov_name"] == 1.0
    staff = pair_features(query("服务人员数", "11"), n, 0.6)
    assert staff["scope"] == 0.0 and staff["object_none"] == 1.0


def test_measure_heads_start_at_a_word_boundary():
    """The head is the longest ending shared with other names that different characters precede."""
    canons = ["任务完成及时率", "项目完成及时率", "工作完成及时率", "培训完成率"]
    heads = measure_heads(canons)
    assert heads["任务完成及时率"] == "完成及时率" and heads["培训完成率"] == "成率"


def test_a_class_read_from_the_text_scores_like_a_given_one_but_is_marked():
    """No class given: the inferred class counts for the class signals, and `class_guessed` says so
    (the policy never takes it for a class the row gives)."""
    q = query("项目验收合格率")
    q.inferred = "12"
    f = pair_features(q, name("项目验收合格率", "验收合格率", "12"), 0.5)
    assert f["class_same"] == 1.0 and f["class_guessed"] == 1.0
    given = pair_features(query("项目验收合格率", "22"), name("项目验收合格率", "验收合格率", "12"), 0.5)
    assert given["class_diff"] == 1.0 and given["class_guessed"] == 0.0
    q2 = query("项目验收合格率", "1")  # a level-1 class given: the inferred level-2 class fills it in
    q2.inferred = "12"
    assert pair_features(q2, name("项目验收合格率", "验收合格率", "12"), 0.5)["class_same"] == 1.0


@pytest.mark.parametrize("text,staff", [("临时救助人数", False), ("特困人员救助供养人数", False),
                                        ("救助站工作人员数", True), ("补贴审核人员数", True),
                                        ("补助资金经办人员数", True)])
def test_persons_named_by_their_work_are_staff_not_those_aided(text, staff):
    """The scope of 补助对象（人员、企业…）数 is reached by both; only the staff count is flagged."""
    from indicode.matcher.text import Canon

    fold = Canon()
    n = name_info(fold("补助对象（人员、企业、特定群体等）数"), "数", "11", "count", 0.0, WEIGHTS,
                  scope_of("补助对象（人员、企业、特定群体等）数"), fold)
    canon = fold(text)
    f = pair_features(Query(text, canon, "11", kind_of(text), WEIGHTS.profile(canon)), n, 0.9)
    assert f["scope"] == 1.0 and f["scope_staff"] == float(staff), f


def test_person_times_of_a_scope_list_are_no_unit_difference():
    """A scope list's persons may be counted in 人次: in scope, 人次 is no different measure."""
    from indicode.matcher.text import Canon

    fold = Canon()
    n = name_info(fold("补助对象（人员、企业、特定群体等）数"), "数", "11", "count", 0.0, WEIGHTS,
                  scope_of("补助对象（人员、企业、特定群体等）数"), fold)
    canon = fold("临时救助人次数")
    f = pair_features(Query("临时救助人次数", canon, "11", "count", WEIGHTS.profile(canon)), n, 0.9)
    assert f["scope"] == 1.0 and f["unit_differs"] == 0.0
    staff = pair_features(query("驻场运营人次数", "11"), name("驻场运营人员数", "人员数", "11"), 0.9)
    assert staff["unit_differs"] == 1.0
