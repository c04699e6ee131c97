"""The review loop: `indicode learn` reads reviewers' decisions, meets them halfway, refuses what
cannot be used (one line each) and stores the rest."""
import json

import pytest
from typer.testing import CliRunner

from conftest import GOLD_DEV
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import NIL
from indicode.cli import app
from indicode.matcher.linker import Linker

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()


def learn(tmp_catalogue, path, *extra):
    return runner.invoke(app, ["learn", str(path), "-c", str(tmp_catalogue), "--reviewer", "王", *map(str, extra)])


def reviewed_csv(tmp_path, rows, header="indicator,class,code,reviewer_code"):
    f = tmp_path / "reviewed.csv"
    f.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return f


def learned(tmp_catalogue):
    return {(link.text, link.level2): link.code for link in Catalogue.load(tmp_catalogue).learned}


def test_learn_applies_decisions_exactly_and_can_be_undone(tmp_catalogue, tmp_path):
    reviewed = reviewed_csv(tmp_path, ["租金支付及时率,13,113001668,113000297",  # corrected
                                       "验收合格率,12,112000287,ok",            # confirmed
                                       "项目收益率,11,,NIL",                    # no code fits
                                       "某指标,11,,",                          # no decision
                                       "坏的行,11,,999999999"])                # not in the catalogue
    r = learn(tmp_catalogue, reviewed)
    assert r.exit_code == 1 and "reviewed.csv:6: reviewer code '999999999' is not in the catalogue" in r.stderr
    cat = Catalogue.load(tmp_catalogue)
    assert [(link.text, link.level2, link.code, link.reviewer) for link in cat.learned] == [
        ("租金支付及时率", "13", "113000297", "王"), ("验收合格率", "12", "112000287", "王"),
        ("项目收益率", "11", "NIL", "王")]
    assert cat.learned[0].source == "reviewed.csv:2"
    linker = Linker.default(tmp_catalogue)
    s = linker.suggest("租金支付及时率", "13")
    assert (s.decision, s.code, s.reason) == ("accept", "113000297", "learned")
    assert linker.suggest("租金支付及时率", "12").reason != "learned"  # same text, other class: not the same decision
    nm = linker.suggest("项目收益率", "11")
    assert (nm.decision, nm.reason) == ("no-match", "learned")
    listed = json.loads(runner.invoke(app, ["learned", "list", "-c", str(tmp_catalogue), "--json"]).stdout)
    assert len(listed) == 3
    assert runner.invoke(app, ["learned", "remove", str(listed[0]["id"]), "-c", str(tmp_catalogue)]).exit_code == 0
    undone = Linker.default(tmp_catalogue).suggest("租金支付及时率", "13")
    assert undone.reason != "learned" and undone.code != "113000297"
    r = runner.invoke(app, ["learned", "remove", "99999", "-c", str(tmp_catalogue)])
    assert r.exit_code == 1 and "refused: 1 of the ids" in r.stderr


def test_partial_success_is_exit_1_with_a_summary_not_an_error(tmp_catalogue, tmp_path):
    rows = [f"文本{i},12,,112000287" for i in range(9)] + ["坏的,12,,123"]
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, rows))
    assert r.exit_code == 1
    assert "error:" not in r.stderr
    assert "learned 9 decisions (9 rows) and 0 proposed new codes" in r.stderr
    assert "refused 1 cells, 0 conflicts" in r.stderr
    assert len(learned(tmp_catalogue)) == 9
    ok = learn(tmp_catalogue, reviewed_csv(tmp_path, ["文本0,12,,112000287"]))
    assert ok.exit_code == 0 and "refused 0 cells" in ok.stderr


@pytest.mark.parametrize("cell,code", [
    ("ｏｋ", "112000287"), ("OK", "112000287"), ("确认", "112000287"), ("是", "112000287"), ("√", "112000287"),
    ("无", NIL), ("无匹配", NIL), ("不适用", NIL), ("ＮＩＬ", NIL), ("nil", NIL), (" 无匹配 ", NIL),
    ("１１２０００２７２", "112000272"), ("112000272－任务达标完成率", "112000272"), ("112 000 272", "112000272"),
])
def test_full_width_and_chinese_forms(tmp_catalogue, tmp_path, cell, code):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, [f"验收合格率,１２,112000287,{cell}"]))
    assert r.exit_code == 0, r.output
    assert learned(tmp_catalogue) == {("验收合格率", "12"): code}


