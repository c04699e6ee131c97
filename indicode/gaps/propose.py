"""Requests and proposals, both ways: a request workbook's rows recorded as proposals (one per row, with a
decision pointing to it for its name and every member text, all in one transaction; a row whose 临时编号
names a proposal of this workspace adds its texts to that one), and a workspace's pending proposals
written out as requests (`indicode proposals export`) for the province."""
from __future__ import annotations

import re
from collections.abc import Sequence

from ..catalogue.entries import CODE_RE
from ..workspace import NewDecision, Origin, Outcome, Refused, Via, Workspace
from ..workspace.proposals import PENDING, REJECTED, decisions_of, draft, find
from ..workspace.provisional import is_provisional
from ..workspace.records import Proposal, ProposalDraft
from ..workspace.roles import LOCAL, Caller
from ..workspace.workspace import CatalogueLike
from .workbook import Request, ranked


def propose(ws: Workspace, requests: Sequence[Request], reviewer: str, catalogue: CatalogueLike,
            caller: Caller = LOCAL, override: bool = False) -> Outcome:
    """Record every request as a proposal (a pending one of the same name and class is reused), with a
    decision for its name and each member text; all or nothing. A member text another reviewer decided
    otherwise is a conflict, kept out (listed in the outcome) unless `override`."""
    new = []
    for q in requests:
        known = proposal_named(ws, q.provisional)
        d = (ProposalDraft(known.code, known.name, known.level1, known.level2) if known is not None and
             known.level2 == q.level2 else draft(q.name, q.level2, q.unit, q.explanation, "、".join(q.offices)))
        file, sheet, row = (q.where.split(":") + ["", "", ""])[:3]
        origin = Origin(Via.WORKBOOK, file, sheet, int(row) if row.isdigit() else None)
        for text in dict.fromkeys([q.name, *q.members]):
            new.append(NewDecision(text, d.level2, "", q.proposer or reviewer, origin, d.comment, d))
    return ws.record(new, catalogue, caller, override=override)


def proposal_named(ws: Workspace, provisional: str) -> Proposal | None:
    """The proposal of this workspace (not rejected) a 临时编号 cell names (ids joined by 、 when merged;
    those of other offices' workspaces are none of its)."""
    for ref in re.split(r"[、,，\s]+", provisional or ""):
        if not (is_provisional(ref) or CODE_RE.match(ref)):
            continue
        try:
            p = find(ws, ref)
        except Refused:
            continue
        if p.status != REJECTED:
            return p
    return None


def pending_requests(ws: Workspace, office: str = "") -> list[Request]:
    """The workspace's pending proposals as requests, ranked by how many decisions point to them."""
    out = []
    for p in ws.proposals():
        if p.status != PENDING:
            continue
        texts = list(dict.fromkeys([p.name, *(e.text for e in decisions_of(ws, p.id))]))
        out.append(Request(p.name, p.level2, p.unit, p.explanation, len(texts) - (p.name not in texts[1:]), 0, 0, [],
                           texts, [office] if office else [], p.reviewer, p.code))
    return ranked(out)
