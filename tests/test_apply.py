"""Write-back: `indicode apply REVIEWED --to ORIGINAL -o CODED` puts the decided codes into the clerk's
own declaration, one 指标编码 column, every other cell as it was (checked cell by cell)."""
import csv

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill
from typer.testing import CliRunner

from conftest import SEED
from docmakers import write_csv, write_docx, write_xls, write_xlsx
from indicode.apply import CODE_HEADER, code_cell
from indicode.bulk import normalize
from indicode.cli import app
from indicode.review_sheet import write_result

pytestmark = pytest.mark.usefixtures("shared_vector_cache")
runner = CliRunner()


def seed_lines(key="001"):
    return SEED[key].read_text(encoding="utf-8").split("\n")


def reviewed(linker, original, out, pick):
    """Normalize `original`, write its review workbook, fill 审核 on the rows `pick(row values)` chooses
    (returning the cell to write). Returns {line: what was written}."""
    res = normalize([original], linker)
    write_result(out, res, {})
    wb = openpyxl.load_workbook(out)
    ws = wb["逐行审核"]
    head = [c.value for c in ws[1]]
    col = head.index("审核") + 1
    written = {}
    for r in range(2, ws.max_row + 1):
        vals = dict(zip(head, [c.value for c in ws[r]], strict=False))
        cell = pick(vals)
        if cell:
            ws.cell(r, col).value = cell
            written[vals["行号"]] = (vals, cell)
    wb.save(out)
    return res, written


def cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: {(c.row, c.column): (c.value, c.number_format, c.font.b, c.fill.fgColor.rgb)
                       for row in ws.iter_rows() for c in row} for ws in wb.worksheets}


def test_apply_xlsx_changes_only_the_code_column(linker, tmp_path, bundled_catalogue):
    orig = write_xlsx(seed_lines("000"), tmp_path / "申报.xlsx", merge_down=(0, 1))
    wb = openpyxl.load_workbook(orig)  # formatting of the clerk's own: bold header, a fill, a number format
    ws = wb.active
    for c in ws[3]:
        c.font = Font(bold=True)
    ws["A4"].fill = PatternFill("solid", fgColor="FFFF00")
    ws.column_dimensions["C"].width = 41
    ws.cell(2, 20).value = 0.5
    ws.cell(2, 20).number_format = "0%"
    wb.save(orig)
    picks = iter(range(10_000))
    seen = set()

    def pick(v):  # confirm the suggestions, one row 无匹配, one a chosen alternative; each text once
        if not v["指标"] or v["指标"] in seen:
            return None
        seen.add(v["指标"])
        i = next(picks)
        if i == 1:
            return "无匹配"
        if i == 2 and v["备选1"]:
            return v["备选1"].rsplit(" (", 1)[0]
        return "确认" if v["编码"] else None

    res, written = reviewed(linker, orig, tmp_path / "审核.xlsx", pick)
    assert len(written) > 10
    out = tmp_path / "已编码.xlsx"
    r = runner.invoke(app, ["apply", str(tmp_path / "审核.xlsx"), "--to", str(orig), "-o", str(out)])
    assert r.exit_code == 0, r.output
    before, after = cells(orig), cells(out)
    ws_out = openpyxl.load_workbook(out).active
    code_col = ws_out.max_column
    assert code_col == openpyxl.load_workbook(orig).active.max_column + 1
    heads = [ws_out.cell(r_, code_col).value for r_ in range(1, 10)]
    assert CODE_HEADER in heads
    (title, b), = before.items()
    a = after[title]
    for key, val in b.items():  # every original cell unchanged: value, number format, bold, fill
        assert a[key] == val, key
    merged = [openpyxl.load_workbook(p).active.merged_cells.ranges for p in (orig, out)]
    assert merged[0] == merged[1] and merged[0]
    assert ws_out.column_dimensions["C"].width == 41
    extra = {k for k in a if k not in b and a[k][0] not in (None, "")}
    assert {k[1] for k in extra} == {code_col}
    # every row decided has its code, as Zhuhai writes it; a subject decided once serves all its rows
    by_text = {vals["指标"]: (vals, cell) for vals, cell in written.values()}
    for rec in res.records:
        vals, cell = by_text.get(rec["indicator"], (None, None))
        got = ws_out.cell(rec["line"], code_col).value
        if cell is None:
            assert got is None, rec["line"]
            continue
        if cell == "确认":  # the code of the row where it was decided, on every row of that text
            want = code_cell(vals["编码"], bundled_catalogue)
        elif cell == "无匹配":
            want = "无匹配"
        else:
            want = code_cell(cell.split("-")[0], bundled_catalogue)
        assert got == want, (rec["line"], rec["indicator"])
        assert want == "无匹配" or want.split("-", 1)[1] == bundled_catalogue.get(want.split("-")[0]).name
    assert sum(1 for k in extra if k[0] > 1) >= len(written)