def test_confirming_a_no_match_row_means_no_code(tmp_catalogue, tmp_path):
    assert learn(tmp_catalogue, reviewed_csv(tmp_path, ["项目收益率,11,,确认"])).exit_code == 0
    assert learned(tmp_catalogue) == {("项目收益率", "11"): NIL}


def test_confirming_an_unknown_written_code_is_refused(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["验收合格率,12,112000288,ok", '"多行\n备注",12,,"待\n定"']))
    assert r.exit_code == 1
    assert "'ok' confirms the document's code 112000288, which is not in the catalogue - did you mean" in r.stderr
    # the reader joins a wrapped cell's lines
    assert any(line.startswith("refused: ") and "'待定' is neither a code" in line for line in r.stderr.splitlines())
    assert learned(tmp_catalogue) == {}


def test_did_you_mean_for_near_miss_codes(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["甲,12,,11200027",                # a digit dropped
                                                     "乙,12,,112000372",               # a digit changed
                                                     "丙,12,,119999999-任务达标完成率",  # wrong code, known name
                                                     "丁,12,,999"]))                    # nothing close
    assert r.exit_code == 1
    lines = [line for line in r.stderr.splitlines() if line.startswith("refused:")]
    assert len(lines) == 4
    assert "'11200027' is not in the catalogue - did you mean 112000272-任务达标完成率" in lines[0]
    assert "did you mean" in lines[1] and "112000272-任务达标完成率" in lines[1]
    assert "did you mean 112000272-任务达标完成率" in lines[2]
    assert "did you mean" not in lines[3]
    assert learned(tmp_catalogue) == {}


@pytest.mark.parametrize("klass", ["99", "-1", "1e9", "3", "abc"])
def test_classes_that_are_not_classes_are_refused(tmp_catalogue, tmp_path, klass):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, [f"验收合格率,{klass},,112000287"]))
    assert r.exit_code == 1 and f"class '{klass}' is not a level-2 class" in r.stderr
    assert learned(tmp_catalogue) == {}


def test_class_written_as_a_name_is_read(tmp_catalogue, tmp_path):
    assert learn(tmp_catalogue, reviewed_csv(tmp_path, ["验收合格率,12-质量指标,,112000287"])).exit_code == 0
    assert learned(tmp_catalogue) == {("验收合格率", "12"): "112000287"}


def test_conflicting_decisions_are_reported_and_neither_stored(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["验收合格率,12,,112000287",
                                                     "验收合格率,12,,NIL",
                                                     "任务达标完成率,12,,112000272",
                                                     "任务达标完成率,12,,ok"]))  # ok of the suggested (none): NIL
    assert r.exit_code == 1
    conflicts = [line for line in r.stderr.splitlines() if "different decisions" in line]
    assert len(conflicts) == 2
    assert "reviewed.csv:2 says 112000287" in conflicts[0] and "reviewed.csv:3 says 无匹配" in conflicts[0]
    assert learned(tmp_catalogue) == {}
    agree = learn(tmp_catalogue, reviewed_csv(tmp_path, ["验收合格率,12,,112000287", "验收合格率,12,112000287,ok"]))
    assert agree.exit_code == 0 and learned(tmp_catalogue) == {("验收合格率", "12"): "112000287"}
    assert "(2 rows)" in agree.stderr


