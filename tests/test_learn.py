"""The review loop: `indicode learn` reads reviewers' decisions, meets them halfway, refuses what
cannot be used (one line each) and stores the rest."""
import json

import pytest
from typer.testing import CliRunner

from conftest import GOLD_DEV
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import NIL
from indicode.cli import app
from indicode.inputs import shown
from indicode.matcher.linker import Linker
from indicode.workspace import Workspace
from indicode.workspace.use import linker_for

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()


def learn(tmp_catalogue, path, *extra):
    return runner.invoke(app, ["learn", str(path), "-c", str(tmp_catalogue), "--reviewer", "王", *map(str, extra)])


def reviewed_csv(tmp_path, rows, header="indicator,class,code,reviewer_code"):
    f = tmp_path / "reviewed.csv"
    f.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return f


def learned(tmp_catalogue=None):
    """The decisions in force in the test's default workspace, by (text, class)."""
    return {(e.text, e.subject.level2): e.code for e in Workspace.open().in_force()}


def linker_of(tmp_catalogue):
    return linker_for(Workspace.open(), tmp_catalogue)[0]


def test_learn_applies_decisions_exactly_and_can_be_undone(tmp_catalogue, tmp_path):
    reviewed = reviewed_csv(tmp_path, ["租金支付及时率,13,113001668,113000297",  # corrected
                                       "验收合格率,12,112000287,ok",            # confirmed
                                       "项目收益率,11,,NIL",                    # no code fits
                                       "某指标,11,,",                          # no decision
                                       "坏的行,11,,999999999"])                # not in the catalogue
    r = learn(tmp_catalogue, reviewed)
    assert r.exit_code == 1 and "reviewed.csv:6: reviewer code '999999999' is not in the catalogue" in r.stderr
    force = Workspace.open().in_force()
    assert [(e.text, e.subject.level2, e.code, e.reviewer) for e in force] == [
        ("租金支付及时率", "13", "113000297", "王"), ("验收合格率", "12", "112000287", "王"),
        ("项目收益率", "11", "NIL", "王")]
    assert (force[0].origin.file, force[0].origin.row, force[0].origin.via) == ("reviewed.csv", 2, "workbook")
    assert Catalogue.load(tmp_catalogue).learned == []  # the catalogue is reference data: never written
    linker = linker_of(tmp_catalogue)
    s = linker.suggest("租金支付及时率", "13")
    assert (s.decision, s.code, s.reason) == ("accept", "113000297", "learned")
    assert linker.suggest("租金支付及时率", "12").reason != "learned"  # same text, other class: not the same decision
    nm = linker.suggest("项目收益率", "11")
    assert (nm.decision, nm.reason) == ("no-match", "learned")
    listed = json.loads(runner.invoke(app, ["learned", "list", "--json"]).stdout)
    assert len(listed) == 3
    assert [d["code"] for d in listed] == ["113000297", "112000287", "NIL"] and all(d["id"] for d in listed)
    assert runner.invoke(app, ["learned", "remove", str(listed[0]["id"])]).exit_code == 0
    after = linker_of(tmp_catalogue)
    undone = after.suggest("租金支付及时率", "13")
    assert [d.text for d in after.decisions] == ["验收合格率", "项目收益率"]  # the retracted one is not applied
    plain = Linker(after.cat, after.encoder, after.model, after.index).suggest("租金支付及时率", "13")
    assert undone.reason != "learned" and (undone.decision, undone.code) == (plain.decision, plain.code)
    r = runner.invoke(app, ["learned", "remove", "99999"])
    assert r.exit_code == 2 and "99999: no such decision" in r.stderr
    r = runner.invoke(app, ["learned", "remove", str(listed[0]["id"])])  # a stale id: retracted already
    assert r.exit_code == 2 and "is not in force" in r.stderr
    assert len(Workspace.open().log()) == 4  # three decisions and one retraction: nothing deleted


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
    assert "nothing new: its 1 decisions are already in force" in ok.stderr


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
    assert r.exit_code == 1 and f"class {shown(klass)} is not a level-2 class" in r.stderr
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
    before = tmp_catalogue.read_bytes()
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["某某工作及时率,13,,新:113009999-某某工作及时率",
                                                     "另一指标,13,,新：113009998－另一指标"]))
    assert r.exit_code == 0, r.output
    assert "and 2 proposed new codes" in r.stderr
    ws = Workspace.open()
    assert [(p.code, p.name, p.level2, p.text, p.reviewer, p.origin.place) for p in ws.proposals()] == [
        ("113009999", "某某工作及时率", "13", "某某工作及时率", "王", "reviewed.csv:2"),
        ("113009998", "另一指标", "13", "另一指标", "王", "reviewed.csv:3")]
    cat = Catalogue.load(tmp_catalogue)
    assert cat.get("113009999") is None and "113009999" not in cat.entries  # never a real code
    assert tmp_catalogue.read_bytes() == before  # the catalogue (and its vector index) as it was
    assert {link.code for link in ws.learned_links(cat.entries)} == {NIL}  # the matcher reads "no code fits"
    out = runner.invoke(app, ["lookup", "113009999", "-c", str(tmp_catalogue)])
    assert out.exit_code == 0 and "PROPOSED" in out.stdout and "王" in out.stdout and "reviewed.csv:2" in out.stdout
    js = json.loads(runner.invoke(app, ["lookup", "某某工作", "-c", str(tmp_catalogue), "--json"]).stdout)
    assert [(d["code"], d.get("proposed")) for d in js] == [("113009999", True)]
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["proposals"] == 2 and status["decisions"] == 2
    out = tmp_path / "log.xlsx"
    assert runner.invoke(app, ["decisions", "export", "-o", str(out)]).exit_code == 0
    import openpyxl

    sheet = openpyxl.load_workbook(out)["proposals"]
    assert [c.value for c in sheet[2]][1:3] == ["113009999", "某某工作及时率"] and sheet.max_row == 3


