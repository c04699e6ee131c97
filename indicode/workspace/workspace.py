"""The workspace: what people decided, over a catalogue that can be replaced.

    from indicode.workspace import Workspace
    ws = Workspace.open()                      # $INDICODE_WORKSPACE, else the user's data folder
    ws = Workspace.open("team.sqlite")         # or "postgresql://indicode@db.example/indicode"
    ws.in_force()                              # the decisions in force, one per subject
    ws.history("办事群众满意度", "31")            # every event about that subject, oldest first
    ws.status()                                # catalogue, version, location, decisions in force

Every write is one transaction under the workspace's write lock (`store.Backend`), so a batch (a whole
workbook) is recorded whole or not at all, and the rules (`rules.py`) see the log as it is.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..catalogue.records import NIL, InputError, Learned
from ..i18n import _
from ..inputs import check_decision
from ..matcher.text import CLEAN_VERSION
from .keys import subject_of
from .provisional import PREFIX_KEY, class_of, is_provisional, new_prefix, provisional_id
from .records import CatalogueRef, Conflict, Event, Kind, NewDecision, Origin, Outcome, Proposal, Status, Subject, Via
from .roles import LOCAL, Caller, Member, Right, Role, new_token, token_hash
from .rules import Judgement, judge, may_retract
from .schema import (
    EVENT_COLUMNS,
    PROPOSAL_COLUMNS,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    UPGRADES,
    statements,
    upgrade_statements,
)
from .store import Backend, Tx, default_location, open_backend


class CatalogueLike(Protocol):
    """What recording needs of the catalogue a decision is made against."""

    fingerprint: str

    def get(self, code: str) -> Any: ...


class Refused(InputError):
    """A decision or retraction the rules refuse; `in_force` is the decision in force that stands."""

    def __init__(self, message: str, in_force: Event | None = None, field: str = "replaces"):
        super().__init__(message)
        self.in_force = in_force
        self.field = field


class Forbidden(Refused):
    """The caller's role does not allow it."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _event(row: Sequence[Any]) -> Event:
    (id_, kind, subject, level2, version, text, code, name, proposal, reviewer, at, via, file, sheet, row_no,
     comment, replaces, catalogue) = row
    return Event(int(id_), kind, Subject(subject, level2, int(version)), text, code, name,
                 None if proposal is None else int(proposal), reviewer, at, Origin(via, file, sheet, row_no),
                 comment, None if replaces is None else int(replaces), catalogue)


def _proposal(row: Sequence[Any], latest: tuple[str, str, str] | None) -> Proposal:
    """A proposal from its row and its latest verdict (status, code, comment; None: still open)."""
    id_, code, name, l1, l2, text, reviewer, at, via, file, sheet, row_no, unit, explanation, comment = row
    status, approved, reason = latest or ("open", "", "")
    return Proposal(int(id_), code, name, l1, l2, text, reviewer, at, Origin(via, file, sheet, row_no), status,
                    unit, explanation, comment, approved if status == "approved" else "", reason)


IN_FORCE_SQL = f"SELECT {', '.join('e.' + c.strip() for c in EVENT_COLUMNS.split(','))} FROM in_force f " \
               "JOIN events e ON e.id = f.event"