def test_apply_csv_keeps_delimiter_and_fields(linker, tmp_path):
    orig = write_csv(seed_lines("002"), tmp_path / "d.csv")
    reviewed(linker, orig, tmp_path / "r.xlsx", lambda v: "确认" if v["编码"] else None)
    out = tmp_path / "coded.csv"
    r = runner.invoke(app, ["apply", str(tmp_path / "r.xlsx"), "--to", str(orig), "-o", str(out)])
    assert r.exit_code == 0, r.output
    a = list(csv.reader(open(orig, encoding="utf-8")))
    b = list(csv.reader(open(out, encoding="utf-8-sig")))
    assert len(a) == len(b)
    width = max(len(x) for x in a)
    coded = 0
    for x, y in zip(a, b, strict=True):
        assert y[:len(x)] == x
        assert all(c == "" for c in y[len(x):width])
        coded += len(y) > width and y[width] not in ("", CODE_HEADER)
    assert coded > 5 and any(CODE_HEADER in y for y in b)


def test_apply_xls_becomes_xlsx_and_docx_a_coded_table(linker, tmp_path):
    for maker, name in ((write_xls, "d.xls"), (write_docx, "d.docx")):
        orig = maker(seed_lines("003"), tmp_path / name)
        res, written = reviewed(linker, orig, tmp_path / f"{name}.r.xlsx", lambda v: "确认" if v["编码"] else None)
        out = tmp_path / f"{name}.coded.xlsx"
        r = runner.invoke(app, ["apply", str(tmp_path / f"{name}.r.xlsx"), "--to", str(orig), "-o", str(out)])
        assert r.exit_code == 0, r.output
        ws = openpyxl.load_workbook(out).active
        values = [c.value for row in ws.iter_rows() for c in row]
        codes = [v for v in values if isinstance(v, str) and v[:9].isdigit() and v[9:10] == "-"]
        decided = {rec["indicator"] for rec in res.records if rec.get("code")}
        assert len(codes) >= len(decided) and CODE_HEADER in values, name


def test_apply_refuses_bad_output_and_reports_refused_cells(linker, tmp_path):
    orig = write_xlsx(seed_lines("004"), tmp_path / "o.xlsx")
    reviewed(linker, orig, tmp_path / "r.xlsx", lambda v: "999999999" if v["指标"] else None)
    r = runner.invoke(app, ["apply", str(tmp_path / "r.xlsx"), "--to", str(orig), "-o", str(orig)])
    assert r.exit_code == 2 and "original" in r.output
    out = tmp_path / "c.xlsx"
    r = runner.invoke(app, ["apply", str(tmp_path / "r.xlsx"), "--to", str(orig), "-o", str(out)])
    assert r.exit_code == 1 and "999999999" in r.output and "0 of" in r.output


