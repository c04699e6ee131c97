"""The workspace's records: what people decided, as events that are never changed or deleted.

A *decision* says what one indicator text in one class means: a catalogue code, NIL (no code fits), or
a code proposed for it. A *retraction* takes a decision back (the one before it comes back into force).
Both are events of one log with ids that are never reused. A text's *subject* is the text as the matcher
cleans it plus its class, so two spellings that clean alike are one subject.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

from ..catalogue.records import NIL


class Kind(StrEnum):
    DECISION = "decision"
    RETRACTION = "retraction"


class Via(StrEnum):
    """Where an event came from."""

    WORKBOOK = "workbook"  # `indicode learn FILE` (file, sheet, row)
    PAGE = "page"  # the drafting page
    HTTP = "http"  # POST /api/feedback from another program
    CLI = "cli"  # a command such as `indicode learned remove`
    API = "api"  # the Python API
    MIGRATION = "migration"  # moved from a catalogue file's `learned` / `proposed` tables


@dataclass(frozen=True)
class Origin:
    via: str = Via.API
    file: str = ""
    sheet: str = ""
    row: int | None = None

    @property
    def place(self) -> str:
        """file:sheet:row, as much of it as is known."""
        return ":".join(p for p in (self.file, self.sheet, "" if self.row is None else str(self.row)) if p)

    def __str__(self) -> str:
        return f"{self.via} {self.place}".strip()


@dataclass(frozen=True)
class Subject:
    """What a decision is about: the text as the matcher cleans it, the class, and the version of the
    cleaning that made the key (a change to cleaning re-keys on purpose: `Workspace.rekey`)."""

    key: str
    level2: str
    clean_version: int


@dataclass(frozen=True)
class Event:
    """One entry of the log, as stored. For a decision, `code` is a catalogue code, NIL, or the code of
    proposal `proposal`; `replaces` the decision in force it replaced (None when there was none). For a
    retraction, `replaces` is the decision taken back and `code` is empty."""

    id: int
    kind: str
    subject: Subject
    text: str
    code: str
    name: str  # the code's name in the catalogue it was decided against (or the proposed name)
    proposal: int | None
    reviewer: str
    at: str
    origin: Origin
    comment: str
    replaces: int | None
    catalogue: str  # fingerprint of the catalogue it was made against

    @property
    def outcome(self) -> str:
        """`code`, `nil` or `proposal`: what kind of answer the decision is."""
        if self.proposal is not None:
            return "proposal"
        return "nil" if self.code == NIL else "code"

    def same_answer(self, code: str, proposal: int | None) -> bool:
        return self.code == code and self.proposal == proposal

    def to_dict(self) -> dict:
        """Flat, for JSON and the exported log."""
        d = asdict(self)
        subject, origin = d.pop("subject"), d.pop("origin")
        return {"id": d["id"], "kind": d["kind"], "text": d["text"], "class": subject["level2"],
                "subject": subject["key"], "clean_version": subject["clean_version"], "code": d["code"],
                "name": d["name"], "outcome": self.outcome if self.kind == Kind.DECISION else "",
                "proposal": d["proposal"],
                "reviewer": d["reviewer"], "at": d["at"], "via": origin["via"], "file": origin["file"],
                "sheet": origin["sheet"], "row": origin["row"], "comment": d["comment"], "replaces": d["replaces"],
                "catalogue": d["catalogue"]}


@dataclass(frozen=True)
class NewDecision:
    """A decision on its way into the log (the workspace gives it an id, a time and a key)."""

    text: str
    level2: str
    code: str  # a catalogue code, NIL, or the proposed code when `proposal` is given
    reviewer: str
    origin: Origin = field(default_factory=Origin)
    comment: str = ""
    proposal: ProposalDraft | None = None
    replaces: int | None = None  # the decision in force this one is meant to replace (another reviewer's)


@dataclass(frozen=True)
class ProposalDraft:
    """A new code a reviewer proposes: kept in the workspace, never a catalogue code until a catalogue
    that has it is used. `code` '' asks for a provisional id (`proposals.provisional_id`): a new code is
    proposed by name and class, the province assigns the serial."""

    code: str
    name: str
    level1: str
    level2: str
    unit: str = ""
    explanation: str = ""
    comment: str = ""


@dataclass(frozen=True)
class Proposal:
    id: int
    code: str
    name: str
    level1: str
    level2: str
    text: str  # the indicator text it was first proposed for
    reviewer: str
    at: str
    origin: Origin
    status: str  # open (pending) | approved | rejected (the latest of its history)
    unit: str = ""
    explanation: str = ""
    comment: str = ""
    approved: str = ""  # the real code the province assigned (status approved)
    reason: str = ""  # the comment of its latest verdict (why it was rejected)

    @property
    def answer(self) -> str:
        """The code its decisions point to: the approved real code, else its provisional id."""
        return self.approved or self.code


@dataclass(frozen=True)
class ProposalStep:
    """One entry of a proposal's history: made (open), approved with a code, rejected with a reason."""

    proposal: int
    status: str
    reviewer: str
    at: str
    comment: str
    code: str = ""


@dataclass(frozen=True)
class CatalogueRef:
    """The catalogue a workspace is pointed at: where, and which version (its fingerprint, a label and
    when it was made, as the catalogue's meta table says)."""

    path: str
    fingerprint: str
    label: str = ""
    made_at: str = ""
    bundled: bool = False

    def __str__(self) -> str:
        extra = ", ".join(p for p in (self.label, self.made_at) if p)
        return f"{self.path} ({self.fingerprint}{', ' + extra if extra else ''})"


@dataclass(frozen=True)
class Conflict:
    """A decision refused because another reviewer's different decision is in force."""

    new: NewDecision
    in_force: Event
    where: str = ""  # file:sheet:row of the new decision, when it came from a file


@dataclass
class Outcome:
    """What recording a batch of decisions did: each decision is recorded, unchanged (the same answer is
    already in force), or a conflict (kept out)."""

    recorded: list[Event] = field(default_factory=list)
    unchanged: list[Event] = field(default_factory=list)  # the decisions in force that already said so
    conflicts: list[Conflict] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)  # new proposals made


@dataclass(frozen=True)
class Status:
    """What is in use: `indicode status`, /api/health and `Workspace.status()`."""

    workspace: str
    backend: str
    catalogue: CatalogueRef
    decisions: int  # in force
    events: int
    proposals: int
    members: int

    def to_dict(self) -> dict:
        return {"workspace": self.workspace, "backend": self.backend, "catalogue": self.catalogue.path,
                "fingerprint": self.catalogue.fingerprint, "label": self.catalogue.label,
                "made_at": self.catalogue.made_at, "decisions": self.decisions, "events": self.events,
                "proposals": self.proposals, "members": self.members}
