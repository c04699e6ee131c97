"""Suggestions: ranking, decisions, invariances, candidate generation."""
import dataclasses
import json

import pytest
from typer.testing import CliRunner

from indicode.cli import app
from indicode.matcher.evaluate import with_model
from indicode.matcher.linker import Linker
from indicode.matcher.policy import may_accept
from indicode.matcher.present import suggestion_dict, why
from indicode.matcher.results import Verdict

ACCEPT, REVIEW, NO_MATCH = Verdict.ACCEPT, Verdict.REVIEW, Verdict.NO_MATCH

runner = CliRunner()


def test_satisfaction_query_gets_a_class_31_code_first(linker):
    s = linker.suggest("办事群众满意度", "31")
    assert s.top.level2 == "31" and "满意" in s.top.name
    assert s.decision in (ACCEPT, REVIEW)


def test_nothing_fits_means_no_match_naming_the_class(linker):
    s = linker.suggest("电子政务外网主骨干带宽", "11")
    assert s.decision == NO_MATCH and s.code == ""
    assert s.new_code_class == "11-数量指标"
    assert s.candidates  # alternatives are still shown


def test_exact_catalogue_name_is_accepted(linker):
    s = linker.suggest("项目验收合格率", "12", "100%")
    assert (s.decision, s.code) == (ACCEPT, "112001723")
    assert s.top.score > 0.95


def test_alias_spelling_finds_its_code(linker):
    s = linker.suggest("保障机构正常运转", "22")
    assert s.top.code == "222000929"


@pytest.mark.parametrize("a,b", [("群众满意度(%)", "群众满意度（％）"), ("验收合格率", " 验收合格率。"),
                                 ("帮扶解决困难件数（件）", "帮扶解决困难件数(件)")])
def test_width_and_punctuation_do_not_change_the_result(linker, a, b):
    sa, sb = linker.suggest(a, "31"), linker.suggest(b, "31")
    assert [(c.code, round(c.score, 6)) for c in sa.candidates] == [(c.code, round(c.score, 6)) for c in sb.candidates]
    assert sa.decision == sb.decision


def test_a_count_is_not_a_rate(linker):
    rate = linker.suggest("安全事故发生率", "22")
    assert rate.top.code == "222119160"  # 安全事故发生率
    count = linker.suggest("安全事故发生次数", "22", "0次")
    # the rate code scored for the count, whether or not it is among the first k
    q = linker.make_query("安全事故发生次数", "22", "0次")
    scored = linker.score(q, linker.encode_queries(["安全事故发生次数"])[0], must="222119160")
    c = next(c for c in scored if c.code == "222119160")
    assert c.features["kind_conflict"] == 1.0 and c.score < rate.top.score - 0.2
    assert not (count.decision == ACCEPT and count.code == "222119160")


def test_a_generic_code_is_covered_by_its_measure_head(linker):
    """服务对象 in 服务对象满意度 stands for whoever is served: a query need only cover 满意度."""
    generic = linker.suggest("各单位满意度", "31")
    assert generic.top.code == "331000551" and generic.top.features["cov_name"] == 1.0
    specific = linker.suggest("馆员满意度", "31")
    staff = next(c for c in specific.candidates if c.code == "331000588")  # 员工满意度
    assert staff.features["object_partial"] == 1.0 and staff.features["cov_name"] < 1.0


def test_a_partly_shared_object_is_never_accepted(linker):
    eager = with_model(linker, dataclasses.replace(linker.model, accept=0.0, review=0.0))
    partial = eager.suggest("租金支付及时率", "13", "100%")  # 合同支付及时率: 支付 shared, 租金 ≠ 合同
    assert partial.top.features["object_partial"] == 1.0 and partial.decision == REVIEW
    assert "对象仅部分相同" in why(partial.top)
    assert eager.suggest("验收合格率", "12").decision == ACCEPT


