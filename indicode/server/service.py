"""What the HTTP layer serves: one Linker over one catalogue file, swapped for a new one when the
file changes under the running server.

Another process may rebuild the catalogue (`indicode catalogue build`, a new file renamed into
place), replace it, or learn into it (`indicode learn`, rows written in place). Each request looks
at the file's identity (device, inode, size, modification time: one `stat`, a few microseconds);
when it changed, one thread builds a new Linker (reusing the encoder, and the vector index while the
catalogue's fingerprint is the same) and swaps the reference. Requests already running finish on
the Linker they started with; no lock is held while suggesting. When the file cannot be read, the
service says so (`Unavailable`, a 503) instead of answering from a catalogue it no longer has.

The replaced Linker's catalogue closes its SQLite connection when the last request holding that
Linker returns (`LazyCatalogue` closes on finalisation). Python's reference count is the count of
requests still using it: no counter to keep at every call site (where a forgotten one would close
a connection under a running request), no grace period that a slow request could outlast, and no
file descriptor left open per reload until the next swap. It holds while no reference cycle keeps a
replaced catalogue (the matcher's `gc.freeze` would keep such a cycle for good);
tests/test_server_reload.py counts the open files after many reloads and fails if one does.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path

from ..catalogue.files import BusyError, WriteError
from ..catalogue.lazy import LazyCatalogue
from ..catalogue.paths import BUNDLED_DB, user_catalogue_path, writable_path
from ..catalogue.records import NIL, InputError, LearnedLink
from ..catalogue.writes import record_decisions
from ..matcher.linker import Linker

RETRY_SECONDS = 1.0  # a catalogue that could not be read is tried again at most this often
# Seconds feedback waits for another writer (a `catalogue build`, `indicode learn`): the wait holds
# one of the server's worker threads, and a page may send many; the command line waits 30 s.
FEEDBACK_LOCK_TIMEOUT = 2.0
# what a failed write raises: the store's one-line error (busy, read-only, disk full), or below it
# the OS and SQLite
WRITE_ERRORS = (WriteError, OSError, sqlite3.Error)


class Unavailable(Exception):
    """The catalogue cannot be served (missing, unreadable, not a catalogue)."""


class UnknownCode(InputError):
    """Feedback names a code the catalogue does not have."""

    field = "code"  # the input at fault, for the HTTP answer (as indicode.inputs.BadValue has it)


class Unwritable(Exception):
    """Feedback could not be recorded (catalogue read-only, disk full, damaged)."""


class Busy(Unwritable):
    """Feedback not recorded: another process was writing the catalogue past FEEDBACK_LOCK_TIMEOUT."""


def file_identity(path: Path) -> tuple:
    """What changes when a file is replaced or written: (device, inode, size, mtime) of the file and
    of its SQLite write-ahead log, if any, plus SQLite's file change counter (header bytes 24-27,
    bumped by every committed write: two writes within one clock tick keep the same mtime)."""
    out: list = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = os.stat(p)
        except OSError:
            out.append(None)
            continue
        out.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    try:
        with open(path, "rb") as f:
            out.append(f.read(28)[24:])
    except OSError:
        out.append(None)
    return tuple(out)


class Service:
    """The Linker in use, kept in step with its catalogue file."""

    def __init__(self, linker: Linker):
        self._linker = linker
        self.path = Path(linker.cat.path)
        self._bundled = self.path.resolve() == BUNDLED_DB.resolve()
        self._identity: tuple | None = file_identity(self.path)  # None: not read yet
        self._error = ""  # why the catalogue cannot be served ('' when it can)
        self._tried = 0.0
        self._reload_lock = threading.Lock()
        self.reloads = 0
        # A Linker that serialises its own encoder (`_encode_lock`: thread-safe suggest) is called
        # from many threads at once; an older one, whose vector cache and encoder are not safe to
        # share, gets one lock here.
        self._serial = None if hasattr(linker, "_encode_lock") else threading.Lock()

    # ------------------------------------------------------------------ the current linker

    def linker(self) -> Linker:
        """The Linker for the catalogue as it is now on disk (rebuilt if the file changed), or
        `Unavailable` with the reason."""
        if self._bundled and user_catalogue_path().exists():
            # the package's own file is never written: learned links (from `indicode learn` in
            # another process, say) go to the user's copy, which is then the catalogue in use
            with self._reload_lock:
                self.path, self._identity, self._bundled = user_catalogue_path(), None, False
        if file_identity(self.path) != self._identity or self._error:
            self._refresh()
        if self._error:
            raise Unavailable(self._error)
        return self._linker

    def _refresh(self) -> None:
        with self._reload_lock:  # one thread rebuilds; the others wait, then see its result
            ident = file_identity(self.path)
            if ident == self._identity and not self._error:
                return
            if self._error and ident == self._identity and time.monotonic() - self._tried < RETRY_SECONDS:
                return
            self._tried = time.monotonic()
            try:
                cat = LazyCatalogue.load(self.path)  # entries read on demand: a reload costs little
                old = self._linker
                index = old.index if cat.fingerprint == old.cat.fingerprint else None
                # the new Linker encodes with the same encoder object: not beside a running suggestion
                with self._serial or old._encode_lock:
                    new = Linker(cat, old.encoder, model=old.model, index=index, full_scan_max=old.full_scan_max)
            except InputError as exc:
                self._identity, self._error = ident, str(exc)
                return
            except Exception as exc:  # noqa: BLE001 - a file half-written by another process, sqlite busy …
                self._identity, self._error = ident, f"{self.path}: cannot read the catalogue ({exc})"
                return
            # the identity read before loading: a change during the load is seen on the next request
            self._linker, self._identity, self._error = new, ident, ""
            self.reloads += 1

    def suggest(self, linker: Linker, text: str, klass: str = "", value: str = "", k: int = 5):
        """`linker.suggest`, side by side with other requests when the Linker allows it."""
        if self._serial is None:
            return linker.suggest(text, klass, value, k)
        with self._serial:
            return linker.suggest(text, klass, value, k)

    def health(self) -> dict:
        """The truth about what is served: ok, the file, its fingerprint and size, or the error."""
        try:
            lk = self.linker()
        except Unavailable as exc:
            return {"ok": False, "catalogue": str(self.path), "error": str(exc)}
        return {"ok": True, "catalogue": str(self.path), "fingerprint": lk.cat.fingerprint, "codes": len(lk.cat),
                "learned": len(lk.cat.learned), "reloads": self.reloads}

    # ------------------------------------------------------------------ writes

    def learn(self, text: str, klass: str, code: str, reviewer: str) -> dict:
        """Record a reviewer's decision exactly like `indicode learn` does, then serve it."""
        lk = self.linker()
        if code != NIL and lk.cat.get(code) is None:
            raise UnknownCode(f"'code' {code or '(empty)'} is not in the catalogue (or NIL)")
        try:
            target = writable_path(self.path, FEEDBACK_LOCK_TIMEOUT)
            record_decisions(target, [LearnedLink(text, klass, code, reviewer, "web feedback")],
                             timeout=FEEDBACK_LOCK_TIMEOUT)
        except BusyError as exc:
            raise Busy(str(exc)) from None
        except (InputError, *WRITE_ERRORS) as exc:  # about the file, not the request (locked, damaged …)
            raise Unwritable(str(exc) or type(exc).__name__) from None
        if target != self.path:  # the bundled catalogue: from now on the user's copy is served
            with self._reload_lock:
                self.path, self._identity, self._bundled = target, None, False
        lk = self.linker()
        stored = next((link for link in reversed(lk.cat.learned) if link.text == text and link.level2 == klass), None)
        return {"stored": asdict(stored) if stored else None, "catalogue": str(target)}
