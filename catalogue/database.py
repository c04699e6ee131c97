"""The catalogue's SQLite file as a repository: its schema, the checked open and the reads (whole-file
writes are `writing.py`).

The file keeps the raw coded occurrences (so catalogues merge by rebuilding from them), the derived
entries and anomalies, the links reviewers confirmed (`learned`, which survive rebuilds) and the codes
they proposed, and its version: the fingerprint, a label and when it was made (`meta`). A file that is
not a whole indicode catalogue is refused with one line (InputError) rather than half-used.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.request import pathname2url

from ..i18n import _
from .entries import Anomaly, Entry, Occurrence
from .files import BusyError, is_read_only
from .opening import open_regular, quoted
from .records import InputError, Learned, Proposed

# 2 added the `proposed` table (new codes reviewers proposed). Version-1 files are read as they are
# and upgraded in place (to 2) when the first proposal is recorded.
# 3 added what the provincial library says of a code (unit of measure, explanation, scoring standard,
# enabled) to `occurrences` and `codes`, and the label and time of making to `meta`. Files of 1 and 2
# are read as they are (every code enabled, nothing of the library, no label).
SCHEMA_VERSION = 3
PROPOSED_SINCE = 2  # the version that added the `proposed` table
READABLE_VERSIONS = ("1", "2", "3")
LIBRARY_COLUMNS = ("measure_unit", "explanation", "standard", "enabled")  # in occurrences and codes, from 3
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT = 10.0  # seconds a write waits for SQLite's own lock (a process writing without ours)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE occurrences (code TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL,
  unit TEXT, project TEXT, filed_level1 TEXT, filed_level2 TEXT, value TEXT,
  measure_unit TEXT NOT NULL DEFAULT '', explanation TEXT NOT NULL DEFAULT '', standard TEXT NOT NULL DEFAULT '',
  enabled INTEGER);
CREATE TABLE codes (code TEXT PRIMARY KEY, name TEXT NOT NULL, level1 TEXT, level2 TEXT, valid INTEGER NOT NULL,
  count INTEGER NOT NULL, filed TEXT NOT NULL, sources TEXT NOT NULL, projects TEXT NOT NULL, "values" TEXT NOT NULL,
  measure_unit TEXT NOT NULL DEFAULT '', explanation TEXT NOT NULL DEFAULT '', standard TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE names (code TEXT NOT NULL REFERENCES codes(code), name TEXT NOT NULL, count INTEGER NOT NULL,
  canonical INTEGER NOT NULL, PRIMARY KEY (code, name));
CREATE TABLE anomalies (kind TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE learned (id INTEGER PRIMARY KEY, text TEXT NOT NULL, level2 TEXT NOT NULL, code TEXT NOT NULL,
  reviewer TEXT NOT NULL, decided_at TEXT NOT NULL, source TEXT NOT NULL, UNIQUE (text, level2));
CREATE INDEX names_name ON names(name);
"""
PROPOSED_SCHEMA = """
CREATE TABLE IF NOT EXISTS proposed (code TEXT NOT NULL, name TEXT NOT NULL, level1 TEXT NOT NULL,
  level2 TEXT NOT NULL, text TEXT NOT NULL, reviewer TEXT NOT NULL, source TEXT NOT NULL, proposed_at TEXT NOT NULL,
  PRIMARY KEY (code, text));
"""
TABLES_V1 = {"meta", "occurrences", "codes", "names", "anomalies", "learned"}

OCCURRENCE_COLUMNS = "code, name, source, line, unit, project, filed_level1, filed_level2, value"
LEARNED_SQL = "SELECT id, text, level2, code, reviewer, decided_at, source FROM learned ORDER BY id"
PROPOSED_SQL = ("SELECT code, name, level1, level2, text, reviewer, source, proposed_at FROM proposed "
                "ORDER BY code, text")
ANOMALIES_SQL = "SELECT kind, code, name, detail FROM anomalies ORDER BY rowid"


# ---------------------------------------------------------------- connections and errors

def _read_only_uri(path: Path) -> str:
    return f"file:{pathname2url(str(Path(path).resolve()))}?mode=ro"


