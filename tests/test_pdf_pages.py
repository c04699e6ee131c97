"""A table row that a PDF page break splits (Word's "allow row to break across pages") reads as one
row; two rows that merely meet at a page break, and a header repeated on the next page, stay apart.

The PDFs are drawn by `docmakers.write_pdf_ruled` exactly as given: the row at the foot of page 1 ends
part-way through its long cells and goes on at the top of page 2, as a word processor draws it.
"""
import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from conftest import SEED
from docmakers import split_row, wrap, write_pdf_ruled, write_pdf_text
from indicode.catalogue.readers import pdf as pdf_reader
from indicode.catalogue.readers.detect import load, read_document
from indicode.catalogue.readers.limits import MAX_PDF_SECONDS, Budget
from indicode.catalogue.readers.sheets import cell_text
from indicode.catalogue.records import InputError
from indicode.cli import app

HEADER = ["一级指标", "二级指标", "三级指标", "指标值", "指标解释"]
PER_LINE = [4, 4, 8, 6, 20]  # characters a line in each column
WIDTHS = [n * 9 + 8 for n in PER_LINE]
LONG = ["产出指标", "质量指标", "市级及以上主要刊物上刊登的稿件数量达标率", "≥95%",
        "反映在市级及以上主要刊物上刊登的稿件数量，达标率=达标稿件数/计划稿件数*100%，按季度统计，"
        "年底汇总考核，未达标的说明原因并提出整改措施，报主管部门备案。"]


def lines(cells, per_line=PER_LINE):
    return [wrap(c, n) for c, n in zip(cells, per_line, strict=True)]


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
    names = [json.loads(line)["name"] for line in r.stdout.splitlines() if line.startswith("{")]
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
    assert rows == [HEADER, row(0), row(1), row(2), LONG, row(3, "效益指标", "社会效益"),
                    row(4, "效益指标", "社会效益")]


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


def test_header_on_the_next_page_is_not_joined_into_the_row_above(tmp_path):
    # page 1 ends with a cut row; page 2 starts with a header worded otherwise than page 1's: it is
    # a row of its own (it fills cells the row above completed), never the rest of that row
    first, rest = split_row(LONG, PER_LINE, 2)
    header2 = ["一级指标", "二级指标", "三级指标（续）", "指标值", "指标解释"]
    pages = [[lines(HEADER), lines(row(0)), first], [lines(header2), lines(row(1))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "header.pdf", WIDTHS))
    assert rows[3] == header2 and rows[4] == row(1) and len(rows) == 5
    assert rows[2][2] == "".join(first[2])  # the cut row as drawn: nothing added to it


def test_other_table_on_the_next_page_is_not_joined(tmp_path):
    # page 2 starts a table with other columns: its first row is never the rest of page 1's last row
    first, rest = split_row(LONG, PER_LINE, 2)
    other = [w + 9 for w in WIDTHS[:3]] + [w - 9 for w in WIDTHS[3:]]
    pages = [[lines(HEADER), lines(row(0)), first], [rest]]
    _, same = load(write_pdf_ruled(pages, tmp_path / "same.pdf", WIDTHS))
    assert same == [HEADER, row(0), LONG]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "other.pdf", [WIDTHS, other]))
    assert len(rows) == 4 and rows[2][2] + rows[3][2] == LONG[2]


def seed_table(key, first, last):
    """Lines `first`..`last` (0-based, inclusive) of a seed: its header and rows, as cells."""
    return [line.split("\t") for line in SEED[key].read_text(encoding="utf-8").split("\n")[first:last + 1]]


# (seed, its table's lines, the row the page break splits, characters a line in each column)
SEED_SPLITS = [
    ("000", (4, 16), 11, [6, 8, 8, 6, 16, 16, 6, 7, 10, 4, 4]),  # Zhuhai: the project targets cut
    ("002", (8, 20), 12, [6, 5, 5, 3, 3, 16, 30]),  # Guangzhou lists in a cell, cut inside an item
    ("003", (4, 40), 17, [6, 8, 8, 6, 20]),  # a Shenshan form: the explanation cut
]


