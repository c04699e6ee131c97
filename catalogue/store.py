"""The catalogue's SQLite file: versioned schema, atomic deterministic writes, in-memory lookups.

The database keeps the raw coded occurrences (so catalogues merge by rebuilding from them), the
derived entries and anomalies, and the links reviewers confirmed (`learned`), which survive rebuilds.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from .build import Anomaly, Entry, Occurrence, build_entries, occurrences_from_rows
from .files import atomic_path
from .records import InputError
from .textio import fold

SCHEMA_VERSION = 1
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


def writable_path(path: Path | None) -> Path:
    """The catalogue file to record learned links in: the given one, or a user copy of the bundled
    catalogue (the package's own file is never written)."""
    path = Path(path) if path else default_path()
    if path.resolve() == BUNDLED_DB.resolve():
        user = user_catalogue_path()
        if not user.exists():
            user.parent.mkdir(parents=True, exist_ok=True)
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


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = ON")
    return con


OCCURRENCES_SQL = "SELECT code, name, source, line, unit, project, filed_level1, filed_level2, value FROM occurrences"
LEARNED_SQL = "SELECT id, text, level2, code, reviewer, decided_at, source FROM learned ORDER BY id"


def _records(path: Path, sql: str, record: type) -> list:
    con = _open_checked(path)
    try:
        return [record(*r) for r in con.execute(sql)]
    finally:
        con.close()


def read_occurrences(path: Path) -> list[Occurrence]:
    return _records(path, OCCURRENCES_SQL, Occurrence)


def read_learned(path: Path) -> list[Learned]:
    return _records(path, LEARNED_SQL, Learned)


def _open_checked(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise InputError(f"{path}: no such catalogue file")
    try:
        con = _connect(path)
        row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not an indicode catalogue ({exc})") from None
    if row is None or int(row[0]) != SCHEMA_VERSION:
        con.close()
        found = row[0] if row else "none"
        raise InputError(f"{path}: catalogue schema version {found}, this indicode reads {SCHEMA_VERSION}; "
                         f"rebuild it with `indicode catalogue build`")
    return con


NIL = "NIL"  # a learned "no code fits"


def add_learned(path: Path, links: list[tuple[str, str, str, str, str]]) -> int:
    """Record (text, level2, code, reviewer, source) links; the same text and class again replaces
    the earlier decision. Returns how many were written."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    con = _open_checked(Path(path))
    try:
        with con:
            for text, level2, code, reviewer, source in links:
                con.execute("DELETE FROM learned WHERE text = ? AND level2 = ?", (text, level2))
                con.execute("INSERT INTO learned (text, level2, code, reviewer, decided_at, source) VALUES (?,?,?,?,?,?)",
                            (text, level2, code, reviewer, now, source))
    finally:
        con.close()
    return len(links)


def remove_learned(path: Path, ids: list[int]) -> int:
    con = _open_checked(Path(path))
    try:
        with con:
            return sum(con.execute("DELETE FROM learned WHERE id = ?", (i,)).rowcount for i in ids)
    finally:
        con.close()


def write_catalogue(path: Path, occs: list[Occurrence], learned: list[Learned] = ()) -> None:
    """Write a catalogue file atomically (temp file + rename); same input, same bytes."""
    entries, anomalies = build_entries(occs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.unlink()  # sqlite makes its own file
        con = _connect(tmp)
        with con:
            con.executescript(SCHEMA)
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
            con.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (_fingerprint(entries),))
        con.close()


def _fingerprint(entries: list[Entry]) -> str:
    h = hashlib.sha256()
    for e in entries:
        h.update(json.dumps([e.code, e.name, list(e.names)], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def build(sources: list[Path], out: Path) -> tuple[int, list[str]]:
    """Build (or rebuild) `out` from documents and/or other catalogue files; learned links in an
    existing `out` are kept. Returns (number of coded rows, problems reported by the readers)."""
    from .readers.detect import read_document

    occs: list[Occurrence] = []
    problems: list[str] = []
    for src in sources:
        src = Path(src)
        if src.suffix == ".sqlite":
            occs += read_occurrences(src)
            continue
        res = read_document(src)
        occs += occurrences_from_rows(res.rows)
        problems += [str(p) for p in res.problems]
    if not occs:
        raise InputError(f"{', '.join(map(str, sources))}: no coded indicator rows to build a catalogue from")
    # the same row read twice (a document given twice, or merged from two catalogues) counts once
    occs = list({(o.source, o.line, o.code, o.name): o for o in occs}.values())
    learned = read_learned(out) if Path(out).exists() else []
    write_catalogue(Path(out), occs, learned)
    return len(occs), problems


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


class Catalogue:
    """The catalogue loaded into memory: lookups by code, prefix, class and name."""

    def __init__(self, path: Path, entries: list[Entry], anomalies: list[Anomaly], fingerprint: str,
                 learned: list[Learned]):
        self.path = path
        self.entries = {e.code: e for e in entries}
        self.anomalies = anomalies
        self._anomalies_by_code: dict[str, list[Anomaly]] = {}
        for a in anomalies:
            self._anomalies_by_code.setdefault(a.code, []).append(a)
        self.fingerprint = fingerprint
        self.learned = learned

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Catalogue":
        path = Path(path) if path else default_path()
        con = _open_checked(path)
        try:
            entries = []
            names: dict[str, dict[str, int]] = {}
            for code, name, count, _ in con.execute(
                    "SELECT code, name, count, canonical FROM names ORDER BY code, canonical DESC, count DESC, rowid"):
                names.setdefault(code, {})[name] = count
            for r in con.execute('SELECT code, name, level1, level2, valid, count, filed, sources, projects, "values" '
                                 "FROM codes ORDER BY code"):
                entries.append(Entry(code=r[0], name=r[1], level1=r[2], level2=r[3], valid=bool(r[4]), count=r[5],
                                     filed=json.loads(r[6]), sources=json.loads(r[7]), projects=json.loads(r[8]),
                                     values=json.loads(r[9]), names=names.get(r[0], {r[1]: r[5]})))
            anomalies = [Anomaly(*r) for r in con.execute("SELECT kind, code, name, detail FROM anomalies ORDER BY rowid")]
            fp = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()[0]
            learned = [Learned(*r) for r in con.execute(LEARNED_SQL)]
        finally:
            con.close()
        return cls(path, entries, anomalies, fp, learned)

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
            "fingerprint": self.fingerprint,
        }
