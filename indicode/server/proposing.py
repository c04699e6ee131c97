"""The proposal routes: a new code proposed from the page (or another program), the proposals listed,
and the proposed codes a lookup or a code's page finds — a thin layer over
`indicode.workspace.proposals` (as `indicode proposals add|list` and `indicode lookup` call it).

    POST /api/proposals   {"name", "class", "unit", "explanation", "comment", "texts", "reviewer", "origin"}
    GET  /api/proposals   ?status=open|approved|rejected&q=…

A proposal is written like feedback (the app's `same_origin_write`: a JSON body from the page's own
origin, the token off loopback); proposing the same name and class again reuses the pending proposal.
A member text another reviewer decided otherwise is kept out and listed (`conflicts`); when even the
name is, nothing is proposed (409 with the decision in force).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from .. import inputs
from ..catalogue.textio import fold
from ..workspace import Caller, Workspace
from ..workspace.proposals import APPROVED, PENDING, REJECTED, STATUS_WORDS, decisions_of, label, lookup
from .openapi import answers
from .service import Service

PLAIN = r"^[^\x00-\x1f\x7f]*$"
NOTE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
MAX_TEXTS = 200  # member texts one proposal is made for at once (a gap group's spellings)


class NewProposal(BaseModel):
    """A new code proposed by name and class (a level-2 class): the workspace gives it a provisional id
    (新-…-31-0001); a decision pointing to it is recorded for its name and for every text of `texts`."""
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    name: str = Field(max_length=200, pattern=PLAIN, description="the new indicator's name",
                      json_schema_extra={"minLength": 1})
    klass: str | int = Field(alias="class", description="its level-2 class (31, 31-服务对象满意度 …)")
    unit: str = Field("", max_length=20, pattern=PLAIN, description="its unit of measure (%, 次 …)")
    explanation: str = Field("", max_length=inputs.MAX_COMMENT, pattern=NOTE, description="what it measures (指标解释)")
    comment: str = Field("", max_length=inputs.MAX_COMMENT, pattern=NOTE)
    texts: list[str] = Field(default_factory=list, max_length=MAX_TEXTS,
                             description="other indicator texts it stands for (their decisions point to it)")
    reviewer: str = Field("", max_length=60, pattern=PLAIN)
    origin: str = Field("http", pattern=r"^(page|http)$", description="`page` when sent by the drafting page")


def proposal_dict(ws: Workspace, p, members: bool = True) -> dict:
    """A proposal as the API answers it: its record, how it answers a text (`label`), its status in
    words and (`members`) the texts whose decisions point to it."""
    out = {**asdict(p), "label": label(p), "status_word": STATUS_WORDS.get(p.status, p.status), "proposed": True}
    if members:
        out["texts"] = list(dict.fromkeys(e.text for e in decisions_of(ws, p.id)))
    return out


def proposed_matching(service: Service, query: str, klass: str, most: int) -> list[dict]:
    """The proposed codes a lookup finds (as `indicode lookup` lists them): the workspace's pending and
    approved proposals not yet in the catalogue served, by provisional id, approved code, name or member
    text, then the older proposals a catalogue file holds."""
    cat, ws = service.linker().cat, service.workspace
    out = [] if ws is None else [proposal_dict(ws, p) for p in lookup(ws, query, klass, most)
                                 if p.answer not in cat.entries]
    for p in cat.lookup_proposed(query, klass, most):
        out.append({**asdict(p), "status": PENDING, "status_word": STATUS_WORDS[PENDING], "proposed": True,
                    "label": f"已提议：{p.code} {p.name}（{STATUS_WORDS[PENDING]}）", "texts": [p.text]})
    return out[:most]


def proposal_named(service: Service, code: str) -> dict | None:
    """The proposal a code's page names (`#code=新-HZKQ-32-0001`, or an approved code the catalogue in
    use does not have yet); None when there is none."""
    ws = service.workspace
    if ws is None:
        return None
    c = fold(code).strip()
    for p in ws.proposals():
        if p.status != REJECTED and (c == fold(p.code) or (p.status == APPROVED and c == p.approved)):
            return proposal_dict(ws, p)
    return None


def router(service: Service, write_guard: Callable[..., Caller]) -> APIRouter:
    api = APIRouter()

    @api.post("/api/proposals", summary="Propose a new code by name and class (a provisional id is given); "
              "a decision points to it for its name and every text given", responses=answers(403, 409, 415))
    def propose(np: NewProposal, caller: Caller = Depends(write_guard)):
        name = inputs.read_text(np.name, field="name").text
        texts = [inputs.read_text(t, field="texts").text for t in np.texts]
        klass = inputs.read_decision_class(np.klass)
        p, out = service.propose(name, klass, np.unit, inputs.read_comment(np.explanation, "explanation"),
                                 inputs.read_comment(np.comment), texts, np.reviewer.strip() or "web", np.origin,
                                 caller)
        ws = service.workspace
        assert ws is not None  # (service.propose refuses without one)
        return {"proposal": proposal_dict(ws, p), "recorded": len(out.recorded), "unchanged": len(out.unchanged),
                "conflicts": [{"text": c.new.text, "in_force": c.in_force.to_dict()} for c in out.conflicts],
                "workspace": ws.location}

    @api.get("/api/proposals", summary="The workspace's proposed codes, oldest first (with their member texts)")
    def listed(status: Annotated[str, Query(pattern=r"^(|open|approved|rejected)$",
                                            description="only open (pending), approved or rejected ones")] = "",
               q: Annotated[str, Query(max_length=200, description="only those a lookup of this finds")] = ""):
        ws = service.workspace
        if ws is None:
            return {"proposals": []}
        found = lookup(ws, q, limit=10**6) if q.strip() else ws.proposals()
        return {"proposals": [proposal_dict(ws, p) for p in found if not status or p.status == status]}

    return api