def test_review_workbook_project_note_accept_all_and_wrong_column(linker, tmp_path, tmp_catalogue):
    """The friction points of the review workbook: the project beside the indicator, a 备注 kept with
    the decision, 全部采用建议 taking every blank green row, a 编码 typed over reported in one line."""
    from indicode.workspace import Workspace

    orig = write_xlsx(seed_lines("000"), tmp_path / "o.xlsx")
    res = normalize([orig], linker)
    out = tmp_path / "r.xlsx"
    write_result(out, res, {})
    wb = openpyxl.load_workbook(out)
    ws = wb["逐行审核"]
    head = [c.value for c in ws[1]]
    at = {h: head.index(h) + 1 for h in head if h}
    assert head.index("项目") == head.index("指标") + 1 and "备注" in head
    projects = {ws.cell(r, at["项目"]).value for r in range(2, ws.max_row + 1)}
    assert "区档案中心智慧档案信息化建设经费" in projects
    legend = wb["说明"]
    row = next(r for r in legend.iter_rows() if r[0].value == "全部采用建议")
    row[2].value = "是"
    green = [r for r in range(2, ws.max_row + 1) if ws.cell(r, at["建议"]).value == "建议采用"]
    yellow = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, at["建议"]).value == "需复核"
                  and ws.cell(r, at["指标"]).value)
    noted = green[0]
    ws.cell(noted, at["审核"]).value = "无匹配"  # written: wins over 全部采用建议
    ws.cell(noted, at["备注"]).value = "不知道，请科长定"
    ws.cell(yellow, at["编码"]).value = "111000001"  # typed into the wrong column
    wb.save(out)
    r = runner.invoke(app, ["learn", str(out), "-c", str(tmp_catalogue), "--reviewer", "王"])
    assert r.exit_code == 1, r.output
    assert f"逐行审核:{yellow}" in r.stderr and "审核" in r.stderr and "111000001" in r.stderr
    force = {e.text: e for e in Workspace.open().in_force()}
    noted_text = ws.cell(noted, at["指标"]).value
    assert force[noted_text].code == "NIL" and force[noted_text].comment == "不知道，请科长定"
    accepted = {ws.cell(r, at["指标"]).value for r in green[1:]} - {noted_text}
    clashing = {t for t in accepted if f"「{t}」" in r.stderr and "different decisions" in r.stderr}
    assert accepted - clashing and accepted - clashing <= set(force)  # (a text whose rows disagree: reported)
    assert ws.cell(yellow, at["指标"]).value not in force  # nothing learned from the 编码 column
    # and without 全部采用建议 the green rows left blank stay undecided
    row[2].value = None
    wb.save(out)
    from indicode.learn import read_reviewed
    assert len(read_reviewed(out, tmp_catalogue_cat(tmp_catalogue)).decisions) == 1


def tmp_catalogue_cat(path):
    from indicode.catalogue.lookup import Catalogue
    return Catalogue.load(path)


def test_apply_reads_an_xls_twice_and_knows_files_by_the_readers_sniff(linker, tmp_path, monkeypatch):
    """An .xls is parsed once for its rows (the readers, within their limits) and once to be written
    with its merged cells and widths, not a third time; which kind a file is written back as is the readers' sniff."""
    import xlrd

    from indicode.apply import kind_of_file

    orig = write_xls(seed_lines("003"), tmp_path / "d.xls")
    reviewed(linker, orig, tmp_path / "r.xlsx", lambda v: "确认" if v["编码"] else None)
    opened = []
    real = xlrd.open_workbook
    monkeypatch.setattr(xlrd, "open_workbook", lambda *a, **kw: opened.append(kw) or real(*a, **kw))
    r = runner.invoke(app, ["apply", str(tmp_path / "r.xlsx"), "--to", str(orig), "-o", str(tmp_path / "c.xlsx")])
    assert r.exit_code == 0, r.output
    assert len(opened) == 2  # (it was 3: `_xls` ran the reader's parse again for its limits)
    lines = seed_lines("000")
    made = {"xlsx": write_xlsx(lines, tmp_path / "a.xlsx"), "xls": orig, "csv": write_csv(lines, tmp_path / "a.csv"),
            "rows": write_docx(lines, tmp_path / "a.docx")}
    text = tmp_path / "a.txt"
    text.write_text("\n".join(lines), encoding="utf-8")
    assert {k: kind_of_file(p) for k, p in made.items()} == {k: k for k in made} and kind_of_file(text) == "rows"
