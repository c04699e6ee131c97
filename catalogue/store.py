"""The catalogue's SQLite file: versioned schema, atomic deterministic writes, in-memory lookups.

The database keeps the raw coded occurrences (so catalogues merge by rebuilding from them), the
derived entries and anomalies, and the links reviewers confirmed (`learned`), which survive rebuilds.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.request import pathname2url

from .entries import Anomaly, Entry, Occurrence, build_entries, occurrences_from_rows
from .files import BusyError, atomic_path, check_can_replace, is_read_only, write_failed
from .records import InputError
from .textio import fold

# 2 added the `proposed` table (new codes reviewers proposed). Version-1 files are read as they are
# and upgraded in place when the first proposal is recorded.
SCHEMA_VERSION = 2
READABLE_VERSIONS = ("1", "2")
SQLITE_MAGIC = b"SQLite format 3\x00"
LOCK_TIMEOUT = 30.0  # seconds a writer waits for another one ($INDICODE_LOCK_TIMEOUT)
BUSY_TIMEOUT = 10.0  # seconds a write waits for SQLite's own lock (a process writing without ours)
DATA_DIR = Path(__file__).parent / "data"
BUNDLED_DB = DATA_DIR / "catalogue.sqlite"
BUNDLED_SEEDS = DATA_DIR / "seeds"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE occurrences (code TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL,
  unit TEXT, project TEXT, filed_level1 TEXT, filed_level2 TEXT, value TEXT);
CREATE TABLE codes (code TEXT PRIMARY KEY, name TEXT NOT NULL, level1 TEXT, level2 TEXT, valid INTEGER NOT NULL,
  count INTEGER NOT NULL, filed TEXT NOT NULL, sources TEXT NOT NULL, projects TEXT NOT NULL, "values" TEXT NOT NULL);
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


def user_catalogue_path() -> Path:
    """Where learned links go when the catalogue in use is the read-only bundled one."""
    base = os.environ.get("INDICODE_DATA_DIR") or Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "indicode"
    return Path(base) / "catalogue.sqlite"


def default_path() -> Path:
    """The catalogue in use: $INDICODE_CATALOGUE, else the user's copy holding learned links, else
    the bundled one."""
    if os.environ.get("INDICODE_CATALOGUE"):
        return Path(os.environ["INDICODE_CATALOGUE"])
    user = user_catalogue_path()
    return user if user.exists() else BUNDLED_DB


def writable_path(path: Path | None, timeout: float | None = None) -> Path:
    """The catalogue file to record learned links in: the given one, or a user copy of the bundled
    catalogue (the package's own file is never written). `timeout`: as for `write_lock`, while
    making the copy."""
    path = Path(path) if path else default_path()
    if path.resolve() == BUNDLED_DB.resolve():
        user = user_catalogue_path()
        if not user.exists():
            try:
                user.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise write_failed(user, exc) from None
            check_can_replace(user)
            with write_lock(user, timeout):
                if not user.exists():
                    with atomic_path(user) as tmp:
                        shutil.copyfile(BUNDLED_DB, tmp)
        return user
    return path


@dataclass
class Learned:
    """A link a reviewer confirmed or corrected: this text (in this class) means this code."""

    id: int
    text: str
    level2: str
    code: str
    reviewer: str
    decided_at: str
    source: str


@dataclass
class Proposed:
    """A new code a reviewer proposed for a text no catalogue code fits. Kept apart from the codes
    read from documents: never matched, never in the fingerprint, shown as proposed."""

    code: str
    name: str
    level1: str
    level2: str
    text: str  # the indicator text it was proposed for
    reviewer: str
    source: str  # file:row
    proposed_at: str


# ---------------------------------------------------------------- the one way to write

def lock_timeout() -> float:
    """Seconds a command-line writer waits for another: $INDICODE_LOCK_TIMEOUT when it is a finite
    number of seconds (nan or inf would wait for ever), else LOCK_TIMEOUT."""
    try:
        t = float(os.environ.get("INDICODE_LOCK_TIMEOUT", LOCK_TIMEOUT))
    except ValueError:
        return LOCK_TIMEOUT
    return t if math.isfinite(t) and t >= 0 else LOCK_TIMEOUT


@contextmanager
def write_lock(path: Path, timeout: float | None = None):
    """Hold the catalogue's write lock (`CATALOGUE.lock` beside it, fcntl.flock) for the block.

    Every writer takes it: `catalogue build` from before it reads the learned links until its new
    file has replaced the old, learn / feedback / `learned remove` around their transaction. So a
    decision recorded while a build runs lands in the new file, never in the one being replaced.
    Waits at most `timeout` seconds ($INDICODE_LOCK_TIMEOUT, default 30), then BusyError.
    The lock file stays (removing it would race with a waiting writer); it holds no data."""
    path = Path(path)
    if timeout is None:
        timeout = lock_timeout()
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise write_failed(path, exc) from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(f"{path}: catalogue busy: another indicode process is writing it "
                                    f"(waited {timeout:g} s); nothing was written, run again when it has finished") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _connect(path: Path, read_only: bool = False, busy_timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    if read_only:
        con = sqlite3.connect(f"file:{pathname2url(str(Path(path).resolve()))}?mode=ro", uri=True)
    else:
        con = sqlite3.connect(path, timeout=busy_timeout)
    con.execute("PRAGMA foreign_keys = ON")
    return con


OCCURRENCES_SQL = "SELECT code, name, source, line, unit, project, filed_level1, filed_level2, value FROM occurrences"
LEARNED_SQL = "SELECT id, text, level2, code, reviewer, decided_at, source FROM learned ORDER BY id"
PROPOSED_SQL = "SELECT code, name, level1, level2, text, reviewer, source, proposed_at FROM proposed ORDER BY code, text"


def _records(path: Path, sql: str, record: type) -> list:
    con = _open_checked(path)
    try:
        return [record(*r) for r in con.execute(sql)]
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from None
    finally:
        con.close()


def read_occurrences(path: Path) -> list[Occurrence]:
    return _records(path, OCCURRENCES_SQL, Occurrence)


def read_learned(path: Path) -> list[Learned]:
    return _records(path, LEARNED_SQL, Learned)


def read_proposed(path: Path) -> list[Proposed]:
    con = _open_checked(path)
    try:
        if not _has_table(con, "proposed"):
            return []
        return [Proposed(*r) for r in con.execute(PROPOSED_SQL)]
    finally:
        con.close()


def _damaged(path: Path, why) -> InputError:
    why = " ".join(str(why).split())  # one line, whatever SQLite said
    return InputError(f"{path}: damaged catalogue ({why}); build a new one with "
                      f"`indicode catalogue build SOURCES -o NEW.sqlite` or restore a copy")


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _open_checked(path: Path, write: bool = False, busy_timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """Open a catalogue after checking it is one of ours and whole: SQLite, our tables, a schema
    version we read, a fingerprint, and SQLite's own page check (`PRAGMA quick_check`). Anything
    else is refused with one line (InputError) rather than half-used. `busy_timeout`: seconds
    SQLite waits for another connection's lock."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such catalogue file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a catalogue file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the catalogue ({exc.strerror})") from None
    if head != SQLITE_MAGIC:
        raise InputError(f"{path}: not an indicode catalogue (not an SQLite database)")
    con = None
    try:
        # a file we may not write is opened read-only; any other is opened as usual even to read, so
        # that SQLite can roll back a transaction a killed writer left in its journal
        con = _connect(path, read_only=not write and is_read_only(path), busy_timeout=busy_timeout)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables or "codes" not in tables:
            raise InputError(f"{path}: not an indicode catalogue (an SQLite database without indicode's tables)")
        row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        found = row[0] if row else None
        if found not in READABLE_VERSIONS:
            shown = "missing" if found is None else repr(found)
            raise InputError(f"{path}: catalogue schema version {shown}, this indicode reads "
                             f"{' or '.join(READABLE_VERSIONS)}; build a new one with `indicode catalogue build SOURCES -o NEW.sqlite`")
        missing = sorted(TABLES_V1 - tables)
        if missing:
            raise _damaged(path, f"missing table {', '.join(missing)}")
        fp = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if not fp or not fp[0]:
            raise _damaged(path, "no fingerprint")
        check = [r[0] for r in con.execute("PRAGMA quick_check(3)")]
        if check != ["ok"]:
            raise _damaged(path, f"integrity check: {' '.join(' '.join(map(str, check)).split())[:200]}")
    except InputError:
        if con is not None:
            con.close()
        raise
    except sqlite3.DatabaseError as exc:
        if con is not None:
            con.close()
        raise (_busy(path, exc) if _locked(exc) else _damaged(path, exc)) from None
    return con


def _locked(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's own lock is held by another connection (a program writing without our lock file)."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _busy(path: Path, exc: sqlite3.DatabaseError) -> BusyError:
    return BusyError(f"{path}: catalogue busy ({exc}); nothing was written, run again")


NIL = "NIL"  # a learned "no code fits"
# Guards the first build of a catalogue's name index (`Catalogue.codes_named`): server threads may
# ask at once. One lock for all catalogues: each builds its index once, so it is rarely waited for.
_NAME_INDEX_LOCK = threading.Lock()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _writing(path: Path, timeout: float | None = None):
    """A checked read-write connection to `path` inside its write lock; SQLite errors that mean the
    file cannot take the write become WriteError / BusyError, other damage InputError. `timeout`:
    seconds to wait for another writer (`write_lock`; also caps SQLite's own wait), None for the
    command line's default."""
    path = Path(path)
    busy = BUSY_TIMEOUT if timeout is None else min(timeout, BUSY_TIMEOUT)
    _open_checked(path, busy_timeout=busy).close()  # before the lock: no lock file beside what is not a catalogue
    check_can_replace(path)
    with write_lock(path, timeout):
        con = _open_checked(path, write=True, busy_timeout=busy)
        try:
            with con:
                yield con
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if _locked(exc):
                raise _busy(path, exc) from None
            if "full" in msg or "readonly" in msg or "disk I/O" in msg or "unable to open" in msg:
                raise write_failed(path, exc) from None
            raise _damaged(path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc) from None
        except OSError as exc:
            raise write_failed(path, exc) from None
        finally:
            con.close()


def record_decisions(path: Path, links: list[tuple[str, str, str, str, str]],
                     proposals: list[Proposed] = (), timeout: float | None = None) -> int:
    """Record (text, level2, code, reviewer, source) links and proposed codes in one transaction,
    under the write lock; the same text and class again replaces the earlier decision, the same
    code proposed for the same text its earlier proposal. Returns how many links were written.
    `timeout`: seconds to wait for another writer before BusyError (None: $INDICODE_LOCK_TIMEOUT
    or 30 s, for the command line; the server's feedback waits less, holding a worker thread)."""
    now = _now()
    with _writing(path, timeout) as con:
        for text, level2, code, reviewer, source in links:
            con.execute("DELETE FROM learned WHERE text = ? AND level2 = ?", (text, level2))
            con.execute("INSERT INTO learned (text, level2, code, reviewer, decided_at, source) VALUES (?,?,?,?,?,?)",
                        (text, level2, code, reviewer, now, source))
        if proposals:
            con.execute(PROPOSED_SCHEMA.strip().rstrip(";"))
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            for p in proposals:
                con.execute("INSERT OR REPLACE INTO proposed VALUES (?,?,?,?,?,?,?,?)",
                            (p.code, p.name, p.level1, p.level2, p.text, p.reviewer, p.source, p.proposed_at or now))
    return len(links)


def add_learned(path: Path, links: list[tuple[str, str, str, str, str]], timeout: float | None = None) -> int:
    """Record (text, level2, code, reviewer, source) links; the same text and class again replaces
    the earlier decision. Returns how many were written. `timeout` as for `record_decisions`."""
    return record_decisions(path, links, timeout=timeout)


def remove_learned(path: Path, ids: list[int]) -> int:
    with _writing(path) as con:
        return sum(con.execute("DELETE FROM learned WHERE id = ?", (i,)).rowcount for i in ids)


def write_catalogue(path: Path, occs: list[Occurrence], learned: list[Learned] = (),
                    proposed: list[Proposed] = ()) -> None:
    """Write a catalogue file atomically (temp file + rename); same input, same bytes."""
    entries, anomalies = build_entries(occs)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(path, exc) from None
    with atomic_path(path) as tmp:
        tmp.unlink()  # sqlite makes its own file
        con = _connect(tmp)
        try:
            with con:
                con.executescript(SCHEMA + PROPOSED_SCHEMA)
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                occs_sorted = sorted(occs, key=lambda o: (o.source, o.line, o.code, o.name))
                con.executemany("INSERT INTO occurrences VALUES (?,?,?,?,?,?,?,?,?)",
                                [tuple(asdict(o).values()) for o in occs_sorted])
                for e in entries:
                    con.execute('INSERT INTO codes VALUES (?,?,?,?,?,?,?,?,?,?)', (
                        e.code, e.name, e.level1, e.level2, int(e.valid), e.count, json.dumps(e.filed, ensure_ascii=False),
                        json.dumps(e.sources, ensure_ascii=False), json.dumps(e.projects, ensure_ascii=False),
                        json.dumps(e.values, ensure_ascii=False)))
                    con.executemany("INSERT INTO names VALUES (?,?,?,?)",
                                    [(e.code, n, c, int(n == e.name)) for n, c in e.names.items()])
                con.executemany("INSERT INTO anomalies VALUES (?,?,?,?)",
                                [(a.kind, a.code, a.name, a.detail) for a in anomalies])
                con.executemany("INSERT INTO learned VALUES (?,?,?,?,?,?,?)",
                                [tuple(asdict(l).values()) for l in learned])
                real = {e.code for e in entries}  # a proposal that became a real code is dropped
                con.executemany("INSERT INTO proposed VALUES (?,?,?,?,?,?,?,?)",
                                [tuple(asdict(p).values()) for p in proposed if p.code not in real])
                con.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (_fingerprint(entries),))
        except sqlite3.OperationalError as exc:
            raise write_failed(path, exc) from None
        finally:
            con.close()


def _fingerprint(entries: list[Entry]) -> str:
    """Of the codes read from documents only (proposed codes and learned links leave it, and so the
    vector index built for it, unchanged)."""
    h = hashlib.sha256()
    for e in entries:
        h.update(json.dumps([e.code, e.name, list(e.names)], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def check_catalogue_output(out: Path) -> None:
    """`catalogue build -o`: a .sqlite name, a writable place, and never over a file that is not an
    indicode catalogue (a user's other database, a workbook)."""
    out = Path(out)
    if out.suffix.lower() != ".sqlite":
        raise InputError(f"{out}: a catalogue file name must end in .sqlite")
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a catalogue file name ending in .sqlite")
    check_can_replace(out)
    if out.exists():
        _open_checked(out).close()  # refuses what is not a whole indicode catalogue


def build(sources: list[Path], out: Path, failed: list[str] | None = None) -> tuple[int, list[str]]:
    """Build (or rebuild) `out` from documents and/or other catalogue files; learned links and
    proposed codes in an existing `out` are kept. Documents are read first; then, under `out`'s
    write lock, catalogue sources and the learned links are read and the new file replaces the old.
    A document that cannot be read stops the build, unless a `failed` list is given: then its
    one-line error goes there and the others are built from (when every source fails, the last
    one's error is raised, the others' being in `failed`). Returns (number of coded rows, problems reported by the readers)."""
    from .readers.detect import read_document

    out = Path(out)
    check_catalogue_output(out)
    occs: list[Occurrence] = []
    problems: list[str] = []
    catalogues = []
    for src in sources:
        src = Path(src)
        if src.suffix == ".sqlite":
            catalogues.append(src)
            _open_checked(src).close()
            continue
        try:
            res = read_document(src)
        except InputError as exc:
            if failed is None or len(failed) == len(sources) - 1:
                raise
            failed.append(str(exc))
            continue
        occs += occurrences_from_rows(res.rows)
        problems += [str(p) for p in res.problems]
    if not occs and not catalogues:
        raise InputError(f"{', '.join(map(str, sources))}: no coded indicator rows to build a catalogue from")
    with write_lock(out):
        for src in catalogues:
            occs += read_occurrences(src)
        if not occs:
            raise InputError(f"{', '.join(map(str, sources))}: no coded indicator rows to build a catalogue from")
        # the same row read twice (a document given twice, or merged from two catalogues) counts once
        occs = list({(o.source, o.line, o.code, o.name): o for o in occs}.values())
        learned = read_learned(out) if out.exists() else []
        proposed = read_proposed(out) if out.exists() else []
        write_catalogue(out, occs, learned, proposed)
    return len(occs), problems


def _json_column(path: Path, code: str, col: str, raw, want: type):
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, want):
        raise _damaged(path, f"code {code}: column {col} is not valid JSON")
    return value


def in_class(e: Entry, klass: str) -> bool:
    """`3` is a level-1 class, `31` a level-2 class, anything longer a code prefix."""
    klass = (klass or "").strip()
    if not klass:
        return True
    if len(klass) == 1:
        return e.level1 == klass
    if len(klass) == 2:
        return e.level2 == klass
    return e.code.startswith(klass)


def read_entries(con: sqlite3.Connection, codes: list[str] | None = None, path: Path | None = None) -> list[Entry]:
    """Entries of an open catalogue, in code order: all of them, or only `codes`; a JSON column that
    does not parse is a damaged catalogue (InputError naming `path`), not a traceback."""
    where, args = "", []
    if codes is not None:
        where, args = f"WHERE code IN ({','.join('?' * len(codes))})", list(codes)
    names: dict[str, dict[str, int]] = {}
    for code, name, count, _ in con.execute(
            f"SELECT code, name, count, canonical FROM names {where} ORDER BY code, canonical DESC, count DESC, rowid",
            args):
        names.setdefault(code, {})[name] = count
    entries = []
    for r in con.execute('SELECT code, name, level1, level2, valid, count, filed, sources, projects, "values" '
                         f"FROM codes {where} ORDER BY code", args):
        cols = [_json_column(path, r[0], col, raw, want)
                for col, raw, want in zip(("filed", "sources", "projects", "values"), r[6:10], (dict, list, list, list))]
        entries.append(Entry(code=r[0], name=r[1], level1=r[2], level2=r[3], valid=bool(r[4]), count=r[5],
                             filed=cols[0], sources=cols[1], projects=cols[2], values=cols[3],
                             names=names.get(r[0], {r[1]: r[5]})))
    return entries


class Catalogue:
    """The catalogue loaded into memory: lookups by code, prefix, class and name."""

    def __init__(self, path: Path, entries: list[Entry], anomalies: list[Anomaly], fingerprint: str,
                 learned: list[Learned], proposed: list[Proposed] = ()):
        self.path = path
        self.entries = {e.code: e for e in entries}
        self.anomalies = anomalies
        self._anomalies_by_code: dict[str, list[Anomaly]] = {}
        for a in anomalies:
            self._anomalies_by_code.setdefault(a.code, []).append(a)
        self.fingerprint = fingerprint
        self.learned = learned
        self.proposed = list(proposed)  # never in `entries`: not codes read from a document

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Catalogue":
        path = Path(path) if path else default_path()
        con = _open_checked(path)
        try:
            entries = read_entries(con, path=path)
            anomalies = [Anomaly(*r) for r in con.execute("SELECT kind, code, name, detail FROM anomalies ORDER BY rowid")]
            fp = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()[0]
            learned = [Learned(*r) for r in con.execute(LEARNED_SQL)]
            proposed = [Proposed(*r) for r in con.execute(PROPOSED_SQL)] if _has_table(con, "proposed") else []
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc) from None
        finally:
            con.close()
        return cls(path, entries, anomalies, fp, learned, proposed)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, code: str) -> Entry | None:
        return self.entries.get(code.strip())

    def anomalies_of(self, code: str) -> list[Anomaly]:
        """The anomalies recorded for one code (looked up, not scanned: bulk runs ask per row)."""
        return self._anomalies_by_code.get(code.strip(), [])

    def lookup(self, query: str, klass: str = "", limit: int = 50) -> list[Entry]:
        """Exact code, code prefix (`113`, `1130002`), or name / part of a name (aliases included),
        optionally within a class (`3`, `31`); best matches first."""
        q = fold(query)
        pool = [e for e in self.entries.values() if in_class(e, klass)]
        if q.isdigit():
            exact = [e for e in pool if e.code == q]
            return exact or [e for e in pool if e.code.startswith(q)][:limit]
        scored = []
        for e in pool:
            names = [fold(n) for n in e.names]
            if q == names[0]:
                rank = 0
            elif q in names:
                rank = 1
            elif names[0].startswith(q):
                rank = 2
            elif q in names[0]:
                rank = 3
            elif any(q in n for n in names):
                rank = 4
            else:
                continue
            scored.append((rank, len(e.name), e.code, e))
        return [s[-1] for s in sorted(scored)[:limit]]

    def codes_named(self, name: str) -> list[str]:
        """Codes one of whose spellings is `name` (width- and case-folded); indexed on first use, by
        one thread while any others wait, and published only when whole."""
        by_name = self.__dict__.get("_by_name")
        if by_name is None:
            with _NAME_INDEX_LOCK:
                by_name = self.__dict__.get("_by_name")
                if by_name is None:
                    by_name = {}
                    for e in self.entries.values():
                        for n in e.names:
                            by_name.setdefault(fold(n), []).append(e.code)
                    self._by_name = by_name
        return list(dict.fromkeys(by_name.get(fold(name), [])))

    def lookup_proposed(self, query: str, klass: str = "", limit: int = 50) -> list[Proposed]:
        """Proposed codes by code, code prefix or part of their name or text (shown apart from the
        catalogue's own codes)."""
        q = fold(query)
        if not q:
            return []
        found = [p for p in self.proposed if in_class(p, klass) and (
            p.code.startswith(q) if q.isdigit() else (q in fold(p.name) or q in fold(p.text)))]
        return found[:limit]

    def stats(self) -> dict:
        from collections import Counter

        return {
            "path": str(self.path),
            "codes": len(self.entries),
            "valid_codes": sum(e.valid for e in self.entries.values()),
            "names": sum(len(e.names) for e in self.entries.values()),
            "occurrences": sum(e.count for e in self.entries.values()),
            "sources": sorted({s for e in self.entries.values() for s in e.sources}),
            "by_level2": dict(sorted(Counter(e.level2 for e in self.entries.values()).items())),
            "anomalies": dict(sorted(Counter(a.kind for a in self.anomalies).items())),
            "learned": len(self.learned),
            "proposed": len(self.proposed),
            "fingerprint": self.fingerprint,
        }
