"""Spreadsheets and CSV to rows of text cells: .xlsx (openpyxl), legacy .xls (xlrd), .csv (csv).

Every reader returns the same shape, a list of rows of strings, so that the declaration readers see a
spreadsheet export exactly as they see the text it holds. Merged cells read as a person sees them: a
block merged down a column repeats its text on every row it covers (a level-1 class written once for
four indicators belongs to all four); a block merged across columns keeps its text in its first column.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ...i18n import _
from ..opening import quoted, read_regular
from ..records import InputError
from .limits import MAX_FILE_BYTES, MAX_ROWS, Budget, n
from .zips import Package, check_members, damaged, open_package

_DIM_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Za-z]*)\$?(\d*)(?::\$?([A-Za-z]*)\$?(\d*))?"')
_SHEET_RE = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="\$?([A-Za-z]+)\$?(\d+):\$?([A-Za-z]+)\$?(\d+)"')


def _col(letters: bytes) -> int:
    """`A` -> 0, `AB` -> 27."""
    k = 0
    for ch in letters.upper():
        k = k * 26 + ch - 64
    return k - 1


def merged_down(zf: zipfile.ZipFile, member: str) -> list[tuple[int, int, int]]:
    """(first row, last row, column) of each block merged down a column in a sheet (rows 1-based),
    found by scanning the sheet's XML in pieces (mergeCells follow the sheet data)."""
    found: set[tuple[int, int, int]] = set()
    try:
        with zf.open(member) as fh:
            tail = b""
            while chunk := fh.read(2**20):
                buf = tail + chunk
                for m in _MERGE_RE.finditer(buf):
                    r1, r2 = int(m.group(2)), int(m.group(4))
                    if r2 > r1:
                        found.add((r1, r2, _col(m.group(1))))
                tail = buf[-200:]
    except KeyError:
        return []
    return sorted(found)


_LATIN_BREAK = re.compile(r"(?<=[A-Za-z])\n(?=[A-Za-z])")


def cell_text(v) -> str:
    """One cell as text, on one line (tabs and line breaks inside a cell would split it)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).replace("\t", " ").replace("\r", "")
    if "\n" in text:  # lines of a wrapped cell joined again: a space only between two Latin words
        text = _LATIN_BREAK.sub(" ", text).replace("\n", "")
    return text


_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def shown(v, number_format: str | None) -> str:
    """A cell's value as the spreadsheet shows it, for the number formats declarations use: typing
    `100%` into Excel stores the number 1 formatted `0%`, and `100%` is what the document says."""
    fmt = _LITERALS.sub("", (number_format or "General").split(";")[0]).strip()
    if isinstance(v, datetime):
        if v.hour == v.minute == v.second == 0:
            return f"{v.year}年{v.month}月{v.day}日" if "年" in (number_format or "") else v.date().isoformat()
        return cell_text(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return cell_text(v)
    decimals = len(m.group(1)) if (m := re.search(r"0\.(0+)", fmt)) else 0
    if "%" in fmt:
        return f"{v * 100:.{decimals}f}%"
    if re.fullmatch(r"[#,]*0(\.0+)?", fmt):
        return format(v, f"{',' if ',' in fmt else ''}.{decimals}f")
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.15g}"  # as Excel shows it (15 significant digits), not the binary's last digits
    return cell_text(v)


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells.pop()
    return cells


def declared_rows(path: Path, zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose sheets declare more rows than indicode reads, before parsing any."""
    for name in zf.namelist():
        if not _SHEET_RE.match(name):
            continue
        with zf.open(name) as fh:
            head = fh.read(65536)
        m = _DIM_RE.search(head)
        if not m:
            continue
        last = m.group(4) or m.group(2)
        if last and int(last) > MAX_ROWS:
            raise InputError(_("{path}: workbook declares {last} rows, more than the {MAX_ROWS} indicode reads - "
                               "split it").format(path=quoted(path), last=int(last), MAX_ROWS=n(MAX_ROWS)))


def xlsx_rows(path: Path, pkg: Package) -> list[list[str]]:
    """Every row of every sheet of a workbook (its members checked: `zips.check_members`), as text
    cells, within the limits (a sheet's empty rows at its end kept when a sheet follows, so that line
    numbers count every row before)."""
    out: list[list[str]] = []
    trailing_before = 0
    for i, (_title, rows, trailing) in enumerate(_sheets(path, pkg, None)):
        if i:
            out.extend([] for _ in range(trailing_before))
        out += rows
        trailing_before = trailing
    return out