def pages_of(rows, room=480, leading=9, pad=3):
    """Rows of cell lines on as many pages as they need, `room` points of table a page."""
    pages, used = [[]], 0.0
    for r in rows:
        h = max(1, max(len(c) for c in r)) * leading + 2 * pad
        if used + h > room and pages[-1]:
            pages.append([])
            used = 0.0
        pages[-1].append(r)
        used += h
    return pages


def records(res):
    """The rows' fields but where they are (source, line, the page of a PDF row)."""
    return [{k: v for k, v in r.to_dict().items() if k != "page"} | {"source": "", "line": 0} for r in res.rows]


@pytest.mark.parametrize("key,lines_at,split_at,per_line", SEED_SPLITS)
def test_seed_tables_with_a_row_split_read_like_the_text(tmp_path, key, lines_at, split_at, per_line):
    width = len(per_line)
    # (`1300m ²` written `1300m²`: a space before a superscript does not survive the drawing)
    table = [[c.replace("m ²", "m²") for c in r] + [""] * (width - len(r)) for r in seed_table(key, *lines_at)]
    k = split_at - lines_at[0]
    text = tmp_path / f"{key}.txt"
    text.write_text("\n".join("\t".join(r) for r in table), encoding="utf-8")
    want = read_document(text)
    widths = [n * 7 + 8 for n in per_line]

    def draw(pages, name):
        return write_pdf_ruled(pages, tmp_path / name, widths, size=7, leading=9, wide=True)

    cells = [lines(r, per_line) for r in table]
    first, rest = split_row(table[k], per_line, 2)
    assert sum(map(len, rest)) > 0
    whole = draw(pages_of(cells[:k + 1]) + pages_of(cells[k + 1:]), "whole.pdf")  # the break between rows
    split = draw(pages_of(cells[:k] + [first]) + pages_of([rest] + cells[k + 1:]), "split.pdf")
    assert len(load(split)[1]) == len(load(whole)[1]) == len(table)
    for pdf in (whole, split):
        got = read_document(pdf)
        assert records(got) == records(want)
        assert [(p.why, p.text) for p in got.problems] == [(p.why, p.text) for p in want.problems]


def test_list_item_wrapped_over_a_page_break_reads_whole(tmp_path):
    # Guangzhou numbered lists as PDF text (001): 20 lines a page put the break inside item 1 of the
    # first project (`…；实施周期` | `指标值:＞=15%；…`), with a running head and `第 1 页 共 N 页`
    # between the halves; the list reader joins wrapped lines across pages (this held before the
    # table fix too: the page furniture is left out, and the lines are read as one stream)
    lines_001 = SEED["001"].read_text(encoding="utf-8").split("\n")
    assert lines_001[19].endswith("实施周期") and lines_001[21].startswith("指标值")
    pdf = write_pdf_text(lines_001, tmp_path / "001.pdf", per_page=20, head="海珠区2025年部门预算",
                         foot="第 {page} 页 共 {pages} 页")
    got, want = read_document(pdf), read_document(SEED["001"])
    first = got.rows[0]
    assert (first.name, first.value_period, first.value_year) == ("项目收益率", "＞=15%", "15%")
    assert records(got) == records(want) and len(got.rows) == 58


# Rows meeting at a page break under class cells merged over it, and new rows that leave a cell
# empty: the new row on page 2 looks like a continuation; it must stay a row of its own (a wrong
# join makes two indicators one, while a split row read as two rows loses nothing).
FULL_ROW = ["效益指标", "社会效益", "稿件数量质量综合达标率考核得分值", "不低于上年度水平且逐年提",
            "反映在市级及以上主要刊物上刊登的稿件数量与质量综合达标情况按季度统计年底汇总考核"]  # each 2 full lines


