"""Write back: the clerk's own declaration with a 指标编码 column filled for every decided row.

The decided codes go into the document as it came, nothing else changed: an .xlsx is loaded with
openpyxl, one column is added after the sheet's last column (or an existing, empty 指标编码 column is
filled), and it is saved under a new name; a legacy .xls is copied cell by cell into an .xlsx (its
values, merged cells and column widths); a CSV gets one more field per record (same delimiter). A
.docx, a PDF or a text document cannot take a column: its rows are written as a coded .xlsx.

Codes are written as Zhuhai writes them, `112000272-任务达标完成率`; a decided "no code fits" as
`无匹配`, a proposed new code as `新:CODE-名称`. A row is decided by the decision on its subject (its
text as the matcher cleans it, and its class), so one decision serves every row of that text.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .bulk import DOC_FIELDS
from .catalogue.files import atomic_path
from .catalogue.lookup import Catalogue
from .catalogue.readers.detect import file_kind, read_document
from .catalogue.readers.sheets import csv_rows
from .catalogue.records import NIL, IndicatorRow, InputError
from .catalogue.textio import read_text
from .i18n import _
from .learn import NIL_WORD, Review, read_reviewed
from .workspace.keys import subject_of

CODE_HEADER = "指标编码"
# a cell naming the indicator column: the header row the 指标编码 heading goes on
NAME_HEADINGS = ("三级指标", "指标名称", "绩效指标", "指标", "三级指标名称")


def code_cell(code: str, cat: Catalogue, proposed_name: str = "") -> str:
    """What the coded declaration says for a decision: `CODE-名称`, 无匹配, or `新:CODE-名称`."""
    if code == NIL:
        return NIL_WORD
    if proposed_name:
        return f"新:{code}-{proposed_name}"
    e = cat.get(code)
    return f"{code}-{e.name}" if e is not None else code


def subject(text: str, level2: str) -> tuple[str, str]:
    s = subject_of(text, level2)
    return s.key, s.level2


@dataclass
class Applied:
    """What a write-back did: rows of the original, rows coded, and the review's refused lines."""

    output: Path
    rows: int = 0
    coded: int = 0
    refused: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    format: str = ""


def codes_from_review(review: Review, cat: Catalogue) -> dict[tuple[str, str], str]:
    """Subject -> the cell to write, from a reviewed file's decisions."""
    return {subject(d.text, d.level2): code_cell(d.code, cat, d.proposal.name if d.proposal else "")
            for d in review.decisions}


def kind_of_file(path: Path) -> str:
    """xlsx, xls, csv, or rows (a .docx, a PDF, a text document: written as a coded .xlsx), by the
    readers' own sniff (`detect.file_kind`)."""
    kind = file_kind(Path(path))
    return kind if kind in ("xlsx", "xls", "csv") else "rows"


def write_back(original: Path, output: Path, rows: list[IndicatorRow],
               decide: Callable[[IndicatorRow], str]) -> Applied:
    """Write `original` to `output` with a 指标编码 cell for every row `decide` gives a value for
    (`rows`: the original as `read_document` reads it). The output is an .xlsx, or a CSV for a CSV
    original written to a .csv."""
    original, output = Path(original), Path(output)
    values = {r.line: v for r in rows if (v := decide(r))}
    kind = kind_of_file(original)
    if output.suffix.lower() not in (".xlsx", ".csv") or (output.suffix.lower() == ".csv" and kind != "csv"):
        raise InputError(_("{path}: the coded declaration is written as .xlsx (or .csv for a CSV original)").format(
            path=output))
    if output.resolve() == original.resolve():
        raise InputError(_("{path}: give another output file: the original is kept as it came").format(path=output))
    with atomic_path(output) as tmp:
        if kind == "xlsx":
            _xlsx(original, tmp, values)
        elif kind == "xls":
            _xls(original, tmp, values)
        elif kind == "csv" and output.suffix.lower() == ".csv":
            _csv(original, tmp, values)
        else:
            _rows_workbook(tmp, rows, values)
    return Applied(output, len(rows), len(values), format=kind)