def workbook_sheets(path: Path, cell: Callable[[object], str] | None = None) -> list[tuple[str, list[list[str]]]]:
    """(sheet name, rows) of each worksheet of an .xlsx, read within the limits: the file read from a
    regular file, its members inflated and counted, the declared sheet sizes checked before parsing,
    rows and cells counted while reading (row numbers in messages count on from one sheet to the
    next, as the line numbers of `xlsx_rows`). Callers that need the sheets apart (learn reads its own
    review workbook) use this rather than openpyxl. `cell` turns a cell's value into text; by default
    the value as the sheet shows it (`shown`)."""
    pkg = open_package(str(path), read_regular(path, MAX_FILE_BYTES, "document"))
    with pkg.zf:
        if "xl/workbook.xml" not in pkg.names:
            raise InputError(_("{path}: not an .xlsx workbook (no xl/workbook.xml in the package) - save it as "
                               ".xlsx").format(path=quoted(path)))
        check_members(pkg, "xlsx")
        return [(title, rows) for title, rows, _trailing in _sheets(path, pkg, cell)]


def _sheets(path: Path, pkg: Package,
            cell: Callable[[object], str] | None) -> list[tuple[str, list[list[str]], int]]:
    """(name, rows, empty rows after the last row with text) of each worksheet of a checked package."""
    import openpyxl

    zf = pkg.zf
    declared_rows(path, zf)
    try:
        # data_only=False: a cell typed as `=100%` is kept as written rather than lost as a formula
        wb = openpyxl.load_workbook(pkg.stream(), read_only=True, data_only=False)
    except zipfile.BadZipFile as exc:
        raise damaged(str(path), str(exc)) from None
    except Exception as exc:  # openpyxl raises many types for a damaged archive
        raise InputError(_("{path}: not a readable .xlsx workbook ({name}) - open and save it again in Excel, or "
                           "export it as .csv").format(path=quoted(path), name=type(exc).__name__)) from None
    budget = Budget(str(path))
    sheets: list[tuple[str, list[list[str]], int]] = []
    before = 0  # rows of the sheets before, empty ones included
    try:
        for ws in wb.worksheets:
            if not hasattr(ws, "reset_dimensions"):  # a chartsheet
                continue
            ws.reset_dimensions()  # never pad rows to a declared width or length
            rows: list[list[str]] = []
            pending = 0  # empty rows not stored until a row with text follows (trailing ones never are)
            for r in ws.iter_rows():
                texts = [cell(c.value) if cell else shown(c.value, getattr(c, "number_format", None)) for c in r]
                cells = budget.row(_trim(texts), before + len(rows) + pending + 1)
                if not cells:
                    pending += 1
                    continue
                rows.extend([] for _ in range(pending))
                pending = 0
                rows.append(cells)
            member = getattr(ws, "_worksheet_path", "").lstrip("/")
            for r1, r2, col in merged_down(zf, member) if member else []:
                _fill_down(rows, r1 - 1, r2 - 1, col)
            before += len(rows) + pending
            sheets.append((ws.title, rows, pending))
    except InputError:
        raise
    except zipfile.BadZipFile as exc:
        raise damaged(str(path), str(exc)) from None
    except Exception as exc:
        raise InputError(_("{path}: damaged .xlsx workbook ({name} after {before} rows) - open and save it again in "
                           "Excel, or export it as .csv").format(
                             path=quoted(path), name=type(exc).__name__, before=n(before))) from None
    finally:
        wb.close()
    return sheets


def _fill_down(rows: list[list[str]], first: int, last: int, col: int) -> None:
    """Repeat the text of a block merged down a column on each row it covers (rows that were read)."""
    if first >= len(rows) or col >= len(rows[first]) or not rows[first][col]:
        return
    for i in range(first + 1, min(last, len(rows) - 1) + 1):
        rows[i] += [""] * (col + 1 - len(rows[i]))
        rows[i][col] = rows[first][col]


