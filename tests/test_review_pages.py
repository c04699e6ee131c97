"""A PDF row is located by the page it starts on, not by a line of extracted text (issue 21 §3): the
review workbook's 页码 column, 按文本审核's `文件.pdf 第2页`, the CSV/JSONL `page` key. A workbook or CSV
read the same way gets no page anywhere: its output is what it was."""
import json

import openpyxl
import pandas as pd
import pytest

from docmakers import split_row, wrap, write_csv, write_pdf_ruled, write_xlsx
from indicode.bulk import normalize
from indicode.catalogue.readers.detect import read_document
from indicode.catalogue.readers.pdf import page_of
from indicode.review_sheet import write_result

pytestmark = pytest.mark.usefixtures("shared_vector_cache")

HEADER = ["一级指标", "二级指标", "三级指标", "指标值"]
PER_LINE = [4, 4, 10, 6]
WIDTHS = [n * 9 + 8 for n in PER_LINE]
PAGE1 = [["产出指标", "数量指标", "培训人次", "500人次"], ["产出指标", "质量指标", "任务达标完成率", "100%"]]
PAGE2 = [["产出指标", "时效指标", "资金支付及时率", "100%"], ["满意度指标", "服务对象满意度", "群众满意度", "≥90%"]]
FIRST_COLUMNS = ["来源", "行号", "指标", "项目", "类别", "建议", "审核", "备注", "编码", "名称", "分数", "说明"]


def lines(cells):
    return [wrap(c, n) for c, n in zip(cells, PER_LINE, strict=True)]


def two_pages(path):
    """Page 1: header and PAGE1; page 2: the header repeated and PAGE2."""
    return write_pdf_ruled([[lines(HEADER)] + [lines(r) for r in PAGE1],
                            [lines(HEADER)] + [lines(r) for r in PAGE2]], path, WIDTHS)


def test_page_of_is_the_page_a_row_starts_on():
    starts = [0, 3, 3, 5]  # page 2 starts no row of its own (blank, or all of it the rest of row 3)
    assert [page_of(starts, line) for line in range(1, 8)] == [1, 1, 1, 3, 3, 4, 4]


def test_pdf_rows_carry_their_page_and_a_workbook_none(tmp_path):
    got = read_document(two_pages(tmp_path / "decl.pdf"))
    assert [(r.name, r.page) for r in got.rows] == [("培训人次", 1), ("任务达标完成率", 1),
                                                    ("资金支付及时率", 2), ("群众满意度", 2)]
    assert "page" in got.rows[0].to_dict()
    xlsx = read_document(write_xlsx(["\t".join(r) for r in [HEADER, *PAGE1, *PAGE2]], tmp_path / "decl.xlsx"))
    assert [r.page for r in xlsx.rows] == [None] * 4 and "page" not in xlsx.rows[0].to_dict()


def test_a_row_a_page_break_cut_is_on_the_page_it_starts_on(tmp_path):
    long = ["产出指标", "质量指标", "市级及以上主要刊物上刊登的稿件数量达标率", "≥95%"]
    first, rest = split_row(long, PER_LINE, 2)
    pdf = write_pdf_ruled([[lines(HEADER), lines(PAGE1[0]), first], [lines(HEADER), rest, lines(PAGE2[0])]],
                          tmp_path / "cut.pdf", WIDTHS)
    got = read_document(pdf)
    assert [(r.name, r.page) for r in got.rows] == [("培训人次", 1), (long[2], 1), ("资金支付及时率", 2)]


def _sheets(path):
    wb = openpyxl.load_workbook(path)
    return wb["逐行审核"], wb["按文本审核"]


