"""Generic codes for specific indicators (`matcher/generic.py`): which codes are generic and for which
measure, read off a hand-made catalogue's names (no encoder), and when a query takes one."""
from dataclasses import dataclass

import pytest

from indicode.matcher import names
from indicode.matcher.generic import GenericCodes, strip_end, strip_object
from indicode.matcher.results import Candidate
from indicode.matcher.text import Canon, kind_of


@dataclass
class Entry:
    code: str
    names: tuple[str, ...]
    level2: str
    count: int = 1
    values: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.names[0]


CODES = [Entry("113000001", ("任务按时完成率",), "13"),
         Entry("222000002", ("保障工作正常运行",), "22", values=("100%",)),
         Entry("111000003", ("补助对象（人员、企业、特定群体等）数",), "11"),
         Entry("111000004", ("完成（专题研究/调查/检查/评估等）报告数",), "11"),
         Entry("112000005", ("验收合格率",), "12"), Entry("112000006", ("项目验收合格率",), "12"),
         Entry("112000007", ("采购项目验收合格率",), "12"), Entry("111000008", ("采购完成率",), "11"),
         Entry("331000009", ("服务对象满意度",), "31"), Entry("111000010", ("任务完成率",), "11")]


class Cat:
    entries = {e.code: e for e in CODES}

    def suggestable_entries(self):
        """What `names.build` reads: every code (none disabled here)."""
        return iter(self.entries.values())


@pytest.fixture(scope="module")
def generic():
    spellings = [n for e in CODES for n in e.names]
    codes = [e.code for e in CODES for _ in e.names]
    table = names.build(Cat(), spellings, codes, "test")
    return GenericCodes(table, spellings, Canon(table.variants))


def cand(code: str) -> Candidate:
    e = Cat.entries[code]
    return Candidate(code, e.name, e.name, e.level2, 0.1, -2.0)


def test_a_name_without_its_generic_object_and_framing_verb():
    assert strip_object("保障工作正常运行") == "正常运行" and strip_object("服务对象满意度") == "满意度"
    assert strip_object("任务完成及时率") == "完成及时率" and strip_object("采购完成率") == "采购完成率"
    assert strip_object("宣传工作开展及时率") == "宣传工作开展及时率"  # only where the object sits: first
    assert (strip_end("完成率"), strip_end("报告数"), strip_end("正常运行")) == ("完成", "报告", "正常运行")


@pytest.mark.parametrize("code,measure", [
    ("113000001", ("完成及时",)),  # generic object 任务 (按时完成 folds to 完成及时)
    ("222000002", ("正常运行",)),  # framing verb and generic object: 保障 工作
    ("111000003", ("补助",)),  # a scope list: what the name says of its instances
    ("111000004", ("报告",)),  # a scope list: the measure after it
    ("112000005", ("验收合格",)),  # other names end with it
    ("331000009", ("满意",)),
    ("111000008", ()),  # a particular object: 采购
    ("112000007", ()),  # no other name ends with it
])
def test_which_codes_are_generic_and_for_which_measure(generic, code, measure):
    assert generic.measure(code) == measure


def offer(generic, text, level2, value="", ranked=None):
    canon = generic.canon(text)
    ranked = ranked or [cand(c) for c in Cat.entries]
    return generic.offer(canon, kind_of(text, value), level2, ranked)


@pytest.mark.parametrize("text,level2,value,code", [
    ("工作正常运行率", "22", "", "222000002"),  # invented and catalogue words alike
    ("水厂设备正常运行率", "2", "", "222000002"),  # a level-1 class given
    ("补贴渔船数", "11", "6", "111000003"),
    ("课题研究报告", "11", "3份", "111000004"),
    ("12月底之前完成", "13", "100%", "113000001"),  # 前完成 = 完成及时
    ("档案数字化项目验收合格率", "12", "", "112000005"),  # the best-ranked of two generic codes
    ("补贴发放人数", "11", "", "111000003"),
    ("读者满意度", "31", "", "331000009"),
])
def test_a_query_that_says_the_measure_takes_the_generic_code(generic, text, level2, value, code):
    o = offer(generic, text, level2, value)
    assert o is not None and o.candidate.code == code and all(p in generic.canon(text) for p in o.measure.split("…"))


@pytest.mark.parametrize("text,level2,value,why", [
    ("残疾人就业保障金缴纳完成率", "22", "", "another level-1 class"),
    ("完成农村户用卫生厕所改造数量", "11", "", "a count is not a rate"),
    ("工作正常运行", "22", "", "the kind of measure is not known"),
    ("渔船补贴标准", "11", "500元", "money is not a count"),
    ("政策文件解读率", "11", "100%", "no measure of any generic code"),
])
def test_no_generic_code_across_classes_kinds_or_measures(generic, text, level2, value, why):
    assert offer(generic, text, level2, value) is None, why


def test_the_querys_own_class_comes_first(generic):
    ranked = [cand("111000010"), cand("113000001")]  # 任务完成率 [11] ranked above 任务按时完成率 [13]
    o = offer(generic, "任务按时完成情况", "13", "100%", ranked)
    assert o.candidate.code == "113000001"
