"""A bad-input corpus for the catalogue and output side, run through every file command: damaged or
foreign catalogues, read-only outputs, a full disk, bad arguments. Each case must give one `error:`
line (no traceback), the documented exit code (2 bad input or usage, 3 cannot write) and leave
what was there untouched."""
import errno
import shutil
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import SEED
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.paths import BUNDLED_DB
from indicode.cli import app
from indicode.workspace import NewDecision, Workspace

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()
DOC = SEED["002"]


def _copy(tmp, sql=None, name="bad.sqlite"):
    p = tmp / name
    shutil.copy(BUNDLED_DB, p)
    if sql:
        with sqlite3.connect(p) as con:
            con.executescript(sql)
    return p


def _damaged_pages(tmp):
    return _damage(_copy(tmp))


def _damage(p):
    """An SQLite file with a page in its middle overwritten."""
    data = bytearray(p.read_bytes())
    mid = (len(data) // 4096 // 2) * 4096
    data[mid + 8:mid + 4096] = bytes([0xA5]) * (4096 - 8)
    p.write_bytes(bytes(data))
    return p


def _foreign(tmp):
    p = tmp / "bad.sqlite"
    with sqlite3.connect(p) as con:
        con.execute("CREATE TABLE accounts (id, name)")
    return p


def _text(tmp, data):
    p = tmp / "bad.sqlite"
    p.write_bytes(data)
    return p


CATALOGUES = {
    "missing file": (lambda t: t / "bad.sqlite", "no such catalogue file"),
    "a folder": (lambda t: (t / "bad.sqlite").mkdir() or t / "bad.sqlite", "is a folder"),
    "empty file": (lambda t: _text(t, b""), "not an indicode catalogue"),
    "not SQLite": (lambda t: _text(t, "代码,名称\n112000272,任务达标完成率\n".encode()), "not an indicode catalogue"),
    "foreign SQLite": (_foreign, "not an indicode catalogue"),
    "schema 1.0": (lambda t: _copy(t, "UPDATE meta SET value='1.0' WHERE key='schema_version'"),
                   "schema version '1.0'"),
    "schema missing": (lambda t: _copy(t, "DELETE FROM meta WHERE key='schema_version'"), "schema version missing"),
    "future schema": (lambda t: _copy(t, "UPDATE meta SET value='9' WHERE key='schema_version'"), "schema version '9'"),
    "no fingerprint": (lambda t: _copy(t, "DELETE FROM meta WHERE key='fingerprint'"), "no fingerprint"),
    "no learned table": (lambda t: _copy(t, "DROP TABLE learned"), "missing table learned"),
    "bad JSON": (lambda t: _copy(t, "UPDATE codes SET \"values\"='{oops' WHERE code='112000272'"), "not valid JSON"),
    "damaged pages": (_damaged_pages, "damaged catalogue"),
}

COMMANDS = {
    "lookup": ["lookup", "112000272", "-c", "CAT"],
    "stats": ["catalogue", "stats", "-c", "CAT"],
    "anomalies": ["catalogue", "anomalies", "-c", "CAT"],
    "export": ["catalogue", "export", "-c", "CAT", "-o", "OUT/codes.xlsx"],
    "learn": ["learn", "REVIEWED", "-c", "CAT"],
    "build over it": ["catalogue", "build", str(SEED["000"]), "-o", "CAT"],
    "build from it": ["catalogue", "build", "CAT", "-o", "OUT/new.sqlite"],
    "suggest": ["suggest", "验收合格率", "-c", "CAT"],
    "normalize": ["normalize", str(DOC), "-o", "OUT/n.xlsx", "-c", "CAT"],
}


# a new catalogue over a missing one; writers that never read the code columns (a build replaces
# a catalogue whose JSON is bad, as the error message of the readers advises)
READS_ONLY_WHAT_IT_NEEDS = {("missing file", "build over it"), ("bad JSON", "build over it"),
                            ("bad JSON", "build from it"), ("bad JSON", "learned remove")}


def one_error(r) -> str:
    """The single `error:` line of a failed command (asserting there is exactly one, and no traceback)."""
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, r.stderr
    return errors[0]


def _run(tmp_path, args, cat=None):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    reviewed = tmp_path / "r.csv"
    reviewed.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    argv = [a.replace("CAT", str(cat)).replace("OUT", str(out)).replace("REVIEWED", str(reviewed)) for a in args]
    return runner.invoke(app, argv), out


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("suggest", "normalize")])
@pytest.mark.parametrize("case", CATALOGUES)
def test_damaged_or_foreign_catalogue(tmp_path, case, command):
    make, problem = CATALOGUES[case]
    cat = make(tmp_path)
    before = cat.read_bytes() if cat.is_file() else None
    r, out = _run(tmp_path, COMMANDS[command], cat)
    if (case, command) in READS_ONLY_WHAT_IT_NEEDS:
        assert r.exit_code in (0, 1) and "Traceback" not in r.output and "error:" not in r.stderr
        return
    assert r.exit_code == 2, (case, command, r.output)
    line = one_error(r)
    assert str(cat) in line and problem in line, line
    if before is not None:
        assert cat.read_bytes() == before  # never replaced, never "repaired"
    assert not (tmp_path / "bad.sqlite.lock").exists()  # no writer got as far as its lock
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", ["suggest", "normalize"])
def test_damaged_catalogue_stops_matching_commands_before_the_model(tmp_path, command):
    cat = _damaged_pages(tmp_path)
    r, out = _run(tmp_path, COMMANDS[command], cat)
    assert r.exit_code == 2 and "damaged catalogue" in one_error(r)
    assert list(out.iterdir()) == []


