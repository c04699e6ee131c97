"""The seed documents written to .docx, .xls and .pdf (by the tests, from the text seeds) read to the
very rows the text gives: names, classes, codes, values, units, projects, in order."""
import re

import pytest

from conftest import SEED
from docmakers import write_docx, write_docx_auto_numbered, write_pdf_tables, write_pdf_text, write_xls, write_xlsx
from indicode.catalogue.readers.detect import load, read_document
from indicode.catalogue.records import InputError

KEYS = ["000", "001", "002", "003", "004"]
# PDFs of the two largest seeds (000: 178 rows, 003: 166) take seconds each to read: they run in the slow
# tier, the other seeds' PDFs (and tests/test_pdf_pages.py) through the same reader in the quick one
SLOW_PDF = {k: pytest.param(k, marks=pytest.mark.slow) for k in ("000", "003")}
PDF_KEYS = [SLOW_PDF.get(k, k) for k in KEYS]


def seed_lines(key):
    return SEED[key].read_text(encoding="utf-8").split("\n")


def records(res, keep_lines=True):
    """The rows' fields but where they are: their source, and with `keep_lines` off their line and page
    (a PDF row's page is its own: tests/test_review_pages.py)."""
    return [{**{k: v for k, v in r.to_dict().items() if keep_lines or k != "page"}, "source": "",
             **({} if keep_lines else {"line": 0})} for r in res.rows]


def assert_same(got, want, keep_lines=True):
    assert len(got.rows) == len(want.rows)
    assert records(got, keep_lines) == records(want, keep_lines)
    problems = lambda res: [((p.line if keep_lines else 0), p.why) for p in res.problems]  # noqa: E731
    assert problems(got) == problems(want)


@pytest.mark.parametrize("key", KEYS)
def test_docx_reads_like_the_text(tmp_path, key):
    doc = write_docx(seed_lines(key), tmp_path / f"{key}.docx")
    got = read_document(doc)
    want = read_document(SEED[key])
    assert got.format == want.format
    assert_same(got, want)  # one paragraph or table row per line: even the line numbers agree


@pytest.mark.parametrize("key", ["001", "004"])
def test_docx_automatic_list_numbers_read_as_written(tmp_path, key):
    lines = seed_lines(key)
    doc = write_docx_auto_numbered(lines, tmp_path / f"{key}_numbered.docx")
    import docx

    assert not any(p.text.startswith("1、1-") for p in docx.Document(doc).paragraphs)  # numbers are Word's
    _, rows = load(doc)
    assert ["\t".join(r) for r in rows] == lines  # each number where the text had it
    assert_same(read_document(doc), read_document(SEED[key]))


@pytest.mark.parametrize("key", KEYS)
def test_xls_reads_like_the_text(tmp_path, key):
    got = read_document(write_xls(seed_lines(key), tmp_path / f"{key}.xls"))
    want = read_document(SEED[key])
    assert got.format == want.format
    assert_same(got, want)


@pytest.mark.parametrize("key", PDF_KEYS)
def test_pdf_reads_like_the_text(tmp_path, key):
    lines = seed_lines(key)
    pdf = tmp_path / f"{key}.pdf"
    if key in ("001", "004"):
        write_pdf_text(lines, pdf)  # wrapped lists, 45 lines a page: items cut by page breaks and numbers
    else:
        write_pdf_tables(lines, pdf)  # ruled tables, wrapped cells, header repeated on each page
    got = read_document(pdf)
    want = read_document(SEED[key])
    assert got.format == want.format
    assert_same(got, want, keep_lines=False)


@pytest.mark.parametrize("head,foot", [("", "- {page} -"), ("广州市海珠区2025年部门预算", "第 {page} 页 共 {pages} 页"),
                                       ("内部资料", "{page}/{pages}")])
def test_pdf_running_heads_and_page_numbers_left_out(tmp_path, head, foot):
    pdf = write_pdf_text(seed_lines("004"), tmp_path / "furniture.pdf", per_page=20, head=head, foot=foot)
    _, rows = load(pdf)
    assert not any(head and r == [head] for r in rows)
    assert not any("页" in "".join(r) and "共" in "".join(r) for r in rows)
    assert_same(read_document(pdf), read_document(SEED["004"]), keep_lines=False)


@pytest.mark.parametrize("key", [SLOW_PDF["000"], "002", SLOW_PDF["003"]])
def test_pdf_of_tab_text_lines(tmp_path, key):
    # the text lines drawn as they are, tabs included (a PDF printed from a text editor): a tab comes
    # back as a control character and separates cells
    pdf = write_pdf_text(seed_lines(key), tmp_path / f"{key}_lines.pdf")
    assert_same(read_document(pdf), read_document(SEED[key]), keep_lines=False)