def test_class_is_a_soft_signal(linker):
    same = linker.suggest("验收合格率", "12")
    other = linker.suggest("验收合格率", "22")
    assert other.top.code == same.top.code == "112000287"  # a misfiled row still finds its code
    assert other.top.raw < same.top.raw and other.top.score <= same.top.score


def test_each_candidate_explains_itself(linker):
    s = linker.suggest("系统验收合格率", "12")
    c = s.top
    assert c.code == "112000287"
    assert set(c.features) >= {"vec", "ratio", "class_same", "kind_conflict"}
    assert "语义相似" in why(c) and "类别 12 一致" in why(c)
    d = suggestion_dict(s)
    assert d["code"] == "112000287" and d["candidates"][0]["why"] == why(c)


def test_scores_are_ordered_and_k_respected(linker):
    s = linker.suggest("任务完成率", "11", k=7)
    assert len(s.candidates) == 7
    assert all(a.score >= b.score for a, b in zip(s.candidates, s.candidates[1:], strict=False))
    assert all(0.0 <= c.score <= 1.0 for c in s.candidates)


def test_empty_text_is_no_match(linker):
    s = linker.suggest("（）", "11")
    assert s.decision == NO_MATCH and s.reason == "empty"


def test_candidate_union_path_agrees_with_full_scan(linker):
    """Large catalogues score only the K nearest by vector and by characters; on the seeds that
    must give the same leaders as scoring every name."""
    union = Linker(linker.cat, linker.encoder, linker.model, linker.index, full_scan_max=0)
    for text, cls in [("办事群众满意度", "31"), ("系统验收合格率", "12"), ("物业管理工作按时完成率", "13")]:
        a, b = linker.suggest(text, cls), union.suggest(text, cls)
        assert [c.code for c in a.candidates[:3]] == [c.code for c in b.candidates[:3]]