READ_ONLY = {
    "extract csv": (["extract", str(DOC), "-o", "TARGET"], "rows.csv"),
    "extract xlsx": (["extract", str(DOC), "-o", "TARGET"], "rows.xlsx"),
    "export": (["catalogue", "export", "-o", "TARGET"], "codes.xlsx"),
    "normalize": (["normalize", str(DOC), "-o", "TARGET", "-q"], "n.xlsx"),
    "build": (["catalogue", "build", str(SEED["000"]), "-o", "TARGET"], "c.sqlite"),
    "learn": (["learn", "REVIEWED", "--workspace", "TARGET"], "workspace.sqlite"),
}


@pytest.mark.parametrize("case", READ_ONLY)
def test_read_only_output_exit_3_and_untouched(tmp_path, case):
    args, name = READ_ONLY[case]
    target = tmp_path / name
    if name == "workspace.sqlite":
        Workspace.open(target).close()
    elif name.endswith(".sqlite"):
        shutil.copy(BUNDLED_DB, target)
    else:
        target.write_text("precious")
    target.chmod(0o444)
    before = target.read_bytes()
    r, _ = _run(tmp_path, [a.replace("TARGET", str(target)) for a in args])
    assert r.exit_code == 3, r.output
    assert "read-only" in one_error(r) and str(target) in one_error(r)
    assert target.read_bytes() == before
    target.chmod(0o644)


def _workspace_with_pages(tmp):
    p = tmp / "ws.sqlite"
    with Workspace.open(p) as ws:
        ws.record([NewDecision(f"指标{i}" * 8, "12", "112000272", "王") for i in range(400)], Catalogue.load())
    return p


def _damaged_workspace(tmp):
    return _damage(_workspace_with_pages(tmp))


def _future_workspace(tmp):
    p = _workspace_with_pages(tmp)
    with sqlite3.connect(p) as con:
        con.execute("UPDATE meta SET value = '9' WHERE key = 'workspace_schema_version'")
    return p


