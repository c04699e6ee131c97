"""The review workbook, opened as a reviewer's Excel would: Chinese headers, the decision next to
the indicator, a dropdown per row, words rather than codes, a legend, one row per distinct text;
and a reviewer who only picks from the dropdowns gets every decision learned."""
import re
from collections import Counter

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SEED
from indicode.bulk import normalize
from indicode.catalogue.records import NIL
from indicode.cli import app
from indicode.matcher.text import clean
from indicode.review_sheet import FILLS, options, write_result, write_workbook
from indicode.workspace import Workspace

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()
SAMPLE = ["001", "002", "003", "004"]  # the uncoded sample declarations the README normalizes
FIRST_COLUMNS = ["来源", "行号", "指标", "项目", "类别", "建议", "审核", "备注", "编码", "名称", "分数", "说明",
                 "备选1", "备选2", "备选3"]


@pytest.fixture(scope="module")
def sample(linker, tmp_path_factory):
    res = normalize([SEED[k] for k in SAMPLE + ["000"]], linker)
    out = tmp_path_factory.mktemp("review") / "normalized.xlsx"
    write_result(out, res, {"catalogue": "bundled"})
    return res, out


def validations(ws):
    """cell -> its dropdown items (inline lists and hidden-sheet ranges alike)."""
    wb = ws.parent
    out = {}
    for dv in ws.data_validations.dataValidation:
        f = dv.formula1
        if f.startswith('"'):
            items = f.strip('"').split(",")
        else:
            sheet, rng = f.split("!")
            items = [c.value for row in wb[sheet.strip("'")][rng.replace("$", "")] for c in row]
        for cr in dv.sqref.ranges:
            for row in ws[cr.coord] if ":" in cr.coord else [[ws[cr.coord]]]:
                for c in row:
                    out[c.coordinate] = items
    return out


def test_sheets_headers_and_layout(sample):
    res, out = sample
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["逐行审核", "按文本审核", "说明", "汇总", "选项"]
    assert wb["选项"].sheet_state == "hidden" and wb.active.title == "逐行审核"
    ws = wb["逐行审核"]
    header = [c.value for c in ws[1]]
    assert header[:len(FIRST_COLUMNS)] == FIRST_COLUMNS
    assert header[len(FIRST_COLUMNS):len(FIRST_COLUMNS) + 3] == ["单位", "项目名称", "项目编号"]  # original cells after
    assert "reviewer_code" not in header and "indicator" not in header  # English keys stay in CSV / JSONL
    assert header.count("指标") == 1 and ws.max_row - 1 == len(res.records)
    assert ws["G1"].fill.start_color.rgb[-6:] == "BDD7EE" and "下拉" in ws["G1"].comment.text
    assert ws.freeze_panes == "D2" and ws.auto_filter.ref.startswith("A1:")
    colours = {row[5].value: row[0].fill.start_color.rgb[-6:] for row in ws.iter_rows(min_row=2)}
    assert colours == {"建议采用": FILLS["accept"], "需复核": FILLS["review"], "无匹配": FILLS["no-match"]}


def test_explanations_in_words_not_codes(sample):
    res, out = sample
    wb = openpyxl.load_workbook(out)
    for name in ("逐行审核", "按文本审核", "汇总"):
        texts = {c.value for row in wb[name].iter_rows() for c in row if isinstance(c.value, str)}
        english = [t for t in texts if re.search(r"no-match|catalogue anomaly|filed-class-mismatch|written code|"
                                                 r"^accept$|^review$|unknown code|malformed code", t)]
        assert english == [], (name, english[:3])
    ws = wb["逐行审核"]
    why = {(r[2].value, r[0].value): r[11].value for r in ws.iter_rows(min_row=2)}
    assert why[("保障机构正常运转", SEED["000"].name)] == "文件自带编码；编码异常：一码多名"
    assert why[("采购物资质量达标率", SEED["000"].name)].endswith("编码异常：编码类别位自相矛盾")
    assert why[("信息化建设任务完成率", SEED["000"].name)] == "文件自带编码；编码核对无误"
    assert "编码格式错误（10 位，应为 9 位）" in why[("市级及以上主要刊物上刊登的稿件数", SEED["000"].name)]
    assert "归类不一致：文件为 1/12，编码为 1/11" in why[("采购验收合格率", SEED["004"].name)]
    no_match = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[5] == "无匹配")
    assert no_match[11].startswith("无匹配：目录中没有衡量同一事项的编码；新编码应归入 ")
    unreadable = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == 124 and r[0] == SEED["000"].name)
    assert unreadable[11].startswith("此行无法完整读取") and unreadable[5] == "需复核"


