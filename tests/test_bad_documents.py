"""The bad-input corpus (tests/baddocs.py) through every file command of the real CLI: no traceback,
one line `error: FILE…: problem - what to do` naming the file, and the documented exit code: 2 when
the only input is bad (nothing written), 1 when other inputs of the same run were read and used."""
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baddocs import BAD, SEEDS
from docmakers import write_csv
from indicode.catalogue.readers.detect import read_document
from indicode.catalogue.records import InputError
from indicode.cli import app

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

SEED_000 = SEEDS / "000_60102fb8b0c8a01a.txt"
COMMANDS = ["extract", "normalize", "learn", "catalogue build"]
# what the CLI side (indicode/cli.py, catalogue/build.py) still does differently from the contract;
# the reading side raises the right InputError in every case (test_reader_error_is_one_line)
CLI_TODO: dict = {}  # cases the command-line side still has to fix (none left)
# learn opens every zip package with openpyxl itself (its review workbook), so its line for a package
# that is not a workbook is its own: the file is named, the words are not the reader's
WORDS = {("learn", name): None for name in ("truncated-zip", "zip-of-neither", "many-parts", "docx-no-table")}
WORDS[("learn", "folder")] = "is a folder"


def expect_todo(request, cmd, kind, name):
    """Cases the CLI side still has to fix: expected to fail, and strict, so that the fix is noticed."""
    for key in ((cmd, kind), (cmd, name)):
        if key in CLI_TODO:
            request.applymarker(pytest.mark.xfail(reason=CLI_TODO[key], strict=True))


def run(args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr, res.exception


def command_args(cmd, inputs, tmp_path, catalogue):
    out = tmp_path / "out"
    if cmd == "extract":
        return ["extract", *inputs, "-o", out.with_suffix(".csv")], out.with_suffix(".csv")
    if cmd == "normalize":
        return ["normalize", *inputs, "-o", out.with_suffix(".csv"), "--quiet"], out.with_suffix(".csv")
    if cmd == "learn":
        return ["learn", *inputs, "-c", catalogue], None
    return ["catalogue", "build", *inputs, "-o", tmp_path / "built.sqlite"], tmp_path / "built.sqlite"


def assert_one_line_error(stderr, exception, path, words):
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert str(path) in errors[0] and (words is None or words in errors[0]), errors[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    return {name: (maker(d / fname), words) for name, fname, maker, words in BAD}


@pytest.mark.parametrize("name", [b[0] for b in BAD])
def test_reader_error_is_one_line(corpus, name):
    path, words = corpus[name]
    with pytest.raises(InputError) as exc:
        read_document(path)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(path)) and words in msg


@pytest.mark.parametrize("cmd", COMMANDS)
@pytest.mark.parametrize("name", [b[0] for b in BAD])
def test_only_input_bad_exits_2_with_one_line(request, corpus, tmp_path, tmp_catalogue, cmd, name):
    expect_todo(request, cmd, "only", name)
    path, words = corpus[name]
    words = WORDS.get((cmd, name), words)
    args, out = command_args(cmd, [path], tmp_path, tmp_catalogue)
    code, _, stderr, exc = run(args)
    assert_one_line_error(stderr, exc, path, words)
    assert code == 2
    assert out is None or not out.exists()


@pytest.mark.parametrize("cmd", ["extract", "normalize", "catalogue build"])
@pytest.mark.parametrize("name", ["rows-bomb", "huge-csv-field", "scanned-pdf", "folder", "mixed-encodings"])
def test_bad_input_beside_good_ones_exits_1_and_keeps_the_rest(request, corpus, tmp_path, tmp_catalogue, cmd, name):
    expect_todo(request, cmd, "mixed", name)
    path, words = corpus[name]
    args, out = command_args(cmd, [SEED_000, path], tmp_path, tmp_catalogue)
    code, _, stderr, exc = run(args)
    assert_one_line_error(stderr, exc, path, words)
    assert code == 1
    assert out.exists()
    if cmd != "catalogue build":
        assert len(out.read_text(encoding="utf-8-sig").splitlines()) > 178  # the good document's rows


def bom_gbk(path, lines):
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("gb18030"))
    return path


def test_bom_then_gbk_read_by_all_four_commands(tmp_path, tmp_catalogue):
    """A UTF-8 BOM in front of GBK text (an editor that marks every file) is read as GBK."""
    doc = bom_gbk(tmp_path / "bom_gbk.txt", SEED_000.read_text(encoding="utf-8").split("\n"))
    res = read_document(doc)
    assert [r.name for r in res.rows] == [r.name for r in read_document(SEED_000).rows]
    code, _, stderr, exc = run(["extract", doc, "-o", tmp_path / "rows.csv"])
    assert (code, exc) == (0, None), stderr
    assert "任务达标完成率" in (tmp_path / "rows.csv").read_text(encoding="utf-8-sig")
    code, _, stderr, _ = run(["normalize", doc, "-o", tmp_path / "n.csv", "--quiet"])
    assert code == 0, stderr
    assert len((tmp_path / "n.csv").read_text(encoding="utf-8-sig").splitlines()) >= 179
    code, stdout, stderr, _ = run(["catalogue", "build", doc, "-o", tmp_path / "c.sqlite"])
    assert code == 0, stderr
    assert "codes from 178 coded rows" in stdout
    reviewed = tmp_path / "reviewed.csv"
    write_csv(["indicator\tclass\treviewer_code", "办事群众满意程度\t31\t331003339"], reviewed, encoding="gbk")
    reviewed.write_bytes(b"\xef\xbb\xbf" + reviewed.read_bytes())
    code, stdout, stderr, _ = run(["learn", reviewed, "-c", tmp_catalogue, "--reviewer", "t"])
    assert code == 0, stderr + stdout
    from indicode.workspace import Workspace

    assert [(e.text, e.code) for e in Workspace.open().in_force()] == [("办事群众满意程度", "331003339")]