def test_pdf_page_numbers_between_wrapped_lines_are_left_out(tmp_path):
    lines = seed_lines("001")
    pdf = write_pdf_text(lines, tmp_path / "small_pages.pdf", per_page=7)  # many page breaks
    _, rows = load(pdf)
    assert not any(r == ["1"] or r == ["2"] for r in rows)
    assert_same(read_document(pdf), read_document(SEED["001"]), keep_lines=False)


@pytest.mark.parametrize("key", ["000", "003"])
def test_docx_merged_cells_read_as_repeated(tmp_path, key):
    # the unit (000) or level columns (003) merged down over their block, as Word tables are drawn
    cols = (0,) if key == "000" else (0, 1)
    doc = write_docx(seed_lines(key), tmp_path / f"{key}_merged.docx", merge_down=cols, merge_title=key == "000")
    if key == "000":
        _, rows = load(doc)
        assert rows[-1] == ["附：以上指标由项目单位填报"]  # merged across: the text once, in its first column
    assert_same(read_document(doc), read_document(SEED[key]))


@pytest.mark.parametrize("key", [SLOW_PDF["000"], SLOW_PDF["003"]])
def test_pdf_merged_cells_read_as_repeated(tmp_path, key):
    # level columns spanning their block in ruled tables; 003's forms start many pages with their
    # title, which is not a running head to leave out
    cols = (0,) if key == "000" else (0, 1)
    pdf = write_pdf_tables(seed_lines(key), tmp_path / f"{key}_span.pdf", merge_down=cols)
    if key == "003":  # the spanned class repeated on the rows under it
        _, rows = load(pdf)
        level1 = lambda rs: sum(1 for r in rs if r and r[0] in ("产出指标", "效益指标", "满意度指标"))  # noqa: E731
        assert level1(rows) > 2 * level1([line.split("\t") for line in seed_lines(key)])
    assert_same(read_document(pdf), read_document(SEED[key]), keep_lines=False)


@pytest.mark.parametrize("key", ["000", "003"])
def test_xls_merged_cells_read_as_repeated(tmp_path, key):
    cols = (0,) if key == "000" else (0, 1)
    assert_same(read_document(write_xls(seed_lines(key), tmp_path / f"{key}_m.xls", merge_down=cols)),
                read_document(SEED[key]))


@pytest.mark.parametrize("key", ["000", "003"])
def test_xlsx_merged_cells_read_as_repeated(tmp_path, key):
    cols = (0,) if key == "000" else (0, 1)
    f = write_xlsx(seed_lines(key), tmp_path / f"{key}_m.xlsx", merge_down=cols)
    _, rows = load(f)
    text_rows = [line.split("\t") for line in seed_lines(key)]
    assert rows != [r if any(r) else [] for r in text_rows]  # the merge did change the cells...
    assert_same(read_document(f), read_document(SEED[key]))  # ...not the rows read


def test_merged_unit_column_left_empty_is_carried(tmp_path):
    # an .xlsx export leaves a merged cell's lower rows empty: the Zhuhai unit is carried down
    lines = [line.split("\t") for line in seed_lines("000")]
    prev = None
    for cells in lines:
        if cells[0] and cells[0] == prev:
            cells[0] = ""
        elif cells[0]:
            prev = cells[0]
    f = tmp_path / "blank_units.txt"
    f.write_text("\n".join("\t".join(c) for c in lines), encoding="utf-8")
    assert_same(read_document(f), read_document(SEED["000"]))


@pytest.mark.parametrize("maker,name", [(write_docx, "decl.txt"), (write_xls, "decl.csv"),
                                        (write_pdf_tables, "decl.xlsx")])
def test_format_detected_by_content_not_name(tmp_path, maker, name):
    f = maker(seed_lines("002"), tmp_path / name)
    assert len(read_document(f).rows) == 37


def test_scanned_pdf_without_text_layer(tmp_path):
    from reportlab.pdfgen import canvas

    f = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(f))
    c.rect(50, 50, 400, 600, fill=1)  # a page with a picture and no text
    c.showPage()
    c.save()
    with pytest.raises(InputError) as exc:
        read_document(f)
    assert str(exc.value) == f"{f}: PDF has no text layer (scanned?) - run OCR or export the text"


def test_docx_with_several_tables_empty_paragraphs_and_a_content_control(tmp_path):
    import copy

    import docx
    from docx.oxml import OxmlElement

    lines = seed_lines("002")
    f = write_docx(lines, tmp_path / "two.docx")
    d = docx.Document(f)
    body = d.element.body
    tbl = body.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tbl")
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    sdt.append(content)
    content.append(copy.deepcopy(tbl))  # the same table again, inside a content control
    tbl.addnext(sdt)
    d.save(f)
    tr = tbl.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tr")[5]
    tc = tr.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tc")[-1]
    cell_sdt, cell_content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    cell_sdt.append(cell_content)
    tc.addprevious(cell_sdt)
    cell_content.append(tc)  # a cell (the one holding the list) inside a content control
    d.save(f)
    res = read_document(f)
    want = read_document(SEED["002"])
    assert [r.name for r in res.rows] == [r.name for r in want.rows] * 2


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.mark.parametrize("stream,words", [("EncryptedPackage", "a password-protected Office file"),
                                          ("WordDocument",
                                           "a document in the old Word format (.doc, or WPS .wps) - save it as .docx")])