def test_review_workbook_shows_the_page_of_a_pdf_row(linker, tmp_path):
    res = normalize([two_pages(tmp_path / "decl.pdf")], linker)
    out = tmp_path / "review.xlsx"
    write_result(out, res, {})
    rows_ws, distinct_ws = _sheets(out)
    header = [c.value for c in rows_ws[1]]
    assert header[:3] == ["来源", "行号", "页码"] and header[3] == "指标"
    page = {r[header.index("指标")]: r[2] for r in rows_ws.iter_rows(min_row=2, values_only=True)}
    assert page == {"培训人次": 1, "任务达标完成率": 1, "资金支付及时率": 2, "群众满意度": 2}
    assert rows_ws.freeze_panes == "E2"  # frozen up to 指标, which moved one column right
    dh = [c.value for c in distinct_ws[1]]
    where = {r[dh.index("指标")]: r[dh.index("来源")] for r in distinct_ws.iter_rows(min_row=2, values_only=True)}
    assert where["资金支付及时率"] == "decl.pdf 第2页" and where["培训人次"] == "decl.pdf 第1页"
    assert "页码" not in dh  # the page is in the place list, not a column of its own
    csv_out, jsonl_out = tmp_path / "n.csv", tmp_path / "n.jsonl"
    write_result(csv_out, res, {})
    write_result(jsonl_out, res, {})
    df = pd.read_csv(csv_out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(df.columns[:3]) == ["source", "line", "page"]
    assert dict(zip(df["indicator"], df["page"], strict=True))["群众满意度"] == "2"
    recs = [json.loads(line) for line in jsonl_out.read_text(encoding="utf-8").splitlines()]
    assert [r["page"] for r in recs] == [1, 1, 2, 2]


@pytest.mark.parametrize("maker,suffix", [(write_xlsx, "xlsx"), (write_csv, "csv")])
def test_a_workbook_or_csv_gets_no_page(linker, tmp_path, maker, suffix):
    doc = maker(["\t".join(r) for r in [HEADER, *PAGE1, *PAGE2]], tmp_path / f"decl.{suffix}")
    res = normalize([doc], linker)
    out = tmp_path / "review.xlsx"
    write_result(out, res, {})
    rows_ws, distinct_ws = _sheets(out)
    header = [c.value for c in rows_ws[1]]
    assert header[:len(FIRST_COLUMNS)] == FIRST_COLUMNS and "页码" not in header
    assert header[len(FIRST_COLUMNS) + 3:] == HEADER  # after the 备选 columns: its own cells, nothing added
    assert rows_ws.freeze_panes == "D2"
    dh = [c.value for c in distinct_ws[1]]
    where = {r[dh.index("指标")]: r[dh.index("来源")] for r in distinct_ws.iter_rows(min_row=2, values_only=True)}
    assert where["培训人次"] == f"decl.{suffix}:2" and "第" not in "".join(where.values())
    csv_out = tmp_path / "n.csv"
    write_result(csv_out, res, {})
    assert "page" not in pd.read_csv(csv_out, dtype=str, encoding="utf-8-sig").columns


def reviewed(res, out, decide):
    """`res`'s review workbook written to `out`, each row's 审核 set to decide(its 指标) unless None."""
    write_result(out, res, {})
    wb = openpyxl.load_workbook(out)
    ws = wb["逐行审核"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        verdict = decide(ws.cell(row=r, column=header.index("指标") + 1).value)
        if verdict is not None:
            ws.cell(row=r, column=header.index("审核") + 1).value = verdict
    wb.save(out)
    return out


def test_a_pdf_review_workbook_is_learned_with_its_page_column(linker, tmp_catalogue, tmp_path):
    from typer.testing import CliRunner

    from indicode.cli import app
    from indicode.workspace import Workspace

    out = reviewed(normalize([two_pages(tmp_path / "decl.pdf")], linker), tmp_path / "review.xlsx",
                   lambda name: "无匹配" if name == "资金支付及时率" else None)
    r = CliRunner().invoke(app, ["learn", str(out), "-c", str(tmp_catalogue), "--reviewer", "李"])
    assert r.exit_code == 0, r.output
    assert "learned 1 decision" in r.stderr and "页码" not in r.stderr
    assert [(e.subject.key, e.code) for e in Workspace.open().in_force()] == [("资金支付及时率", "NIL")]


def test_an_unreadable_pdf_row_is_named_by_its_page(linker, tmp_path):
    pdf = write_pdf_ruled([[lines(HEADER)] + [lines(r) for r in PAGE1],
                           [lines(HEADER), lines(PAGE2[0]), lines(["产出指标", "数量指标", "", "50人"])]],
                          tmp_path / "decl.pdf", WIDTHS)
    res = normalize([pdf], linker)
    out = tmp_path / "review.xlsx"
    write_result(out, res, {})
    wb = openpyxl.load_workbook(out)
    header = [c.value for c in wb["逐行审核"][1]]
    unreadable = [r for r in wb["逐行审核"].iter_rows(min_row=2, values_only=True) if not r[header.index("指标")]]
    assert [r[2] for r in unreadable] == [2]  # the 页码 of the unreadable row
    said = [r[2] for r in wb["汇总"].iter_rows(min_row=2, values_only=True) if r[1] == "无法读取的行"]
    assert said == ["decl.pdf 第2页: row has no indicator name"]


def test_a_coded_pdf_lists_its_rows_by_page(linker, tmp_path):
    from typer.testing import CliRunner

    from indicode.cli import app

    pdf = two_pages(tmp_path / "decl.pdf")
    out = reviewed(normalize([pdf], linker), tmp_path / "review.xlsx", lambda name: "无匹配")
    coded = tmp_path / "coded.xlsx"
    r = CliRunner().invoke(app, ["apply", str(out), "--to", str(pdf), "-o", str(coded)])
    assert r.exit_code == 0, r.output
    rows = list(openpyxl.load_workbook(coded).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("来源", "行号", "页码")
    assert [(row[rows[0].index("三级指标")], row[2]) for row in rows[1:]] == [
        ("培训人次", 1), ("任务达标完成率", 1), ("资金支付及时率", 2), ("群众满意度", 2)]
