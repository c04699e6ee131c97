"""The normalized output as files: a workbook a reviewer can live in, or CSV / JSONL.

The workbook speaks the reviewer's language; CSV and JSONL keep the stable English record keys
(`decision`, `code`, `reviewer_code` …) for programs. Sheets:
- 逐行审核: every row, in input order. First the indicator and the decision to make (来源, 行号, 指标,
  类别, 建议, 审核, 编码, 名称, 分数, 说明, 备选…), then the row's original cells. 审核 has a
  dropdown per row: its candidate codes as `CODE-名称`, 确认 (take the suggested code) and 无匹配.
- 按文本审核: each distinct (indicator, class) once, with how many rows carry it; a decision here
  serves every one of those rows (`indicode learn` applies it to the text).
- 说明: the colour legend and what to write; 汇总: rows and decisions per file, settings.
Every cell goes through `export.put`: text is stored as text, never as a formula. Files are written
to a temporary name and renamed when complete.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .bulk import OUT_COLUMNS, PLACE_KEYS, NormalizeResult, Spool, columns_in_order
from .catalogue.export import STDOUT, check_writable, close_workbook, new_workbook, put, write_records
from .catalogue.files import atomic_path
from .i18n import CHINESE, _, use_language
from .learn import (
    ACCEPT_ALL_LABEL,
    CONFIRM_WORD,
    DISTINCT_SHEET,
    H_CLASS,
    H_CODE,
    H_DECISION,
    H_LINE,
    H_NAME,
    H_NOTE,
    H_PROJECT,
    H_REVIEW,
    H_ROWS,
    H_SCORE,
    H_SOURCE,
    H_TEXT,
    H_WHY,
    LEGEND_SHEET,
    NIL_WORD,
    OPTIONS_SHEET,
    ROWS_SHEET,
    SUMMARY_SHEET,
)
from .matcher.present import check_words
from .matcher.results import Verdict
from .workspace.provisional import PROVISIONAL_IN

# keyed by the decision word a record carries (a Verdict, or its string read back from a file)
FILLS: dict[str, str] = {Verdict.ACCEPT: "C6EFCE", Verdict.REVIEW: "FFEB9C", Verdict.NO_MATCH: "FFC7CE"}
REVIEW_FILL = "BDD7EE"
DECISION_WORDS: dict[str, str] = {Verdict.ACCEPT: "建议采用", Verdict.REVIEW: "需复核", Verdict.NO_MATCH: "无匹配"}
ANOMALY_WORDS = {"filed-class-mismatch": "归类不一致", "code-digits-disagree": "编码类别位自相矛盾",
                 "one-code-many-names": "一码多名", "one-name-many-codes": "一名多码", "malformed-code": "编码格式错误"}
ALT_COLS = [c for c in OUT_COLUMNS if c.startswith("alt")]
ALT_HEADERS = [f"备选{i}" for i in range(1, len(ALT_COLS) + 1)]
INLINE_LIMIT = 255  # characters Excel allows in an inline list of a data validation
ALT_RE = re.compile(r"^(.*?)\s*\((\d+(?:\.\d+)?)\)$")


# ---------------------------------------------------------------- words

def _check_words(item: str) -> str:
    item = item.strip()
    if item == "ok":
        return "编码核对无误"
    if item == "unknown code":
        return "目录中无此编码"
    m = re.match(r"malformed code \((\d+) digits, expected 9\)", item)
    if m:
        return f"编码格式错误（{m.group(1)} 位，应为 9 位）"
    m = re.match(r"name differs from catalogue (「.*」)", item)
    if m:
        return f"名称与目录不同（目录为{m.group(1)}）"
    m = re.match(r"catalogue anomaly: (\S+)", item)
    if m:
        return "编码异常：" + ANOMALY_WORDS.get(m.group(1), m.group(1))
    return item


def explain(rec: dict) -> str:
    """The reviewer's 说明 of one record, in words."""
    reason, decision = rec.get("reason", ""), rec.get("decision", "")
    score = rec.get("score")
    parts = []
    if reason == "unreadable":
        parts.append(f"此行无法完整读取（{rec.get('check', '')}），请对照原文件")
    elif reason == "written code":
        parts += ["文件自带编码"] + [_check_words(c) for c in str(rec.get("check") or "ok").split(";")]
    elif reason == "learned":
        parts.append("按审核人此前的决定" + ("（无匹配）" if decision == Verdict.NO_MATCH else ""))
    elif reason == "empty":
        parts.append("指标名称为空")
    elif decision == Verdict.ACCEPT:
        parts.append(f"建议采用：匹配得分 {score:.2f}")
    elif decision == Verdict.REVIEW:
        parts.append(f"需复核：得分 {score:.2f}，请确认或从下拉中选其他编码")
    elif decision == Verdict.NO_MATCH:
        parts.append("无匹配：目录中没有衡量同一事项的编码")
    elif reason:
        parts.append(str(reason))
    if rec.get("proposal"):  # a proposed code it fits: named, never taken as accepted
        parts.append(str(rec["proposal"]))
    if reason not in ("unreadable", "written code"):  # a matched row: what the matcher flags (check_items)
        with use_language(CHINESE):
            parts += [check_words(c) for c in str(rec.get("check") or "").split(";") if c.strip()]
    if rec.get("new_code_class"):
        parts.append(f"新编码应归入 {rec['new_code_class']}")
    flag = str(rec.get("class_flag") or "")
    m = re.match(r"document (\S+), code (\S+)", flag)
    if m:  # where the reviewer looks first
        parts.insert(0, f"归类不一致：文件为 {m.group(1)}，编码为 {m.group(2)}")
    elif flag:
        parts.insert(0, flag)
    return "；".join(parts)


