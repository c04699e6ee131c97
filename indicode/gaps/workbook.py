"""The new-code request workbook (申请新增指标): written from mined groups or a workspace's proposals,
edited by reviewers, read back as proposals (`indicode proposals import`, `indicode learn --propose`),
and merged across offices into one ranked list for the province.

One row per requested code: 指标名称, 一级指标, 二级指标, 计量单位, 指标解释 (left for the reviewer), 使用次数,
涉及项目, 示例指标值, 成员文本 (one text a line), 申请单位, 提议人, then 涉及文件 and 临时编号 (the
provisional id, once proposed). Every cell is written as text or a number, never a formula
(`catalogue.export.put`), whatever it starts with.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..catalogue.classes import LEVEL1, LEVEL2, level2_of
from ..catalogue.export import check_writable, close_workbook, new_workbook, put
from ..catalogue.files import atomic_path
from ..catalogue.opening import open_regular
from ..catalogue.readers.detect import XLSX_MAGIC
from ..catalogue.readers.sheets import workbook_sheets
from ..catalogue.records import InputError
from ..i18n import _
from ..matcher.present import class_label
from ..workspace.provisional import PROVISIONAL_IN
from .mine import Group, cluster
from .similar import prepare, scores

SHEET, LEGEND = "申请新增指标", "说明"
H_NAME, H_L1, H_L2, H_UNIT, H_EXPLAIN = "指标名称", "一级指标", "二级指标", "计量单位", "指标解释"
H_USES, H_PROJECTS, H_EXAMPLES, H_MEMBERS = "使用次数", "涉及项目", "示例指标值", "成员文本"
H_OFFICE, H_PROPOSER, H_DOCUMENTS, H_ID = "申请单位", "提议人", "涉及文件", "临时编号"
HEADERS = [H_NAME, H_L1, H_L2, H_UNIT, H_EXPLAIN, H_USES, H_PROJECTS, H_EXAMPLES, H_MEMBERS, H_OFFICE, H_PROPOSER,
           H_DOCUMENTS, H_ID]
CODE_IN = re.compile(r"(?<!\d)\d{9}(?!\d)")  # an approved code in a 临时编号 cell
WIDTHS = {H_NAME: 30, H_L1: 12, H_L2: 16, H_EXPLAIN: 40, H_EXAMPLES: 24, H_MEMBERS: 44, H_OFFICE: 20}
LEGEND_ROWS = [
    ("用途", "目录中没有合适编码的指标，按所衡量的事项归并，申请新增编码；按使用次数排序"),
    (H_NAME, "建议的规范名称（成员文本中最有代表性的写法），可修改"),
    (H_L2, "新编码应归入的类别（如 31-服务对象满意度）；提议时必填"),
    (H_UNIT, "从指标值读出的计量单位，可修改"),
    (H_EXPLAIN, "由审核人填写指标的含义和口径"),
    (H_MEMBERS, "归入此申请的全部指标写法，每行一个；读回时每个写法都记为对此提议的决定"),
    (H_ID, "提议后由工作区给出的临时编号（如 新-HZKQ-31-0001），省级批准后换为正式编码；"
           "写作“已提议：…”的行已有待审批的提议，读回时其成员文本归入该提议，不再新建"),
    ("读回", "indicode proposals import 本文件 或 indicode learn --propose 本文件"),
]


@dataclass
class Request:
    """One requested new code."""

    name: str
    level2: str
    unit: str = ""
    explanation: str = ""
    uses: int = 0
    projects: int = 0
    documents: int = 0
    examples: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)
    proposer: str = ""
    provisional: str = ""  # the proposal it is (新-…, or the code it was approved with), once proposed
    where: str = ""  # file:sheet:row it was read from
    proposal: str = ""  # how that proposal answers (`已提议：新-HZKQ-32-0001 名称（待审批）`), when it was found so

    @property
    def level1(self) -> str:
        return self.level2[:1]


def from_group(g: Group, office: str = "", proposer: str = "") -> Request:
    """A group as a request of `office` (the applying office; default the units its documents name)."""
    return Request(g.name, g.level2, g.unit, "", g.rows, g.projects, g.documents, list(g.examples), list(g.members),
                   [office] if office else list(g.offices), proposer)


def ranked(requests: Sequence[Request]) -> list[Request]:
    return sorted(requests, key=lambda r: (-r.uses, -r.documents, -len(r.offices), r.name))


def write_requests(path: Path, requests: Sequence[Request]) -> None:
    """The workbook, atomically (a temp file renamed into place)."""
    path = Path(path)
    check_writable(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(_("{path}: the request workbook is an .xlsx file").format(path=path))
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp)
        ws = wb.add_worksheet(SHEET)
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        for c, h in enumerate(HEADERS):
            put(ws, 0, c, h, bold)
            ws.set_column(c, c, WIDTHS.get(h, 10))
        for r, q in enumerate(requests, 1):
            cells = [q.name, f"{q.level1}-{LEVEL1[q.level1]}" if q.level1 in LEVEL1 else "",
                     class_label(q.level2), q.unit, q.explanation, q.uses, q.projects, "\n".join(q.examples),
                     "\n".join(q.members), "、".join(q.offices), q.proposer, q.documents, q.proposal or q.provisional]
            for c, v in enumerate(cells):
                put(ws, r, c, v, wrap)
        ws.freeze_panes(1, 1)
        legend = wb.add_worksheet(LEGEND)
        legend.set_column(0, 0, 12)
        legend.set_column(1, 1, 80)
        for r, (k, v) in enumerate(LEGEND_ROWS):
            put(legend, r, 0, k, bold)
            put(legend, r, 1, v)
        ws.activate()
        close_workbook(wb)


def is_request_workbook(path: Path) -> bool:
    with open_regular(path) as fh:  # (a FIFO or a device: one line, never a wait)
        if fh.read(4) != XLSX_MAGIC:
            return False
    return any(name == SHEET for name, _rows in workbook_sheets(path))


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _count(raw: str, where: str, header: str) -> int:
    if not raw:
        return 0
    if not raw.isdigit():
        raise InputError(_("{where}: {header} '{value}' is not a whole number").format(
            where=where, header=header, value=raw))
    return int(raw)


def read_requests(path: Path) -> list[Request]:
    """The requests of a workbook (its 申请新增指标 sheet); a row that cannot be read is one clear line
    naming the file, the row and the problem (InputError), and nothing is read."""
    path = Path(path)
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    sheets = dict(workbook_sheets(path, cell=_text))
    if SHEET not in sheets:
        raise InputError(_("{path}: no sheet {sheet}: not a new-code request workbook").format(path=path, sheet=SHEET))
    rows = sheets[SHEET]
    if not rows:
        raise InputError(_("{path}: sheet {sheet} is empty").format(path=path, sheet=SHEET))
    head = [h.strip() for h in rows[0]]
    missing = [h for h in (H_NAME, H_L2) if h not in head]
    if missing:
        raise InputError(_("{path}: sheet {sheet} has no column {columns}").format(
            path=path, sheet=SHEET, columns="、".join(missing)))

    out = []
    for no, r in enumerate(rows[1:], 2):
        def cell(h: str, r=r) -> str:
            i = head.index(h) if h in head else None
            return r[i].strip() if i is not None and i < len(r) and r[i] else ""

        where = f"{path.name}:{SHEET}:{no}"
        name = " ".join(cell(H_NAME).split())
        if not name and not any(c.strip() for c in r):
            continue
        if not name:
            raise InputError(_("{where}: no {header}").format(where=where, header=H_NAME))
        level2 = level2_of(cell(H_L2))
        if level2 not in LEVEL2:
            raise InputError(_("{where}: {header} '{value}' is not a level-2 class (such as 31-服务对象满意度)").format(
                where=where, header=H_L2, value=cell(H_L2)))
        members = [m.strip() for m in cell(H_MEMBERS).splitlines() if m.strip()]
        provisional, label = _provisional(cell(H_ID))
        out.append(Request(name, level2, cell(H_UNIT), cell(H_EXPLAIN), _count(cell(H_USES), where, H_USES),
                           _count(cell(H_PROJECTS), where, H_PROJECTS), _count(cell(H_DOCUMENTS), where, H_DOCUMENTS),
                           [e for e in cell(H_EXAMPLES).splitlines() if e.strip()], list(dict.fromkeys(members)),
                           [o for o in cell(H_OFFICE).replace("，", "、").split("、") if o.strip()], cell(H_PROPOSER),
                           provisional, where, label))
    return out


def _provisional(raw: str) -> tuple[str, str]:
    """The 临时编号 cell: the provisional id(s) it names (`已提议：新-HZKQ-32-0001 名称（待审批）`, or as
    exported, the bare id) and the label it was written as."""
    ids = PROVISIONAL_IN.findall(raw) or CODE_IN.findall(raw)
    return ("、".join(dict.fromkeys(ids)) if ids else raw), (raw if raw.startswith("已提议") else "")


def merge(requests: Sequence[Request], canon, encode) -> list[Request]:
    """Requests of several offices as one ranked list: requests for the same thing (their names, by
    `similar.scores`, in one class) become one, with the uses, projects and documents added up and the
    members, examples and offices joined; its name is that of the most used of them."""
    if not requests:
        return []
    texts = prepare([q.name for q in requests], [""] * len(requests), canon)
    vecs = np.asarray(encode([q.name for q in requests]))
    sim = scores(texts, vecs, texts, vecs)
    out = []
    for idx in cluster(sim, [q.level2 for q in requests]):
        qs = sorted((requests[i] for i in idx), key=lambda q: -q.uses)
        units = Counter(q.unit for q in qs if q.unit)
        out.append(Request(
            qs[0].name, qs[0].level2, units.most_common(1)[0][0] if units else "",
            next((q.explanation for q in qs if q.explanation), ""), sum(q.uses for q in qs),
            sum(q.projects for q in qs), sum(q.documents for q in qs),
            list(dict.fromkeys(e for q in qs for e in q.examples))[:3],
            list(dict.fromkeys(m for q in qs for m in [q.name, *q.members])),
            sorted({o for q in qs for o in q.offices}), "、".join(dict.fromkeys(q.proposer for q in qs if q.proposer)),
            "、".join(q.provisional for q in qs if q.provisional),
            proposal=next((q.proposal for q in qs if q.proposal), "")))
    return ranked(out)
