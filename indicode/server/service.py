"""What the HTTP layer serves: one Linker over one catalogue file with the workspace's decisions in
force, swapped for a new one when either changes under the running server.

Another process may rebuild the catalogue (`indicode catalogue build`, a new file renamed into place)
or replace it, and other processes (the command line, other servers, a notebook) record decisions in
the workspace. Each request looks at the file's identity (one `stat` and a 28-byte read) and at the
workspace's state (one query: the latest event and catalogue switch); when either changed, one
thread builds a new Linker (reusing the encoder; the catalogue and vector index too when only the
decisions changed) and swaps the reference. Requests already running finish on the Linker they
started with; no lock is held while suggesting. When the catalogue cannot be read, the service says
so (`Unavailable`, a 503) instead of answering from a catalogue it no longer has.

The replaced Linker's catalogue closes its SQLite connection when the last request holding that
Linker returns (`LazyCatalogue` closes on finalisation). Python's reference count is the count of
requests still using it: no counter to keep at every call site, no grace period that a slow request
could outlast, and no file descriptor left open per reload. It holds while no reference cycle keeps a
replaced catalogue (the matcher's `gc.freeze` would keep such a cycle for good);
tests/test_server_reload.py counts the open files after many reloads and fails if one does.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..catalogue.files import BusyError, WriteError
from ..catalogue.lazy import LazyCatalogue
from ..catalogue.records import NIL, InputError
from ..i18n import _
from ..matcher.linker import Linker
from ..workspace import LOCAL, Caller, Forbidden, NewDecision, Origin, Outcome, Refused, Via, Workspace
from ..workspace.records import Proposal
from ..workspace.use import catalogue_in_use, make_linker, status_of

RETRY_SECONDS = 1.0  # a catalogue that could not be read is tried again at most this often
# Seconds feedback waits for another writer (a `catalogue build`, `indicode learn`): the wait holds
# one of the server's worker threads, and a page may send many; the command line waits 30 s.
FEEDBACK_LOCK_TIMEOUT = 2.0
STATE_WAIT = 0.5  # seconds a request waits to read the workspace's state before serving what it has
# what a failed write raises: the store's one-line error (busy, read-only, disk full), or below it
# the OS and SQLite
WRITE_ERRORS = (WriteError, OSError, sqlite3.Error)


class Unavailable(Exception):
    """The catalogue cannot be served (missing, unreadable, not a catalogue)."""


class UnknownCode(InputError):
    """Feedback names a code the catalogue does not have."""

    field = "code"  # the input at fault, for the HTTP answer (as indicode.inputs.BadValue has it)


class Unwritable(Exception):
    """Feedback could not be recorded (workspace read-only, disk full, damaged, unreachable)."""


class Busy(Unwritable):
    """Feedback not recorded: another process was writing the workspace past FEEDBACK_LOCK_TIMEOUT."""


class Conflicting(Exception):
    """Feedback refused: another reviewer's decision is in force and the feedback did not name it (409)."""

    def __init__(self, message: str, in_force: dict | None, field: str = "replaces"):
        super().__init__(message)
        self.in_force = in_force
        self.field = field  # the input at fault: `replaces` (feedback) or `id` (a retraction)


class NotAllowed(Exception):
    """The caller's role does not allow this (403)."""


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


@contextmanager
def _answered() -> Iterator[None]:
    """A write to the workspace, its refusals and failures turned into what the HTTP layer answers:
    the caller's role (403), another decision in force (409), busy or unwritable (503)."""
    try:
        yield
    except Forbidden as exc:
        raise NotAllowed(str(exc)) from None
    except Refused as exc:
        raise Conflicting(str(exc), exc.in_force.to_dict() if exc.in_force else None, exc.field) from None
    except BusyError as exc:
        raise Busy(str(exc)) from None
    except (InputError, *WRITE_ERRORS) as exc:  # about the workspace, not the request (read-only, damaged …)
        raise Unwritable(str(exc) or type(exc).__name__) from None