def options(rec: dict) -> list[str]:
    """The dropdown of one record: its candidate codes as `CODE-名称`, then 确认 and 无匹配."""
    codes = []
    if rec.get("code"):
        codes.append(f"{rec['code']}-{rec.get('code_name') or ''}".rstrip("-"))
    for col in ALT_COLS:
        alt = str(rec.get(col) or "")
        m = ALT_RE.match(alt)
        if alt:
            codes.append(m.group(1) if m else alt)
    if not rec.get("indicator"):
        return []
    proposed = PROVISIONAL_IN.findall(str(rec.get("proposal") or ""))  # the pending proposal it fits
    return list(dict.fromkeys(codes)) + proposed + [CONFIRM_WORD, NIL_WORD]


# ---------------------------------------------------------------- the workbook

def summary_rows(res: NormalizeResult, about: dict[str, str]) -> list[tuple[str, str, str]]:
    """The 汇总 sheet's rows; `about`'s keys are catalogue messages (English source, said in Chinese)."""
    every = "全部文件"
    rows = [(every, "行数", str(len(res.records)))]
    rows += [(every, DECISION_WORDS[d], str(res.decisions.get(d, 0))) for d in FILLS]
    rows += [(every, "不同文本（各匹配一次）", str(res.unique)), (every, "新编码的文本（未缓存）", str(res.encoded)),
             (every, "用时（秒）", f"{res.seconds:.2f}")]
    for f in res.files:
        if f.error:
            rows.append((f.source, "错误", f.error))
            continue
        rows.append((f.source, f"行数（{f.format}）", str(f.rows)))
        rows += [(f.source, DECISION_WORDS[d], str(f.decisions.get(d, 0))) for d in FILLS]
        rows += [(f.source, "无法读取的行", str(p) if p.page is None else
                  f"{place({'source': p.source, 'page': p.page})}: {p.why}") for p in f.problems]
    with use_language(CHINESE):  # the workbook is Chinese whatever the command line's language
        rows += [("设置", _(k), v) for k, v in about.items()]
    return rows


def write_result(path: Path, res: NormalizeResult, about: dict[str, str]) -> None:
    cols = columns_in_order(res.records)
    if str(path) == STDOUT or Path(path).suffix.lower() != ".xlsx":
        write_records(path, cols, res.records)  # streamed: the records are read back as they are written
        return
    check_writable(path)
    with atomic_path(path) as tmp:
        write_workbook(tmp, res.records, cols, summary_rows(res, about))


