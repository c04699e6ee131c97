"""Issue 24 §3-§6, the readers and the files: zips that lie about their sizes, pipes and devices named
as files, names that would forge a line, input read as it is written, and symbolic links."""
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docmakers import rewrite_member, write_csv, write_docx, write_xls, write_xlsx
from indicode.catalogue.files import BusyError, atomic_path
from indicode.catalogue.locking import write_lock
from indicode.catalogue.opening import one_line, open_regular, quoted
from indicode.catalogue.readers.detect import load, read_document
from indicode.catalogue.readers.sheets import csv_rows, workbook_sheets
from indicode.catalogue.records import NIL, InputError
from indicode.cli import app
from indicode.workspace import NewDecision, Workspace
from lyingzips import corrupt, lie

LINES = ["三级指标\t指标值", "办事群众满意度\t≥95%", "任务达标完成率\t100%"]
POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")


def run(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    return res.exit_code, res.stderr


def only_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


# ---------------------------------------------------------------- §3 zips that lie


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    d = tmp_path_factory.mktemp("zips")
    return write_docx(LINES, d / "ok.docx"), write_xlsx(LINES, d / "ok.xlsx"), d


LIES = [("docx", "word/document.xml"), ("xlsx", "xl/workbook.xml"), ("xlsx", "xl/worksheets/sheet1.xml")]


@pytest.mark.parametrize("kind,member", LIES)
def test_a_member_that_inflates_past_its_declared_size_is_refused_without_inflating_it(packages, kind, member):
    # 64 MiB in a member whose directory says 4,000 bytes (with the CRC of those 4,000): zipfile would
    # inflate all of it before finding out; the check stops a byte past the declared size
    docx, xlsx, d = packages
    bad = lie(docx if kind == "docx" else xlsx, d / f"lie-{member.replace('/', '_')}.{kind}", member, 64 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as exc:
            read_document(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(exc.value)
    assert "damaged file" in msg and member in msg and "4,000" in msg and "\n" not in msg
    assert peak < 16 * 2**20, peak  # the file is read once (a few MiB); no member is inflated whole


def test_a_lying_sheet_is_exit_2_with_the_damaged_file_line_from_extract_and_learn(packages, tmp_catalogue):
    _docx, xlsx, d = packages
    bad = lie(xlsx, d / "sheet-lie.xlsx", "xl/worksheets/sheet1.xml", 8 * 2**20, crc_of_declared=False)
    for args in (["extract", bad, "-o", d / "out.csv"], ["learn", bad, "-c", tmp_catalogue]):
        code, stderr = run(*args)
        line = only_error_line(stderr)
        assert code == 2 and "damaged file" in line and "internal error" not in line, stderr


def test_the_learn_workbook_reader_checks_members_too(packages):
    _docx, xlsx, d = packages
    bad = lie(xlsx, d / "review-lie.xlsx", "xl/worksheets/sheet1.xml", 8 * 2**20)
    with pytest.raises(InputError, match="damaged file"):
        workbook_sheets(bad)


def test_a_member_smaller_than_declared_or_corrupted_is_damaged(packages):
    docx, xlsx, d = packages
    short = lie(xlsx, d / "short.xlsx", "xl/worksheets/sheet1.xml", 3000, declared=9000)
    with pytest.raises(InputError, match=r"damaged file \(xl/worksheets/sheet1.xml holds 3,000 bytes, its directory "
                                         r"says 9,000\)"):
        read_document(short)
    with pytest.raises(InputError, match="damaged file"):
        read_document(corrupt(docx, d / "corrupt.docx", "word/document.xml"))


def test_honest_packages_still_read(packages):
    docx, xlsx, _d = packages
    for f in (docx, xlsx):
        assert [r.name for r in read_document(f).rows] == ["办事群众满意度", "任务达标完成率"]


# ---------------------------------------------------------------- §4 no hang, no forged line


def _cli(args, tmp_path, timeout=90):
    env = {**os.environ, "INDICODE_DATA_DIR": str(tmp_path / "data"), "INDICODE_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "indicode.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=tmp_path)


@POSIX
def test_a_fifo_named_as_a_document_catalogue_or_workspace_is_refused_at_once(tmp_path, tmp_catalogue):
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    ok = write_csv(["三级指标\t审核", "办事群众满意度\tNIL"], tmp_path / "ok.csv")
    for args in (["learn", fifo, "-c", tmp_catalogue], ["suggest", "办事群众满意度", "-c", fifo],
                 ["learn", ok, "-c", fifo], ["learn", ok, "-c", tmp_catalogue, "-w", fifo],
                 ["extract", fifo, "-o", tmp_path / "o.csv"]):
        p = _cli(args, tmp_path)  # the old code waited for a writer for ever: the timeout fails it
        line = only_error_line(p.stderr)
        assert p.returncode == 2 and "f.csv: not a regular file" in line, (args, p.stderr)


@POSIX
def test_the_check_is_made_on_the_descriptor(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InputError, match="not a regular file"):
        open_regular(fifo)
    assert time.monotonic() - started < 5
    with pytest.raises(InputError, match="is a folder"):
        open_regular(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        open_regular(tmp_path / "missing.csv")


def test_a_file_name_with_a_newline_cannot_forge_an_error_line(tmp_path):
    name = tmp_path / "junk\nerror: fake injected line.csv"
    code, stderr = run("extract", name, "-o", tmp_path / "o.csv")
    assert code == 2 and not any(line.startswith("error: fake") for line in stderr.splitlines()), stderr
    assert "\\nerror: fake injected line.csv'" in only_error_line(stderr)
    name.write_text("三级指标,指标值\n办事群众满意度,≥95%\n", encoding="utf-8")  # read: the status line too
    code, stderr = run("extract", name, "-o", tmp_path / "o.csv")
    assert code == 0 and len(stderr.splitlines()) == 2 and "\\nerror: fake" in stderr, stderr


def test_names_are_quoted_only_when_they_must_be():
    assert quoted("rows.csv") == "rows.csv" and quoted("报表 2025.xlsx") == "报表 2025.xlsx"
    assert quoted("a\nb.csv") == "'a\\nb.csv'" and quoted("x\u202eslx.csv") == "'x\\u202eslx.csv'"
    assert quoted(" lead.csv") == "' lead.csv'" and quoted("it's.csv") == "'it\\'s.csv'"
    assert one_line("a\nb\rc\u2028d\te") == "a\\nb\\rc\\u2028d\te"


# ---------------------------------------------------------------- §5 read what is there


DDE = '=DDE("cmd";"/C calc";"x")'


def test_a_formula_like_cell_does_not_decide_the_csv_delimiter(tmp_path):
    f = tmp_path / "dde.csv"
    f.write_text(f"三级指标,指标值\n{DDE},1\n办事群众满意度,≥95%\n任务达标完成率,100%\n", encoding="utf-8")
    assert [r.name for r in read_document(f).rows] == [DDE, "办事群众满意度", "任务达标完成率"]


def test_name_col_wins_over_sniffing(tmp_path):
    f = tmp_path / "odd.csv"  # semicolons everywhere in the cells: sniffing alone would split at them
    f.write_text("名称;备注,值\na;b;c,1\nd;e;f,2\ng;h;i,3\n", encoding="utf-8")
    code, stderr = run("extract", f, "-o", tmp_path / "o.csv", "--name-col", "名称;备注")
    assert code == 0, stderr
    assert [r[0] for r in csv_rows(f.read_text(encoding="utf-8"), str(f), "名称;备注")] == \
        ["名称;备注", "a;b;c", "d;e;f", "g;h;i"]


def test_docx_entities_are_kept_as_written(tmp_path):
    def with_entity(xml: str) -> str:
        head, body = xml.split("?>", 1)
        return (head + '?><!DOCTYPE w:document [<!ENTITY xxe "LOST">]>' + body).replace("办事群众满意度",
                                                                                      "X&amp;amp;&xxe;X")

    src = write_docx(["三级指标\t指标值", "办事群众满意度\t≥95%"], tmp_path / "plain.docx")
    out = rewrite_member(src, tmp_path / "entity.docx", "word/document.xml", with_entity)
    assert [r.name for r in read_document(out).rows] == ["X&amp;&xxe;X"]


def test_texts_with_nothing_visible_are_refused_by_every_write_path(tmp_path, tmp_catalogue):
    from indicode.catalogue.lookup import Catalogue

    f = tmp_path / "reviewed.csv"
    f.write_text("三级指标,审核\n\u200b\ufeff\u2060,NIL\n办事群众满意度,NIL\n", encoding="utf-8")
    ws_path = tmp_path / "ws.sqlite"
    code, stderr = run("learn", f, "-c", tmp_catalogue, "-w", ws_path)
    assert code == 1 and "nothing visible" in stderr, stderr
    ws = Workspace.open(ws_path)
    assert [e.text for e in ws.in_force()] == ["办事群众满意度"]
    cat = Catalogue.load(tmp_catalogue)
    for text in ("\u200b", "\ufeff", " \u3000 "):
        with pytest.raises(InputError, match="nothing visible"):
            ws.record([NewDecision(text, "", NIL, "r")], cat)


def test_one_class_rule_for_learn_feedback_and_the_workspace(tmp_path, tmp_catalogue):
    from indicode.catalogue.lookup import Catalogue
    from indicode.inputs import read_decision_class

    assert read_decision_class("31") == "31" and read_decision_class("数量指标") == "11"
    assert read_decision_class("") == ""
    for bad in ("3", "产出指标", "99"):
        with pytest.raises(InputError, match="is not a level-2 class"):
            read_decision_class(bad)
    ws = Workspace.open(tmp_path / "ws.sqlite")
    with pytest.raises(InputError, match="is not a level-2 class"):
        ws.record([NewDecision("办事群众满意度", "3", NIL, "r")], Catalogue.load(tmp_catalogue))
    f = tmp_path / "reviewed.csv"
    f.write_text("三级指标,类别,审核\n办事群众满意度,3,NIL\n", encoding="utf-8")
    code, stderr = run("learn", f, "-c", tmp_catalogue, "-w", tmp_path / "ws.sqlite")
    assert code == 1 and "class 3 is not a level-2 class" in stderr, stderr


def test_feedback_takes_the_class_rule_of_learn(tmp_path):
    from server_proc import call, server_on_copy

    with server_on_copy(tmp_path) as (url, _cat):
        st, body = call(url, "/api/feedback", body={"text": "办事群众满意度", "class": "3", "code": "NIL"})
        assert st == 422 and body["field"] == "class" and "is not a level-2 class" in body["error"], body
        st, body = call(url, "/api/feedback", body={"text": "\u200b\ufeff", "code": "NIL"})
        assert st == 422 and body["field"] == "text", body


@pytest.mark.parametrize("maker,suffix", [(write_xlsx, ".et"), (write_xls, ".et"), (write_docx, ".wps")])
def test_wps_files_are_read_as_the_format_they_carry(tmp_path, maker, suffix):
    f = maker(LINES, tmp_path / f"tmp{suffix}.{maker.__name__}")
    named = f.rename(tmp_path / f"申报表{suffix}")
    assert [r.name for r in read_document(named).rows] == ["办事群众满意度", "任务达标完成率"]


def test_wps_presentations_and_old_writer_files_say_what_to_do(tmp_path):
    dps = tmp_path / "汇报.dps"
    with zipfile.ZipFile(dps, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("ppt/presentation.xml", "<p:presentation/>")
    with pytest.raises(InputError, match=r"WPS \.dps\) - copy the indicator table into \.xlsx or \.docx"):
        read_document(dps)
    wps = tmp_path / "旧.wps"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    wps.write_bytes(ole + b"\0" * 504 + "WordDocument".encode("utf-16-le") + b"\0" * 600)
    with pytest.raises(InputError, match=r"old Word format \(\.doc, or WPS \.wps\) - save it as \.docx"):
        read_document(wps)


OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def write_ofd(path: Path, rows: list[list[str]]) -> Path:
    """A one-page OFD whose text layer draws `rows` as a table: one TextObject a cell."""
    objs = []
    for i, cells in enumerate(rows):
        for j, text in enumerate(cells):
            x, y = 20 + 90 * j, 20 + 8 * i
            objs.append(f'<ofd:TextObject ID="{100 + 10 * i + j}" Boundary="{x} {y} 80 6" Font="1" Size="3.5">'
                        f'<ofd:TextCode X="0" Y="3.5">{text}</ofd:TextCode></ofd:TextObject>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {OFD_NS} Version="1.0" DocType="OFD">'
                              "<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        z.writestr("Doc_0/Document.xml", f'<ofd:Document {OFD_NS}><ofd:Pages><ofd:Page ID="1" '
                                         'BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>')
        z.writestr("Doc_0/Pages/Page_0/Content.xml", f'<ofd:Page {OFD_NS}><ofd:Content><ofd:Layer ID="2">'
                                                     + "".join(objs) + "</ofd:Layer></ofd:Content></ofd:Page>")
    return path


def test_ofd_is_read_from_its_text_layer(tmp_path):
    f = write_ofd(tmp_path / "申报书.ofd", [line.split("\t") for line in LINES])
    res = read_document(f)
    assert [(r.name, r.value) for r in res.rows] == [("办事群众满意度", "≥95%"), ("任务达标完成率", "100%")]
    assert load(f)[1][0] == ["三级指标", "指标值"]


def test_ofd_without_text_is_one_line_saying_what_to_export(tmp_path):
    f = write_ofd(tmp_path / "扫描件.ofd", [])
    with pytest.raises(InputError, match=r"an OFD file with no text layer \(scanned\?\) - export it .* as \.pdf "
                                         r"\(with text\), \.xlsx or \.docx"):
        read_document(f)


# ---------------------------------------------------------------- §6 symbolic links


def test_catalogue_build_through_a_link_writes_the_target(tmp_path, tmp_catalogue):
    target = tmp_path / "real.sqlite"
    target.write_bytes(Path(tmp_catalogue).read_bytes())
    link = tmp_path / "link.sqlite"
    link.symlink_to(target)
    doc = write_csv(["三级指标\t指标编码", "全新测试指标甲乙\t112000272"], tmp_path / "coded.csv")
    code, stderr = run("catalogue", "build", doc, "-o", link)
    assert code == 0, stderr
    assert link.is_symlink() and os.path.realpath(link) == str(target)
    from indicode.catalogue.lookup import Catalogue
    assert len(Catalogue.load(target)) == len(Catalogue.load(link))
    assert len(Catalogue.load(target)) < len(Catalogue.load(tmp_catalogue))  # the target has the new data


def test_atomic_writes_go_through_the_link(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "l.csv"
    link.symlink_to(target)
    with atomic_path(link) as tmp:
        Path(tmp).write_text("new", encoding="utf-8")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"


def test_the_lock_is_taken_on_the_resolved_path(tmp_path):
    target = tmp_path / "c.sqlite"
    target.write_bytes(b"")
    link = tmp_path / "alias.sqlite"
    link.symlink_to(target)
    held, release = threading.Event(), threading.Event()

    def hold():
        with write_lock(link):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(10)
        with pytest.raises(BusyError), write_lock(target, timeout=0.3):
            pass
    finally:
        release.set()
        t.join()
    with write_lock(target, timeout=1):  # free again once the link's writer let go
        pass
