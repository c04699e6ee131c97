"""Guangzhou numbered indicator lists (`001_…`, `002_…`, `004_…`).

Each indicator is one list item::

    1、1-产出指标；11-数量指标；NAME；实施周期指标值:X；年度指标值:Y。

In PDF text (`001`, `004`) the items are wrapped at arbitrary points, inside names and numbers, with
project names, amounts and page headers interleaved; in table exports (`002`) a whole list sits in
one cell and the fields are separated by `：` instead of `；`. Both are read the same way: the wrapped
lines are joined back into one stream (page furniture left out), then each item is parsed from its
`N、` to the next one. An item that starts but cannot be parsed is reported, never dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..classes import resolve
from ..records import IndicatorRow, ReadProblem, ReadResult
from .zhuhai import split_code

SEP = "[；;：:]"
ITEM_START_RE = re.compile(r"(\d{1,3})、\s*(?=\d\s*-)")
ITEM_RE = re.compile(
    rf"(?P<l1>\d-[^；;：:]*?){SEP}\s*(?P<l2>\d{{0,2}}-[^；;：:]*?){SEP}\s*(?P<name>.*?){SEP}\s*"
    rf"实施周期指标值\s*[:：]\s*(?P<vp>.*?){SEP}\s*年度指标值\s*[:：]\s*(?P<vy>.*?)(?:。|$)",
    re.S,
)
PROJECT_RE = re.compile(r"^(?P<name>\S.*?)?\s*(?P<amounts>-?[\d,]+\.\d{2}(?:\s+-?[\d,]+\.\d{2})*)$")
UNIT_RE = re.compile(r"部门名称\s*[:：]\s*(?P<unit>\S+?)(?:\s|单位|$)")
FURNITURE = ("项目名称（资金使用单位）", "项目支出绩效目标表", "绩效目标 绩效指标", "单位：万元")


def sniff(text: str) -> bool:
    """Numbered lists of `N、1-产出指标；11-…` items."""
    return len(re.findall(r"\d、\s*\d-[^；;：:\n]{0,8}指标\s*[；;：:]", text)) >= 2


@dataclass
class _Mark:
    offset: int  # position in the joined stream
    line: int  # source line


def _is_furniture(line: str) -> bool:
    return any(f in line for f in FURNITURE) or line.startswith("合计")


def parse_items(stream: str, marks: list[_Mark], source: str, unit: str,
                projects: list[tuple[int, str]]) -> tuple[list[IndicatorRow], list[ReadProblem]]:
    """Parse every `N、…` item of a joined stream; `marks` map stream offsets back to source lines."""
    rows: list[IndicatorRow] = []
    problems: list[ReadProblem] = []
    starts = list(ITEM_START_RE.finditer(stream))

    def line_at(pos: int) -> int:
        line = marks[0].line
        for m in marks:
            if m.offset > pos:
                break
            line = m.line
        return line

    for i, st in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(stream)
        seg = stream[st.end():end]
        m = ITEM_RE.match(seg)
        line = line_at(st.start())
        if not m:
            problems.append(ReadProblem(source, line, "indicator item cannot be read completely "
                                        "(expected class；class；name；实施周期指标值；年度指标值)", seg[:120]))
            continue
        project = ""
        for off, name in projects:
            if off <= st.start():
                project = name
        l1_text, l2_text = m["l1"].strip(), m["l2"].strip()
        l1, l2 = resolve(l1_text, l2_text)
        code, name = split_code(m["name"].strip())
        rows.append(IndicatorRow(
            source=source, line=line, name=name, unit=unit, project=project,
            level1=l1, level2=l2, level1_text=l1_text, level2_text=l2_text, code=code,
            value_period=m["vp"].strip(), value_year=m["vy"].strip(),
        ))
    return rows, problems


def read(text: str, source: str) -> ReadResult:
    lines = text.split("\n")
    unit = ""
    for line in lines[:40]:
        m = UNIT_RE.search(line)
        if m:
            unit = m["unit"]
            break
    if any(line.count("\t") >= 3 for line in lines if ITEM_START_RE.search(line)):
        return _read_cells(lines, source, unit)
    stream_parts: list[str] = []
    marks: list[_Mark] = []
    projects: list[tuple[int, str]] = []
    offset = 0
    since_item_end: list[str] = []  # lines after the last `。`: a wrapped project name lives there
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        pm = PROJECT_RE.match(line)
        if pm:
            # amounts alone on a line: the project name was wrapped onto the lines before
            name = (pm["name"] or "").strip() or "".join(since_item_end[-3:])
            projects.append((offset, name))
            continue
        since_item_end = [] if line.endswith("。") else since_item_end + [line]
        if _is_furniture(line) or UNIT_RE.search(line):
            continue
        marks.append(_Mark(offset, no))
        stream_parts.append(line)
        offset += len(line)
    if not marks:
        return ReadResult([], [], "guangzhou-list")
    rows, problems = parse_items("".join(stream_parts), marks, source, unit, projects)
    return ReadResult(rows, problems, "guangzhou-list")


def _read_cells(lines: list[str], source: str, unit: str) -> ReadResult:
    """Table export: one project a line, its whole list in one cell."""
    rows: list[IndicatorRow] = []
    problems: list[ReadProblem] = []
    for no, raw in enumerate(lines, 1):
        cells = raw.split("\t")
        for cell in cells:
            if ITEM_START_RE.search(cell):
                r, p = parse_items(cell.strip(), [_Mark(0, no)], source, unit, [(0, cells[0].strip())])
                rows += r
                problems += p
    return ReadResult(rows, problems, "guangzhou-cells")