class _Options:
    """Where a dropdown's list lives: inline when Excel's 255 characters allow (and no item holds a
    comma or a quote), else a row of the hidden 选项 sheet (one row per distinct list, reused)."""

    def __init__(self, ws):
        self.ws = ws
        self.rows = 0
        self.sources: dict[tuple[str, ...], object] = {}

    def source(self, items: tuple[str, ...]):
        if items not in self.sources:
            inline = ",".join(items)
            if len(inline) <= INLINE_LIMIT and not any("," in i or '"' in i for i in items):
                self.sources[items] = list(items)
            else:
                from xlsxwriter.utility import xl_rowcol_to_cell

                r, self.rows = self.rows, self.rows + 1
                for c, item in enumerate(items):
                    put(self.ws, r, c, item)
                first = xl_rowcol_to_cell(r, 0, row_abs=True, col_abs=True)
                last = xl_rowcol_to_cell(r, len(items) - 1, row_abs=True, col_abs=True)
                self.sources[items] = f"='{OPTIONS_SHEET}'!{first}:{last}"
        return self.sources[items]


class _Dropdowns:
    """The 审核 dropdowns of a sheet: one data validation per distinct list of options, covering
    every cell that offers it."""

    def __init__(self, options: _Options):
        self.options = options
        self.cells: dict[tuple[str, ...], list[str]] = {}

    def add(self, cell: str, items: list[str]) -> None:
        if items:
            self.cells.setdefault(tuple(items), []).append(cell)

    def write(self, ws) -> None:
        from xlsxwriter.utility import xl_cell_to_rowcol

        for items, cells in self.cells.items():
            row, col = xl_cell_to_rowcol(cells[0])
            ws.data_validation(row, col, row, col, {
                "validate": "list", "source": self.options.source(items), "ignore_blank": True, "dropdown": True,
                "multi_range": " ".join(cells), "error_type": "warning", "error_title": "不在候选中",
                "error_message": "也可以写其他编码（CODE 或 CODE-名称）、确认、无匹配，或 新:CODE-名称 提议新编码。",
                "input_title": "审核",
                "input_message": "选一个候选编码，或 确认（采用建议编码）、无匹配（没有合适的编码）"})


WIDTHS = {H_SOURCE: 16, H_LINE: 6, H_TEXT: 34, H_PROJECT: 20, H_CLASS: 6, H_DECISION: 9, H_REVIEW: 30, H_NOTE: 16,
          H_CODE: 11, H_NAME: 28, H_SCORE: 6, H_WHY: 46, H_ROWS: 6}
# the columns of both decision sheets after the indicator (逐行审核 adds 来源 and 行号 before, the
# row's own cells after; 按文本审核 adds 行数 after 类别 and where the text occurs at the end)
REVIEW_HEAD = [H_TEXT, H_PROJECT, H_CLASS, H_DECISION, H_REVIEW, H_NOTE, H_CODE, H_NAME, H_SCORE, H_WHY] + ALT_HEADERS
PROJECT_KEYS = ("项目名称", "项目名称 (input)", "项目", "project")


def _header(wb, ws, names: list[str], widths: Mapping[str, float], rows: int) -> None:
    """Header row (the 审核 column blue, with a note), widths, frozen panes up to 指标, filters."""
    bold = wb.add_format({"bold": True, "valign": "vcenter"})
    review = wb.add_format({"bold": True, "valign": "vcenter", "bg_color": "#" + REVIEW_FILL})
    for c, h in enumerate(names):
        ws.set_column(c, c, widths.get(h, 14))
        put(ws, 0, c, h, review if h == H_REVIEW else bold)
        if h == H_REVIEW:
            ws.write_comment(0, c, "在此列审核：从下拉中选候选编码、确认 或 无匹配；也可写编码或 新:CODE-名称。"
                                   "颜色说明见“说明”工作表。", {"author": "indicode"})
    ws.freeze_panes(1, names.index(H_TEXT) + 1 if H_TEXT in names else 0)
    ws.autofilter(0, 0, max(rows, 1), len(names) - 1)


