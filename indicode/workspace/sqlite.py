"""The embedded workspace: one SQLite file (the default, in the user's data folder, or `--workspace FILE`).

Writers take SQLite's own write lock (`BEGIN IMMEDIATE`) for the whole of a transaction, so the rules'
read-then-append is one step against any other process; the rollback journal (SQLite's default mode,
which also holds on a shared folder, where WAL does not) makes a transaction all or nothing even when
the writer is killed. A process shares one connection between its threads behind a lock.
A file marked read-only is opened read-only (root, who may write anything, writes it no more than
anyone): it is read as it is, and a write is refused in one line before anything is tried.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..catalogue.files import BusyError, WriteError, check_can_replace, is_read_only, write_failed
from ..catalogue.locking import lock_timeout
from ..catalogue.records import InputError
from ..i18n import _

SQLITE_MAGIC = b"SQLite format 3\x00"


class _Tx:
    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.con.execute(sql, tuple(params)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.con.executemany(sql, [tuple(r) for r in rows])

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.con.execute(sql + " RETURNING id", tuple(params)).fetchone()[0])


def _is_locked(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class SQLiteBackend:
    kind = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.location = str(self.path)
        self._con: sqlite3.Connection | None = None
        self._read_only = False
        self._fresh = False
        self._lock = threading.RLock()

    def _check(self) -> None:
        if self.path.is_dir():
            raise InputError(_("{path}: is a folder, not a workspace file").format(path=self.path))
        if self.path.exists():
            try:
                with open(self.path, "rb") as fh:
                    head = fh.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise InputError(_("{path}: cannot read the workspace ({why})").format(
                    path=self.path, why=exc.strerror)) from None
            if head and head != SQLITE_MAGIC:
                raise InputError(_("{path}: not an indicode workspace (not an SQLite database)").format(path=self.path))
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_failed(self.path, exc) from None
        check_can_replace(self.path)

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            self._check()
            self._read_only = self.path.exists() and is_read_only(self.path)
            try:
                if self._read_only:
                    con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                          check_same_thread=False)
                else:
                    con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise write_failed(self.path, exc) from None
            self._con = con
            self._fresh = True
        return self._con

    def _error(self, exc: sqlite3.Error) -> Exception:
        msg = str(exc)
        if _is_locked(exc):
            return BusyError(_("{path}: workspace busy: another indicode process is writing it; nothing was "
                               "written, run again when it has finished").format(path=self.path))
        if isinstance(exc, sqlite3.OperationalError) and any(
                w in msg for w in ("full", "readonly", "disk I/O", "unable to open")):
            return write_failed(self.path, exc)
        return InputError(_("{path}: damaged workspace ({why}); restore a copy").format(
            path=self.path, why=" ".join(msg.split())))

    def _integrity(self, con: sqlite3.Connection) -> None:
        """A damaged file is said before anything is read from it or written into it (SQLite itself
        notices a damaged page only when a query happens to read it)."""
        check = [r[0] for r in con.execute("PRAGMA quick_check(3)")]
        if check != ["ok"]:
            raise InputError(_("{path}: damaged workspace (integrity check: {why}); restore a copy").format(
                path=self.path, why=" ".join(" ".join(map(str, check)).split())[:200]))

    @contextmanager
    def transaction(self, write: bool = False, timeout: float | None = None) -> Iterator[_Tx]:
        with self._lock:
            con = self._connection()
            if write and self._read_only:
                raise WriteError(_("{path}: cannot write (the workspace is read-only): nothing was written; make it "
                                   "writable or use another workspace").format(path=self.path))
            wait = lock_timeout() if timeout is None else timeout
            try:
                con.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
                if self._fresh:  # after the wait is set: another program may hold the file's lock
                    con.execute("PRAGMA synchronous = FULL")
                    self._integrity(con)
                    self._fresh = False
                con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            try:
                yield _Tx(con)
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise self._error(exc) from None
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


__all__ = ["SQLiteBackend", "WriteError"]