def test_unknown_well_formed_code_needs_the_propose_form(tmp_catalogue, tmp_path):
    rows = ["某某工作及时率,13,,113009999-某某工作及时率"]
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, rows))
    assert r.exit_code == 1 and "write 新:113009999-某某工作及时率, or run learn --propose" in r.stderr
    assert Workspace.open().proposals() == []
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, rows), "--propose")
    assert r.exit_code == 0 and [p.code for p in Workspace.open().proposals()] == ["113009999"]


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
    assert Workspace.open().proposals() == []


def test_one_new_code_under_two_names_is_a_conflict(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["甲指标,13,,新:113009999-甲指标",
                                                     "乙指标,13,,新:113009999-乙指标"]))
    assert r.exit_code == 1 and "proposed under different names" in r.stderr
    assert Workspace.open().proposals() == []


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
    res = evaluate(linker_of(tmp_catalogue), read_gold(GOLD_DEV))
    assert res["end_to_end"] >= 0.98


def test_learning_leaves_the_bundled_catalogue_alone_and_makes_no_copy(tmp_path):
    from indicode.catalogue.paths import BUNDLED_DB, default_path, user_catalogue_path

    before = BUNDLED_DB.read_bytes()
    f = tmp_path / "r.csv"
    f.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    assert runner.invoke(app, ["learn", str(f)]).exit_code == 0
    assert BUNDLED_DB.read_bytes() == before and not user_catalogue_path().exists() and default_path() == BUNDLED_DB
    assert learned() == {("验收合格率", "12"): "112000287"}
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["catalogue"] == str(BUNDLED_DB.resolve()) and status["decisions"] == 1
    assert status["workspace"] == str(tmp_path / "data" / "workspace.sqlite")


def two_reviewers(tmp_path):
    a = reviewed_csv(tmp_path, ["办事群众满意度,31,,331003339"])
    b = tmp_path / "b.csv"
    b.write_text("indicator,class,code,reviewer_code\n办事群众满意度（%）,31,,331000551\n", encoding="utf-8")
    return a, b


