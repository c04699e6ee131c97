"""The one way to change a catalogue file in place: learned links and proposed codes.

Every change goes through `_writing`: the file is checked before the lock is taken (no lock file
beside what is not a catalogue), changed in one transaction under the write lock, and an SQLite
error is told apart as the file being busy, unwritable or damaged.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .database import BUSY_TIMEOUT, PROPOSED_SCHEMA, SCHEMA_VERSION, busy, damaged, is_locked, open_checked
from .files import check_can_replace, write_failed
from .locking import write_lock
from .records import LearnedLink, Proposed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def _writing(path: Path, timeout: float | None = None) -> Iterator[sqlite3.Connection]:
    """A checked read-write connection to `path` inside its write lock; SQLite errors that mean the
    file cannot take the write become WriteError / BusyError, other damage InputError. `timeout`:
    seconds to wait for another writer (`write_lock`; also caps SQLite's own wait), None for the
    command line's default."""
    path = Path(path)
    wait = BUSY_TIMEOUT if timeout is None else min(timeout, BUSY_TIMEOUT)
    open_checked(path, busy_timeout=wait).close()  # before the lock: no lock file beside what is not a catalogue
    check_can_replace(path)
    with write_lock(path, timeout):
        con = open_checked(path, write=True, busy_timeout=wait)
        try:
            with con:
                yield con
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if is_locked(exc):
                raise busy(path, exc) from None
            if "full" in msg or "readonly" in msg or "disk I/O" in msg or "unable to open" in msg:
                raise write_failed(path, exc) from None
            raise damaged(path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise damaged(path, exc) from None
        except OSError as exc:
            raise write_failed(path, exc) from None
        finally:
            con.close()


def record_decisions(path: Path, links: Iterable[LearnedLink], proposals: Iterable[Proposed] = (),
                     timeout: float | None = None) -> int:
    """Record learned links and proposed codes in one transaction, under the write lock; the same
    text and class again replaces the earlier decision, the same code proposed for the same text its
    earlier proposal. Returns how many links were written. `timeout`: seconds to wait for another
    writer before BusyError (None: $INDICODE_LOCK_TIMEOUT or 30 s, for the command line; the
    server's feedback waits less, holding a worker thread)."""
    links, proposals = list(links), list(proposals)
    now = _now()
    with _writing(path, timeout) as con:
        for link in links:
            con.execute("DELETE FROM learned WHERE text = ? AND level2 = ?", (link.text, link.level2))
            con.execute("INSERT INTO learned (text, level2, code, reviewer, decided_at, source) VALUES (?,?,?,?,?,?)",
                        (link.text, link.level2, link.code, link.reviewer, now, link.source))
        if proposals:
            con.execute(PROPOSED_SCHEMA.strip().rstrip(";"))
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            for p in proposals:
                con.execute("INSERT OR REPLACE INTO proposed VALUES (?,?,?,?,?,?,?,?)",
                            (p.code, p.name, p.level1, p.level2, p.text, p.reviewer, p.source, p.proposed_at or now))
    return len(links)


def remove_learned(path: Path, ids: list[int]) -> int:
    """Undo learned links by id; returns how many of the ids were learned links."""
    with _writing(path) as con:
        return sum(con.execute("DELETE FROM learned WHERE id = ?", (i,)).rowcount for i in ids)