def test_the_matchers_flags_are_in_words_and_a_class_difference_comes_first():
    """说明 of matched rows: a class difference first, then the decision, then what the matcher flags
    (namesakes, a generic code offered, a class read from the text, a name cut)."""
    from indicode.review_sheet import explain

    base = {"indicator": "召开会议次数", "class": "12", "decision": "accept", "code": "111000231", "score": 0.99,
            "reason": "score", "new_code_class": ""}
    why = explain({**base, "check": "namesake 111000234", "class_flag": "document 1/12, code 1/11"})
    assert why == "归类不一致：文件为 1/12，编码为 1/11；建议采用：匹配得分 0.99；同名编码：111000234"
    generic = explain({**base, "decision": "review", "score": 0.14, "reason": "generic", "class_flag": "",
                       "check": "generic code for 正常运行; class inferred 22", "new_code_class": "22-社会效益"})
    assert generic == ("需复核：得分 0.14，请确认或从下拉中选其他编码；通用编码：正常运行；推断类别 22；"
                       "新编码应归入 22-社会效益")
    cut = explain({**base, "check": "name cut to its first 200 characters for matching", "class_flag": ""})
    assert cut.endswith("名称过长，按前 200 个字符匹配")


def test_dropdown_per_row_of_its_candidates(sample):
    res, out = sample
    ws = openpyxl.load_workbook(out)["逐行审核"]
    lists = validations(ws)
    assert all(dv.type == "list" and dv.allow_blank for dv in ws.data_validations.dataValidation)
    checked = 0
    for r, rec in enumerate(res.records, 2):
        items = lists.get(f"G{r}")
        if not rec.get("indicator"):
            assert items is None  # an unreadable line has nothing to choose from
            continue
        assert items == options(rec) and items[-2:] == ["确认", "无匹配"]
        if rec["code"]:
            assert items[0] == f"{rec['code']}-{rec['code_name']}"
        alts = [rec[f"alt{i}"].rsplit(" (", 1)[0] for i in (1, 2, 3) if rec[f"alt{i}"]]
        assert set(alts) <= set(items)
        checked += 1
    assert checked == sum(1 for r in res.records if r.get("indicator"))


