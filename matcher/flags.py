"""Flags on a suggestion that a reviewer should see first, even on a green row.

- **Namesakes**: one name, several codes (DOMAIN.md: `111000231-召开会议次数` and
  `111000234-召开会议次数`). Whichever of them is suggested, the others are named (`同名编码：…`) and
  listed among the candidates: the text alone cannot tell them apart.
- **Class difference**: the code's class differs from the class the row is filed under. Such a code
  is accepted only when the texts are the same (`policy.may_accept`), and the difference is shown.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from ..catalogue.classes import LEVEL1, LEVEL2
from .names import NameTable
from .results import Candidate


class Namesakes:
    """Codes that share a spelling (as matched: the canonical fold of the catalogue's names)."""

    def __init__(self, table: NameTable, rows_of: Callable[[str], list[int]]):
        self.table, self.rows_of = table, rows_of

    @functools.cached_property
    def _codes_by_spelling(self) -> dict[str, tuple[str, ...]]:
        """The spellings shared by two codes or more, with those codes (built on first use)."""
        by: dict[str, list[str]] = {}
        codes = self.table.code_list
        for canon, pos in zip(self.table.canon, self.table.code_of.tolist(), strict=True):
            found = by.setdefault(canon, [])
            if codes[pos] not in found:
                found.append(codes[pos])
        return {c: tuple(v) for c, v in by.items() if len(v) > 1}

    def of(self, code: str) -> list[str]:
        """The other codes with one of this code's spellings, in catalogue order."""
        shared = self._codes_by_spelling
        if not shared:
            return []
        out: dict[str, None] = {}
        for i in self.rows_of(code):
            for other in shared.get(self.table.canon[i], ()):
                if other != code:
                    out[other] = None
        return list(out)


def with_namesakes(ranked: list[Candidate], namesakes: list[str]) -> list[Candidate]:
    """The top, then its namesakes (so that both are among the candidates shown), then the rest; a
    namesake moved up is capped at the score of the one above it, so the list reads in score order."""
    if not namesakes:
        return ranked
    top, rest = ranked[0], ranked[1:]
    moved = [c for c in rest if c.code in namesakes]
    out = [top, *moved, *(c for c in rest if c.code not in namesakes)]
    for above, c in zip(out, out[1:], strict=False):
        c.score = min(c.score, above.score)
    return out


def class_differs(level2: str, code_level2: str) -> str:
    """The class the row is filed under where the code's class differs from it ('' when it agrees or
    the row gives no class): a level-2 class, or a level-1 class when the row gives only that."""
    if level2 in LEVEL2:
        return level2 if code_level2 != level2 else ""
    if level2 in LEVEL1:
        return level2 if code_level2[:1] != level2 else ""
    return ""