@pytest.mark.skipif(not hasattr(os, "seteuid"), reason="needs POSIX users")
def test_unreadable_file_one_line(tmp_path, tmp_catalogue):
    """A file without read permission. As root permissions do not bind, so the read runs as `nobody`."""
    d = Path(tempfile.mkdtemp(prefix="indicode-perm-"))
    try:
        d.chmod(0o777)
        f = d / "locked.txt"
        shutil.copy(SEED_000, f)
        f.chmod(0)
        shut = d / "shut"  # a folder one may not enter
        shut.mkdir()
        shutil.copy(SEED_000, shut / "inside.txt")
        shut.chmod(0)
        as_root = os.geteuid() == 0
        run(["catalogue", "build", SEED_000, "-o", d / "warm.sqlite"])  # modules imported before giving up root
        if as_root:
            os.seteuid(65534)
        try:
            with pytest.raises(InputError) as exc:
                read_document(f)
            with pytest.raises(InputError) as exc_shut:
                read_document(shut / "inside.txt")
            code, _, stderr, err = run(["catalogue", "build", f, "-o", d / "c.sqlite"])
        finally:
            if as_root:
                os.seteuid(0)
        assert str(exc.value) == f"{f}: cannot read file (Permission denied)"
        assert str(exc_shut.value) == f"{shut / 'inside.txt'}: cannot read file (Permission denied)"
        assert_one_line_error(stderr, err, f, "cannot read file (Permission denied)")
        assert code == 2 and not (d / "c.sqlite").exists()
        f.chmod(stat.S_IRUSR | stat.S_IWUSR)
        shut.chmod(stat.S_IRWXU)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_rows_not_declared_are_counted_as_read(tmp_path):
    """No dimension, but a row numbered 5,000,000: the gap counts, and the read stops at the cap."""
    from baddocs import xlsx_with_sheet

    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>三级指标</t></is></c></row>'
             '<row r="5000000"><c r="A5000000"><v>1</v></c></row></sheetData></worksheet>')
    f = xlsx_with_sheet(tmp_path / "gap.xlsx", [sheet])
    with pytest.raises(InputError, match=r"gap.xlsx: more than 1,000,000 rows"):
        read_document(f)


def test_wide_declared_sheet_is_not_padded(tmp_path):
    """A sheet declaring 16,384 columns: rows come back as written, not padded to the declared width."""
    from baddocs import xlsx_with_sheet

    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<dimension ref="A1:XFD900000"/><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>三级指标</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>任务达标完成率</t></is></c></row></sheetData></worksheet>')
    res = read_document(xlsx_with_sheet(tmp_path / "wide.xlsx", [sheet]))
    assert [r.name for r in res.rows] == ["任务达标完成率"]


def test_docx_with_a_huge_declared_span_is_bounded(tmp_path):
    """A table cell declaring gridSpan 300,000,000 (a 37 KB file once took gigabytes): read within
    the column bound, or refused with one line, never expanded."""
    import zipfile

    from docmakers import write_docx

    good = write_docx(["三级指标\t指标值", "任务达标完成率\t100%"], tmp_path / "t.docx")
    bad = tmp_path / "span.docx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                xml = xml.replace("<w:tcPr>", '<w:tcPr><w:gridSpan w:val="300000000"/>', 1)
                data = xml.encode("utf-8")
            zout.writestr(item, data)
    with pytest.raises(InputError) as exc:  # the spanned first cell fills the bound; the next is refused
        read_document(bad)
    assert str(exc.value) == f"{bad}: a table row wider than 1024 columns - is this the right file?"


def test_build_from_only_bad_documents_names_each_one(tmp_path):
    """Every source unreadable: one error line for each, exit 2, nothing written."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"")
    b.write_bytes(b"\x00\x01\x02binary\xff" * 50)
    code, _, stderr, exc = run(["catalogue", "build", a, b, "-o", tmp_path / "c.sqlite"])
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 2 and str(a) in errors[0] and str(b) in errors[1], stderr
    assert not (tmp_path / "c.sqlite").exists()


def test_pdf_page_with_too_many_drawn_lines_is_refused_before_table_search(tmp_path, monkeypatch):
    """The time cap is checked between pages; one page's table search is bounded by refusing a page
    with more drawn lines (or characters) than the cap before searching it."""
    import indicode.catalogue.readers.pdf as pdf_reader
    from docmakers import write_pdf_tables

    doc = write_pdf_tables(["三级指标\t指标值", "任务达标完成率\t100%", "群众满意度\t95%"], tmp_path / "t.pdf")
    assert [r.name for r in read_document(doc).rows] == ["任务达标完成率", "群众满意度"]
    monkeypatch.setattr(pdf_reader, "MAX_PAGE_EDGES", 3)  # the ruled table draws more than 3
    with pytest.raises(InputError) as exc:
        read_document(doc)
    assert str(exc.value).startswith(f"{doc}: page 1 holds") and "drawn lines" in str(exc.value)