WORKSPACES = {
    "a folder": (lambda t: (t / "ws.sqlite").mkdir() or t / "ws.sqlite", "is a folder"),
    "not SQLite": (lambda t: _text(t, "代码,名称\n112000272,任务达标完成率\n".encode()), "not an indicode workspace"),
    "a catalogue": (lambda t: _copy(t), "not an indicode workspace"),
    "foreign SQLite": (_foreign, "not an indicode workspace"),
    "future schema": (_future_workspace, "workspace schema version 9"),
    "damaged pages": (_damaged_workspace, "damaged workspace"),
}
WORKSPACE_COMMANDS = {
    "learn": ["learn", "REVIEWED", "-w", "WS"],
    "learned list": ["learned", "list", "-w", "WS"],
    "learned remove": ["learned", "remove", "1", "-w", "WS"],
    "history": ["decisions", "history", "验收合格率", "-w", "WS"],
    "status": ["status", "-w", "WS"],
}


@pytest.mark.parametrize("command", WORKSPACE_COMMANDS)
@pytest.mark.parametrize("case", WORKSPACES)
def test_damaged_or_foreign_workspace(tmp_path, case, command):
    """A workspace that is not one, or is damaged: one line naming the file and the problem, exit 2,
    the file as it was (a catalogue given as --workspace is never written into)."""
    make, problem = WORKSPACES[case]
    ws = make(tmp_path)
    before = ws.read_bytes() if ws.is_file() else None
    r, _ = _run(tmp_path, [a.replace("WS", str(ws)) for a in WORKSPACE_COMMANDS[command]])
    assert r.exit_code == 2, (case, command, r.output)
    line = one_error(r)
    assert str(ws) in line and problem in line, line
    if before is not None:
        assert ws.read_bytes() == before


def _full(*a, **kw):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("case", ["normalize xlsx", "normalize csv", "build"])  # learn: test_writes.py (SQLite full)
def test_full_disk_on_every_writer(tmp_path, monkeypatch, case):
    import xlsxwriter

    from indicode.catalogue import files

    cat = tmp_path / "c.sqlite"
    shutil.copy(BUNDLED_DB, cat)
    before = cat.read_bytes()
    if case == "normalize xlsx":
        monkeypatch.setattr(xlsxwriter.Workbook, "close", _full)
        args = ["normalize", str(DOC), "-o", "OUT/n.xlsx", "-q"]
    elif case == "normalize csv":  # written as the records are read back (export.write_records)
        import csv

        monkeypatch.setattr(csv, "writer", _full)
        args = ["normalize", str(DOC), "-o", "OUT/n.csv", "-q"]
    else:  # the disk fills as the new catalogue's temporary is created
        real_open = files.os.open

        def full_open(path, flags, *a):
            if "-indicode-tmp-" in str(path):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_open(path, flags, *a)

        monkeypatch.setattr(files.os, "open", full_open)
        args = ["catalogue", "build", str(SEED["000"]), "-o", "CAT"]
    r, out = _run(tmp_path, args, cat)
    monkeypatch.undo()
    assert r.exit_code == 3, r.output
    assert "No space left on device" in one_error(r)
    assert list(out.iterdir()) == [] and cat.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir() if "-indicode-tmp-" in f.name] == []


