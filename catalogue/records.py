"""Plain records shared by readers, the catalogue builder, the catalogue file and the matcher."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class IndicatorRow:
    """One level-3 indicator as a document writes it (nothing normalised away but the class digits).
    Slots, no per-row attribute dict: a workbook of 10^6 rows makes as many (docs/hardening.md)."""

    source: str  # file name the row came from
    line: int  # 1-based line (text documents) or row (tables) where the indicator starts
    name: str  # indicator name as written, code prefix removed
    unit: str = ""  # 用款单位 / 部门 / 申请单位
    project: str = ""
    project_code: str = ""  # 项目编号 where the form gives one
    level1: str = ""  # class digit "1".."4", inferred from level2 when the document is silent or wrong
    level2: str = ""  # class digits "11".."43"
    level1_text: str = ""  # the level-1 cell as written (kept for auditing)
    level2_text: str = ""  # the level-2 cell as written
    code: str = ""  # code written in the document (may be malformed)
    value_period: str = ""  # 实施周期指标值 (or the only target value, 目标值)
    value_year: str = ""  # 年度指标值
    explanation: str = ""  # 指标解释
    extra: dict = field(default_factory=dict)  # original cells of a table row, by header (the cells
    # themselves, not copies: the same strings the reader read)
    page: int | None = None  # 1-based page a PDF row starts on (None for every other format)

    @property
    def value(self) -> str:
        """The first target value written for the indicator."""
        return self.value_period or self.value_year

    def to_dict(self) -> dict:
        """The row's fields but its cells (`extra`) and an unset page, as extract writes them."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__
                if f != "extra" and not (f == "page" and self.page is None)}


@dataclass
class ReadProblem:
    """A line that looks like an indicator but could not be read completely."""

    source: str
    line: int
    why: str
    text: str = ""
    page: int | None = None  # as IndicatorRow.page

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.why}"


@dataclass
class ReadResult:
    rows: list[IndicatorRow]
    problems: list[ReadProblem]
    format: str


NIL = "NIL"  # a learned "no code fits"


@dataclass
class LearnedLink:
    """A reviewer's decision on its way into the catalogue: this text (in this class) means this code.
    Named fields, so that the five strings cannot change places between a caller and the file."""

    text: str
    level2: str
    code: str  # a catalogue code or NIL
    reviewer: str
    source: str  # where it was decided: file:row, "web feedback"


@dataclass
class Learned:
    """A learned link as the catalogue file stores it: the link, its row id and when it was decided."""

    id: int
    text: str
    level2: str
    code: str
    reviewer: str
    decided_at: str
    source: str


@dataclass
class Proposed:
    """A new code a reviewer proposed for a text no catalogue code fits. Kept apart from the codes
    read from documents: never matched, never in the fingerprint, shown as proposed."""

    code: str
    name: str
    level1: str
    level2: str
    text: str  # the indicator text it was proposed for
    reviewer: str
    source: str  # file:row
    proposed_at: str


class InputError(Exception):
    """Bad input: the message is one line naming the file (and row) and the problem."""
