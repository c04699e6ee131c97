"""Flags on green rows (`matcher/flags.py`): a code with a namesake is accepted only with the namesake
named and listed; a code of another class than the row is filed under is accepted only for the same
text, with the difference shown first. Invented catalogues first (no encoder), then the bundled one."""
import dataclasses

from indicode.i18n import CHINESE, use_language
from indicode.matcher import names
from indicode.matcher.evaluate import with_model
from indicode.matcher.flags import Namesakes, class_differs, with_namesakes
from indicode.matcher.present import check_items, checks, why
from indicode.matcher.results import Candidate, Verdict
from test_generic import Entry


class Cat:
    entries = {e.code: e for e in [Entry("111000001", ("年度会议召开次数",), "11"),
                                   Entry("111000002", ("年度会议召开次数", "会议召开次数"), "11"),
                                   Entry("111000003", ("会议召开次数",), "11"),
                                   Entry("111000004", ("档案整理份数",), "11")]}

    def suggestable_entries(self):
        """What `names.build` reads: every code (none disabled here)."""
        return iter(self.entries.values())


def namesakes() -> Namesakes:
    spellings = [n for e in Cat.entries.values() for n in e.names]
    codes = [e.code for e in Cat.entries.values() for _ in e.names]
    table = names.build(Cat(), spellings, codes, "test")
    return Namesakes(table, lambda code: [i for i, c in enumerate(codes) if c == code])


def test_codes_sharing_a_spelling_are_namesakes():
    n = namesakes()
    assert n.of("111000001") == ["111000002"]
    assert n.of("111000002") == ["111000001", "111000003"]  # an alias is a spelling too
    assert n.of("111000004") == [] and n.of("999") == []


def cand(code: str, score: float) -> Candidate:
    return Candidate(code, code, code, "11", score, score)


def test_the_namesakes_follow_the_top_and_the_list_reads_in_score_order():
    ranked = [cand("A", 0.99), cand("B", 0.5), cand("C", 0.98), cand("D", 0.2)]
    out = with_namesakes(ranked, ["C", "D"])
    assert [c.code for c in out] == ["A", "C", "D", "B"]
    assert [c.score for c in out] == [0.99, 0.98, 0.2, 0.2]
    assert with_namesakes(ranked, []) is ranked


def test_a_class_differs_at_level2_or_at_the_level1_the_row_gives():
    assert class_differs("12", "22") == "12" and class_differs("22", "22") == ""
    assert class_differs("1", "12") == "" and class_differs("2", "12") == "2"
    assert class_differs("", "12") == "" and class_differs("99", "12") == ""


def test_a_namesake_is_named_and_listed_with_the_accepted_code(linker):
    """召开会议次数: 111000231 and 111000234 (DOMAIN.md), both listed even when one is asked for."""
    s = linker.suggest("召开会议次数", "11", k=1)
    assert s.decision == Verdict.ACCEPT and s.code in ("111000231", "111000234")
    other = ({"111000231", "111000234"} - {s.code}).pop()
    assert s.namesakes == [other] and [c.code for c in s.candidates] == [s.code, other]
    assert check_items(s) == [f"namesake {other}"]
    with use_language(CHINESE):
        assert checks(s) == [f"同名编码：{other}"]
    plain = linker.suggest("印刷资料份数", "11")
    assert plain.namesakes == [] and check_items(plain) == []


def test_a_code_of_another_class_is_accepted_only_for_the_same_text(linker):
    """系统正常运行率 filed under 12 is the class-22 code of that very name: accepted, the difference
    first on the card; 办公设备正常运作率 filed under 12 (设备正常运行率 is a class-22 code, accepted
    when filed under 22) is reviewed."""
    same = linker.suggest("系统正常运行率", "12")
    assert (same.decision, same.code) == (Verdict.ACCEPT, "222000333")
    with use_language(CHINESE):
        assert checks(same)[0] == "归类不同：文件为 12，编码为 22"
    assert why(same.top).startswith("类别不同（编码为 22）")
    eager = with_model(linker, dataclasses.replace(linker.model, accept=0.0))
    filed = eager.suggest("办公设备正常运作率", "12")
    assert filed.top.code == "222004394" and filed.decision == Verdict.REVIEW
    assert eager.suggest("办公设备正常运作率", "22").decision == Verdict.ACCEPT
