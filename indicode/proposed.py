"""Answers that name a proposed code: a text no catalogue code is accepted for (no-match or review) that
is the same as a pending (or approved, not yet catalogued) proposal's member texts, or close to them by
`gaps.similar`, is answered `已提议：新-HZKQ-31-0001 课题验收专家满意度（待审批）` beside the matcher's answer,
never as an accepted code.

`ProposingLinker` is the Linker every command and the server use with a workspace: the matcher's
answer unchanged, then this one look more (through the Linker's public `suggest_many`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .gaps.similar import Text, prepare, scores
from .matcher.linker import Linker
from .matcher.results import ProposedCode, Suggestion, Verdict
from .matcher.text import clean
from .workspace import Workspace
from .workspace.proposals import APPROVED, PENDING, decisions_of, label

CLOSE = 0.78  # the least similarity (gaps.similar) of a text to a member text of a proposal


@dataclass(frozen=True)
class Member:
    """One text a proposal stands for: its name, or a text whose decision points to it."""

    text: str
    level2: str
    answer: ProposedCode


def members_of(ws: Workspace, known: Sequence[str] | set[str] = ()) -> list[Member]:
    """The member texts of every proposal that answers texts: pending, or approved with a code the
    catalogue in use (`known`, its codes) does not have yet."""
    out = []
    for p in ws.proposals():
        if p.status not in (PENDING, APPROVED) or (p.status == APPROVED and p.approved in known):
            continue
        texts = [(p.name, p.level2)] + [(e.text, e.subject.level2) for e in decisions_of(ws, p.id)]
        for t, l2 in dict.fromkeys(texts):
            out.append(Member(t, l2, ProposedCode(p.id, p.answer, p.name, p.level2, p.status, label(p), "same-text")))
    return out


class ProposingLinker(Linker):
    """A Linker whose no-match and review answers name the proposed code they fit (`members`: `members_of`)."""

    def __init__(self, *args, members: Sequence[Member] = (), **kw):
        super().__init__(*args, **kw)
        self.members = list(members)
        self._exact = {(clean(m.text), m.level2): m.answer for m in self.members}
        self._texts: list[Text] = prepare([m.text for m in self.members], [""] * len(self.members), self.canon)
        self._vectors = self.encode_queries([m.text for m in self.members]) if self.members else None

    def suggest_many(self, items: list[tuple[str, str, str]], k: int = 5,
                     vectors: np.ndarray | None = None) -> list[Suggestion]:
        if vectors is None:
            vectors = self.encode_queries([t for t, _, _ in items])
        out = super().suggest_many(items, k, vectors)
        if self.members:
            for i, s in enumerate(out):
                if s.decision != Verdict.ACCEPT and clean(s.text):
                    s.proposal = self._proposal_for(s.text, s.level2, s.value, vectors[i])
        return out

    def proposals_for(self, items: Sequence[tuple[str, str, str]]) -> list[ProposedCode | None]:
        """The proposal each (text, class, value) fits, by the rules of a no-match answer (the same
        text, or one close to a member text, in its class); None where none (`indicode gaps`: a group
        already proposed is marked, not requested again)."""
        if not self.members or not items:
            return [None] * len(items)
        vectors = self.encode_queries([t for t, _, _ in items])
        return [self._proposal_for(t, l2, v, vectors[i]) if clean(t) else None
                for i, (t, l2, v) in enumerate(items)]

    def _proposal_for(self, text: str, level2: str, value: str, vector: np.ndarray) -> ProposedCode | None:
        level2 = (level2 or "").strip()
        key = clean(text)
        for l2 in ([level2] if level2 else sorted({m.level2 for m in self.members})):
            if (key, l2) in self._exact:
                return self._exact[(key, l2)]
        q = prepare([text], [value], self.canon)
        assert self._vectors is not None
        sim = scores(q, vector[None, :], self._texts, self._vectors, floor=CLOSE)[0]
        if level2:  # another class is another indicator
            sim = np.where([m.level2 == level2 for m in self.members], sim, 0.0)
        best = int(np.argmax(sim))
        if sim[best] < CLOSE:
            return None
        a = self.members[best].answer
        return ProposedCode(a.id, a.code, a.name, a.level2, a.status, a.label, "close", round(float(sim[best]), 4))