def connect(path: Path, read_only: bool = False, busy_timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection for one reader or writer (read-only: the file is opened without write access)."""
    if read_only:
        con = sqlite3.connect(_read_only_uri(path), uri=True)
    else:
        con = sqlite3.connect(path, timeout=busy_timeout)
    con.execute("PRAGMA foreign_keys = ON")
    return con


def connect_shared(path: Path) -> sqlite3.Connection:
    """One read-only connection that threads share behind the caller's lock (LazyCatalogue's)."""
    return sqlite3.connect(_read_only_uri(path), uri=True, check_same_thread=False)


def damaged(path: Path | None, why) -> InputError:
    """The one line for a catalogue file that cannot be read as it should, whatever SQLite said."""
    why = " ".join(str(why).split())
    return InputError(_("{path}: damaged catalogue ({why}); build a new one with "
                        "`indicode catalogue build SOURCES -o NEW.sqlite` or restore a copy").format(
        path=path, why=why))


def is_locked(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's own lock is held by another connection (a program writing without our lock file)."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def busy(path: Path, exc: sqlite3.DatabaseError) -> BusyError:
    return BusyError(_("{path}: catalogue busy ({problem}); nothing was written, run again").format(
        path=path, problem=exc))


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """A read that fails is a damaged catalogue: one line (InputError naming `path`), not a traceback."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None


