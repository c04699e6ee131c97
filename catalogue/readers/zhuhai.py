"""Zhuhai coded tables (`000_…`): tab-separated, repeated header blocks, rows shifted by columns.

Columns cannot be trusted (some rows are shifted by several cells), so each cell is recognised by its
shape: unit `101001-区党政办`, category `331-部门预算…`, amount `314,310.45`, level-1 `1-产出指标`,
level-2 `11-数量指标`, indicator `112000272-任务达标完成率`; target values are the cells after the
indicator. Project fields are written only on a project's first row and carried down, and so is the
unit when its cell is empty (merged down the column in a spreadsheet).
"""
from __future__ import annotations

import re

from ..classes import resolve
from ..records import IndicatorRow, ReadProblem, ReadResult

UNIT_RE = re.compile(r"^\d{6}-\S")
CATEGORY_RE = re.compile(r"^\d{3}-\S*类$")
AMOUNT_RE = re.compile(r"^-?[\d,]+\.\d{2}$")
LEVEL1_RE = re.compile(r"^\d-\S*指标$")
LEVEL2_RE = re.compile(r"^\d{2}-\S+$")
CODED_RE = re.compile(r"^(\d{8,11})-(.+)$")
HEADER_WORDS = ("三级指标", "用款单位")


def sniff(text: str) -> bool:
    """Tab table with a 用款单位…三级指标 header and coded indicator cells."""
    lines = text.split("\n")[:200]
    head = any("\t" in line and all(w in line for w in HEADER_WORDS) for line in lines)
    coded = sum(1 for line in lines if any(CODED_RE.match(c.strip()) for c in line.split("\t")))
    return head and coded >= 1


def split_code(cell: str) -> tuple[str, str]:
    """`112000272-任务达标完成率` -> ('112000272', '任务达标完成率'); no code -> ('', cell)."""
    m = CODED_RE.match(cell.strip())
    return (m.group(1), m.group(2).strip()) if m else ("", cell.strip())


def read(text: str, source: str) -> ReadResult:
    rows: list[IndicatorRow] = []
    problems: list[ReadProblem] = []
    unit = project = ""
    for no, line in enumerate(text.split("\n"), 1):
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 3 or any(w in line for w in HEADER_WORDS):
            continue
        if not UNIT_RE.match(cells[0]):
            # a unit cell merged down a spreadsheet column reads empty below its first row
            if not (unit and not cells[0] and any(CODED_RE.match(c) for c in cells)):
                continue
            cells[0] = unit
        if cells[0] != unit:
            project = ""
        unit = cells[0]
        # project name: first plain cell between the unit and the category cell
        for c in cells[1:]:
            if CATEGORY_RE.match(c):
                break
            if c:
                project = c
                break
        l1_i = next((i for i, c in enumerate(cells) if LEVEL1_RE.match(c)), None)
        code_i = next((i for i, c in enumerate(cells) if CODED_RE.match(c)), None)
        if code_i is None:
            why = "indicator row without a level-3 indicator (truncated row)" if l1_i is not None else \
                "row without a level-3 indicator"
            problems.append(ReadProblem(source, no, why, line[:200]))
            continue
        l2_i = next((i for i in range(code_i - 1, -1, -1) if LEVEL2_RE.match(cells[i])
                     and not CATEGORY_RE.match(cells[i]) and not LEVEL1_RE.match(cells[i])), None)
        l1_text = cells[l1_i] if l1_i is not None and l1_i < code_i else ""
        l2_text = cells[l2_i] if l2_i is not None else ""
        values = [c for c in cells[code_i + 1:] if c]
        code, name = split_code(cells[code_i])
        l1, l2 = resolve(l1_text, l2_text)
        if not values:
            problems.append(ReadProblem(source, no, f"indicator {cells[code_i]} has no target value",
                                        line[:200]))
        rows.append(IndicatorRow(
            source=source, line=no, name=name, unit=unit, project=project,
            level1=l1, level2=l2, level1_text=l1_text, level2_text=l2_text, code=code,
            value_period=values[0] if values else "",
            value_year=values[-1] if len(values) > 1 else (values[0] if values else ""),
        ))
    return ReadResult(rows, problems, "zhuhai")