def apply_review(reviewed: Path, original: Path, output: Path, cat: Catalogue) -> Applied:
    """`indicode apply`: the decisions of a reviewed workbook written into the original declaration."""
    review = read_reviewed(Path(reviewed), cat)
    codes = codes_from_review(review, cat)
    rows = read_document(original).rows
    done = write_back(original, output, rows, lambda r: codes.get(subject(r.name, r.level2), ""))
    done.refused, done.conflicts = review.refused, review.conflicts
    return done


# ---------------------------------------------------------------- formats


def _header_row(texts: list[list[str]], first: int) -> int | None:
    """The row (0-based, in `texts`) above `first` that heads the indicator table; with no heading
    (a text declaration laid out as lines), the row just above the first indicator, if any."""
    for i in range(first - 1, max(-1, first - 30), -1):
        cells = [c.strip() for c in texts[i]] if i < len(texts) else []
        if any(c in NAME_HEADINGS for c in cells):
            return i
    return first - 1 if first >= 1 else None


def _target_column(header: list[str] | None, width: int) -> tuple[int, bool]:
    """(1-based column for the codes, whether a heading must be written): an existing 指标编码
    column, else the first column after the sheet's last."""
    if header is not None and CODE_HEADER in [c.strip() for c in header]:
        return [c.strip() for c in header].index(CODE_HEADER) + 1, False
    return width + 1, True


def _sheet_values(lines: dict[int, str], before: int, count: int) -> dict[int, str]:
    """The values of one sheet by its own 1-based row, from the document's line numbers."""
    return {line - before: v for line, v in lines.items() if before < line <= before + count}


def _xlsx(original: Path, out: Path, values: dict[int, str]) -> None:
    import openpyxl
    from openpyxl.utils import get_column_letter

    from .catalogue.readers.sheets import shown

    # line numbers count every row of every sheet, as the reader yields them (read-only, from row 1)
    spans: list[int] = []
    with original.open("rb") as fh:
        ro = openpyxl.load_workbook(fh, read_only=True, data_only=False)
        try:
            texts_by_sheet = []
            for ws in ro.worksheets:
                if not hasattr(ws, "reset_dimensions"):
                    continue
                ws.reset_dimensions()
                texts = [[shown(c.value, getattr(c, "number_format", None)) for c in r] for r in ws.iter_rows()]
                spans.append(len(texts))
                texts_by_sheet.append(texts)
        finally:
            ro.close()
    keep_vba = original.suffix.lower() == ".xlsm"
    with original.open("rb") as fh:
        wb = openpyxl.load_workbook(fh, keep_vba=keep_vba)
    sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
    before = 0
    for ws, count, texts in zip(sheets, spans, texts_by_sheet, strict=True):
        mine = _sheet_values(values, before, count)
        before += count
        if not mine:
            continue
        h = _header_row(texts, min(mine) - 1)
        col, heading = _target_column(texts[h] if h is not None else None, ws.max_column)
        if h is not None and heading:
            _put_text(ws, h + 1, col, CODE_HEADER, like=ws.cell(h + 1, col - 1))
        for r, v in mine.items():
            cell = ws.cell(r, col)
            if cell.value in (None, ""):
                _put_text(ws, r, col, v, like=ws.cell(r, col - 1) if col > 1 else None)
        if heading:
            letter = get_column_letter(col)
            ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, 30)
    wb.save(out)


def _put_text(ws, row: int, col: int, text: str, like=None) -> None:
    """Text stored as text (never a formula), in the font and border of the cell beside it."""
    from copy import copy

    cell = ws.cell(row, col)
    cell.value = text
    cell.data_type = "s"
    if like is not None and like.has_style:
        cell.font, cell.border, cell.alignment = copy(like.font), copy(like.border), copy(like.alignment)