def _review_cells(rec: dict) -> dict[str, object]:
    """The cells of one record under the decision sheets' headers (审核 and 备注 left for the reviewer)."""
    score = rec.get("score")
    decision = rec.get("decision", "")
    return {H_TEXT: rec.get("indicator", ""), H_PROJECT: next((rec[k] for k in PROJECT_KEYS if rec.get(k)), ""),
            H_CLASS: rec.get("class", ""), H_DECISION: DECISION_WORDS.get(decision, decision), H_REVIEW: "",
            H_NOTE: "", H_CODE: rec.get("code", ""), H_NAME: rec.get("code_name", ""),
            H_SCORE: None if score is None or (isinstance(score, float) and pd.isna(score)) else round(float(score), 2),
            H_WHY: explain(rec), **{h: rec.get(c, "") for h, c in zip(ALT_HEADERS, ALT_COLS, strict=True)}}


def _rows_sheet(wb, ws, records: list[dict] | Spool, head: list[str], original: list[str], fills: dict,
                lists: _Options) -> None:
    """逐行审核: every row with its suggestion, the reviewer's dropdown in 审核."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    review_col = head.index(H_REVIEW)
    paged = head[2] == page_header()
    _header(wb, ws, head, {**WIDTHS, page_header(): 6}, len(records))
    drops = _Dropdowns(lists)
    for r, rec in enumerate(records, 1):
        fmt = fills.get(rec.get("decision", ""))
        cells = _review_cells(rec)
        values = [rec.get("source", ""), rec.get("line", "")] + ([rec.get("page")] if paged else []) + \
            [cells[h] for h in REVIEW_HEAD] + [rec.get(c) for c in original]
        for c, v in enumerate(values):
            put(ws, r, c, v, fmt)
        drops.add(xl_rowcol_to_cell(r, review_col), options(rec))
    drops.write(ws)


def page_header() -> str:
    """The 逐行审核 column of the page a PDF row starts on (页码), written only when some row has one."""
    with use_language(CHINESE):
        return _("Page")


def place(rec: dict) -> str:
    """Where a row is, for a reader: `文件.pdf 第3页` for a PDF row, `file:line` for any other."""
    if rec.get("page") is None or (isinstance(rec["page"], float) and pd.isna(rec["page"])):
        return f"{rec.get('source', '')}:{rec.get('line', '')}"
    with use_language(CHINESE):
        return _("{source} page {page}").format(source=rec.get("source", ""), page=int(rec["page"]))


class _Group:
    """The rows of one distinct (indicator, class), as 按文本审核 shows them: the first row's record,
    how many rows, where the first five are, whether their suggestions differ."""

    def __init__(self, first: dict):
        self.first, self.rows, self.differ = first, 0, False
        self.where: list[str] = []

    def add(self, rec: dict) -> _Group:
        self.rows += 1
        if len(self.where) < 5:
            self.where.append(place(rec))
        self.differ = self.differ or (rec.get("decision"), rec.get("code")) != (self.first.get("decision"),
                                                                                self.first.get("code"))
        return self


def _distinct_sheet(wb, ws, records: Iterable[dict], head: list[str], fills: dict, lists: _Options) -> None:
    """按文本审核: one row per distinct (indicator, class), the first row's suggestion."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    groups: dict[tuple[str, str], _Group] = {}  # what the sheet says of a text's rows, not the rows
    for rec in records:
        if rec.get("indicator"):
            groups.setdefault((rec["indicator"], rec.get("class", "")), _Group(rec)).add(rec)
    review_col = head.index(H_REVIEW)
    _header(wb, ws, head, {**WIDTHS, H_SOURCE: 40}, len(groups))
    drops = _Dropdowns(lists)
    for r, group in enumerate(groups.values(), 1):
        first = group.first
        cells = _review_cells(first)
        if group.differ:
            cells[H_WHY] = f"{cells[H_WHY]}；各行建议不同，见逐行审核"
        cells[H_ROWS] = group.rows
        cells[H_SOURCE] = "、".join(group.where) + ("…" if group.rows > 5 else "")
        fmt = fills.get(first.get("decision", ""))
        for c, v in enumerate(cells[h] for h in head):
            put(ws, r, c, v, fmt)
        drops.add(xl_rowcol_to_cell(r, review_col), options(first))
    drops.write(ws)


