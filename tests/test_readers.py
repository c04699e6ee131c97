"""Every seed format read to the hand-counted rows, with classes and wrapped names right."""
import openpyxl
import pytest

from conftest import SEED
from indicode.catalogue.readers.detect import read_document
from indicode.catalogue.records import InputError


def rows_of(key):
    return read_document(SEED[key])


def test_zhuhai_counts_and_truncated_row_reported():
    res = rows_of("000")
    assert res.format == "zhuhai"
    assert len(res.rows) == 178
    assert all(r.code for r in res.rows)
    assert [(p.line, "truncated" in p.why) for p in res.problems] == [(124, True)]


def test_zhuhai_shifted_rows_read_by_cell_shape():
    rows = {r.line: r for r in rows_of("000").rows}
    shifted = rows[94]  # a row shifted left by several cells
    assert (shifted.code, shifted.name, shifted.level2, shifted.value_period) == \
        ("111000246", "聘请第三方机构数", "11", "3家")
    right = rows[125]  # values spread over the last cells
    assert (right.code, right.value_period, right.value_year) == ("112001520", "≥90%", "≥90%")
    assert rows[2 + 4].unit == "101001-区党政办" and rows[6].project == "区档案中心智慧档案信息化建设经费"


def test_guangzhou_wrapped_lists():
    res = rows_of("001")
    assert res.format == "guangzhou-list" and len(res.rows) == 58 and not res.problems
    names = [r.name for r in res.rows]
    assert "办事群众满意度" in names and "电子政务外网故障处理满意率" in names
    first = res.rows[0]
    assert (first.name, first.level1, first.level2, first.value_period, first.value_year) == (
        "项目收益率", "1", "11", "＞=15%", "15%")
    assert first.unit.startswith("广州市海珠区")


def test_guangzhou_cells_with_fullwidth_colons():
    res = rows_of("002")
    assert res.format == "guangzhou-cells" and len(res.rows) == 37
    sat = [r for r in res.rows if r.name == "职员及办事人员对办公环境满意度"][0]
    # filed as 2-效益指标：31-服务对象满意度 — the level-2 class decides level 1
    assert (sat.level1_text, sat.level1, sat.level2, sat.value_period) == ("2-效益指标", "3", "31", "≥95%")
    assert sat.project == "业务用房物业管理费"


def test_guangzhou_office_with_codes_and_class_4():
    res = rows_of("004")
    assert len(res.rows) == 155 and not res.problems
    coded = {r.code: r.name for r in res.rows if r.code}
    assert len(coded) == 5 and coded["111063829"] == "采购验收合格率" and coded["331037299"] == "工作人员满意度"
    cost = [r for r in res.rows if r.level1 == "4"]
    assert cost and all(r.level2 == "41" for r in cost)
    empty_l2 = [r for r in res.rows if r.level2_text == "24-"]
    # `24-` names the class by digits alone
    assert empty_l2 and all(r.level2 == "24" and r.level1 == "2" for r in empty_l2)


def test_shenshan_forms_and_misfiled_rows():
    res = rows_of("003")
    assert res.format == "shenshan" and len(res.rows) == 166
    assert not any(r.name == "不适用" for r in res.rows)
    by_line = {r.line: r for r in res.rows}
    misfiled = by_line[114]  # *服务对象满意度指标 sitting under 效益指标
    assert (misfiled.name, misfiled.level1_text, misfiled.level1, misfiled.level2) == \
        ("区各单位满意度", "效益指标", "3", "31")
    shifted = by_line[22]  # `*成本指标  成本控制率  ≤100%` shifted left into the level-1 column
    assert (shifted.name, shifted.level1, shifted.level2, shifted.value_period) == ("成本控制率", "1", "14", "≤100%")
    assert shifted.explanation.startswith("考察项目成本")
    sustain = by_line[27]
    assert (sustain.name, sustain.level1, sustain.level2) == ("工作正常运行率", "2", "24")
    no_l1 = by_line[373]  # a block whose level-1 column is missing
    assert (no_l1.level1, no_l1.level2) == ("1", "11")
    assert by_line[22].project == "后勤保障服务" and by_line[22].unit.startswith("深圳市深汕")


def _same(a, b):
    def strip(rows):
        return [{**r.to_dict(), "source": ""} for r in rows]

    assert strip(a.rows) == strip(b.rows)
    assert [(p.line, p.why) for p in a.problems] == [(p.line, p.why) for p in b.problems]


@pytest.mark.parametrize("key,encoding", [("000", "gb18030"), ("001", "gbk"), ("002", "gbk"), ("003", "gb18030"),
                                          ("004", "gbk"), ("000", "utf-8-sig"), ("003", "utf-16")])