class Service:
    """The Linker in use, kept in step with its catalogue file and its workspace."""

    def __init__(self, linker: Linker, workspace: Workspace | None = None, follow: bool = True):
        """`follow`: serve the catalogue the workspace is pointed at, as it is switched (False: the
        catalogue the server was started on, a --catalogue)."""
        self._linker = linker
        self.workspace = workspace
        self._follow = follow and workspace is not None
        self.path = Path(linker.cat.path)
        self._identity = file_identity(self.path)
        self._state = workspace.state() if workspace is not None else None
        self._error = ""  # why the catalogue cannot be served ('' when it can)
        self._tried = 0.0
        self._reload_lock = threading.Lock()
        self.reloads = 0
        # A Linker that serialises its own encoder (`_encode_lock`: thread-safe suggest) is called
        # from many threads at once; an older one, whose vector cache and encoder are not safe to
        # share, gets one lock here.
        self._serial = None if hasattr(linker, "_encode_lock") else threading.Lock()

    # ------------------------------------------------------------------ the current linker

    def _workspace_state(self) -> tuple | None:
        if self.workspace is None:
            return None
        try:
            return self.workspace.state(timeout=STATE_WAIT)
        except BusyError:  # another process holds the workspace a while: serve the decisions we have
            return self._state
        except (InputError, *WRITE_ERRORS) as exc:
            raise Unavailable(_("the workspace cannot be read: {why}").format(why=exc)) from None

    def linker(self) -> Linker:
        """The Linker for the catalogue and the decisions as they are now (rebuilt if either
        changed), or `Unavailable` with the reason."""
        state = self._workspace_state()
        if file_identity(self.path) != self._identity or state != self._state or self._error:
            self._refresh(state)
        if self._error:
            raise Unavailable(self._error)
        return self._linker

    def _refresh(self, state: tuple | None) -> None:
        with self._reload_lock:  # one thread rebuilds; the others wait, then see its result
            ident = file_identity(self.path)
            if ident == self._identity and state == self._state and not self._error:
                return
            if self._error and ident == self._identity and time.monotonic() - self._tried < RETRY_SECONDS:
                return
            self._tried = time.monotonic()
            try:
                path = self.path
                if self._follow and self.workspace is not None and (state or (0, 0))[1] != (self._state or (0, 0))[1]:
                    path, _notes = catalogue_in_use(self.workspace)  # switched by another process
                    ident = file_identity(path)
                old = self._linker
                same_file = path == self.path and ident == self._identity and not self._error
                # entries read on demand: a reload costs little; only the decisions changed: the same catalogue
                cat = old.cat if same_file else LazyCatalogue.load(path)
                index = old.index if cat.fingerprint == old.cat.fingerprint else None
                # the new Linker encodes with the same encoder object: not beside a running suggestion
                with self._serial or old._encode_lock:
                    if self.workspace is not None:  # its decisions in force, and the proposed codes
                        # the workspace's model: `indicode calibrate` may have fitted or reset it
                        new = make_linker(cat, old.encoder, self.workspace, index=index,
                                          full_scan_max=old.full_scan_max)
                    else:
                        new = Linker(cat, old.encoder, model=old.model, index=index, full_scan_max=old.full_scan_max,
                                     learned=old.decisions)
            except InputError as exc:
                self._identity, self._error = ident, str(exc)
                return
            except Exception as exc:  # noqa: BLE001 - a file half-written by another process, sqlite busy …
                self._identity = ident
                self._error = _("{path}: cannot read the catalogue ({why})").format(path=self.path, why=exc)
                return
            # the identity read before loading: a change during the load is seen on the next request
            self._linker, self.path, self._identity, self._state, self._error = new, path, ident, state, ""
            self.reloads += 1

    def suggest(self, linker: Linker, text: str, klass: str = "", value: str = "", k: int = 5):
        """`linker.suggest`, side by side with other requests when the Linker allows it."""
        if self._serial is None:
            return linker.suggest(text, klass, value, k)
        with self._serial:
            return linker.suggest(text, klass, value, k)

    def health(self) -> dict:
        """The truth about what is served: the catalogue file and version, the workspace and the
        decisions in force, or the error."""
        try:
            lk = self.linker()
            s = status_of(lk, self.workspace).to_dict()
        except (Unavailable, InputError) as exc:
            return {"ok": False, "catalogue": str(self.path), "error": str(exc)}
        return {"ok": True, **s, "codes": len(lk.cat), "reloads": self.reloads}

    # ------------------------------------------------------------------ writes

    def _ws(self) -> Workspace:
        if self.workspace is None:
            raise Unwritable(_("this server has no workspace to record feedback in"))
        return self.workspace

    def learn(self, text: str, klass: str, code: str, reviewer: str, replaces: int | None = None,
              via: str = Via.HTTP, comment: str = "", caller: Caller = LOCAL) -> dict:
        """Record a reviewer's decision in the workspace (as `indicode learn` does), then serve it.
        Another reviewer's different decision in force is replaced only when `replaces` names it
        (Conflicting, a 409 with it, otherwise)."""
        lk = self.linker()
        if code != NIL and lk.cat.get(code) is None:
            raise UnknownCode(_("'code' {code} is not in the catalogue (or NIL)").format(code=code or _("(empty)")))
        ws = self._ws()
        new = NewDecision(text, klass, code, caller.name or reviewer, Origin(via), comment, replaces=replaces)
        with _answered():
            event, recorded = ws.decide(new, lk.cat, caller, timeout=FEEDBACK_LOCK_TIMEOUT)
        self.linker()
        return {"stored": event.to_dict(), "recorded": recorded, "workspace": ws.location}

    def retract(self, event_id: int, reviewer: str, via: str = Via.HTTP, caller: Caller = LOCAL) -> dict:
        """Take a decision back (undo): the decision before it is in force again."""
        ws = self._ws()
        with _answered():
            done = ws.retract([event_id], caller.name or reviewer, Origin(via), caller, timeout=FEEDBACK_LOCK_TIMEOUT)
        self.linker()
        back = done.back[0]
        return {"retracted": done.retracted[0].to_dict(), "in_force": back.to_dict() if back else None}

    def propose(self, name: str, level2: str, unit: str, explanation: str, comment: str, texts: list[str],
                reviewer: str, via: str = Via.HTTP, caller: Caller = LOCAL) -> tuple[Proposal, Outcome]:
        """Propose a new code (`indicode proposals add`): a pending one of that name and class is reused;
        a decision points to it for its name and each text. Member texts another reviewer decided
        otherwise are kept out (the outcome's conflicts); when the name itself is, Conflicting (a 409)."""
        from ..workspace import proposals

        d = proposals.draft(name, level2, unit, explanation, comment)  # a missing class: the caller's mistake (422)
        ws, cat = self._ws(), self.linker().cat
        with _answered():
            made = proposals.add(ws, d, caller.name or reviewer, cat, texts, Origin(via), caller)
        self.linker()
        return made

    def history(self, text: str, klass: str | None) -> list[dict]:
        return [e.to_dict() for e in self._ws().history(text, klass)]

    def caller_for(self, token: str) -> Caller | None:
        return self.workspace.caller_for(token) if self.workspace is not None else None
