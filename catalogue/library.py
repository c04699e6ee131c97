"""The provincial indicator library as finance systems keep it: a table with one code a row.

An export of the library (.xlsx, .xls, .csv in UTF-8 or GBK, tab text) is read to rows of text cells
by the document readers (`readers.detect.load`, with their size limits), and its columns are found by
their usual headers (`FIELDS`: 指标编码/编码, 指标名称/名称/三级指标, 一级指标, 二级指标, 计量单位/单位,
指标解释/指标说明/指标定义, 评分标准, 是否启用/状态), whatever spaces, `*` or bracketed notes
(`指标名称（三级指标）`, `是否启用(是/否)`) they carry, or named by `--columns code=编码,name=名称`.

Each row becomes an `Occurrence` that says whether the code is in use. A row that cannot be one is
refused with one line naming the file and row (`ReadProblem`), the rest is read: a code that is not
9 digits, a code whose own digits name no class of the tree, class cells its digits contradict, a row
without a name, an enabled cell that is neither yes nor no, the same code and name again. A code with
a second name is kept with both spellings and reported (`notes`), as is a class cell that names no
class (the code's digits decide).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import _
from .classes import LEVEL1, LEVEL2, level1_of, level2_of
from .entries import CODE_RE, Occurrence
from .readers.detect import load
from .readers.table import find_column, pick_column
from .readers.zhuhai import split_code
from .records import InputError, ReadProblem


@dataclass(frozen=True)
class Field:
    key: str  # the --columns key
    headers: tuple[str, ...]  # usual headers, the preferred first


FIELDS = (
    Field("code", ("指标编码", "指标代码", "编码", "代码", "指标编号", "编号", "code")),
    Field("name", ("指标名称", "三级指标名称", "三级指标", "名称", "指标", "name")),
    Field("level1", ("一级指标", "一级指标名称", "一级分类", "level1")),
    Field("level2", ("二级指标", "二级指标名称", "二级分类", "指标类别", "level2")),
    Field("unit", ("计量单位", "单位", "度量单位", "unit")),
    Field("explanation", ("指标解释", "指标说明", "指标定义", "指标含义", "解释", "说明", "explanation")),
    Field("standard", ("评分标准", "评分规则", "计分标准", "评分方法", "standard")),
    Field("enabled", ("是否启用", "启用状态", "状态", "使用状态", "是否有效", "enabled", "status")),
)
KEYS = tuple(f.key for f in FIELDS)
REQUIRED = ("code", "name")
HEADER_ROWS = 30  # the header is looked for in this many first rows (a title row may come first)

YES = frozenset({"是", "启用", "已启用", "启用中", "有效", "正常", "在用", "使用", "使用中", "1", "y", "yes", "true",
                 "t", "√", "✓", "enabled", "active"})
NO = frozenset({"否", "停用", "已停用", "禁用", "已禁用", "无效", "失效", "已失效", "作废", "已作废", "废止", "已废止",
                "注销", "已注销", "停止使用", "不启用", "未启用", "0", "n", "no", "false", "f", "×", "✗", "disabled",
                "inactive"})

_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")


def fold(text: str) -> str:
    """Width-folded (NFKC: `（` is `(`, `，` is `,`), lower case, without spaces or `*`."""
    return re.sub(r"[\s*]", "", unicodedata.normalize("NFKC", text or "")).lower()


def header_core(text: str) -> str:
    """A header without its bracketed notes: `指标名称（三级指标）` and `是否启用(是/否)` are 指标名称
    and 是否启用."""
    return _BRACKETED.sub("", fold(text))


def parse_columns(specs: list[str] | None) -> dict[str, str]:
    """`--columns code=编码,name=名称` (the option may be repeated, `，` and `＝` work too) to
    {key: header or 1-based column number}; one line naming the mistake and the keys otherwise."""
    out: dict[str, str] = {}
    for spec in specs or []:
        for part in unicodedata.normalize("NFKC", spec).split(","):
            if not part.strip():
                continue
            key, eq, header = part.partition("=")
            key, header = key.strip().lower(), header.strip()
            if not eq or not header:
                raise InputError(_("--columns: '{part}' is not KEY=COLUMN (a header or a column number), e.g. "
                                   "code=编码,name=名称").format(part=part.strip()))
            if key not in KEYS:
                raise InputError(_("--columns: no column key '{key}'; the keys are {keys}").format(
                    key=key, keys=", ".join(KEYS)))
            if key in out:
                raise InputError(_("--columns: {key} is named twice ('{first}' and '{second}')").format(
                    key=key, first=out[key], second=header))
            out[key] = header
    return out


def enabled_of(text: str) -> bool | None:
    """True / False for a 是否启用 or 状态 cell (an empty cell: in use), None when it says neither."""
    t = fold(text)
    if not t or t in YES:
        return True
    if t in NO:
        return False
    return None


@dataclass
class LibraryRead:
    """What one library table gave: its rows as occurrences, the rows refused, the rows kept but
    reported, and where each column was found."""

    source: str
    occurrences: list[Occurrence] = field(default_factory=list)
    refused: list[ReadProblem] = field(default_factory=list)
    notes: list[ReadProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # key -> header as written


def _locate(rows: list[list[str]], given: dict[str, str], path: Path) -> tuple[int, dict[str, int]]:
    """(header row index, key -> column index) of a library table."""
    for h, row in enumerate(rows[:HEADER_ROWS]):
        header = [c.strip() for c in row]
        if not any(header):
            continue
        if all(k in given and given[k].isdigit() for k in REQUIRED) or _names_required(header, given):
            return h, _columns(header, given, path)
    wanted = "/".join(FIELDS[1].headers[:3])
    raise InputError(_("{path}: no indicator library header found in the first {n} rows (looked for a code column "
                       "such as 指标编码/编码 and a name column such as {names}); name them with "
                       "--columns code=HEADER,name=HEADER").format(path=path, n=HEADER_ROWS, names=wanted))


def _names_required(header: list[str], given: dict[str, str]) -> bool:
    """Whether this row holds the code and name headers (as given, or usual ones)."""
    cores = [header_core(c) for c in header]
    for f in FIELDS:
        if f.key not in REQUIRED:
            continue
        if f.key in given:
            g = given[f.key]
            if not g.isdigit() and fold(g) not in [fold(c) for c in header] and header_core(g) not in cores:
                return False
        elif find_column(cores, f.headers, set()) is None:
            return False
    return True


def _columns(header: list[str], given: dict[str, str], path: Path) -> dict[str, int]:
    cores = [header_core(c) for c in header]
    found: dict[str, int] = {}
    for key, g in given.items():  # named columns first: they are never taken by a usual header
        try:
            i = pick_column(header, g, str(path), key)
        except InputError:
            if header_core(g) not in cores:
                raise
            i = cores.index(header_core(g))
        if i is not None:
            found[key] = i
    taken = set(found.values())
    for f in FIELDS:
        if f.key in found:
            continue
        i = find_column(cores, f.headers, taken)
        if i is not None:
            found[f.key] = i
            taken.add(i)
    return found


def _class_of(code: str, l1_text: str, l2_text: str) -> tuple[str, str, str, str]:
    """(filed level 1, filed level 2, why the row is refused, a note) from a row's class cells against
    its code's digits: cells its digits contradict refuse it; a cell that names no class is noted (the
    digits decide)."""
    d1, d2 = code[0], code[1:3]
    f1 = level1_of(l1_text) if l1_text else ""
    f2 = level2_of(l2_text, f1 or d1) if l2_text else ""
    if (f1 and f1 != d1) or (f2 and f2 != d2):
        said = " / ".join(t for t in (l1_text, l2_text) if t)
        return f1, f2, _("code {code} is a {d1}-{n1} / {d2}-{n2} code by its digits, but the row files it under "
                         "{said}").format(code=code, d1=d1, n1=LEVEL1[d1], d2=d2, n2=LEVEL2[d2], said=said), ""
    unread = next((t for t, f in ((l1_text, f1), (l2_text, f2)) if t and not f), "")
    if unread:
        return f1, f2, "", _("class '{text}' is not a class of the indicator tree; the code's digits give "
                             "{d2}-{n2}").format(text=unread, d2=d2, n2=LEVEL2[d2])
    return f1, f2, "", ""


def _code_and_name(code_cell: str, name_cell: str) -> tuple[str, str]:
    """The code as digits (width-folded, spaces out) and the name without a repeated code: a code
    column may hold `112000272-任务达标完成率`, a name column `112000272-任务达标完成率` too."""
    code, name = unicodedata.normalize("NFKC", code_cell).replace(" ", ""), name_cell
    if not name and "-" in code:
        code, name = split_code(code)
    prefix, rest = split_code(name)
    return code, (rest if prefix and prefix == code else name)


def _code_problem(code: str, name: str) -> str:
    """Why a row's code cannot be a library code ('' when it can)."""
    if not code:
        return _("no indicator code (name '{name}')").format(name=name) if name else _("no indicator code")
    if not CODE_RE.match(code):
        return _("code '{code}' is not 9 digits (level-1 digit, 2 level-2 digits, 6-digit serial)").format(code=code)
    if code[1:3] not in LEVEL2 or code[1] != code[0]:
        return _("code {code}: its level-2 digits {d2} are not a class under level 1 {d1}").format(
            code=code, d1=code[0], d2=code[1:3])
    if not name:
        return _("code {code} has no name").format(code=code)
    return ""