LEGEND = [("颜色 / 写法", "含义", None),
          ("绿色", "建议采用：得分高，可直接确认", FILLS[Verdict.ACCEPT]),
          ("黄色", "需复核：请确认或从下拉中选其他编码", FILLS[Verdict.REVIEW]),
          ("红色", "无匹配：目录中没有衡量同一事项的编码（说明列给出新编码应归入的类别）", FILLS[Verdict.NO_MATCH]),
          ("蓝色表头「审核」", "审核人填写的列", REVIEW_FILL),
          ("候选 CODE-名称", "采用这个编码（也可直接写 9 位编码）", None),
          (CONFIRM_WORD, "采用「编码」列的建议编码；无建议时等于无匹配", None),
          (NIL_WORD, "没有合适的编码", None),
          ("新:CODE-名称", "提议新编码（记为“提议”，不与目录编码混同）", None),
          ("按文本审核", "每个不同的指标文本一行：在此审核一次，即适用于该文本的全部行", None),
          ("备注", "审核人的说明（如 不知道，请科长定），随决定一起保存", None),
          ("编码 列", "只读：改动它不会被读取（读回时逐行报告）；决定请写在「审核」列", None),
          ("读回", "indicode learn 本文件 --reviewer 姓名", None)]


def _legend_sheet(wb, ws) -> None:
    """说明: the colour legend and what to write."""
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 80)
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for r, (a, b, colour) in enumerate(LEGEND):
        first_fmt = wb.add_format({"text_wrap": True, "valign": "top", "bold": r == 0,
                                   **({"bg_color": "#" + colour} if colour else {})})
        put(ws, r, 0, a, first_fmt)
        put(ws, r, 1, b, wb.add_format({"bold": True}) if r == 0 else wrap)
    r = len(LEGEND) + 1  # accept every 建议采用 at once: 是 in the blue cell beside the label
    put(ws, r, 0, ACCEPT_ALL_LABEL, wb.add_format({"bold": True, "bg_color": "#" + REVIEW_FILL}))
    put(ws, r, 1, "在 C 列写 是：每个「建议采用」且「审核」为空的行都按建议编码确认（已写审核的行不变）", wrap)
    ws.set_column(2, 2, 8)
    ws.data_validation(r, 2, r, 2, {"validate": "list", "source": ["是", "否"], "ignore_blank": True})
    put(ws, r, 2, "", wb.add_format({"bg_color": "#" + REVIEW_FILL, "border": 1}))


def _summary_sheet(wb, ws, summary: list[tuple[str, str, str]]) -> None:
    """汇总: what was read and decided, and what with."""
    bold = wb.add_format({"bold": True})
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 60)
    for c, h in enumerate(("范围", "项目", "值")):
        put(ws, 0, c, h, bold)
    for r, row in enumerate(summary, 1):
        for c, v in enumerate(row):
            put(ws, r, c, v)


def write_workbook(path: Path, records: list[dict] | Spool, cols: list[str],
                   summary: list[tuple[str, str, str]]) -> None:
    wb = new_workbook(path)
    rows_ws = wb.add_worksheet(ROWS_SHEET)
    distinct_ws = wb.add_worksheet(DISTINCT_SHEET)
    legend_ws = wb.add_worksheet(LEGEND_SHEET)
    summary_ws = wb.add_worksheet(SUMMARY_SHEET)
    opts_ws = wb.add_worksheet(OPTIONS_SHEET)
    opts_ws.hide()
    fills = {k: wb.add_format({"bg_color": "#" + v}) for k, v in FILLS.items()}
    original = [c for c in cols if c not in OUT_COLUMNS and c not in PLACE_KEYS]
    lists = _Options(opts_ws)
    where = [H_SOURCE, H_LINE] + ([page_header()] if "page" in cols else [])  # 页码 only when a PDF was read
    _rows_sheet(wb, rows_ws, records, where + REVIEW_HEAD + original, original, fills, lists)
    distinct_head = REVIEW_HEAD[:3] + [H_ROWS] + REVIEW_HEAD[3:] + [H_SOURCE]
    _distinct_sheet(wb, distinct_ws, records, distinct_head, fills, lists)
    _legend_sheet(wb, legend_ws)
    _summary_sheet(wb, summary_ws, summary)
    rows_ws.activate()
    close_workbook(wb)