def has_table(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


# ---------------------------------------------------------------- the checked open

def _check_file(path: Path) -> None:
    """Refuse, before SQLite sees it, what is missing, a folder, a pipe or device (judged on the open
    descriptor: SQLite would block on a FIFO), unreadable or not SQLite."""
    if not os.path.lexists(path):
        raise InputError(_("{path}: no such catalogue file").format(path=quoted(path)))
    with open_regular(path, "catalogue") as fh:
        try:
            head = fh.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise InputError(_("{path}: cannot read the catalogue ({why})").format(
                path=quoted(path), why=exc.strerror)) from None
    if head != SQLITE_MAGIC:
        raise InputError(_("{path}: not an indicode catalogue (not an SQLite database)").format(path=quoted(path)))


def columns_of(con: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def has_library_columns(con: sqlite3.Connection) -> bool:
    """Whether the file holds what a library says of its codes (schema 3 on); older files read as
    every code enabled, with no unit, explanation or standard."""
    return "enabled" in columns_of(con, "codes")


def _check_contents(con: sqlite3.Connection, path: Path) -> None:
    """Our tables, a schema version we read, its columns, a fingerprint, and SQLite's own page check."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "meta" not in tables or "codes" not in tables:
        raise InputError(_("{path}: not an indicode catalogue (an SQLite database without indicode's tables)").format(
            path=path))
    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    found = row[0] if row else None
    if found not in READABLE_VERSIONS:
        shown = _("missing") if found is None else repr(found)
        raise InputError(_("{path}: catalogue schema version {found}, this indicode reads {versions} or {last}; "
                           "build a new one with `indicode catalogue build SOURCES -o NEW.sqlite`").format(
            path=path, found=shown, versions=", ".join(READABLE_VERSIONS[:-1]), last=READABLE_VERSIONS[-1]))
    missing = sorted(TABLES_V1 - tables)
    if missing:
        raise damaged(path, _("missing table {tables}").format(tables=", ".join(missing)))
    if int(found) >= 3:
        for table in ("occurrences", "codes"):
            lacking = [c for c in LIBRARY_COLUMNS if c not in columns_of(con, table)]
            if lacking:
                raise damaged(path, _("table {table} lacks column {columns}").format(table=table,
                                                                                     columns=", ".join(lacking)))
    fp = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
    if not fp or not fp[0]:
        raise damaged(path, _("no fingerprint"))
    check = [r[0] for r in con.execute("PRAGMA quick_check(3)")]
    if check != ["ok"]:
        result = " ".join(" ".join(map(str, check)).split())[:200]
        raise damaged(path, _("integrity check: {result}").format(result=result))


def open_checked(path: Path, write: bool = False, busy_timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """Open a catalogue after checking it is one of ours and whole (`_check_file`, `_check_contents`,
    with `PRAGMA quick_check`). Anything else is refused with one line (InputError) rather than
    half-used. `busy_timeout`: seconds SQLite waits for another connection's lock."""
    path = Path(path)
    _check_file(path)
    con = None
    try:
        # a file we may not write is opened read-only; any other is opened as usual even to read, so
        # that SQLite can roll back a transaction a killed writer left in its journal
        con = connect(path, read_only=not write and is_read_only(path), busy_timeout=busy_timeout)
        _check_contents(con, path)
    except InputError:
        if con is not None:
            con.close()
        raise
    except sqlite3.DatabaseError as exc:
        if con is not None:
            con.close()
        raise (busy(path, exc) if is_locked(exc) else damaged(path, exc)) from None
    return con


# ---------------------------------------------------------------- reads

def _records(path: Path, sql: str, record: type) -> list:
    con = open_checked(path)
    try:
        with reading(path):
            return [record(*r) for r in con.execute(sql)]
    finally:
        con.close()


def _library_occurrence(r: tuple) -> Occurrence:
    o = Occurrence(*r[:12])
    o.enabled = None if r[12] is None else bool(r[12])
    return o


def read_occurrences(path: Path) -> list[Occurrence]:
    con = open_checked(path)
    try:
        with reading(path):
            if not has_library_columns(con):
                return [Occurrence(*r) for r in con.execute(f"SELECT {OCCURRENCE_COLUMNS} FROM occurrences")]
            return [_library_occurrence(r) for r in con.execute(
                f"SELECT {OCCURRENCE_COLUMNS}, {', '.join(LIBRARY_COLUMNS)} FROM occurrences")]
    finally:
        con.close()


def read_learned(path: Path) -> list[Learned]:
    return _records(path, LEARNED_SQL, Learned)


def _proposed_of(con: sqlite3.Connection) -> list[Proposed]:
    """Proposed codes of an open catalogue (a version-1 file has none)."""
    return [Proposed(*r) for r in con.execute(PROPOSED_SQL)] if has_table(con, "proposed") else []


def read_proposed(path: Path) -> list[Proposed]:
    con = open_checked(path)
    try:
        return _proposed_of(con)
    finally:
        con.close()


def read_anomalies(con: sqlite3.Connection) -> list[Anomaly]:
    return [Anomaly(*r) for r in con.execute(ANOMALIES_SQL)]


def read_head(con: sqlite3.Connection) -> tuple[str, list[Learned], list[Proposed]]:
    """The fingerprint, learned links and proposed codes of an open catalogue: what a catalogue in
    memory holds from the start, whether or not its entries are read at once."""
    fp = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()[0]
    learned = [Learned(*r) for r in con.execute(LEARNED_SQL)]
    return fp, learned, _proposed_of(con)


@dataclass(frozen=True)
class CatalogueVersion:
    """Which catalogue this is: its fingerprint (of the codes and names the matcher uses), the label
    given when it was made (`--label`, may be empty) and when it was made (ISO 8601, UTC; empty for a
    file made before schema 3)."""

    fingerprint: str
    label: str = ""
    made_at: str = ""


def read_version(con: sqlite3.Connection) -> CatalogueVersion:
    meta = dict(con.execute("SELECT key, value FROM meta WHERE key IN ('fingerprint', 'label', 'made_at')"))
    return CatalogueVersion(meta.get("fingerprint", ""), meta.get("label", ""), meta.get("made_at", ""))


def read_disabled(con: sqlite3.Connection) -> frozenset[str]:
    """The codes a library disabled (none in a file older than schema 3)."""
    if not has_library_columns(con):
        return frozenset()
    return frozenset(r[0] for r in con.execute("SELECT code FROM codes WHERE enabled = 0"))


def _json_column(path: Path | None, code: str, col: str, raw, want: type):
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, want):
        raise damaged(path, _("code {code}: column {column} is not valid JSON").format(code=code, column=col))
    return value


def read_entries(con: sqlite3.Connection, codes: list[str] | None = None, path: Path | None = None) -> list[Entry]:
    """Entries of an open catalogue, in code order: all of them, or only `codes`; a JSON column that
    does not parse is a damaged catalogue (InputError naming `path`), not a traceback."""
    where, args = "", []
    if codes is not None:
        where, args = f"WHERE code IN ({','.join('?' * len(codes))})", list(codes)
    names: dict[str, dict[str, int]] = {}
    for code, name, count, _unused in con.execute(
            f"SELECT code, name, count, canonical FROM names {where} ORDER BY code, canonical DESC, count DESC, rowid",
            args):
        names.setdefault(code, {})[name] = count
    library = ", " + ", ".join(LIBRARY_COLUMNS) if has_library_columns(con) else ""
    entries = []
    for r in con.execute('SELECT code, name, level1, level2, valid, count, filed, sources, projects, "values"'
                         f"{library} FROM codes {where} ORDER BY code", args):
        cols = [_json_column(path, r[0], col, raw, want)
                for col, raw, want in zip(("filed", "sources", "projects", "values"), r[6:10],
                                          (dict, list, list, list), strict=True)]
        e = Entry(code=r[0], name=r[1], level1=r[2], level2=r[3], valid=bool(r[4]), count=r[5],
                  filed=cols[0], sources=cols[1], projects=cols[2], values=cols[3],
                  names=names.get(r[0], {r[1]: r[5]}))
        if library:
            e.measure_unit, e.explanation, e.standard, e.enabled = r[10], r[11], r[12], bool(r[13])
        entries.append(e)
    return entries