def test_proposed_new_code_is_kept_apart_and_visible(tmp_catalogue, tmp_path):
    before = Catalogue.load(tmp_catalogue)
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["某某工作及时率,13,,新:113009999-某某工作及时率",
                                                     "另一指标,13,,新：113009998－另一指标"]))
    assert r.exit_code == 0, r.output
    assert "and 2 proposed new codes" in r.stderr
    cat = Catalogue.load(tmp_catalogue)
    assert [(p.code, p.name, p.level2, p.text, p.reviewer, p.source) for p in cat.proposed] == [
        ("113009998", "另一指标", "13", "另一指标", "王", "reviewed.csv:3"),
        ("113009999", "某某工作及时率", "13", "某某工作及时率", "王", "reviewed.csv:2")]
    assert cat.get("113009999") is None and "113009999" not in cat.entries  # never a real code
    assert cat.fingerprint == before.fingerprint  # the shipped vector index stays valid
    assert cat.learned == []  # nor a link the matcher would apply
    out = runner.invoke(app, ["lookup", "113009999", "-c", str(tmp_catalogue)])
    assert out.exit_code == 0 and "PROPOSED" in out.stdout and "王" in out.stdout and "reviewed.csv:2" in out.stdout
    js = json.loads(runner.invoke(app, ["lookup", "某某工作", "-c", str(tmp_catalogue), "--json"]).stdout)
    assert [(d["code"], d.get("proposed")) for d in js] == [("113009999", True)]
    stats = json.loads(runner.invoke(app, ["catalogue", "stats", "-c", str(tmp_catalogue), "--json"]).stdout)
    assert stats["proposed"] == 2 and stats["codes"] == len(before)
    out = tmp_path / "codes.xlsx"
    assert runner.invoke(app, ["catalogue", "export", "-c", str(tmp_catalogue), "-o", str(out)]).exit_code == 0
    import openpyxl

    sheet = openpyxl.load_workbook(out)["proposed"]
    assert [c.value for c in sheet[2]][:2] == ["113009998", "另一指标"] and sheet.max_row == 3


def test_unknown_well_formed_code_needs_the_propose_form(tmp_catalogue, tmp_path):
    rows = ["某某工作及时率,13,,113009999-某某工作及时率"]
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, rows))
    assert r.exit_code == 1 and "write 新:113009999-某某工作及时率, or run learn --propose" in r.stderr
    assert Catalogue.load(tmp_catalogue).proposed == []
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, rows), "--propose")
    assert r.exit_code == 0 and [p.code for p in Catalogue.load(tmp_catalogue).proposed] == ["113009999"]


@pytest.mark.parametrize("cell,why", [
    ("新:112000272-任务达标完成率", "is already a catalogue code"),
    ("新:119000001-某指标", "not a class of the indicator tree"),
    ("新:11300999-某指标", "a code has 9 digits"),
    ("新:113009999", "give its name too"),
    ("新:111009999-某指标", "the row's class is 13 but the code's digits say 11"),
])
def test_bad_proposals_are_refused(tmp_catalogue, tmp_path, cell, why):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, [f"某指标,13,,{cell}"]))
    assert r.exit_code == 1 and why in r.stderr
    assert Catalogue.load(tmp_catalogue).proposed == []


def test_one_new_code_under_two_names_is_a_conflict(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["甲指标,13,,新:113009999-甲指标",
                                                     "乙指标,13,,新:113009999-乙指标"]))
    assert r.exit_code == 1 and "proposed under different names" in r.stderr
    assert Catalogue.load(tmp_catalogue).proposed == []


def test_unusable_cells_and_files(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["验收合格率,12,,待定", ",12,,112000287"]))
    assert r.exit_code == 1
    assert "reviewer cell '待定' is neither a code" in r.stderr and "row without an indicator name" in r.stderr
    no_cols = reviewed_csv(tmp_path, ["a,b"], header="x,y")
    r = learn(tmp_catalogue, no_cols)
    assert r.exit_code == 2 and "no reviewer code column" in r.stderr
    empty = reviewed_csv(tmp_path, ["验收合格率,12,,"])
    r = learn(tmp_catalogue, empty)
    assert r.exit_code == 0 and "no reviewer cell filled in" in r.stderr


@pytest.mark.slow
def test_learning_dev_links_raises_them_to_the_target(tmp_catalogue):
    from indicode.matcher.evaluate import evaluate
    from indicode.matcher.gold import read_gold

    r = runner.invoke(app, ["learn", str(GOLD_DEV), "-c", str(tmp_catalogue)])
    assert r.exit_code == 0, r.output
    res = evaluate(Linker.default(tmp_catalogue), read_gold(GOLD_DEV))
    assert res["end_to_end"] >= 0.98


def test_learning_into_the_bundled_catalogue_writes_a_user_copy(tmp_path, monkeypatch):
    from indicode.catalogue.paths import BUNDLED_DB, default_path

    monkeypatch.setenv("INDICODE_DATA_DIR", str(tmp_path / "data"))
    before = BUNDLED_DB.read_bytes()
    f = tmp_path / "r.csv"
    f.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    assert runner.invoke(app, ["learn", str(f)]).exit_code == 0
    assert BUNDLED_DB.read_bytes() == before
    assert default_path() == tmp_path / "data" / "catalogue.sqlite"
    assert len(Catalogue.load().learned) == 1
