"""Shenzhen Shenshan 申报表 (`003_…`): one form per project, key/value header rows, then a table

    一级指标  二级指标  三级指标  目标值  指标解释

The level columns are filled only on their first row and carried down; `*` marks required classes;
`不适用` rows mean "not applicable" and are not indicators. Some rows are shifted left by one cell (a
level-2 name in the level-1 column, e.g. `*成本指标  成本控制率  ≤100%  …`), so a row's shape is read
from which of its cells name a class, not from fixed positions.
"""
from __future__ import annotations

import re

from ..classes import LEVEL1, level1_of, level2_of, resolve
from ..records import IndicatorRow, ReadProblem, ReadResult

HEADER_RE = re.compile(r"^\s*一级指标\t+二级指标\t+三级指标\t+目标值")
FORM_TITLE = "绩效目标申报表"
KEY_RE = re.compile(r"^(项目名称|申请单位|项目编号|项目编码)\s*[:：]$")
NOT_APPLICABLE = "不适用"
_PURE_L1 = {v for v in LEVEL1.values() if v != "成本指标"}


def sniff(text: str) -> bool:
    return any(HEADER_RE.match(line) for line in text.split("\n"))


def _is_l1_only(cell: str) -> bool:
    """A cell that can only be a level-1 class (产出/效益/满意度指标)."""
    return re.sub(r"[\s*＊]", "", cell) in _PURE_L1


def _is_class(cell: str) -> bool:
    return bool(cell.strip()) and bool(level1_of(cell) or level2_of(cell))


def read(text: str, source: str) -> ReadResult:
    rows: list[IndicatorRow] = []
    problems: list[ReadProblem] = []
    fields: dict[str, str] = {}
    in_table = False
    l1_text = l2_text = ""
    for no, raw in enumerate(text.split("\n"), 1):
        if FORM_TITLE in raw:
            in_table, fields = False, {}
            continue
        if HEADER_RE.match(raw):
            in_table, l1_text, l2_text = True, "", ""
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if not in_table:
            for i, c in enumerate(cells[:-1]):
                if key := KEY_RE.match(c):
                    fields[key.group(1)] = cells[i + 1]
            continue
        if not raw.strip():
            continue
        cells += [""] * (5 - len(cells))
        c0, c1 = cells[0], cells[1]
        if _is_class(c0) and _is_class(c1):
            l1_text, l2_text, rest = c0, c1, cells[2:]
        elif _is_class(c0) and _is_l1_only(c0):
            l1_text, l2_text, rest = c0, "", cells[2:] if not c1 else cells[1:]
        elif _is_class(c0):
            # a level-2 name sitting in the level-1 column: the row is shifted left when cell 1 holds
            # the indicator itself
            l2_text, rest = c0, cells[1:] if c1 else cells[2:]
        elif not c0 and _is_class(c1):
            l2_text, rest = c1, cells[2:]
        elif not c0 and not c1:
            rest = cells[2:]
        else:
            problems.append(ReadProblem(source, no, "table row whose class cells cannot be read", raw[:120]))
            continue
        rest += [""] * (3 - len(rest))
        name, value, expl = rest[0], rest[1], rest[2]
        if name == NOT_APPLICABLE or (not name and value in ("", NOT_APPLICABLE)):
            continue
        if not name:
            problems.append(ReadProblem(source, no, "indicator row without a level-3 name", raw[:120]))
            continue
        l1, l2 = resolve(l1_text, l2_text)
        rows.append(IndicatorRow(
            source=source, line=no, name=name, unit=fields.get("申请单位", ""),
            project=fields.get("项目名称", ""), project_code=fields.get("项目编号") or fields.get("项目编码", ""),
            level1=l1, level2=l2, level1_text=l1_text, level2_text=l2_text, value_period=value, explanation=expl,
        ))
    return ReadResult(rows, problems, "shenshan")
