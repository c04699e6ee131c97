"""A table row that a PDF page break splits (Word's "allow row to break across pages") reads as one
row; two rows that merely meet at a page break, and a header repeated on the next page, stay apart.

The PDFs are drawn by `docmakers.write_pdf_ruled` exactly as given: the row at the foot of page 1 ends
part-way through its long cells and goes on at the top of page 2, as a word processor draws it.
"""
import json

import pytest
from typer.testing import CliRunner

from conftest import SEED
from docmakers import split_row, wrap, write_pdf_ruled, write_pdf_text
from indicode.catalogue.readers.detect import load, read_document
from indicode.cli import app

HEADER = ["一级指标", "二级指标", "三级指标", "指标值", "指标解释"]
PER_LINE = [4, 4, 8, 6, 20]  # characters a line in each column
WIDTHS = [n * 9 + 8 for n in PER_LINE]
LONG = ["产出指标", "质量指标", "市级及以上主要刊物上刊登的稿件数量达标率", "≥95%",
        "反映在市级及以上主要刊物上刊登的稿件数量，达标率=达标稿件数/计划稿件数*100%，按季度统计，"
        "年底汇总考核，未达标的说明原因并提出整改措施，报主管部门备案。"]


def lines(cells, per_line=PER_LINE):
    return [wrap(c, n) for c, n in zip(cells, per_line)]


def row(i, l1="产出指标", l2="数量指标"):
    return [l1, l2, f"培训场次第{i}项", f"{i}场", "反映培训开展情况"]


def split_pdf(path, keep=2, repeat_header=True, before=5, after=2):
    """Page 1: header, `before` rows, the first `keep` lines of LONG; page 2: (header,) the rest of
    LONG, `after` rows."""
    first, rest = split_row(LONG, PER_LINE, keep)
    page1 = [lines(HEADER)] + [lines(row(i)) for i in range(before)] + [first]
    page2 = ([lines(HEADER)] if repeat_header else []) + [rest] + \
        [lines(row(i, "效益指标", "社会效益")) for i in range(before, before + after)]
    return write_pdf_ruled([page1, page2], path, WIDTHS)


@pytest.mark.parametrize("repeat_header", [True, False])
@pytest.mark.parametrize("keep", [2, 3])
def test_row_split_over_a_page_break_reads_as_one_row(tmp_path, repeat_header, keep):
    pdf = split_pdf(tmp_path / "split.pdf", keep=keep, repeat_header=repeat_header)
    _, rows = load(pdf)
    assert rows == [HEADER] + [row(i) for i in range(5)] + [LONG] + \
        [row(i, "效益指标", "社会效益") for i in range(5, 7)]  # header once, every cell whole
    got = read_document(pdf)
    names = [r.name for r in got.rows]
    assert names == [f"培训场次第{i}项" for i in range(5)] + [LONG[2]] + [f"培训场次第{i}项" for i in (5, 6)]
    joined = got.rows[5]
    assert (joined.level2, joined.value_period, joined.explanation) == ("12", "≥95%", LONG[4])
    assert not got.problems


def test_extract_gives_the_split_row_once(tmp_path):
    pdf = split_pdf(tmp_path / "split.pdf")
    r = CliRunner().invoke(app, ["extract", str(pdf), "-o", "-"])
    assert r.exit_code == 0, r.output
    names = [json.loads(l)["name"] for l in r.stdout.splitlines() if l.startswith("{")]
    assert len(names) == 8 and names.count(LONG[2]) == 1
    assert not any(n and n in LONG[2] and n != LONG[2] for n in names)  # no half of it


def test_row_split_over_three_pages_reads_as_one_row(tmp_path):
    tall = LONG[:4] + [LONG[4] * 3]  # an explanation longer than a page's foot and the next page
    cut = lines(tall)
    first = [c[:2] for c in cut]
    middle = [c[2:5] for c in cut]
    last = [c[5:] for c in cut]
    pages = [[lines(HEADER), lines(row(0)), first], [lines(HEADER), middle], [lines(HEADER), last, lines(row(1))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "three.pdf", WIDTHS))
    assert rows == [HEADER, row(0), tall, row(1)]