def read_library(path: str | Path, columns: dict[str, str] | None = None) -> LibraryRead:
    """Read one library table (see the module docstring); InputError (one line) when the file cannot
    be read or holds no library header."""
    path = Path(path)
    _text, rows = load(path)
    given = columns or {}
    h, idx = _locate(rows, given, path)
    header = [c.strip() for c in rows[h]]
    res = LibraryRead(path.name, columns={k: header[i] if i < len(header) else str(i + 1) for k, i in idx.items()})
    seen: dict[tuple[str, str], int] = {}  # (code, name) -> its first row
    names_of: dict[str, tuple[str, int]] = {}  # code -> (its first name, that row)

    def cell(r: list[str], key: str) -> str:
        i = idx.get(key)
        return r[i].strip() if i is not None and i < len(r) else ""

    for no, r in enumerate(rows[h + 1:], h + 2):
        cells = [c.strip() for c in r]
        if not any(cells) or cells == header:  # an empty row, the header again (a second sheet)
            continue
        code, name = _code_and_name(cell(r, "code"), cell(r, "name"))
        why = _code_problem(code, name)
        f1 = f2 = note = ""
        enabled: bool | None = True
        if not why:
            f1, f2, why, note = _class_of(code, cell(r, "level1"), cell(r, "level2"))
        if not why:
            enabled = enabled_of(cell(r, "enabled"))
            if enabled is None:
                why = _("code {code}: enabled cell '{value}' is neither yes nor no (是/否, 启用/停用, 1/0)").format(
                    code=code, value=cell(r, "enabled"))
        if not why and (code, name) in seen:
            why = _("code {code} '{name}' again: a duplicate of row {first}, left out").format(
                code=code, name=name, first=seen[(code, name)])
        if why:
            res.refused.append(ReadProblem(res.source, no, why, "\t".join(r)[:120]))
            continue
        seen[(code, name)] = no
        if code in names_of and names_of[code][0] != name:
            first, at = names_of[code]
            res.notes.append(ReadProblem(res.source, no, _(
                "code {code} is named '{name}' here and '{first}' at row {at}: both kept as spellings of it").format(
                code=code, name=name, first=first, at=at)))
        names_of.setdefault(code, (name, no))
        if note:
            res.notes.append(ReadProblem(res.source, no, note))
        res.occurrences.append(Occurrence(
            code=code, name=name, source=res.source, line=no, filed_level1=f1, filed_level2=f2,
            measure_unit=cell(r, "unit"), explanation=cell(r, "explanation"), standard=cell(r, "standard"),
            enabled=enabled))
    return res