def test_distinct_texts_sheet(sample):
    res, out = sample
    ws = openpyxl.load_workbook(out)["按文本审核"]
    header = [c.value for c in ws[1]]
    assert header[:8] == ["指标", "项目", "类别", "行数", "建议", "审核", "备注", "编码"]
    counts = Counter((r["indicator"], r["class"]) for r in res.records if r.get("indicator"))
    rows = {(r[0], r[2] or ""): r[3] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows == dict(counts) and sum(rows.values()) == sum(counts.values())
    assert max(rows.values()) > 1 and ws.max_row - 1 < len(res.records)
    assert len(validations(ws)) == len(rows)  # a dropdown on every distinct text


def test_legend_sheet(sample):
    wb = openpyxl.load_workbook(sample[1])
    legend = {r[0].value: (r[1].value, r[0].fill.start_color.rgb[-6:]) for r in wb["说明"].iter_rows()}
    assert legend["绿色"][1] == FILLS["accept"] and "建议采用" in legend["绿色"][0]
    assert legend["黄色"][1] == FILLS["review"] and legend["红色"][1] == FILLS["no-match"]
    assert "确认" in legend and "无匹配" in legend and "新:CODE-名称" in legend
    assert "全部行" in legend["按文本审核"][0]


def test_long_candidate_lists_go_through_the_hidden_sheet(tmp_path):
    long = "很长的指标名称" * 8
    recs = [{"source": "a.csv", "line": 2, "indicator": "甲", "class": "12", "decision": "review", "code": "112000272",
             "code_name": long, "score": 0.7, "reason": "score", "check": "", "class_flag": "", "new_code_class": "",
             "alt1": f"112000287-{long} (0.60)", "alt2": "112000311-名称,带逗号 (0.50)", "alt3": "",
             "reviewer_code": ""},
            {"source": "a.csv", "line": 3, "indicator": "乙", "class": "12", "decision": "accept", "code": "112000287",
             "code_name": "验收合格率", "score": 0.95, "reason": "score", "check": "", "class_flag": "",
             "new_code_class": "", "alt1": "", "alt2": "", "alt3": "", "reviewer_code": ""}]
    out = tmp_path / "w.xlsx"
    write_workbook(out, recs, list(recs[0]), [])
    wb = openpyxl.load_workbook(out)
    ws = wb["逐行审核"]
    by_cell = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert by_cell["G2"] == "'选项'!$A$1:$E$1"  # over 255 characters, and a comma in a name
    assert by_cell["G3"] == '"112000287-验收合格率,确认,无匹配"'
    assert validations(ws)["G2"] == [f"112000272-{long}", f"112000287-{long}", "112000311-名称,带逗号",
                                     "确认", "无匹配"]
    assert wb["选项"].sheet_state == "hidden"


def test_csv_keeps_the_english_record_keys(sample, tmp_path):
    res, _ = sample
    out = tmp_path / "n.csv"
    write_result(out, res, {})
    df = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {"indicator", "class", "decision", "code", "reviewer_code", "alt1"} <= set(df.columns)
    assert set(df["decision"]) <= {"accept", "review", "no-match"}


def _pick(items, rec_decision):
    """What a reviewer picks from a dropdown: the suggestion when it is right, else 无匹配 or a candidate."""
    if rec_decision == "建议采用":
        return "确认"
    if rec_decision == "无匹配":
        return "无匹配"
    return items[0]


def test_a_reviewer_codes_the_sample_with_dropdowns_only(sample, tmp_catalogue, tmp_path):
    _, out = sample
    wb = openpyxl.load_workbook(out)
    ws = wb["按文本审核"]
    lists = validations(ws)
    header = [c.value for c in ws[1]]
    col = header.index("审核") + 1
    expected = {}
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(row=r, column=col)
        items = lists[cell.coordinate]
        choice = _pick(items, ws.cell(row=r, column=5).value)
        assert choice in items  # only what the dropdown offers
        cell.value = choice
        text, klass, code = (ws.cell(row=r, column=1).value, ws.cell(row=r, column=3).value or "",
                             ws.cell(row=r, column=8).value)
        # keyed by subject: spellings that clean alike are one decision
        expected[(clean(text), klass)] = ((code or NIL) if choice == "确认" else NIL if choice == "无匹配"
                                          else choice.split("-")[0])
    reviewed = tmp_path / "reviewed.xlsx"
    wb.save(reviewed)
    r = runner.invoke(app, ["learn", str(reviewed), "-c", str(tmp_catalogue), "--reviewer", "李"])
    assert r.exit_code == 0, r.output
    total_rows = sum(ws.cell(row=i, column=4).value for i in range(2, ws.max_row + 1))
    assert f"learned {len(expected)} decisions ({total_rows} rows)" in r.stderr
    force = Workspace.open().in_force()
    got = {(e.subject.key, e.subject.level2): e.code for e in force}
    assert got == expected
    assert all(e.reviewer == "李" and e.origin.sheet == "按文本审核" for e in force)


def test_rows_sheet_decisions_and_a_conflict_with_the_distinct_sheet(sample, tmp_catalogue, tmp_path):
    res, out = sample
    wb = openpyxl.load_workbook(out)
    rows_ws, dist_ws = wb["逐行审核"], wb["按文本审核"]
    lists = validations(rows_ws)
    target = next(r for r in range(2, rows_ws.max_row + 1) if rows_ws.cell(row=r, column=6).value == "需复核"
                  and rows_ws.cell(row=r, column=3).value)
    text = rows_ws.cell(row=target, column=3).value
    rows_ws.cell(row=target, column=7).value = lists[f"G{target}"][0]
    other = next(r for r in range(2, rows_ws.max_row + 1) if rows_ws.cell(row=r, column=6).value == "无匹配")
    rows_ws.cell(row=other, column=7).value = "无匹配"
    drow = next(r for r in range(2, dist_ws.max_row + 1) if dist_ws.cell(row=r, column=1).value == text)
    dist_ws.cell(row=drow, column=6).value = "无匹配"  # disagrees with the row decision above
    reviewed = tmp_path / "reviewed.xlsx"
    wb.save(reviewed)
    r = runner.invoke(app, ["learn", str(reviewed), "-c", str(tmp_catalogue)])
    assert r.exit_code == 1
    assert f"「{text}」" in r.stderr and "different decisions" in r.stderr and "按文本审核" in r.stderr
    got = {e.text: e.code for e in Workspace.open().in_force()}
    assert got == {rows_ws.cell(row=other, column=3).value: NIL}