def _xls(original: Path, out: Path, values: dict[int, str]) -> None:
    """A legacy .xls as an .xlsx: each sheet's cells (text as text, numbers as numbers), merged cells
    and column widths, then the code column."""
    import openpyxl
    import xlrd
    from openpyxl.utils import get_column_letter

    from .catalogue.opening import read_regular
    from .catalogue.readers.limits import MAX_XLS_BYTES

    # read once more (the rows came from `read_document`, within the readers' limits), now for its formatting
    data = read_regular(original, MAX_XLS_BYTES, ".xls workbook")
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=io.StringIO())
    wb = openpyxl.Workbook()
    for blank in list(wb.worksheets):
        wb.remove(blank)
    before = 0
    for sh in book.sheets():
        ws = wb.create_sheet(sh.name[:31])
        texts = []
        for r in range(sh.nrows):
            row_texts = []
            for c in range(sh.row_len(r)):
                cell = sh.cell(r, c)
                v = cell.value
                if cell.ctype == xlrd.XL_CELL_EMPTY or cell.ctype == xlrd.XL_CELL_BLANK:
                    row_texts.append("")
                    continue
                if cell.ctype == xlrd.XL_CELL_NUMBER:
                    ws.cell(r + 1, c + 1, int(v) if float(v).is_integer() else v)
                else:
                    _put_text(ws, r + 1, c + 1, str(v))
                row_texts.append(str(v))
            texts.append(row_texts)
        for rlo, rhi, clo, chi in sh.merged_cells:
            ws.merge_cells(start_row=rlo + 1, end_row=rhi, start_column=clo + 1, end_column=chi)
        for c, info in sh.colinfo_map.items():
            ws.column_dimensions[get_column_letter(c + 1)].width = info.width / 256
        mine = _sheet_values(values, before, sh.nrows)
        before += sh.nrows
        if mine:
            h = _header_row(texts, min(mine) - 1)
            col, heading = _target_column(texts[h] if h is not None else None, max(sh.ncols, 1))
            if h is not None and heading:
                _put_text(ws, h + 1, col, CODE_HEADER)
            for r, v in mine.items():
                if ws.cell(r, col).value in (None, ""):
                    _put_text(ws, r, col, v)
    wb.save(out)


def _csv(original: Path, out: Path, values: dict[int, str]) -> None:
    """The CSV with one more field, 指标编码, in the original's delimiter; records without a code
    get an empty field only when they are the header's width or wider."""
    text = read_text(original)
    rows = csv_rows(text, str(original))
    sample = "\n".join(text[:65536].split("\n")[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = ","
    first = min(values) - 1 if values else 0
    h = _header_row(rows, first)
    header = rows[h] if h is not None else None
    col, heading = _target_column(header, max((len(r) for r in rows), default=0))
    out_rows = []
    for i, r in enumerate(rows):
        r = list(r)
        v = values.get(i + 1, "")
        if h is not None and heading and i == h:
            v = CODE_HEADER
        if v and (len(r) < col or not r[col - 1]):
            r += [""] * (col - len(r))
            r[col - 1] = v
        out_rows.append(r)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerows(out_rows)


def _rows_workbook(out: Path, rows: list[IndicatorRow], values: dict[int, str]) -> None:
    """A .docx / PDF / text declaration as a coded .xlsx of its rows: 来源, 行号 (and 页码 for a PDF),
    its own fields (a table's own cells), then 指标编码."""
    from .catalogue.export import close_workbook, new_workbook, put
    from .review_sheet import page_header

    paged = any(r.page is not None for r in rows)

    heads: list[str] = []
    cells_of = []
    for r in rows:
        cells = dict(r.extra) if r.extra else {h: getattr(r, a) for a, h in DOC_FIELDS if a != "code"}
        if not r.extra:
            cells["三级指标"] = f"{r.code}-{r.name}" if r.code else r.name
        cells_of.append(cells)
        heads += [h for h in cells if h not in heads and h != CODE_HEADER]
    wb = new_workbook(out)
    ws = wb.add_worksheet("指标")
    bold = wb.add_format({"bold": True})
    where = ["来源", "行号"] + ([page_header()] if paged else [])
    for c, h in enumerate([*where, *heads, CODE_HEADER]):
        put(ws, 0, c, h, bold)
    for i, (r, cells) in enumerate(zip(rows, cells_of, strict=True), 1):
        line = [r.source, r.line] + ([r.page] if paged else []) + [cells.get(h, "") for h in heads]
        for c, v in enumerate(line + [values.get(r.line, "")]):
            put(ws, i, c, v)
    ws.set_column(len(heads) + len(where), len(heads) + len(where), 30)
    close_workbook(wb)