def test_rows_meeting_at_a_page_break_stay_two(tmp_path):
    # the row at the foot of page 1 is complete (its long cells end), the next page starts a new row
    whole = lines(LONG)
    pages = [[lines(HEADER)] + [lines(row(i)) for i in range(3)] + [whole],
             [lines(HEADER), lines(row(3, "效益指标", "社会效益")), lines(row(4, "效益指标", "社会效益"))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "apart.pdf", WIDTHS))
    assert rows == [HEADER, row(0), row(1), row(2), LONG, row(3, "效益指标", "社会效益"), row(4, "效益指标", "社会效益")]


def test_new_row_with_blank_class_cells_is_not_joined(tmp_path):
    # class cells written on a group's first row only (as in the Shenshan forms): the row on page 2
    # has empty class cells like a continuation, and its cells sit under cells of the row above
    # that all end on its last line; but the class column is not one every row fills
    blank = lambda i: ["", "", f"培训场次第{i}项", f"{i}场", "反映培训开展情况"]  # noqa: E731
    even = ["产出指标", "质量指标", "稿件数量质量综合达标率", "≥95%且不低于上年",
            "反映在市级及以上主要刊物上刊登的稿件数量与质量"]  # every long cell two lines
    assert {len(c) for c in lines(even)[2:]} == {2}
    pages = [[lines(HEADER), lines(row(0)), lines(blank(1)), lines(even)],
             [lines(HEADER), lines(blank(2)), lines(blank(3))]]
    path = write_pdf_ruled(pages, tmp_path / "blank.pdf", WIDTHS)
    assert load(path)[1] == [HEADER, row(0), blank(1), even, blank(2), blank(3)]
    assert [r.name for r in read_document(path).rows][-2:] == ["培训场次第2项", "培训场次第3项"]


def test_new_row_filling_a_completed_cell_is_not_joined(tmp_path):
    # the class cells merged over the page break: page 2 starts with their empty rest, yet the row
    # there writes a value, which the row above had complete (one line of its three)
    pages = [[lines(HEADER), lines(row(0)), lines(row(1)), lines(LONG)],
             [[[], []] + lines(row(2))[2:], lines(row(3, "效益指标", "社会效益"))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "block.pdf", WIDTHS))
    assert rows == [HEADER, row(0), row(1), LONG, ["", ""] + row(2)[2:], row(3, "效益指标", "社会效益")]


def test_new_row_under_cells_merged_over_the_page_break_is_not_joined(tmp_path):
    # the class cells merged down over the page break: page 2 starts with their empty continuation,
    # and the one-line rows give no cell that ends early
    pages = [[lines(HEADER), lines(row(0)), [None, None] + lines(row(1))[2:]],
             [[[], []] + lines(row(2))[2:], [None, None] + lines(row(3))[2:]]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "merged.pdf", WIDTHS))
    assert [r[2] for r in rows] == ["三级指标"] + [f"培训场次第{i}项" for i in range(4)]


def test_other_table_on_the_next_page_is_not_joined(tmp_path):
    # page 2 starts a table with other columns: its first row is never the rest of page 1's last row
    first, rest = split_row(LONG, PER_LINE, 2)
    other = [w + 9 for w in WIDTHS[:3]] + [w - 9 for w in WIDTHS[3:]]
    pages = [[lines(HEADER), lines(row(0)), first], [rest]]
    _, same = load(write_pdf_ruled(pages, tmp_path / "same.pdf", WIDTHS))
    assert same == [HEADER, row(0), LONG]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "other.pdf", [WIDTHS, other]))
    assert len(rows) == 4 and rows[2][2] + rows[3][2] == LONG[2]