def merged_group_pages(tail):
    """Page 1 ends with `tail`, the first row of a class group whose class cells are merged down over
    the page break; page 2 shows their empty rest over two new rows of the group."""
    return [[lines(HEADER), lines(row(0)), [None, None] + lines(row(1))[2:], lines(tail)],
            [lines(HEADER), [[], []] + lines(row(2, "", ""))[2:], [None, None] + lines(row(3, "", ""))[2:]]]


def test_new_row_under_class_cells_merged_over_the_break_is_not_joined(tmp_path):
    # review case A: the tail's cells all end on its last line, short of the line's end
    even = ["效益指标", "社会效益", "稿件数量质量综合达标率", "≥95%且不低于上年",
            "反映在市级及以上主要刊物上刊登的稿件数量与质量"]
    _, rows = load(write_pdf_ruled(merged_group_pages(even), tmp_path / "a.pdf", WIDTHS))
    assert rows[3:] == [even, row(2, "", ""), row(3, "", "")]


def test_class_cells_merged_over_the_break_are_no_sign_of_a_cut(tmp_path):
    # the tail's long cells fill their last line (as a cut cell does), but the only cells it completed
    # are the class cells, merged on over page 2's rows: empty there for a new row too
    assert all(len(c) == 2 and len(c[1]) == len(c[0]) for c in lines(FULL_ROW)[2:])
    _, rows = load(write_pdf_ruled(merged_group_pages(FULL_ROW), tmp_path / "full.pdf", WIDTHS))
    assert rows[3:] == [FULL_ROW, row(2, "", ""), row(3, "", "")]


def test_split_row_under_class_cells_merged_over_the_break_reads_as_one_row(tmp_path):
    # a row cut at the foot of page 1, its class cells merged down over page 2's rows: the value it
    # completed, which page 2's rows fill, is left empty by its rest: joined
    first, rest = split_row(["效益指标", "社会效益"] + LONG[2:], PER_LINE, 2)
    pages = [[lines(HEADER), lines(row(0)), lines(row(1)), first],
             [lines(HEADER), [[], []] + rest[2:], [None, None] + lines(row(3, "", ""))[2:]]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "cut.pdf", WIDTHS))
    assert rows[3:] == [["效益指标", "社会效益"] + LONG[2:], row(3, "", "")]


def test_new_row_leaving_a_cell_empty_under_a_complete_row_is_not_joined(tmp_path):
    # review case B: a qualitative indicator with no value starts page 2 (its class cells drawn empty);
    # the row above ends on its last line, but short of the line's end in every cell: it is complete
    tail = ["产出指标", "质量指标", "验收合格率达到要求", "100%",
            "反映项目验收情况，按合同约定的标准组织验收并出具报告"]
    new = ["", "", "群众满意度", "", "反映群众满意情况"]
    pages = [[lines(HEADER), lines(row(0)), lines(row(1)), lines(tail)], [lines(HEADER), lines(new), lines(row(3))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "b.pdf", WIDTHS))
    assert rows[3:] == [tail, new[:5], row(3)]


def test_row_cut_over_three_pages_with_nothing_completed_on_the_middle_one(tmp_path):
    # the name and the explanation run over three pages; the middle page holds only their full lines,
    # so what shows the row goes on to page 3 is the cells it completed on page 1 (carried forward)
    tall = ["产出指标", "质量指标", "市级及以上主要刊物上刊登的稿件数量达标率及其他各类媒体报道的数量与质量", "≥95%",
            LONG[4] * 2]
    cut = lines(tall)
    assert len(cut[2]) == 5 and len(cut[4]) >= 5
    pages = [[lines(HEADER), lines(row(0)), lines(row(1)), [c[:2] for c in cut]],
             [lines(HEADER), [c[2:4] for c in cut]],
             [lines(HEADER), [c[4:] for c in cut], lines(row(2))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "three.pdf", WIDTHS))
    assert rows == [HEADER, row(0), row(1), tall, row(2)]


