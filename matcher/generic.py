"""Generic codes: the code a specific indicator may take when no closer one exists (DOMAIN.md:
"a more specific query may take the generic code (系统验收合格率 → 验收合格率) when no closer one
exists").

Which codes are generic, and for which measure, is read off the catalogue's own names:
- a name whose object is only generic words (`features.GENERIC_OBJECTS`: 任务, 工作, 项目, 服务对象),
  after a verb that frames a measure (保障, 确保: 保障工作正常运行 = "ensure the work runs normally"):
  任务按时完成率 measures 完成及时, 服务对象满意度 满意, 保障工作正常运行 正常运行;
- a name that lists its scope in brackets: 补助对象（人员、企业、特定群体等）数 measures 补助 (what the
  name says of its instances), 完成（专题研究/调查/检查/评估等）报告数 measures 报告 (the measure
  after the list);
- a name other codes' names end with: 验收合格率 (项目验收合格率, 采购项目验收合格率 …), 资金拨付及时率
  (奖杯资金拨付及时率): the measure those codes share.
A query takes a generic code only when its own text says that measure (it contains every part), its
kind of measure is known and agrees with the code's (a count is not a rate), and the code is of the
query's level-1 class. It is then offered for review with its reason, never accepted
(`Linker._suggest`).
"""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass

from .features import GENERIC_OBJECTS
from .names import NameTable
from .results import Candidate
from .text import Canon, kinds_agree, scope_of

FRAME_WORDS = ("保障", "确保")  # verbs that frame a measure as a goal: 保障工作正常运行
MEASURE_ENDS = ("率", "度", "性", "数")  # the kind word at a measure's end; the kind is checked apart
MIN_MEASURE = 2  # characters: a shorter measure (完成率 -> 完成 is the shortest) says too little


def strip_end(text: str) -> str:
    """A measure without its kind word: 完成率 -> 完成, 报告数 -> 报告, 正常运行 as it is."""
    return text[:-1] if text.endswith(MEASURE_ENDS) else text


def strip_object(canon: str) -> str:
    """A name without the generic words and framing verbs it starts with: 保障工作正常运行 -> 正常运行,
    服务对象满意度 -> 满意度; the name as it is when it starts otherwise."""
    words = sorted(GENERIC_OBJECTS + FRAME_WORDS, key=len, reverse=True)
    t = canon
    while True:
        w = next((w for w in words if t.startswith(w)), None)
        if w is None:
            return t
        t = t[len(w):]


@dataclass(frozen=True)
class Offer:
    """A generic code offered for a query: the candidate and the measure the two share."""

    candidate: Candidate
    measure: str  # its parts joined by …: 正常运行, 补助…数


class GenericCodes:
    """The generic codes of one catalogue and the measure each stands for (computed per code when
    first asked, from the prepared names)."""

    def __init__(self, table: NameTable, names: list[str], canon: Canon):
        self.table, self.names, self.canon = table, names, canon
        self.measure = functools.lru_cache(maxsize=65536)(self._measure)

    @functools.cached_property
    def _first_row(self) -> dict[str, int]:
        """Each code's canonical spelling (its first row in the index)."""
        first: dict[str, int] = {}
        for i, c in enumerate(self.table.code_of.tolist()):
            first.setdefault(self.table.code_list[c], i)
        return first

    @functools.cached_property
    def _reversed(self) -> list[tuple[str, int]]:
        """Every canonical spelling reversed, with its code position, sorted: the names that end with a
        text are one range of it."""
        return sorted((c[::-1], int(k)) for c, k in zip(self.table.canon, self.table.code_of.tolist(), strict=True))

    def _ends_others(self, canon: str, code_pos: int) -> bool:
        """Whether the name of another code ends with this one (and is longer)."""
        rev = canon[::-1]
        rows = self._reversed
        for r, k in rows[bisect.bisect_left(rows, (rev, -1)):]:
            if not r.startswith(rev):
                return False
            if k != code_pos and len(r) > len(rev):
                return True
        return False

    def _measure(self, code: str) -> tuple[str, ...]:
        """The parts of the measure a generic code stands for; () when the code is not generic."""
        row = self._first_row.get(code)
        if row is None:
            return ()
        canon, written = self.table.canon[row], self.names[row]
        scope = scope_of(written)
        parts: tuple[str, ...]
        if scope:
            before = self.canon(scope.before, cleaned=True)
            parts = (before[:-2] if len(before) > 2 else "", strip_end(self.canon(scope.after, cleaned=True)))
        else:
            rest = strip_object(canon)
            generic = rest != canon or self._ends_others(canon, int(self.table.code_of[row]))
            parts = (strip_end(rest),) if generic else ()
        parts = tuple(p for p in parts if p)
        return parts if sum(map(len, parts)) >= MIN_MEASURE else ()

    def offer(self, qcanon: str, qkind: str, qlevel2: str, ranked: list[Candidate]) -> Offer | None:
        """The best-ranked generic code whose measure the query says, of the same kind of measure and
        of the query's level-1 class (any class when `qlevel2` is ''), its own class first; None when
        there is none."""
        qlevel1 = qlevel2[:1]
        if not qkind:
            return None
        # the query's own class first (任务按时完成率 [13] before 任务完成率 [11] for a 13 indicator)
        for c in sorted(ranked, key=lambda c: c.level2 != qlevel2):
            kind = self.table.kind[self._code_pos[c.code]]
            if not kind or kinds_agree(qkind, kind) < 0 or (qlevel1 and c.level2[:1] != qlevel1):
                continue
            parts = self.measure(c.code)
            if parts and all(p in qcanon for p in parts):
                return Offer(c, "…".join(parts))
        return None

    @functools.cached_property
    def _code_pos(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.table.code_list)}