def xls_rows(path: Path, data: bytes) -> list[list[str]]:
    """Every row of every sheet of a legacy (BIFF) .xls workbook (or an old WPS .et, which is one)."""
    import xlrd
    from xlrd.biffh import XLRDError  # where xlrd defines it (its stubs do not re-export it from xlrd)

    if not _ole_stream(data, "Workbook") and not _ole_stream(data, "Book"):
        if _ole_stream(data, "EncryptedPackage"):
            raise InputError(_("{path}: a password-protected Office file - remove the password (or export the table "
                               "as .csv) and give that").format(path=quoted(path)))
        if _ole_stream(data, "WordDocument"):
            raise InputError(_("{path}: a document in the old Word format (.doc, or WPS .wps) - save it as "
                               ".docx").format(path=quoted(path)))
        if _ole_stream(data, "PowerPoint Document"):
            raise InputError(_("{path}: a presentation in the old PowerPoint format (.ppt, or WPS .dps) - copy the "
                               "indicator table into .xlsx or .docx").format(path=quoted(path)))
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO())
    except XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise InputError(_("{path}: a password-protected workbook - remove the password (or export the table as "
                               ".csv) and give that").format(path=quoted(path))) from None
        if "find workbook" in str(exc).lower():
            raise InputError(_("{path}: an old Office file that is not an Excel workbook (a .doc?) - save it as .docx "
                               "or .xlsx").format(path=quoted(path))) from None
        raise InputError(_("{path}: not a readable .xls workbook ({exc}) - save it as .xlsx").format(
                             path=quoted(path), exc=exc)) from None
    except Exception as exc:
        raise InputError(_("{path}: not a readable .xls workbook ({name}) - save it as .xlsx").format(
                             path=quoted(path), name=type(exc).__name__)) from None
    budget = Budget(str(path))
    rows: list[list[str]] = []
    try:
        for i in range(book.nsheets):
            sh = book.sheet_by_index(i)
            if len(rows) + sh.nrows > MAX_ROWS:
                raise InputError(_("{path}: workbook holds {value} rows, more than the {MAX_ROWS} indicode reads - "
                                   "split it").format(
                                     path=quoted(path), value=n(len(rows) + sh.nrows), MAX_ROWS=n(MAX_ROWS)))
            grid = [[_xls_cell(sh.cell(r, c), book) for c in range(sh.row_len(r))]
                    for r in range(sh.nrows)]
            for rlo, rhi, clo, _chi in sh.merged_cells:  # merged down: the text on every row
                _fill_down(grid, rlo, rhi - 1, clo)
            for cells in grid:
                rows.append(budget.row(_trim(cells), len(rows) + 1))
            book.unload_sheet(i)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(_("{path}: damaged .xls workbook ({name}) - save it as .xlsx").format(
                             path=quoted(path), name=type(exc).__name__)) from None
    finally:
        book.release_resources()
    return rows


def _ole_stream(data: bytes, name: str) -> bool:
    """Whether an OLE2 compound file names a stream (directory entries hold names in UTF-16LE)."""
    return name.encode("utf-16-le") in data


def _xls_cell(cell, book) -> str:
    import xlrd

    fmt = None
    try:
        fmt = book.format_map[book.xf_list[cell.xf_index].format_key].format_str
    except (AttributeError, IndexError, KeyError, TypeError):
        pass
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return shown(xlrd.xldate_as_datetime(cell.value, book.datemode), fmt)
        except Exception:
            return cell_text(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return str(bool(cell.value))
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return shown(cell.value, fmt)
    return cell_text(cell.value)


DELIMITERS = (",", "\t", ";")  # in order of preference when the lines do not decide


def _dialect(delimiter: str) -> type[csv.Dialect]:
    class dialect(csv.excel):  # only the delimiter is chosen: csv.Sniffer's other guesses
        pass                   # (skip spaces after a delimiter, quote with ') would change cells

    dialect.delimiter = delimiter
    return dialect


def csv_delimiter(sample: str, name_col: str | None = None) -> str:
    """The delimiter of a CSV, judged by reading its first lines with each candidate as the csv
    module reads them (quotes respected, so a cell like `=DDE("cmd";"/C calc";"x")` cannot pass its
    semicolons off as the delimiter): first, the delimiter under which the name column is a header
    (`name_col` when given, which wins over everything else, else a known name header); then the one
    that splits most lines into the same number of cells, more than one; then `,`, tab, `;`."""
    from .table import NAME_HEADERS, _norm

    wanted = {_norm(name_col)} if name_col and not name_col.isdigit() else {_norm(h) for h in NAME_HEADERS}
    best, best_score = ",", None
    for rank, d in enumerate(DELIMITERS):
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), _dialect(d)) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        widths = Counter(len(r) for r in rows)
        modal, count = widths.most_common(1)[0] if widths else (0, 0)
        if name_col and name_col.isdigit():
            named = modal >= int(name_col)
        else:
            named = any(_norm(c) in wanted for r in rows[:30] for c in r)
        score = (named, modal > 1, count if modal > 1 else 0, -rank)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def csv_rows(text: str, source: str, name_col: str | None = None) -> list[list[str]]:
    """Rows of a CSV text, its delimiter found from the first lines (`csv_delimiter`; `name_col`, the
    name column a user gave, decides it first); a field over the cap, a NUL or a broken quote is one
    line naming the row."""
    dialect = _dialect(csv_delimiter("\n".join(text[:65536].split("\n")[:50]), name_col))
    budget = Budget(source)
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[list[str]] = []
    try:
        for r in reader:
            rows.append(budget.row([cell_text(c) for c in r], reader.line_num))
    except csv.Error as exc:
        why = str(exc)
        if "field larger than field limit" in why:
            why = f"a field of more than {n(csv.field_size_limit())} characters (an unclosed quote?)"
        raise InputError(_("{source}:{line_num}: cannot read as CSV: {why} - check the quotes on that row").format(
                             source=quoted(source), line_num=reader.line_num, why=why)) from None
    return rows
