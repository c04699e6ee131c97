"""The class from the text (`matcher/classify.py`): its inputs, a fit on invented examples, the
shipped model on invented texts of each class (14, 21, 24, 32 and 41 have no catalogue code), its
probability, a class the row gives never contradicted, and the evaluation by source never fitting on
the held-out source. No encoder."""
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from indicode.catalogue.records import NIL
from indicode.matcher.classify import CLASSES, ClassModel, Example, features, fit
from indicode.matcher.gold import GoldRow
from indicode.matcher.text import Canon, clean, kind_of

ROOT = Path(__file__).resolve().parents[1]

canon = Canon()


def infer(model: ClassModel, text: str, given: str = "", value: str = "") -> str:
    return model.infer(canon(text), kind_of(text, value), given, clean(text))


def test_the_inputs_are_characters_pairs_ending_kind_and_class_words():
    f = features(canon("群众满意度"), "rate")
    assert {"u群", "b满意", "end:意度", "end1:度", "kind:rate", "w31", "w32"} <= set(f)
    assert f["w31"] > f["u群"]  # a class word weighs more than a character
    assert "w13" not in f and features("", "")["kind:"] == 1.0
    # the class words are looked for in the cleaned text as well: 完好 (quality) is folded into 正常运行
    assert "w12" in features(canon("档案完好率"), "rate", clean("档案完好率"))
    assert "w12" not in features(canon("档案完好率"), "rate")


def test_a_fit_learns_the_classes_of_its_examples():
    examples = [Example("会议召开次数", "", "11"), Example("培训人次", "", "11"), Example("档案整理份数", "", "11"),
                Example("验收合格率", "", "12"), Example("资料准确率", "", "12"),
                Example("完成及时率", "", "13"), Example("资金拨付及时率", "", "13"),
                Example("服务对象满意度", "", "31"), Example("群众满意度", "", "31"), Example("??", "", "99")]
    m = fit(examples, canon, fitted_on="invented")
    assert len(m.bias) == len(CLASSES) and m.fitted_on == "invented"
    assert infer(m, "宣传活动开展次数") == "11" and infer(m, "印刷质量合格率") == "12"
    assert infer(m, "报告提交及时率") == "13" and infer(m, "读者满意度") == "31"
    assert m.weights == fit(examples, canon, fitted_on="invented").weights  # deterministic


def test_a_level1_class_the_row_gives_is_never_contradicted():
    """培训人次 with class 1 must not get 22-社会效益; with class 2 it gets a 2x class."""
    m = ClassModel.load()
    for text in ("培训人次", "绿化覆盖率", "办事群众满意度", "项目成本控制率"):
        for given in ("1", "2", "3", "4"):
            assert infer(m, text, given).startswith(given), (text, given)


@pytest.mark.parametrize("text,klass", [
    ("会议召开次数", "11"), ("设备验收合格率", "12"), ("任务按时完成率", "13"), ("项目成本控制率", "14"),
    ("带动农民增收", "21"), ("办事群众满意度", "31"), ("项目长效运行机制", "24"),
])
def test_the_shipped_model_reads_the_class_words_and_the_kind(text, klass):
    assert infer(ClassModel.load(), text) == klass


def test_a_model_is_kept_as_json(tmp_path):
    m = fit([Example("会议召开次数", "", "11"), Example("验收合格率", "", "12")], canon)
    m.save(tmp_path / "classes.json")
    back = ClassModel.load(tmp_path / "classes.json")
    assert back.weights == m.weights and back.bias == m.bias
    assert infer(back, "会议次数") == infer(m, "会议次数")


@pytest.mark.parametrize("text,value,klass", [
    ("项目总投入", "6070万元", "14"), ("脱贫地区特色产业产值", "≥80万元", "21"),
    ("工程设计使用年限", "≥20年", "24"), ("档案完好率", "95%", "12"), ("培训人次", "", "11"),
])
def test_the_shipped_model_reads_classes_the_catalogue_has_no_code_in(text, value, klass):
    """14, 21 and 24 come from the class words and the labelled rows only; 完好 is a quality word
    although the canonical spelling folds it into 正常运行 (a social-benefit word)."""
    assert infer(ClassModel.load(), text, value=value) == klass


def test_class_41_is_read_under_a_level1_class_4_and_for_its_cost_words():
    m = ClassModel.load()
    assert infer(m, "疾病预防控制中心经费", value="≤70万元") == "41"
    assert infer(m, "经济成本", "4") == "41"


def test_a_class_no_catalogue_code_has_is_learned_from_labelled_rows():
    """32 (其他满意度) has no catalogue code: a fit with labelled rows of it can infer it."""
    examples = [Example("服务对象满意度", "", "31"), Example("群众满意度", "", "31"), Example("患者满意度", "", "31"),
                Example("主管部门满意度", "", "32"), Example("上级主管单位满意度", "", "32"),
                Example("会议召开次数", "", "11")]
    m = fit(examples, canon)
    assert infer(m, "主管单位满意度") == "32" and infer(m, "学生满意度") == "31"


def test_the_guess_carries_a_probability_high_for_a_plain_text_low_for_an_unclear_one():
    m = ClassModel.load()
    sure = m.guess(canon("办事群众满意度"), "rate", plain=clean("办事群众满意度"))
    unsure = m.guess(canon("设施建设"), "", plain=clean("设施建设"))
    assert sure.level2 == "31" and sure.probability > 0.9
    assert 0 < unsure.probability < 0.6
    under = m.guess(canon("培训人次"), "count", "2", clean("培训人次"))  # among the 2x classes only
    assert under.level2.startswith("2") and 0 < under.probability <= 1


def _class_eval():
    spec = importlib.util.spec_from_file_location("class_eval", ROOT / "scripts" / "class_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _StubLinker:
    """What `class_eval.by_source` needs of a Linker, without an encoder or a catalogue."""

    canon = canon
    cat = SimpleNamespace(entries={})

    def make_query(self, text: str, level2: str, value: str):
        return SimpleNamespace(kind=kind_of(text, value))


def test_the_evaluation_never_fits_on_the_held_out_source():
    """A text whose only evidence of class 24 is its own row: guessed 24 by a fit that saw it, never
    by the fit that holds its source out."""
    row = GoldRow("a1", "source-a", "24", "宣传栏更新", "", NIL, frozenset([NIL]))
    others = [GoldRow(f"b{i}", "source-b", k, t, "", NIL, frozenset([NIL])) for i, (t, k) in enumerate(
        [("宣传栏更新次数", "11"), ("会议召开次数", "11"), ("验收合格率", "12"), ("资料准确率", "12")])]
    guessed, under = _class_eval().by_source([row, *others], _StubLinker())
    assert guessed[0].level2 != "24" and under[0].level2 != "24"  # with or without its level-1 digit given
    seen = fit([Example(g.name, g.value, g.level2) for g in [row, *others]], canon)
    assert infer(seen, "宣传栏更新") == "24"
