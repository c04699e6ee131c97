"""The rules of the log, as plain functions of the decision in force and the one coming in.

- The decision in force for a subject is its latest decision not retracted.
- The same answer as the one in force records nothing (learning a workbook twice adds nothing).
- A reviewer may revise their own decision; another reviewer's is replaced only by a decision that
  names it (`replaces`: the id of the decision in force, as the page sends after asking, or as
  `learn --override` does for each conflict), and only by a caller with the right to replace.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .records import Event, NewDecision


class Judgement(StrEnum):
    RECORD = "record"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"  # another reviewer's different decision is in force, and it was not named
    FORBIDDEN = "forbidden"  # named, but the caller may not replace another reviewer's decision


@dataclass(frozen=True)
class Verdict:
    judgement: Judgement
    replaces: int | None = None  # for RECORD: the decision in force it replaces


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def judge(current: Event | None, new: NewDecision, code: str, proposal: int | None, may_replace: bool) -> Verdict:
    """What recording `new` (whose answer is `code` / `proposal`) does, given the decision in force."""
    if current is None:
        return Verdict(Judgement.RECORD)
    if current.same_answer(code, proposal):
        return Verdict(Judgement.UNCHANGED)
    if same_person(current.reviewer, new.reviewer):
        return Verdict(Judgement.RECORD, current.id)
    if new.replaces != current.id:
        return Verdict(Judgement.CONFLICT)
    if not may_replace:
        return Verdict(Judgement.FORBIDDEN)
    return Verdict(Judgement.RECORD, current.id)


def may_retract(current: Event, reviewer: str, may_replace: bool) -> bool:
    """A reviewer takes back their own decision; another's needs the right to replace."""
    return same_person(current.reviewer, reviewer) or may_replace