def test_suggest_cli_text_and_json():
    r = runner.invoke(app, ["suggest", "办事群众满意度", "--class", "31", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["candidates"][0]["class"] == "31" and d["decision"] in ("accept", "review")
    r = runner.invoke(app, ["suggest", "电子政务外网主骨干带宽", "--class", "11"])
    assert r.exit_code == 0 and "NO MATCH" in r.stdout and "11-数量指标" in r.stdout
    bad = runner.invoke(app, ["suggest", "x", "--class", "99"])
    assert bad.exit_code == 2 and "error: class 99: not a class" in bad.stderr


def test_candidates_are_in_score_order_over_all_seed_rows(linker):
    """One score per candidate: the list shown everywhere is ordered by it, and only a reviewer's
    own decision shows 1.00."""
    from conftest import SEED
    from indicode.bulk import read_all

    rows, _ = read_all(list(SEED.values()), None)
    items = sorted({(r.name, r.level2, r.value) for r in rows if r.name.strip()})
    for s in linker.suggest_many(items):
        scores = [c.score for c in s.candidates]
        assert scores == sorted(scores, reverse=True), s.text
        assert sum(round(x, 2) >= 1.0 for x in scores) <= (s.reason == "learned")
        d = suggestion_dict(s)
        assert [c["score"] for c in d["candidates"]] == sorted((c["score"] for c in d["candidates"]), reverse=True)


@pytest.mark.parametrize("text,cls,code", [
    ("特困人员救助供养人数", "11", "111000305"),  # 补助对象（人员、企业、特定群体等）数: 人员 is in its scope
    ("按期完工", "13", "113000207"),  # 任务按时完成率: 完工 = 完成, 按期完成 = 完成及时
    ("社会满意度", "31", None),  # 服务对象满意度 / 群众满意度: 社会 is "the public"
])
def test_instances_reach_their_generic_code(linker, text, cls, code):
    s = linker.suggest(text, cls)
    ok = {code} if code else {"331000551", "331003339"}
    assert s.top.code in ok and s.decision != NO_MATCH, (s.top.code, s.decision, s.top.score)


def test_candidates_keep_the_rankers_order(linker):
    """The ranker orders, the decision model says how sure: the list is in raw order and a score is
    capped at the one above it. A decision model that runs against the ranker (its slope on `raw`
    negated) would score every lower candidate higher: the list keeps its order, and the cap holds
    those scores at the top's (a candidate the model's other signals mark down may stay below it)."""
    backwards = with_model(linker, dataclasses.replace(linker.model, calib_a=-linker.model.calib_a))
    for text, cls in [("办事群众满意度", "31"), ("系统验收合格率", "12"), ("设备购置更新及时率", "13"),
                      ("宣传活动覆盖人数", "11")]:
        s, b = linker.suggest(text, cls, k=10), backwards.suggest(text, cls, k=10)
        raws = [c.raw for c in s.candidates]
        assert raws == sorted(raws, reverse=True), text
        assert [c.code for c in b.candidates] == [c.code for c in s.candidates], text
        scores = [c.score for c in b.candidates]
        assert len(scores) == 10 and scores == sorted(scores, reverse=True) and max(scores) == b.top.score, text
        assert scores.count(b.top.score) >= 5, text  # held at the top's by the cap, not by the model


@pytest.mark.parametrize("text", ["市民满意度", "公众满意度", "居民满意度", "社会公众满意度"])
def test_the_public_is_one_object(linker, text):
    """社会公众/公众/市民/居民 before 满意 are general Chinese for 群众: the same code as 群众满意度."""
    s = linker.suggest(text, "31")
    assert s.top.code == "331003339" and s.top.features["exact"] == 1.0, (s.top.code, s.top.features)


def test_a_served_party_that_is_not_the_public_takes_the_class_31_code(linker):
    """群众 is an object of its own, not a generic one: any other served party's satisfaction takes
    服务对象满意度 (the class's own code), not 群众满意度."""
    from indicode.matcher.features import is_generic

    assert is_generic("服务对象") and not is_generic("群众")
    s = linker.suggest("档案查阅单位满意度", "31")
    assert s.top.code == "331000551", (s.top.code, s.top.name)


def test_aid_counts_reach_the_beneficiary_code_but_staff_counts_do_not(linker):
    """救助/补贴/资助/低保 = 补助 and 人数 = 人员数 (general Chinese) put an aid head count in the scope of
    补助对象（人员、企业、特定群体等）数, where it may be accepted; a count of staff names 人员 without
    any of 补助对象 and is not in it, and staff of aid (救助站工作人员, 补贴审核人员) are never accepted
    as those aided."""
    aid = linker.suggest("临时救助人数", "11")
    assert aid.top.code == "111000305" and aid.top.features["scope"] == 1.0 and aid.decision != NO_MATCH
    assert linker.suggest("农村低保对象人数", "11").top.code == "111000305"
    staff = linker.suggest("窗口服务人员数量", "11")
    assert all(not c.features["scope"] for c in staff.candidates if c.code == "111000305")
    eager = with_model(linker, dataclasses.replace(linker.model, accept=0.0, review=0.0))
    assert eager.suggest("临时救助人数", "11").decision == ACCEPT
    for text in ("救助站工作人员数", "补贴审核人员数", "低保经办人员数"):
        s = eager.suggest(text, "11", k=20)
        assert not (s.code == "111000305" and s.decision == ACCEPT), text


def test_the_persons_of_a_scope_list_may_be_counted_in_person_times(linker):
    """补助对象（人员、企业、特定群体等）数 counts the people aided, in 人数 or in 人次 (person-times):
    an aid count in 人次 is in its scope (no unit difference there). 人次 is not folded to 人员, so a
    count of person-times is not a head count elsewhere, and a count of sessions (场次) is no person."""
    assert linker.canon("驻场运营人次数") != linker.canon("驻场运营人数")
    aid = linker.suggest("发放助学补贴人次数", "11")
    assert aid.top.code == "111000305" and aid.top.features["scope"] == 1.0 and aid.decision != NO_MATCH
    assert aid.top.features["unit_differs"] == 0.0
    sessions = linker.suggest("临时救助宣传场次数", "11", k=20)
    assert all(not c.features["scope"] for c in sessions.candidates if c.code == "111000305")
    # a count in person-times is never accepted for a head count, however near the name
    eager = with_model(linker, dataclasses.replace(linker.model, accept=0.0, review=0.0))
    visits = eager.suggest("驻场运营人次数", "11")
    assert visits.top.code == "111001540" and visits.top.features["unit_differs"] == 1.0  # 驻场运营人员数
    assert visits.decision == REVIEW
    assert eager.suggest("驻场运营人员数量", "11").decision == ACCEPT


def test_acquiring_goods_is_procuring_them_but_purchase_tax_is_a_tax(linker):
    """购置 (acquiring durable goods) is 采购 (procuring) in general Chinese; 购置税 (the vehicle
    purchase tax) is kept as written, so collecting it is not 采购完成率."""
    assert linker.canon("资产购置") == linker.canon("资产采购") and linker.canon("车辆购置税") == "车辆购置税"
    s = linker.suggest("车辆购置完成率", "11")
    assert s.top.code == "111000543" and s.decision != NO_MATCH, (s.top.code, s.decision)  # 采购完成率
    tax = linker.suggest("车辆购置税征收完成率", "11")
    assert tax.top.code != "111000543", (tax.top.code, tax.decision)


def test_a_code_whose_object_the_query_lacks_is_never_accepted(linker):
    """采购时效 for 审批时效: the same measure head, none of the code's object. It is a decision signal
    of its own (weighed against the top being right) and blocks accepting; one shared character
    (采访 for 采购) is part of the object, not none of it."""
    assert "object_none" in linker.model.decide and linker.model.decide["object_none"] < 0
    assert not may_accept({"object_none": 1.0, "class_same": 1.0})
    eager = with_model(linker, dataclasses.replace(linker.model, accept=0.0, review=0.0))
    s = eager.suggest("审批时效", "13")
    assert s.top.code == "113065595", (s.top.code, s.top.name)  # 采购时效
    assert s.top.features["object_none"] == 1.0 and s.top.features["object_partial"] == 0.0
    assert s.decision == REVIEW and "编码所指对象未出现" in why(s.top)
    one = eager.suggest("采访时效", "13").candidates
    near = next(c for c in one if c.code == "113065595")
    assert near.features["object_none"] == 0.0 and near.features["object_partial"] == 1.0
    exact = eager.suggest("采购时效", "13")
    assert exact.top.features["object_none"] == 0.0 and exact.decision == ACCEPT


def test_a_scope_item_may_be_named_by_its_head_word(linker):
    """完成（专题研究/调查/检查/评估等）报告: a 研究报告 names 专题研究 by its head word."""
    s = linker.suggest("产业发展策略研究报告", "11")
    assert s.top.code == "111000250" and s.top.features["scope"] == 1.0 and s.decision != NO_MATCH, \
        (s.top.code, s.decision)


def test_a_generic_code_of_another_level1_class_is_never_accepted(linker):
    """任务完成率 (an output code) for a 效益 indicator is a guess: reviewed, not accepted."""
    assert not may_accept({"head_generic": 1.0, "class_diff": 1.0})
    assert may_accept({"head_generic": 1.0, "class_same": 1.0})
    s = linker.suggest("污水管网改造工作完成率", "22")
    assert s.top.code == "111001842" and s.decision != ACCEPT, (s.top.code, s.decision)
    same = linker.suggest("污水管网改造工作完成率", "11")
    assert same.top.code == "111001842"


@pytest.mark.parametrize("text,code", [
    ("服务对象人数", "111000305"), ("帮扶对象人数", "111000305"), ("对外交流人数", "111000305"),
    ("对口支援干部人数", "111000305"), ("检查完成数", "111000250"), ("安全检查完成次数", "111000250"),
    ("研究成果数", "111000250"),
])
def test_naming_an_instance_is_not_enough_for_the_scope(linker, text, code):
    """The scope needs what else the name says of its instances (补助 of 补助对象) and most of the
    measure after the list (报告数): 服务对象人数 names 人员 but counts no one aided, 检查完成数 names
    检查 but counts no reports."""
    s = linker.suggest(text, "11", k=20)
    assert all(not c.features["scope"] for c in s.candidates if c.code == code), text
    assert not (s.top.code == code and s.top.score > 0.9), (s.top.code, s.top.score)


@pytest.mark.parametrize("cls", ["2", "22", ""])
def test_a_generic_code_needs_the_querys_own_level1_class(linker, cls):
    """A class given only as its level-1 digit, or not at all, never lets a generic code be accepted
    for another level-1 class (or a class unknown)."""
    s = linker.suggest("残疾人就业保障金缴纳完成率", cls)
    assert s.decision != ACCEPT, (cls, s.top.code, s.top.score)
    if s.top.code == "111001842":
        # no class given: the class read from the text (a 2x class here) counts as a guess only
        assert s.top.features["class_diff"] == 1.0 and s.top.features["class_guessed"] == (0.0 if cls else 1.0)


@pytest.mark.parametrize("text,cls,value,code", [
    ("工作正常运行率", "24", "1", "222000581"),  # 保障工作正常运行: the class-22 generic code of 正常运行
    ("补贴渔船数", "11", "6", "111000305"),  # 补助对象（人员、企业、特定群体等）数
    ("绩效管理优化专项报告", "11", "1套", "111000250"),  # 完成（专题研究/调查/检查/评估等）报告数
    ("图书馆安防设备正常运行率", "22", "100%", None),  # invented: a generic or the particular code, reviewed at least
])
def test_a_specific_indicator_is_offered_the_generic_code_of_its_measure(linker, text, cls, value, code):
    """When no specific code fits, the generic code of the same measure and kind is reviewed with its
    reason (`通用编码：…`), never accepted, never across a kind of measure."""
    from indicode.i18n import CHINESE, use_language

    s = linker.suggest(text, cls, value)
    assert s.decision != NO_MATCH, (s.top.code, s.top.score)
    if code is None:
        return
    assert (s.decision, s.code, s.reason) == (REVIEW, code, "generic")
    with use_language(CHINESE):
        assert "通用编码：" in why(s.top).split("；")[1 if s.top.level2 != cls else 0]  # after a class difference
    assert s.new_code_class.startswith(cls)  # where a new code would go, if the reviewer says so


def test_no_generic_code_across_a_kind_of_measure(linker):
    """A count is not a rate: 完成农村户用卫生厕所改造数量 does not take 任务完成率."""
    s = linker.suggest("完成农村户用卫生厕所改造数量", "11", "≥500户")
    assert not (s.reason == "generic" and s.code == "111001842"), (s.decision, s.code)


def test_the_class_of_a_new_code_keeps_to_the_class_the_row_gives(linker):
    """培训人次 with class 1 must not get 22-社会效益; with no class it is read from the text."""
    for cls in ("1", "2", ""):
        s = linker.suggest("培训人次", cls)
        assert s.decision == NO_MATCH and s.new_code_class[:1] == (cls or s.inferred_class[:1]), (cls, s.new_code_class)
    assert linker.suggest("培训人次", "").inferred_class == "11"
    assert linker.suggest("培训人次", "11").inferred_class == ""  # a class given is not inferred


def test_no_class_given_the_class_from_the_text_scores(linker):
    """办事群众满意度 with no class: class 31 read from the text, shown as inferred; accepted as with 31."""
    s = linker.suggest("办事群众满意度")
    assert s.inferred_class == "31" and s.top.code == "331003339" and s.decision == ACCEPT
    assert s.top.features["class_same"] == 1.0 and s.top.features["class_guessed"] == 1.0
