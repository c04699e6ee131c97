"""Workbooks (.xlsx, .xlsm, WPS .et) to rows of text cells, streamed: one row at a time, never the
sheet held whole.

openpyxl reads each sheet in read-only mode (an iterparse over the sheet member, which
`zips.check_members` has inflated and counted first: the caps hold for every member read), and each
row is handed on as a list of cell texts as soon as it is read. A block merged down a column repeats
its text on every row it covers: the sheet's merged blocks are found first (a scan of the sheet's XML
in pieces) and filled in as the rows pass. A workbook of 10^6 rows is read in the memory of one row
plus the shared-string table (docs/hardening.md, "Large workbooks").
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ...i18n import _
from ..opening import quoted, read_regular
from ..records import InputError
from .cells import _trim, shown
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



class _Fills:
    """The blocks merged down a column of one sheet, filled in as its rows stream by (rows numbered
    from 1 as the sheet counts them; a row gets a block's text only when the block's first cell has
    text, and only rows that are handed on: empty rows at a sheet's end never are)."""

    def __init__(self, blocks: list[tuple[int, int, int]]):
        self.starts: dict[int, list[tuple[int, int]]] = {}
        for first, last, col in blocks:
            self.starts.setdefault(first, []).append((last, col))
        self.active: list[tuple[int, int, str]] = []  # (last row, column, text) of the blocks open

    def apply(self, number: int, cells: list[str]) -> list[str]:
        if self.active:
            self.active = [a for a in self.active if a[0] >= number]
            for _last, col, text in self.active:
                cells += [""] * (col + 1 - len(cells))
                cells[col] = text
        for last, col in self.starts.pop(number, ()):
            if col < len(cells) and cells[col]:
                self.active.append((last, col, cells[col]))
        return cells


Event = tuple[str, object]  # ("sheet", title), ("row", cells), ("end", empty rows after its last text)


def _events(path: Path, pkg: Package, cell: Callable[[object], str] | None) -> Iterator[Event]:
    """The worksheets of a checked package as they are read: each sheet's title, its rows (empty
    rows between rows with text kept, so that row numbers count every row), then how many empty
    rows it ends with. Rows, cells and characters are counted as they are read (`Budget`), row
    numbers counting on from one sheet to the next."""
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
    before = 0  # rows of the sheets before, empty ones included
    try:
        for ws in wb.worksheets:
            if not hasattr(ws, "reset_dimensions"):  # a chartsheet
                continue
            ws.reset_dimensions()  # never pad rows to a declared width or length
            member = getattr(ws, "_worksheet_path", "").lstrip("/")
            fills = _Fills(merged_down(zf, member) if member else [])
            yield "sheet", ws.title
            count = pending = 0  # rows read; empty ones not handed on until a row with text follows
            for r in ws.iter_rows():
                texts = [cell(c.value) if cell else shown(c.value, getattr(c, "number_format", None)) for c in r]
                count += 1
                cells = budget.row(_trim(texts), before + count)
                if not cells:
                    pending += 1
                    continue
                for number in range(count - pending, count):
                    yield "row", fills.apply(number, [])
                pending = 0
                yield "row", fills.apply(count, cells)
            before += count
            yield "end", pending
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


def xlsx_rows(path: Path, pkg: Package) -> Iterator[list[str]]:
    """Every row of every sheet of a workbook (its members checked: `zips.check_members`), as text
    cells, one at a time, within the limits (a sheet's empty rows at its end handed on when a sheet
    follows, so that line numbers count every row before). Closes the package when done."""
    try:
        trailing, first = 0, True
        for kind, value in _events(path, pkg, None):
            if kind == "sheet":
                if not first:
                    yield from ([] for _ in range(trailing))
                first = False
            elif kind == "row":
                yield value  # type: ignore[misc]
            else:
                trailing = value  # type: ignore[assignment]
    finally:
        pkg.zf.close()


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
        sheets: list[tuple[str, list[list[str]]]] = []
        for kind, value in _events(path, pkg, cell):
            if kind == "sheet":
                sheets.append((str(value), []))
            elif kind == "row":
                sheets[-1][1].append(value)  # type: ignore[arg-type]
        return sheets
