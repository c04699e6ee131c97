"""What the linker answers: plain records of a suggestion and its candidates.

The words a person reads (the `why` of a candidate, the JSON shape, class labels) are made by
`present.py`, the one presenter; these records hold only the data.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verdict(enum.StrEnum):
    """The decision on a suggestion. Machine formats (JSON, CSV, the workbook's records) carry the
    values; a StrEnum compares equal to them, so `s.decision == "accept"` holds too."""

    ACCEPT = "accept"
    REVIEW = "review"
    NO_MATCH = "no-match"


@dataclass
class Candidate:
    code: str
    name: str  # the code's canonical name
    matched: str  # the spelling (name, alias or learned text) that scored best
    level2: str
    score: float  # calibrated: the chance this suggestion is right; the candidates are ordered by it
    raw: float  # the ranker's score, learned evidence included: the order
    features: dict[str, float] = field(default_factory=dict)
    alone: float = 0.0  # the ranker's score on the catalogue evidence alone: what `score` is made from
    generic: str = ""  # offered as the generic code of this measure (`generic.py`): reviewed, never accepted


@dataclass(frozen=True)
class ProposedCode:
    """A code proposed in the workspace (pending, or approved and not yet in the catalogue) that a
    no-match (or review) text is the same as, or close to: shown beside the answer, never accepted."""

    id: int
    code: str  # the provisional id (新-HZKQ-31-0001), or the approved real code
    name: str
    level2: str
    status: str  # open | approved
    label: str  # 已提议：新-HZKQ-31-0001 课题验收专家满意度（待审批）
    how: str  # same-text | close
    similarity: float = 1.0


@dataclass
class Suggestion:
    text: str
    level2: str
    value: str
    decision: Verdict
    candidates: list[Candidate]
    new_code_class: str = ""  # for no-match: where a new code would go
    reason: str = "score"  # score | learned | similar (`policy.agreed_by_learned`) | generic | empty
    cut: bool = False  # the text was longer than MAX_TEXT: matched by its first MAX_TEXT characters
    namesakes: list[str] = field(default_factory=list)  # other codes with the decided code's name (`flags.py`)
    inferred_class: str = ""  # the level-2 class read from the text when the row gives none (`classify.py`)
    proposal: ProposedCode | None = None  # for no-match / review: a proposed code it fits (indicode.proposed)

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def code(self) -> str:
        """The decided code ('' for no-match)."""
        return self.top.code if self.top and self.decision != Verdict.NO_MATCH else ""