def test_other_encodings_read_the_same(tmp_path, key, encoding):
    copy = tmp_path / f"copy_{key}.txt"
    copy.write_bytes(SEED[key].read_text(encoding="utf-8").encode(encoding))
    _same(read_document(copy), read_document(SEED[key]))


@pytest.mark.parametrize("key", ["000", "002", "003"])
def test_xlsx_export_reads_the_same(tmp_path, key):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, line in enumerate(SEED[key].read_text(encoding="utf-8").split("\n"), 1):
        for j, text in enumerate(line.split("\t"), 1):
            cell = ws.cell(row=i, column=j)
            cell.value = text
            cell.data_type = "s"  # text as a real export stores it, even `=100%`
    out = tmp_path / f"export_{key}.xlsx"
    wb.save(out)
    _same(read_document(out), read_document(SEED[key]))


def test_plain_csv_table_with_codes_classes_and_values(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("部门,三级指标,二级指标,指标值\n"
                 "局办公室,112000272-任务达标完成率,12-质量指标,100%\n"
                 ",群众满意度（%）,服务对象满意度,≥95%\n"
                 ",,,\n", encoding="gbk")
    res = read_document(f)
    assert [(r.line, r.name, r.code, r.level1, r.level2, r.value, r.unit) for r in res.rows] == [
        (2, "任务达标完成率", "112000272", "1", "12", "100%", "局办公室"),
        (3, "群众满意度（%）", "", "3", "31", "≥95%", "局办公室")]


def test_columns_given_by_option(tmp_path):
    from indicode.catalogue.readers.table import Columns

    f = tmp_path / "odd.csv"
    f.write_text("a,b,c\nx,系统正常运行率,22\n", encoding="utf-8")
    with pytest.raises(InputError, match="no indicator name column"):
        read_document(f)
    res = read_document(f, Columns(name="b", level2="3"))
    assert [(r.name, r.level2) for r in res.rows] == [("系统正常运行率", "22")]
    with pytest.raises(InputError, match="no column 'zz'"):
        read_document(f, Columns(name="zz"))


@pytest.mark.parametrize("content,problem", [
    (b"", "empty file"), (b"  \n\n", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a text document"),
    (b"PK\x03\x04garbage", "not a readable .xlsx")])
def test_bad_files_raise_one_line_errors(tmp_path, content, problem):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(InputError) as exc:
        read_document(f)
    msg = str(exc.value)
    assert str(f) in msg and problem in msg and "\n" not in msg


def test_csv_cells_kept_as_written(tmp_path):
    # found by tests/test_properties.py: the sniffer guessed "skip spaces after a comma" from `, `
    f = tmp_path / "spaces.csv"
    f.write_text('三级指标,二级指标,指标值\n"""", ,100%\n  0,11,100%\n', encoding="utf-8")
    res = read_document(f)
    assert [(r.extra["三级指标"], r.extra["二级指标"], r.name) for r in res.rows] == \
        [('"', " ", '"'), ("  0", "11", "0")]


def test_workbook_sheets_apart_and_within_limits(tmp_path):
    from indicode.catalogue.readers.sheets import workbook_sheets

    wb = openpyxl.Workbook()
    wb.active.title = "审核"
    wb.active.append(["三级指标", "审核"])
    wb.active.append(["任务达标完成率", "确认"])
    wb.active.append([None])
    wb.create_sheet("按文本审核").append(["=不是公式", 3])
    f = tmp_path / "review.xlsx"
    wb.save(f)
    assert workbook_sheets(f) == [("审核", [["三级指标", "审核"], ["任务达标完成率", "确认"]]),
                                  ("按文本审核", [["=不是公式", "3"]])]
    res = read_document(f)  # the sheets one after the other; sheet 1's empty last row still counted
    assert [(r.line, r.name) for r in res.rows] == [(2, "任务达标完成率"), (4, "=不是公式")]
    from baddocs import rows_bomb

    with pytest.raises(InputError, match="declares 100000000 rows"):
        workbook_sheets(rows_bomb(tmp_path / "bomb.xlsx"))


def test_text_mentioning_magic_bytes_is_text(tmp_path):
    f = tmp_path / "note.csv"
    f.write_text("三级指标,指标值\n%PDF-1.4 文件归档率,100%\n", encoding="utf-8")
    assert [r.name for r in read_document(f).rows] == ["%PDF-1.4 文件归档率"]


def test_devices_and_pipes_refused_without_reading(tmp_path):
    import os

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # opening it would block until someone writes
    for f in (fifo, "/dev/zero"):
        with pytest.raises(InputError, match="not a regular file"):
            read_document(f)