def test_other_ole_files_named(tmp_path, stream, words):
    # an OLE2 compound file whose directory names this stream and no Workbook
    f = tmp_path / "old.xls"
    root = "Root Entry".encode("utf-16-le") + bytes(44)
    f.write_bytes(OLE + bytes(504) + root + stream.encode("utf-16-le") + bytes(512))
    with pytest.raises(InputError, match=re.escape(words)):
        read_document(f)


def test_damaged_xls_one_line(tmp_path):
    f = write_xls(seed_lines("002"), tmp_path / "cut.xls")
    f.write_bytes(f.read_bytes()[:3000])
    with pytest.raises(InputError) as exc:
        read_document(f)
    assert str(exc.value).startswith(f"{f}: ") and "xls" in str(exc.value) and "\n" not in str(exc.value)


def test_docx_tracked_changes_read_as_accepted(tmp_path):
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    d = docx.Document()
    d.add_paragraph("三级指标\t指标值")
    p = d.add_paragraph("任务")
    for xml in ('<w:ins %s w:id="1" w:author="a"><w:r><w:t>达标</w:t></w:r></w:ins>',
                '<w:del %s w:id="2" w:author="a"><w:r><w:delText>按时</w:delText></w:r></w:del>',
                '<w:r %s><w:t>完成率</w:t><w:tab/><w:t>100%%</w:t></w:r>'):
        p._p.append(parse_xml(xml % nsdecls("w")))
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "服务对象满意"
    t.cell(0, 0).add_paragraph("度")  # a cell's text over two paragraphs
    t.cell(0, 1).text = "Service"
    t.cell(0, 1).add_paragraph("quality")
    f = tmp_path / "tracked.docx"
    d.save(f)
    _, rows = load(f)
    assert rows == [["三级指标", "指标值"], ["任务达标完成率", "100%"], ["服务对象满意度", "Service quality"]]


def test_oversized_xls_refused_before_parsing(tmp_path):
    f = tmp_path / "big.xls"
    with f.open("wb") as fh:
        fh.write(OLE)
        fh.truncate(33 * 2**20)
    with pytest.raises(InputError, match=r"big.xls: \.xls workbook of 34,603,008 bytes, more than the 33,554,432"):
        read_document(f)


NUMBERS = [  # (value, number format, what the sheet shows)
    (1, "0%", "100%"), (0.955, "0.0%", "95.5%"), (0.95, "0%", "95%"), (314310.45, "#,##0.00", "314,310.45"),
    (0.1 + 0.2, "General", "0.3"), (3, "General", "3"), (2.5, "0.00", "2.50"),
]


def test_xlsx_numbers_read_as_shown(tmp_path):
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["三级指标", "指标值"])
    for k, (v, fmt, _) in enumerate(NUMBERS, 2):
        ws.append([f"指标{k}", v])
        ws.cell(row=k, column=2).number_format = fmt
    ws.append(["完成时间", datetime.datetime(2024, 12, 31)])
    ws.cell(row=ws.max_row, column=2).number_format = 'yyyy"年"m"月"d"日"'
    f = tmp_path / "numbers.xlsx"
    wb.save(f)
    assert [r.value for r in read_document(f).rows] == [s for _, _, s in NUMBERS] + ["2024年12月31日"]


def test_xls_numbers_read_as_shown(tmp_path):
    import datetime

    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("s")
    ws.write(0, 0, "三级指标")
    ws.write(0, 1, "指标值")
    for k, (v, fmt, _) in enumerate(NUMBERS, 1):
        ws.write(k, 0, f"指标{k}")
        ws.write(k, 1, v, xlwt.easyxf(num_format_str=fmt))
    ws.write(len(NUMBERS) + 1, 0, "完成时间")
    ws.write(len(NUMBERS) + 1, 1, datetime.datetime(2024, 12, 31), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    f = tmp_path / "numbers.xls"
    wb.save(str(f))
    assert [r.value for r in read_document(f).rows] == [s for _, _, s in NUMBERS] + ["2024-12-31"]


@pytest.mark.parametrize("member,words", [
    ("xl/workbook.bin", "an .xlsb binary workbook - save it as .xlsx"),
    ("content.xml", "an OpenDocument file (.ods/.odt) - save it as .xlsx or .docx")])
def test_other_zip_packages_named(tmp_path, member, words):
    import zipfile

    f = tmp_path / "other.xlsx"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr(member, "<x/>")
    with pytest.raises(InputError) as exc:
        read_document(f)
    assert str(exc.value) == f"{f}: {words}"
