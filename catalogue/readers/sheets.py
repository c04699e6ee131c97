"""Spreadsheets and CSV to rows of text cells: .xlsx (`xlsx`, openpyxl), legacy .xls (xlrd), .csv (csv).

Every reader returns the same shape, rows of strings, so that the declaration readers see a
spreadsheet export exactly as they see the text it holds. Merged cells read as a person sees them: a
block merged down a column repeats its text on every row it covers (a level-1 class written once for
four indicators belongs to all four); a block merged across columns keeps its text in its first column.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from ...i18n import _
from ..opening import quoted
from ..records import InputError
from .cells import _fill_down, _trim, cell_text, shown
from .limits import MAX_ROWS, Budget, n
from .xlsx import workbook_sheets, xlsx_rows

__all__ = ["cell_text", "csv_rows", "shown", "workbook_sheets", "xls_rows", "xlsx_rows", "_trim"]


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
