"""Plain indicator tables (.csv / .xlsx exports, or tab text): one indicator a row, columns by header.

The name column is found by header (三级指标, 指标名称, 绩效指标, name …) or given by option; code, class
and value columns are optional. A name cell may carry its code (`112000272-任务达标完成率`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice

from ...i18n import _
from ..classes import resolve
from ..opening import quoted
from ..records import IndicatorRow, InputError, ReadProblem, ReadResult
from .zhuhai import split_code

NAME_HEADERS = ("三级指标", "指标名称", "绩效指标名称", "绩效指标", "三级指标名称", "indicator", "name", "指标")
CODE_HEADERS = ("指标编码", "指标代码", "编码", "代码", "code")
LEVEL2_HEADERS = ("二级指标", "level2", "class", "二级指", "指标类别")
LEVEL1_HEADERS = ("一级指标", "level1")
VALUE_HEADERS = ("实施周期指标值", "目标值", "指标值", "value", "年度指标值")
YEAR_HEADERS = ("年度指标值",)
UNIT_HEADERS = ("用款单位", "部门", "申请单位", "单位", "unit")
PROJECT_HEADERS = ("项目名称", "project")
EXPL_HEADERS = ("指标解释", "explanation")


@dataclass
class Columns:
    """Options naming columns by header text or by 1-based number; None means find by header."""

    name: str | None = None
    code: str | None = None
    level2: str | None = None
    value: str | None = None


def _norm(h: str) -> str:
    return re.sub(r"[\s*＊()（）]", "", h).lower()


def find_column(header: list[str], wanted: tuple[str, ...], taken: set[int]) -> int | None:
    """The column whose header is one of `wanted` (the first of them present wins), not in `taken`."""
    normed = [_norm(h) for h in header]
    for w in wanted:  # exact header first, in order of preference
        for i, h in enumerate(normed):
            if i not in taken and h == _norm(w):
                return i
    return None


def pick_column(header: list[str], given: str | None, source: str, what: str) -> int | None:
    """The column a user named, by its header or its 1-based number; InputError when there is none."""
    if given is None:
        return None
    if given.isdigit() and 1 <= int(given) <= len(header):
        return int(given) - 1
    normed = [_norm(h) for h in header]
    if _norm(given) in normed:
        return normed.index(_norm(given))
    raise InputError(_("{source}: no column '{given}' for the {what} (headers: {headers})").format(
        source=quoted(source), given=given, what=what, headers=", ".join(h for h in header if h)))


def find_header(rows: list[list[str]], cols: Columns, source: str = "") -> int | None:
    """Index of the header row: the first of the first 30 rows holding a name column."""
    for i, r in enumerate(rows[:30]):
        if cols.name is not None:
            if (cols.name.isdigit() and any(c.strip() for c in r)) or _norm(cols.name) in [_norm(c) for c in r]:
                return i
        elif find_column(r, NAME_HEADERS, set()) is not None:
            return i
    if cols.name is not None and not cols.name.isdigit():
        raise InputError(_("{source}: no column '{name}' for the indicator name in the first 30 rows").format(
                             source=quoted(source), name=cols.name))
    return None


def read_rows(rows: list[list[str]], source: str, cols: Columns | None = None) -> ReadResult:
    """The indicator rows and unreadable lines of a table, held whole (see `stream_rows`)."""
    out: list[IndicatorRow] = []
    problems: list[ReadProblem] = []
    for item in stream_rows(rows, source, cols):
        (problems if isinstance(item, ReadProblem) else out).append(item)  # type: ignore[arg-type]
    return ReadResult(out, problems, "table")


def _indexes(header: list[str], cols: Columns, source: str) -> dict[str, int | None]:
    """The column of each field: named by option, else found by header."""
    idx: dict[str, int | None] = {}
    taken: set[int] = set()
    for key, given, wanted in (("name", cols.name, NAME_HEADERS), ("code", cols.code, CODE_HEADERS),
                               ("level2", cols.level2, LEVEL2_HEADERS), ("value", cols.value, VALUE_HEADERS),
                               ("level1", None, LEVEL1_HEADERS), ("year", None, YEAR_HEADERS),
                               ("unit", None, UNIT_HEADERS), ("project", None, PROJECT_HEADERS),
                               ("expl", None, EXPL_HEADERS)):
        i = pick_column(header, given, source, key) if given is not None else find_column(header, wanted, taken)
        idx[key] = i
        if i is not None:
            taken.add(i)
    return idx


def stream_rows(rows: Iterable[list[str]], source: str,
                cols: Columns | None = None) -> Iterator[IndicatorRow | ReadProblem]:
    """The indicator rows of a table and the lines that could not be read, in line order, as the
    rows come (a workbook's rows stream: only the first 30 are held, to find the header). The header
    is found, and a column named by option checked, before the first row is read (InputError)."""
    cols = cols or Columns()
    it = iter(rows)
    head = list(islice(it, 30))
    h = find_header(head, cols, source)
    if h is None:
        raise InputError(_("{source}: no indicator name column found (looked for a header such as {value}; name it "
                           "with --name-col)").format(source=quoted(source), value='/'.join(NAME_HEADERS[:4])))
    header = [c.strip() for c in head[h]]
    return _table_rows(chain(head[h + 1:], it), h + 2, header, _indexes(header, cols, source), source)


def _table_rows(rows: Iterator[list[str]], start: int, header: list[str], idx: dict[str, int | None],
                source: str) -> Iterator[IndicatorRow | ReadProblem]:
    carry = {"unit": "", "project": "", "level1": "", "level2": ""}
    keys = tuple(hdr or f"col{i + 1}" for i, hdr in enumerate(header))  # one tuple for every row's cells

    def cell(r: list[str], key: str) -> str:
        i = idx.get(key)
        return r[i].strip() if i is not None and i < len(r) else ""

    for no, r in enumerate(rows, start):
        if not any(c.strip() for c in r):
            continue
        if [c.strip() for c in r] == header:  # repeated header block
            continue
        for key in carry:  # level and project cells are often written on a group's first row only
            if cell(r, key):
                carry[key] = cell(r, key)
        raw_name = cell(r, "name")
        if not raw_name:
            if any(cell(r, k) for k in ("code", "value")):
                yield ReadProblem(source, no, "row has no indicator name", "\t".join(r)[:120])
            continue
        code, name = split_code(raw_name)
        code = cell(r, "code") or code
        l1, l2 = resolve(carry["level1"], carry["level2"])
        year = cell(r, "year") if idx["year"] != idx["value"] else ""
        yield IndicatorRow(
            source=source, line=no, name=name, unit=carry["unit"], project=carry["project"],
            level1=l1, level2=l2, level1_text=carry["level1"], level2_text=carry["level2"], code=code,
            value_period=cell(r, "value"), value_year=year, explanation=cell(r, "expl"),
            extra=dict(zip(keys, r[:len(keys)] + [""] * (len(keys) - len(r)), strict=True)),
        )
        if not l2 and carry["level2"]:  # after its row, as normalize lists them
            yield ReadProblem(source, no, f"unknown class '{carry['level2']}'", "\t".join(r)[:120])


def sniff(rows: list[list[str]], cols: Columns | None = None, source: str = "") -> bool:
    return find_header(rows, cols or Columns(), source) is not None

