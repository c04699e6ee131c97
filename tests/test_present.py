"""The one presenter: `why` in words, the JSON dict of a suggestion, class labels. Hand-made records,
no encoder."""
import json

from indicode.matcher.present import class_label, decision_fields, suggestion_dict, why
from indicode.matcher.results import Candidate, Suggestion, Verdict


def cand(code="112000287", name="验收合格率", matched="验收合格率", level2="12", score=0.91234, **features):
    return Candidate(code, name, matched, level2, score, 3.2, {"vec": 0.876, "ratio": 0.8, "cov_name": 0.5, **features})


def test_class_labels():
    assert class_label("31") == "31-服务对象满意度" and class_label("3") == "3-满意度指标"
    assert class_label("") == "" and class_label("99") == "99"


def test_why_names_the_scores_and_each_signal_that_is_on():
    assert why(cand()) == "语义相似 0.88；字面相似 0.80；覆盖编码名称 50%"
    c = cand(head_match=1.0, head_generic=1.0, object_partial=1.0, class_same=1.0, kind_conflict=1.0,
             matched="系统验收合格率")
    assert why(c) == ("语义相似 0.88；字面相似 0.80；覆盖编码名称 50%；计量词相同；通用编码；"
                      "对象仅部分相同（不自动采用）；类别 12 一致；计量类型不同；经别名「系统验收合格率」")
    assert why(cand(object_none=1.0, class_diff=1.0)).endswith(
        "编码所指对象未出现（不自动采用）；类别不同（编码为 12）")
    assert why(cand(class_level1=1.0)).endswith("类别不同（编码为 12）")
    assert why(cand(head_match=0.0, object_partial=0.0)) == why(cand())  # a signal at 0 says nothing


def test_the_dict_of_a_suggestion():
    top, other = cand(), cand("112001723", "项目验收合格率", "项目验收合格率", score=0.4, object_partial=1.0)
    s = Suggestion("系统验收合格率", "12", "100%", Verdict.ACCEPT, [top, other])
    d = suggestion_dict(s)
    assert list(d) == ["text", "class", "value", "decision", "code", "name", "score", "reason", "new_code_class",
                       "candidates", "cut", "proposal"]
    assert {k: v for k, v in d.items() if k != "candidates"} == {
        "text": "系统验收合格率", "class": "12", "value": "100%", "decision": "accept", "code": "112000287",
        "name": "验收合格率", "score": 0.9123, "reason": "score", "new_code_class": "", "cut": False,
        "proposal": None}  # a proposed code it fits (indicode.proposed), for no-match and review answers
    assert d["candidates"][1] == {"code": "112001723", "name": "项目验收合格率", "matched": "项目验收合格率",
                                  "class": "12", "score": 0.4, "why": why(other),
                                  "features": {"vec": 0.876, "ratio": 0.8, "cov_name": 0.5, "object_partial": 1.0}}
    assert list(d["candidates"][0]) == ["code", "name", "matched", "class", "score", "why", "features"]
    assert d["candidates"][0]["score"] == 0.9123 and d["candidates"][0]["why"] == why(top)  # 4 places, like the top's
    assert suggestion_dict(Suggestion("x", "", "", Verdict.REVIEW, [cand(vec=0.123456)]))["candidates"][0]["features"][
        "vec"] == 0.1235
    assert json.loads(json.dumps(d, ensure_ascii=False))["decision"] == "accept"  # the machine word


def test_a_no_match_names_no_code_but_keeps_its_alternatives():
    s = Suggestion("电子政务外网主骨干带宽", "11", "", Verdict.NO_MATCH, [cand(score=0.12)],
                   new_code_class="11-数量指标")
    f = decision_fields(s)
    assert (f["decision"], f["code"], f["name"], f["score"], f["new_code_class"]) == \
        ("no-match", "", "", 0.12, "11-数量指标")
    assert len(suggestion_dict(s)["candidates"]) == 1


def test_an_empty_text_has_score_zero():
    s = Suggestion("（）", "11", "", Verdict.NO_MATCH, [], "11-数量指标", "empty")
    d = suggestion_dict(s)
    assert (d["score"], d["code"], d["reason"], d["candidates"]) == (0.0, "", "empty", [])
