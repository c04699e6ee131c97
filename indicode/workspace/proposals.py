"""The life of a proposed code: made by name and class (a provisional id), then approved with the real
code the province assigned, or rejected with a reason; every step kept in the workspace.

- pending (`open`): its decisions point to the provisional id; the matcher reads them as "no catalogue
  code fits" and the commands answer `已提议：新-HZKQ-31-0001 名称（待审批）`, never an accepted code;
- approved: each decision in force that points to it is re-pointed to the real code (a new decision
  event by the approver, replacing it); lookup and suggest show the code until a catalogue that has it
  is used, from when on the matcher applies those decisions as any other;
- rejected: each decision in force that points to it is retracted (the decision before it, if any, is
  in force again), so its rows are matched afresh and come back for review.
The steps are `proposal_events` rows (`history`), the re-pointing and retractions events of the log.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..catalogue.classes import LEVEL2
from ..catalogue.entries import CODE_RE
from ..catalogue.records import InputError
from ..catalogue.textio import fold
from ..i18n import _
from .provisional import PREFIX_KEY, check_prefix, class_of, is_provisional
from .records import Event, Kind, NewDecision, Origin, Outcome, Proposal, ProposalDraft, ProposalStep, Via
from .roles import LOCAL, Caller, Right
from .workspace import IN_FORCE_SQL, UPSERT_IN_FORCE, CatalogueLike, Forbidden, Refused, Workspace, _event, now

PENDING, APPROVED, REJECTED = "open", "approved", "rejected"
CLI = Origin(Via.CLI)
STATUS_WORDS = {PENDING: "待审批", APPROVED: "已批准", REJECTED: "已驳回"}  # as the workbooks and the page say


def draft(name: str, level2: str, unit: str = "", explanation: str = "", comment: str = "") -> ProposalDraft:
    """A proposal by name and class (its provisional id is given when it is recorded)."""
    name = " ".join((name or "").split())
    if not name:
        raise InputError(_("a proposed code needs a name"))
    l2 = class_of(level2)
    return ProposalDraft("", name, l2[0], l2, unit.strip(), explanation.strip(), comment.strip())


def find(ws: Workspace, ref: str | int) -> Proposal:
    """A proposal by its number, its provisional id, or its approved code; Refused when none."""
    r = fold(str(ref)).strip()
    for p in ws.proposals():
        if r in (str(p.id), fold(p.code)) or (p.approved and r == p.approved):
            return p
    raise Refused(_("{ref}: no such proposal; see `indicode proposals list`").format(ref=ref), field="proposal")


def add(ws: Workspace, d: ProposalDraft, reviewer: str, catalogue: CatalogueLike, texts: Iterable[str] = (),
        origin: Origin = CLI, caller: Caller = LOCAL) -> tuple[Proposal, Outcome]:
    """Propose `d` (one pending proposal of that name and class is reused) and record a decision
    pointing to it for its name and for every text in `texts` (one transaction: the rules of the log
    apply; a text another reviewer decided otherwise is a conflict, kept out). Returns the proposal
    and what recording did."""
    members = list(dict.fromkeys([d.name, *(t for t in texts if t.strip())]))
    new = [NewDecision(t, d.level2, "", reviewer, origin, d.comment, d) for t in members]
    out = ws.record(new, catalogue, caller)
    made = out.proposals[0] if out.proposals else None
    if made is None:  # proposed before, or every decision kept out: the proposal of that name
        made = next((p for p in reversed(ws.proposals()) if p.name == d.name and p.level2 == d.level2
                     and p.status != REJECTED), None)
    if made is None:
        c = out.conflicts[0].in_force
        raise Refused(_("「{text}」 [{klass}]: {reviewer} decided {code} (decision {id}); nothing proposed").format(
            text=d.name, klass=d.level2, reviewer=c.reviewer, code=c.code, id=c.id), c)
    return made, out


@dataclass
class Verdict:
    """What approving or rejecting did: the proposal as it is now, and the decisions it moved (the
    re-pointed decisions of an approval, the retractions of a rejection)."""

    proposal: Proposal
    events: list[Event] = field(default_factory=list)


def _check_open(p: Proposal) -> None:
    if p.status != PENDING:
        raise Refused(_("{id}: the proposal is already {status}{code}").format(
            id=p.code, status=p.status, code=f" ({p.approved})" if p.approved else ""), field="proposal")


def _may(caller: Caller, reviewer: str) -> None:
    if not caller.may(Right.APPROVE):
        raise Forbidden(_("{who} may not approve or reject proposals (role {role})").format(
            who=caller.name or reviewer, role=caller.role), field="proposal")


def approve(ws: Workspace, ref: str | int, code: str, reviewer: str, caller: Caller = LOCAL,
            comment: str = "") -> Verdict:
    """Approve a pending proposal with the real code the province assigned: its decisions in force are
    re-pointed to that code, in one transaction with the verdict."""
    _may(caller, reviewer)
    p = find(ws, ref)
    _check_open(p)
    code = fold(code).strip()
    if not CODE_RE.match(code):
        raise InputError(_("'{code}': the code the province assigned has 9 digits (level-1 digit, level-2 class, "
                           "6-digit serial)").format(code=code))
    if code[1:3] != p.level2 or code[0] != p.level1 or code[1:3] not in LEVEL2:
        raise InputError(_("'{code}': its class digits {digits} are not the proposal's class {klass}").format(
            code=code, digits=code[:3], klass=p.level1 + "|" + p.level2))
    taken = [q for q in ws.proposals() if q.approved == code and q.id != p.id]
    if taken:
        raise Refused(_("'{code}' was already given to proposal {other} ({name})").format(
            code=code, other=taken[0].code, name=taken[0].name), field="code")
    moved: list[Event] = []
    with ws.backend.transaction(write=True) as tx:
        _verdict(tx, p.id, APPROVED, reviewer, comment, code)
        for old in _pointing(tx, p.id):
            e = ws._append(tx, Kind.DECISION, old.subject, old.text, code, p.name, p.id, reviewer, CLI,
                           comment or _("approved as {code}").format(code=code), old.id, old.catalogue)
            tx.execute(UPSERT_IN_FORCE, (old.subject.key, old.subject.level2, e.id))
            moved.append(e)
    return Verdict(find(ws, p.id), moved)


def reject(ws: Workspace, ref: str | int, reason: str, reviewer: str, caller: Caller = LOCAL) -> Verdict:
    """Reject a pending proposal (a reason is required): its decisions in force are retracted, so the
    rows are matched afresh, for review; in one transaction with the verdict."""
    _may(caller, reviewer)
    p = find(ws, ref)
    _check_open(p)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InputError(_("{id}: give the reason for rejecting it (--reason)").format(id=p.code))
    moved: list[Event] = []
    with ws.backend.transaction(write=True) as tx:
        _verdict(tx, p.id, REJECTED, reviewer, reason, "")
        for old in _pointing(tx, p.id):
            moved.append(ws._append(tx, Kind.RETRACTION, old.subject, old.text, "", "", None, reviewer,
                                    CLI, reason, old.id, old.catalogue))
            ws._restore(tx, old.subject)
    return Verdict(find(ws, p.id), moved)


def _verdict(tx, proposal: int, status: str, reviewer: str, comment: str, code: str) -> None:
    tx.insert("INSERT INTO proposal_events (proposal, status, reviewer, at, comment, code) VALUES (?,?,?,?,?,?)",
              (proposal, status, reviewer, now(), comment, code))


def _pointing(tx, proposal: int) -> list[Event]:
    """The decisions in force that point to a proposal."""
    return [_event(r) for r in tx.execute(IN_FORCE_SQL + " WHERE e.proposal = ? ORDER BY e.id", (proposal,))]


def decisions_of(ws: Workspace, proposal: int) -> list[Event]:
    """The decisions in force that point to a proposal (its member texts)."""
    with ws.backend.transaction() as tx:
        return _pointing(tx, proposal)


def history(ws: Workspace, ref: str | int) -> list[ProposalStep]:
    """A proposal's steps, oldest first: made (open), then each verdict."""
    p = find(ws, ref)
    with ws.backend.transaction() as tx:
        rows = tx.execute("SELECT proposal, status, reviewer, at, comment, code FROM proposal_events "
                          "WHERE proposal = ? ORDER BY id", (p.id,))
    return [ProposalStep(p.id, PENDING, p.reviewer, p.at, p.comment),
            *(ProposalStep(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows)]


def set_prefix(ws: Workspace, prefix: str) -> str:
    """Give the workspace a readable prefix (the office's initials) before its first provisional id."""
    p = check_prefix(prefix)
    with ws.backend.transaction(write=True) as tx:
        ids = [c for (c,) in tx.execute("SELECT code FROM proposals") if is_provisional(c)]
        if ids:
            raise Refused(_("the workspace has given provisional ids already ({id}); its prefix stays").format(
                id=ids[0]), field="prefix")
        tx.execute("UPDATE meta SET value = ? WHERE key = ?", (p, PREFIX_KEY))
    return p


def lookup(ws: Workspace, query: str, klass: str = "", limit: int = 50) -> list[Proposal]:
    """Proposals (pending or approved) by provisional id, approved code or its prefix, or part of the
    name or of a member text."""
    q = fold(query).strip()
    if not q:
        return []
    out = []
    for p in ws.proposals():
        if p.status == REJECTED or (klass and not p.level2.startswith(klass)):
            continue
        texts = [p.name, p.text] + [e.text for e in decisions_of(ws, p.id)]
        digits = q.isdigit() and (p.approved.startswith(q) or p.code.startswith(q))
        if q == fold(p.code) or digits or any(q in fold(t) for t in texts):
            out.append(p)
    return out[:limit]


def label(p: Proposal) -> str:
    """`已提议：新-HZKQ-31-0001 课题验收专家满意度（待审批）`: how a proposal answers a text."""
    if p.status == APPROVED:
        return f"已提议：{p.approved} {p.name}（已批准，目录尚未收录）"
    return f"已提议：{p.code} {p.name}（{STATUS_WORDS.get(p.status, p.status)}）"