BAD_ARGS = {
    # the messages of indicode.inputs, the same in the Python API and over HTTP (tests/test_inputs.py)
    "lookup empty": (["lookup", ""], 2, "query '': empty; give a code, a code prefix or part of a name"),
    "lookup blank": (["lookup", "   "], 2, "query '   ': empty"),
    "lookup -n 0": (["lookup", "满意度", "-n", "0"], 2, "limit 0: give a whole number from 1 to 1000"),
    "lookup -n -1": (["lookup", "满意度", "-n", "-1"], 2, "limit -1: give a whole number from 1 to 1000"),
    "lookup bad class": (["lookup", "满意度", "--class", "x1"], 2, "class 'x1': neither a class nor a code prefix"),
    "suggest -k 0": (["suggest", "验收合格率", "-k", "0"], 2, "k 0: give a whole number from 1 to 50"),
    "non-UTF-8 query": (["lookup", "满意\udcff"], 2, "not valid UTF-8"),
    "non-UTF-8 file name": (["extract", "OUT/\udcff.txt", "-o", "OUT/r.csv"], 2, "not valid UTF-8"),
    "non-UTF-8 reviewer": (["learn", "REVIEWED", "--reviewer", "王\udcfe"], 2, "not valid UTF-8"),
    "build -o xlsx": (["catalogue", "build", str(SEED["000"]), "-o", "OUT/cat.xlsx"], 2, "must end in .sqlite"),
    "build -o folder": (["catalogue", "build", str(SEED["000"]), "-o", "OUT/dir.sqlite"], 2, "is a folder"),
    "build missing doc": (["catalogue", "build", "OUT/nothing.txt", "-o", "OUT/c.sqlite"], 2, "no such file"),
    "build uncoded": (["catalogue", "build", str(SEED["001"]), "-o", "OUT/c.sqlite"], 2, "no coded indicator rows"),
    "extract -o pdf": (["extract", str(DOC), "-o", "OUT/rows.pdf"], 2, "output must end in"),
    "extract -o missing folder": (["extract", str(DOC), "-o", "OUT/no/rows.csv"], 2, "does not exist"),
    "export -o folder": (["catalogue", "export", "-o", "OUT/d.csv"], 2, "is a folder"),
    "learn missing file": (["learn", "OUT/none.csv"], 2, "no such file"),
    "learn a folder": (["learn", "OUT"], 2, "is a folder"),
    "learned remove not a number": (["learned", "remove", "x"], 2, "'ids': give a whole number"),
    "unknown command": (["catalog"], 2, "no such command: catalog; did you mean catalogue?"),
}


@pytest.mark.parametrize("case", BAD_ARGS)
def test_bad_arguments(tmp_path, monkeypatch, case):
    monkeypatch.setenv("INDICODE_DATA_DIR", str(tmp_path / "data"))
    args, code, problem = BAD_ARGS[case]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "dir.sqlite").mkdir()
    (tmp_path / "out" / "d.csv").mkdir()
    r, out = _run(tmp_path, args)
    assert r.exit_code == code, (case, r.output)
    assert problem in one_error(r)
    assert sorted(p.name for p in out.iterdir()) == ["d.csv", "dir.sqlite"]  # nothing written


def test_non_utf8_argument_in_a_real_process(tmp_path):
    p = subprocess.run([sys.executable, "-m", "indicode.cli", "lookup", b"\xff\xfe".decode("utf-8", "surrogateescape")],
                       capture_output=True)
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    assert p.stderr.decode().count("\n") == 1 and "not valid UTF-8" in p.stderr.decode()


@pytest.mark.parametrize("kind", ["read-only folder", "a file"])
def test_unwritable_data_folder(tmp_path, monkeypatch, kind):
    """The first learn makes the default workspace in the data folder: that folder cannot take it ->
    one line, exit 3, the bundled file untouched."""
    data = tmp_path / "data"
    if kind == "a file":
        data.write_text("not a folder")
    else:
        data.mkdir()
        data.chmod(0o555)
    monkeypatch.setenv("INDICODE_DATA_DIR", str(data))
    before = BUNDLED_DB.read_bytes()
    r, _ = _run(tmp_path, ["learn", "REVIEWED"])
    assert r.exit_code == 3, r.output
    assert "workspace.sqlite" in one_error(r) and "nothing was written" in one_error(r)
    assert BUNDLED_DB.read_bytes() == before
    if kind != "a file":
        assert list(data.iterdir()) == []
        data.chmod(0o755)


def test_a_bug_is_still_one_line_and_debug_shows_it(monkeypatch):
    from indicode.catalogue.lookup import Catalogue

    def broken(self):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Catalogue, "stats", broken)
    r = runner.invoke(app, ["catalogue", "stats"])
    assert r.exit_code == 1 and "internal error (ZeroDivisionError" in one_error(r)
    monkeypatch.setenv("INDICODE_DEBUG", "1")
    r = runner.invoke(app, ["catalogue", "stats"])
    assert isinstance(r.exception, ZeroDivisionError)