INSERT_EVENT = ("INSERT INTO events (kind, subject, level2, clean_version, text, code, name, proposal, reviewer, at, "
                "via, file, sheet, row_no, comment, replaces, catalogue) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
CLI_ORIGIN = Origin(Via.CLI)  # a retraction from the command line
NEW_PROPOSAL = -1  # the proposal id a code proposed for the first time is judged by (no stored id is negative)
UPSERT_IN_FORCE = ("INSERT INTO in_force (subject, level2, event) VALUES (?,?,?) "
                   "ON CONFLICT (subject, level2) DO UPDATE SET event = excluded.event")


@dataclass
class Retraction:
    """What `Workspace.retract` did: the retraction events, and the decisions now in force in their place."""

    retracted: list[Event] = field(default_factory=list)
    back: list[Event | None] = field(default_factory=list)


class Workspace:
    """One workspace over one backend (a SQLite file or a PostgreSQL database)."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.notes: list[str] = []  # what opening did on its own (a migration, a re-keying), to tell the user

    @classmethod
    def open(cls, location: str | Path | None = None) -> Workspace:
        """Open (creating it on first use) the workspace at `location` (a file or a postgresql:// URL;
        default `store.default_location()`), re-keyed if the matcher's cleaning changed. The commands
        open it through `use.open_workspace`, which also moves a 0.2 catalogue copy in."""
        ws = cls(open_backend(str(location) if location else default_location()))
        ws._setup()
        note = ws.rekey()
        if note:
            ws.notes.append(note)
        return ws

    @property
    def location(self) -> str:
        return self.backend.location

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ the schema

    @property
    def _id_column(self) -> str:
        return ("INTEGER PRIMARY KEY AUTOINCREMENT" if self.backend.kind == "sqlite"
                else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")

    def _setup(self) -> None:
        id_column = self._id_column
        with self.backend.transaction(write=False) as tx:
            tables = self._tables(tx)
            ready = self._meta(tx, SCHEMA_KEY) if "meta" in tables else None
        if ready == str(SCHEMA_VERSION):
            return
        if ready is not None and ready.isdigit() and int(ready) in UPGRADES:
            self._upgrade(int(ready))
            return
        if ready is not None:
            raise InputError(_("{where}: workspace schema version {found}, this indicode reads {ours}; "
                               "upgrade indicode").format(where=self.location, found=ready, ours=SCHEMA_VERSION))
        if tables:  # a database of something else (a catalogue given as --workspace): never written into
            raise InputError(_("{where}: not an indicode workspace (it holds other tables: {tables}); give a new "
                               "file or an empty database").format(where=self.location,
                                                                   tables=", ".join(sorted(tables)[:5])))
        with self.backend.transaction(write=True) as tx:
            for sql in statements(id_column):
                tx.execute(sql)
            for key, value in ((SCHEMA_KEY, str(SCHEMA_VERSION)), ("clean_version", str(CLEAN_VERSION)),
                               ("created_at", now()), (PREFIX_KEY, new_prefix())):
                tx.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))

    def _upgrade(self, found: int) -> None:
        """An older workspace's tables brought to this schema, once, in one transaction."""
        with self.backend.transaction(write=True) as tx:
            if self._meta(tx, SCHEMA_KEY) != str(found):  # another process upgraded it meanwhile
                return
            for version in range(found, SCHEMA_VERSION):
                for sql in upgrade_statements(version, self._id_column):
                    tx.execute(sql)
            tx.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                       (PREFIX_KEY, new_prefix()))
            tx.execute("UPDATE meta SET value = ? WHERE key = ?", (str(SCHEMA_VERSION), SCHEMA_KEY))

    def _tables(self, tx: Tx) -> set[str]:
        sql = ("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
               if self.backend.kind == "sqlite"
               else "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        return {r[0] for r in tx.execute(sql)}

    @staticmethod
    def _meta(tx: Tx, key: str) -> str | None:
        rows = tx.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    # ------------------------------------------------------------------ reading

    def in_force(self) -> list[Event]:
        """The decision in force for every subject, oldest first."""
        with self.backend.transaction() as tx:
            return [_event(r) for r in tx.execute(IN_FORCE_SQL + " ORDER BY e.id")]

    def decision_for(self, text: str, level2: str = "") -> Event | None:
        """The decision in force for this text (as the matcher cleans it) and class."""
        with self.backend.transaction() as tx:
            return self._current(tx, subject_of(text, level2))

    @staticmethod
    def _current(tx: Tx, s: Subject) -> Event | None:
        rows = tx.execute(IN_FORCE_SQL + " WHERE f.subject = ? AND f.level2 = ?", (s.key, s.level2))
        return _event(rows[0]) if rows else None

    def get(self, event_id: int) -> Event | None:
        with self.backend.transaction() as tx:
            rows = tx.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", (int(event_id),))
        return _event(rows[0]) if rows else None

    def history(self, text: str, level2: str | None = None) -> list[Event]:
        """Every event about this text (as cleaned) — in one class, or in every class when None —
        decisions and retractions, oldest first."""
        s = subject_of(text, level2 or "")
        sql, args = f"SELECT {EVENT_COLUMNS} FROM events WHERE subject = ?", [s.key]
        if level2 is not None:
            sql, args = sql + " AND level2 = ?", [*args, s.level2]
        with self.backend.transaction() as tx:
            return [_event(r) for r in tx.execute(sql + " ORDER BY id", args)]

    def log(self) -> list[Event]:
        """The whole log, oldest first (`indicode decisions export`)."""
        with self.backend.transaction() as tx:
            return [_event(r) for r in tx.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY id")]

    def state(self, timeout: float | None = None) -> tuple:
        """Changes with every write that matters to matching (an event, a catalogue switch, a model
        fitted or reset): one cheap query, which a server asks on each request (waiting at most
        `timeout` for a writer)."""
        with self.backend.transaction(timeout=timeout) as tx:
            return tuple(tx.execute("SELECT (SELECT max(id) FROM events), (SELECT max(id) FROM catalogues), "
                                    "(SELECT max(id) FROM models)")[0])

    def proposals(self) -> list[Proposal]:
        """Every proposed code with its status (the latest of its history), oldest first."""
        with self.backend.transaction() as tx:
            return self._proposals(tx)

    @staticmethod
    def _proposals(tx: Tx, where: str = "", args: Sequence[Any] = ()) -> list[Proposal]:
        latest = {int(r[0]): (r[1], r[2], r[3]) for r in tx.execute(
            "SELECT p.proposal, p.status, p.code, p.comment FROM proposal_events p WHERE p.id = "
            "(SELECT max(q.id) FROM proposal_events q WHERE q.proposal = p.proposal)")}
        return [_proposal(r, latest.get(int(r[0])))
                for r in tx.execute(f"SELECT {PROPOSAL_COLUMNS} FROM proposals {where} ORDER BY id", args)]

    def prefix(self) -> str:
        """This workspace's prefix of provisional ids (`provisional.py`)."""
        with self.backend.transaction() as tx:
            return self._meta(tx, PREFIX_KEY) or ""

    def catalogue(self) -> CatalogueRef | None:
        """The catalogue the workspace is pointed at (None before its first use)."""
        with self.backend.transaction() as tx:
            rows = tx.execute("SELECT path, fingerprint, label, made_at, bundled FROM catalogues "
                              "ORDER BY id DESC LIMIT 1")
        return CatalogueRef(rows[0][0], rows[0][1], rows[0][2], rows[0][3], bool(rows[0][4])) if rows else None

    def status(self, catalogue: CatalogueRef | None = None) -> Status:
        """What is in use: the catalogue (the given one, e.g. a command's --catalogue, else the
        workspace's), the workspace's location, and how many decisions are in force."""
        with self.backend.transaction() as tx:
            n_force, n_events, n_props, n_members = tx.execute(
                "SELECT (SELECT count(*) FROM in_force), (SELECT count(*) FROM events), "
                "(SELECT count(*) FROM proposals), (SELECT count(*) FROM members)")[0]
        ref = catalogue or self.catalogue() or CatalogueRef("", "")
        return Status(self.location, self.backend.kind, ref, int(n_force), int(n_events), int(n_props), int(n_members))

    def learned_links(self, known: Any = None) -> list[Learned]:
        """The decisions in force as the matcher applies them (its learned links), oldest first: a
        proposed code is "no catalogue code fits" (NIL) until a catalogue that has it (`known`, the
        catalogue's codes) is in use. One narrow query: every matching command starts with it."""
        with self.backend.transaction() as tx:
            rows = tx.execute("SELECT e.id, e.text, e.level2, e.code, e.proposal, e.reviewer, e.at, e.via, e.file, "
                              "e.sheet, e.row_no FROM in_force f JOIN events e ON e.id = f.event ORDER BY e.id")
        out = []
        for id_, text, level2, code, proposal, reviewer, at, via, file, sheet, row_no in rows:
            if proposal is not None and (known is None or code not in known):
                code = NIL
            # source: file:row, as the matcher's cross-validation groups decisions (by reviewed file)
            source = Origin(via, file, sheet, row_no).place or via
            out.append(Learned(int(id_), text, level2, code, reviewer, at, source))
        return out

    # ------------------------------------------------------------------ writing decisions

    def _append(self, tx: Tx, kind: str, s: Subject, text: str, code: str, name: str, proposal: int | None,
                reviewer: str, origin: Origin, comment: str, replaces: int | None, catalogue: str,
                at: str | None = None) -> Event:
        at = at or now()
        args = (kind, s.key, s.level2, s.clean_version, text, code, name, proposal, reviewer, at, str(origin.via),
                origin.file, origin.sheet, origin.row, comment, replaces, catalogue)
        new_id = tx.insert(INSERT_EVENT, args)
        return Event(new_id, kind, s, text, code, name, proposal, reviewer, at, origin, comment, replaces, catalogue)

    def _proposal_of(self, tx: Tx, d: NewDecision) -> Proposal | None:
        """The proposal of this code and name, if it was proposed before; a draft without a code is the
        proposal of its name and class that is not rejected (proposing a name twice makes one)."""
        p = d.proposal
        assert p is not None
        if p.code:
            found = self._proposals(tx, "WHERE code = ? AND name = ?", (p.code, p.name))
        else:
            found = [x for x in self._proposals(tx, "WHERE name = ? AND level2 = ?", (p.name, p.level2))
                     if x.status != "rejected" and is_provisional(x.code)]
        return found[0] if found else None

    def _propose(self, tx: Tx, d: NewDecision, made: list[Proposal]) -> Proposal:
        """A new proposal for the decision's code (a provisional id when it has none) and name (only for
        a decision that is recorded)."""
        p = d.proposal
        assert p is not None
        code = p.code or self._next_id(tx, p.level2)
        at, o = now(), d.origin
        pid = tx.insert("INSERT INTO proposals (code, name, level1, level2, text, reviewer, at, via, file, sheet, "
                        "row_no, unit, explanation, comment) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (code, p.name, p.level1, p.level2, d.text, d.reviewer, at, str(o.via), o.file, o.sheet,
                         o.row, p.unit, p.explanation, p.comment))
        made.append(Proposal(pid, code, p.name, p.level1, p.level2, d.text, d.reviewer, at, o, "open", p.unit,
                             p.explanation, p.comment))
        return made[-1]

    def _next_id(self, tx: Tx, level2: str) -> str:
        """The next provisional id of this workspace in this class (under the write lock: never twice)."""
        prefix = self._meta(tx, PREFIX_KEY) or ""
        head = provisional_id(prefix, class_of(level2), 0)[:-4]
        rows = tx.execute("SELECT code FROM proposals WHERE code LIKE ?", (head + "%",))
        serials = [int(c[len(head):]) for (c,) in rows if c[len(head):].isdigit()]
        return provisional_id(prefix, level2, max(serials, default=0) + 1)

    def record(self, decisions: Iterable[NewDecision], catalogue: CatalogueLike, caller: Caller = LOCAL,
               override: bool = False, timeout: float | None = None) -> Outcome:
        """Record decisions in one transaction: all of them or, on any failure, none. Each is recorded,
        unchanged (its answer is already in force) or a conflict (another reviewer's different decision
        is in force and the new one does not name it; `override` names it for every decision, as
        `learn --override` does). A caller without the right to replace gets Forbidden for a decision
        that names another reviewer's."""
        out = Outcome()
        decisions = list(decisions)
        may_replace = caller.may(Right.REPLACE)
        with self.backend.transaction(write=True, timeout=timeout) as tx:
            force = {(e.subject.key, e.subject.level2): e for e in map(_event, tx.execute(IN_FORCE_SQL))}
            changed: dict[tuple[str, str], int] = {}
            for d in decisions:
                check_decision(d.text, d.level2)  # (learn and feedback refuse these first, in their words)
                s = subject_of(d.text, d.level2)
                current = force.get((s.key, s.level2))
                known = self._proposal_of(tx, d) if d.proposal else None
                proposal = known.id if known else None
                code = known.answer if known else d.code  # a proposal's decisions point to its id or code
                asked = d
                if override and current is not None and d.replaces is None:
                    asked = NewDecision(d.text, d.level2, d.code, d.reviewer, d.origin, d.comment, d.proposal,
                                        current.id)
                # a code proposed for the first time is an answer no decision has given yet
                v = judge(current, asked, code, NEW_PROPOSAL if d.proposal and proposal is None else proposal,
                          may_replace)
                if v.judgement == Judgement.UNCHANGED:
                    assert current is not None
                    out.unchanged.append(current)
                    continue
                if v.judgement in (Judgement.CONFLICT, Judgement.FORBIDDEN):
                    assert current is not None
                    if v.judgement == Judgement.FORBIDDEN and len(decisions) == 1:
                        raise Forbidden(_("{who} may not replace another reviewer's decision (role {role}); "
                                          "ask a lead").format(who=caller.name or d.reviewer, role=caller.role),
                                        current)
                    out.conflicts.append(Conflict(d, current, d.origin.place))
                    continue
                if d.proposal and proposal is None:  # made only now that the decision is recorded
                    made = self._propose(tx, d, out.proposals)
                    proposal, code = made.id, made.code
                entry = catalogue.get(code) if code != NIL and proposal is None else None
                name = d.proposal.name if d.proposal else (entry.name if entry is not None else "")
                e = self._append(tx, Kind.DECISION, s, d.text, code, name, proposal, d.reviewer, d.origin,
                                 d.comment, v.replaces, catalogue.fingerprint)
                force[(s.key, s.level2)] = e
                changed[(s.key, s.level2)] = e.id
                out.recorded.append(e)
            tx.executemany(UPSERT_IN_FORCE, [(k, l2, i) for (k, l2), i in changed.items()])
        return out

    def decide(self, decision: NewDecision, catalogue: CatalogueLike, caller: Caller = LOCAL,
               timeout: float | None = None) -> tuple[Event, bool]:
        """One decision (the page, the HTTP API): (the decision in force after it, whether it was
        recorded). A conflict raises Refused with the decision in force; a stale `replaces` (the
        decision in force is not the one named) is a conflict too."""
        out = self.record([decision], catalogue, caller, timeout=timeout)
        if out.conflicts:
            c = out.conflicts[0].in_force
            raise Refused(_("「{text}」 [{klass}]: {reviewer} decided {code} on {at} (decision {id}); to replace it, "
                            "send the id of the decision it replaces").format(
                text=decision.text, klass=c.subject.level2 or "-", reviewer=c.reviewer, code=c.code, at=c.at[:10],
                id=c.id), c)
        if out.recorded:
            return out.recorded[0], True
        return out.unchanged[0], False

    def retract(self, ids: Iterable[int], reviewer: str, origin: Origin = CLI_ORIGIN, caller: Caller = LOCAL,
                comment: str = "", timeout: float | None = None) -> Retraction:
        """Take decisions back (one transaction): each id must be a decision in force; the decision
        before it comes back into force. Another reviewer's decision needs the right to replace.
        Refused (nothing retracted) names the first id that cannot be."""
        done = Retraction()
        with self.backend.transaction(write=True, timeout=timeout) as tx:
            for i in ids:
                rows = tx.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", (int(i),))
                target = _event(rows[0]) if rows else None
                if target is None or target.kind != Kind.DECISION:
                    raise Refused(_("{id}: no such decision in {where}; see `indicode learned list`").format(
                        id=i, where=self.location), field="id")
                current = self._current(tx, target.subject)
                if current is None or current.id != target.id:
                    raise Refused(_("{id}: decision {id} is not in force (the one in force is {now}); nothing "
                                    "retracted").format(id=i, now=current.id if current else _("none")),
                                  current, field="id")
                if not may_retract(target, reviewer, caller.may(Right.REPLACE)):
                    raise Forbidden(_("{who} may not retract another reviewer's decision (role {role}); ask a "
                                      "lead").format(who=caller.name or reviewer, role=caller.role), current, "id")
                r = self._append(tx, Kind.RETRACTION, target.subject, target.text, "", "", None, reviewer, origin,
                                 comment, target.id, target.catalogue)
                back = self._restore(tx, target.subject)
                done.retracted.append(r)
                done.back.append(back)
        return done

    def _restore(self, tx: Tx, s: Subject) -> Event | None:
        """Set the subject's decision in force to its latest decision not retracted (or none)."""
        rows = tx.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE kind = ? AND subject = ? AND level2 = ? "
                          "AND id NOT IN (SELECT replaces FROM events WHERE kind = ? AND subject = ? AND level2 = ?) "
                          "ORDER BY id DESC LIMIT 1",
                          (Kind.DECISION, s.key, s.level2, Kind.RETRACTION, s.key, s.level2))
        tx.execute("DELETE FROM in_force WHERE subject = ? AND level2 = ?", (s.key, s.level2))
        if not rows:
            return None
        back = _event(rows[0])
        tx.execute(UPSERT_IN_FORCE, (s.key, s.level2, back.id))
        return back

    def rekey(self) -> str:
        """When the matcher's cleaning has changed (`CLEAN_VERSION`), key every decision anew by its
        text as now cleaned and rebuild the decisions in force; returns a note ('' when nothing to do)."""
        with self.backend.transaction() as tx:
            if self._meta(tx, "clean_version") == str(CLEAN_VERSION):
                return ""
        with self.backend.transaction(write=True) as tx:
            old = self._meta(tx, "clean_version")
            if old == str(CLEAN_VERSION):
                return ""
            events = [_event(r) for r in tx.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY id")]
            keys: dict[int, Subject] = {}
            for e in events:
                # a retraction follows the decision it takes back
                s = (subject_of(e.text, e.subject.level2) if e.kind == Kind.DECISION
                     else keys.get(e.replaces or 0, e.subject))
                keys[e.id] = s
            tx.executemany("UPDATE events SET subject = ?, clean_version = ? WHERE id = ?",
                           [(s.key, s.clean_version, i) for i, s in keys.items()])
            tx.execute("DELETE FROM in_force")
            retracted = {e.replaces for e in events if e.kind == Kind.RETRACTION}
            latest: dict[tuple[str, str], int] = {}
            for e in events:
                if e.kind == Kind.DECISION and e.id not in retracted:
                    latest[(keys[e.id].key, keys[e.id].level2)] = e.id
            tx.executemany("INSERT INTO in_force (subject, level2, event) VALUES (?,?,?)",
                           [(k, l2, i) for (k, l2), i in latest.items()])
            tx.execute("UPDATE meta SET value = ? WHERE key = 'clean_version'", (str(CLEAN_VERSION),))
        return _("re-keyed {n} decisions from cleaning version {old} to {new}: {subjects} subjects in force").format(
            n=len(keys), old=old, new=CLEAN_VERSION, subjects=len(latest))

    # ------------------------------------------------------------------ the catalogue

    def point_at(self, ref: CatalogueRef, reviewer: str = "") -> None:
        """Record that the workspace now uses catalogue `ref` (its decisions are kept whatever it holds)."""
        with self.backend.transaction(write=True) as tx:
            tx.execute("INSERT INTO catalogues (path, fingerprint, label, made_at, bundled, at, reviewer) "
                       "VALUES (?,?,?,?,?,?,?)", (ref.path, ref.fingerprint, ref.label, ref.made_at,
                                                  int(ref.bundled), now(), reviewer))

    # ------------------------------------------------------------------ members and proposals

    def add_member(self, name: str, role: Role | str) -> str:
        """Add a member (or change one's role); returns their new token, shown once."""
        name = name.strip()
        if not name:
            raise InputError(_("a member needs a name"))
        try:
            role = Role(role)
        except ValueError:
            raise InputError(_("role '{role}' is none of {roles}").format(
                role=role, roles=", ".join(r.value for r in Role))) from None
        token = new_token()
        with self.backend.transaction(write=True) as tx:
            tx.execute("INSERT INTO members (name, role, token_hash, at) VALUES (?,?,?,?) ON CONFLICT (name) DO "
                       "UPDATE SET role = excluded.role, token_hash = excluded.token_hash, at = excluded.at",
                       (name, str(role), token_hash(token), now()))
        return token

    def members(self) -> list[Member]:
        with self.backend.transaction() as tx:
            rows = tx.execute("SELECT name, role, at FROM members ORDER BY name")
        return [Member(n, Role(r), at) for n, r, at in rows]

    def caller_for(self, token: str) -> Caller | None:
        """The member a token was issued to, or None."""
        if not token:
            return None
        with self.backend.transaction() as tx:
            rows = tx.execute("SELECT name, role FROM members WHERE token_hash = ?", (token_hash(token),))
        return Caller(rows[0][0], Role(rows[0][1])) if rows else None

    def review_proposal(self, proposal: int, status: str, reviewer: str, caller: Caller = LOCAL,
                        comment: str = "") -> None:
        """Approve or reject a proposed code (a lead's right); the history keeps every verdict."""
        if status not in ("approved", "rejected", "open"):
            raise InputError(_("status '{status}' is none of approved, rejected, open").format(status=status))
        if not caller.may(Right.APPROVE):
            raise Forbidden(_("{who} may not approve or reject proposals (role {role})").format(
                who=caller.name or reviewer, role=caller.role), field="proposal")
        with self.backend.transaction(write=True) as tx:
            if not tx.execute("SELECT 1 FROM proposals WHERE id = ?", (proposal,)):
                raise Refused(_("{id}: no such proposal").format(id=proposal), field="proposal")
            tx.insert("INSERT INTO proposal_events (proposal, status, reviewer, at, comment) VALUES (?,?,?,?,?)",
                      (proposal, status, reviewer, now(), comment))
