"""The class from the text (`matcher/classify.py`): its inputs, a fit on invented examples, the
shipped model on invented and catalogue texts, and a class the row gives never contradicted. No
encoder."""
import pytest

from indicode.matcher.classify import CLASSES, ClassModel, Example, features, fit
from indicode.matcher.text import Canon, kind_of

canon = Canon()


def infer(model: ClassModel, text: str, given: str = "", value: str = "") -> str:
    return model.infer(canon(text), kind_of(text, value), given)


def test_the_inputs_are_characters_pairs_ending_kind_and_class_words():
    f = features(canon("群众满意度"), "rate")
    assert {"u群", "b满意", "end:意度", "end1:度", "kind:rate", "w31", "w32"} <= set(f)
    assert f["w31"] > f["u群"]  # a class word weighs more than a character
    assert "w13" not in f and features("", "")["kind:"] == 1.0


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