def test_rows_cut_on_two_page_breaks_in_turn_count_rows_of_all_pages(tmp_path):
    # page 1: one whole row, then R1 cut; page 2: R1's rest, then R2 cut; page 3: R2's rest, the
    # table's end. Pages 2 and 3 have no whole row of their own: that most rows fill the value and
    # class columns is known only from page 1's rows, and R1's rest (empty there) is part of R1, not
    # a row leaving them empty
    r2 = ["产出指标", "时效指标", "县级及以上主要媒体报道的专题稿件按时刊发率", "≥90%", LONG[4]]
    first1, rest1 = split_row(LONG, PER_LINE, 2)
    first2, rest2 = split_row(r2, PER_LINE, 2)
    pages = [[lines(HEADER), lines(row(0)), first1], [lines(HEADER), rest1, first2],
             [lines(HEADER), rest2]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "twice.pdf", WIDTHS))
    assert rows == [HEADER, row(0), LONG, r2]


def test_joining_a_piece_reads_the_piece_not_the_grown_cell(monkeypatch):
    # a row joined on many pages (a crafted PDF: 2,000 pages x 20 columns) must not read its grown
    # cells again at each page: that was quadratic (16.7 s for 2,000 x 20), outside the time cap
    seen = []

    def counted(text):
        seen.append(len(text))
        return cell_text(text)

    monkeypatch.setattr(pdf_reader, "cell_text", counted)
    pieces = ["反映培训开展情况abc", "def 满意度", "GDP", "growth率", "100%"] * 40
    row = [pieces[0]]
    for k, piece in enumerate(pieces[1:]):
        pdf_reader._join(row, [piece], Budget("x"), f"page {k + 2}")
    assert row == [cell_text("\n".join(pieces))]  # joined as the lines of one wrapped cell
    assert row[0].startswith("反映培训开展情况abc def 满意度GDP growth率100%反映")
    assert max(seen) <= 3  # only the seam between the two halves


def test_time_cap_holds_while_split_rows_are_joined(tmp_path, monkeypatch):
    # the pages are read in time, then the clock passes the cap while the rows are put together
    pdf = split_pdf(tmp_path / "split.pdf")
    now = [0.0]
    monkeypatch.setattr(pdf_reader, "time", SimpleNamespace(monotonic=lambda: now[0]))
    furniture = pdf_reader._without_furniture

    def late(pages):
        now[0] = MAX_PDF_SECONDS + 1
        return furniture(pages)

    monkeypatch.setattr(pdf_reader, "_without_furniture", late)
    with pytest.raises(InputError, match=r"split\.pdf: reading the PDF took more than 120 s \(page 1\) - export"):
        pdf_reader.pdf_rows(pdf, pdf.read_bytes())


@pytest.mark.parametrize("merged_classes,keep", [(False, 1), (True, 2)])
def test_split_rows_that_show_no_cut_stay_two_rows_both_halves_kept(tmp_path, merged_classes, keep):
    # keep=1: the row cut after its first line (every cell ends on that line: nothing shows a cut);
    # merged classes: the class cells merged from the row above and every own cell running to the
    # page's foot, so no cell the row completed shows the cut. Read as two rows, nothing lost.
    long = ["产出指标", "数量指标", LONG[2], "不低于上年度水平且逐年提高", LONG[4][:50]]
    first, rest = split_row(long, PER_LINE, keep)
    assert all(first[2:]) and all(rest[2:])  # every own cell goes on
    classes = [None, None] if merged_classes else first[:2]
    pages = [[lines(HEADER), lines(row(0)), classes + first[2:]],
             [lines(HEADER), [[], []] + rest[2:], lines(row(3))]]
    _, rows = load(write_pdf_ruled(pages, tmp_path / "apart.pdf", WIDTHS))
    assert rows[2:] == [long[:2] + ["".join(c) for c in first[2:]], ["", ""] + ["".join(c) for c in rest[2:]], row(3)]