def test_two_reviewers_on_the_command_line(tmp_path):
    """The case of issue 20: a second reviewer's different decision is kept out, listed, until an
    explicit --override; both stay in the history, and an undo brings the first back."""
    a, b = two_reviewers(tmp_path)
    assert runner.invoke(app, ["learn", str(a), "--reviewer", "张三"]).exit_code == 0
    r = runner.invoke(app, ["learn", str(b), "--reviewer", "李四"])
    assert r.exit_code == 1 and learned() == {("办事群众满意度", "31"): "331003339"}
    today = Workspace.open().in_force()[0].at[:10]
    assert f"conflict: b.csv:2: 「办事群众满意度（%）」 [31]: by reviewer 张三 on {today} the decision is 331003339, " \
           "this time " \
           "331000551: the decision in force is kept" in r.stderr
    from indicode.i18n import CHINESE, use_language

    with use_language(CHINESE):
        zh = runner.invoke(app, ["learn", str(b), "--reviewer", "李四"])
    assert f"按审核人 张三 {today} 的决定 331003339，与本次 331000551 不同" in zh.stderr
    r = runner.invoke(app, ["learn", str(b), "--reviewer", "李四", "--override"])
    assert r.exit_code == 0 and learned() == {("办事群众满意度（%）", "31"): "331000551"}
    hist = json.loads(runner.invoke(app, ["decisions", "history", "办事群众满意度", "--class", "31", "--json"]).stdout)
    assert [(h["code"], h["reviewer"], h["replaces"]) for h in hist] == [("331003339", "张三", None),
                                                                         ("331000551", "李四", hist[0]["id"])]
    r = runner.invoke(app, ["learned", "remove", str(hist[1]["id"]), "--reviewer", "李四"])
    assert r.exit_code == 0 and f"decision {hist[0]['id']} (331003339) is in force again" in r.stderr
    assert learned() == {("办事群众满意度", "31"): "331003339"}
    s = linker_for(Workspace.open(), None)[0].suggest("办事群众满意度", "31")
    assert (s.code, s.reason) == ("331003339", "learned")
    assert len(json.loads(runner.invoke(app, ["decisions", "history", "办事群众满意度（%）", "--json"]).stdout)) == 3


def test_two_spellings_in_one_file_are_one_subject_in_conflict(tmp_catalogue, tmp_path):
    r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["办事群众满意度,31,,331003339", "办事群众满意度（%）,31,,NIL"]))
    assert r.exit_code == 1 and "different decisions" in r.stderr and "reviewed.csv:3 says 无匹配" in r.stderr
    assert learned() == {}


def test_a_0_2_catalogue_copy_moves_in_on_first_use(tmp_path):
    import shutil

    from conftest import ROOT
    from indicode.catalogue.paths import user_catalogue_path

    user_catalogue_path().parent.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "data" / "legacy_catalogue_0.2.0.sqlite", user_catalogue_path())
    r = runner.invoke(app, ["learned", "list", "--json"])
    assert r.exit_code == 0 and "moved 6 learned links (2 NIL) and 1 proposed codes" in r.stderr
    assert len(json.loads(r.stdout)) == 6
    r = runner.invoke(app, ["suggest", "租金支付及时率", "--class", "13", "--json"])
    assert (json.loads(r.stdout)["code"], json.loads(r.stdout)["reason"]) == ("113000297", "learned")
    assert "moved" not in r.stderr  # once


def test_a_comment_goes_with_each_decision_and_retraction(tmp_catalogue, tmp_path):
    reviewed = reviewed_csv(tmp_path, ["验收合格率,12,,112000287", "项目收益率,11,,NIL"])
    assert learn(tmp_catalogue, reviewed, "--comment", "按2026年目录复核").exit_code == 0
    force = Workspace.open().in_force()
    assert [e.comment for e in force] == ["按2026年目录复核"] * 2
    r = runner.invoke(app, ["learned", "remove", str(force[0].id), "--comment", "误判"])
    assert r.exit_code == 0
    assert [(e.kind, e.comment) for e in Workspace.open().history("验收合格率", "12")] == [
        ("decision", "按2026年目录复核"), ("retraction", "误判")]
    for bad, why in (("x" * 501, "longer than 500 characters"), ("a\x07b", "control character U+0007")):
        r = learn(tmp_catalogue, reviewed_csv(tmp_path, ["租金支付及时率,13,,113000297"]), "--comment", bad)
        assert r.exit_code == 2 and why in r.stderr, r.output
    assert len(Workspace.open().log()) == 3  # nothing recorded by the refused runs
