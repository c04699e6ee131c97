"""Tables out: indicator rows and the catalogue as CSV / XLSX / JSONL, written so that nothing read
from a document is ever executed by the program that opens the output.

The one escaping rule (`cell_text` for CSV, `put` for XLSX), applied to every cell and header:
- .xlsx (XlsxWriter, with formulas, links and numbers from strings all off): every text cell
  is stored as text, never as a formula, whatever it starts with (`=`, `+`, `-`, `@`); the text
  itself is unchanged. Characters XML cannot hold (control characters other
  than tab and newline) become U+FFFD.
- .csv: a text cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return or an apostrophe
  gets one leading apostrophe (the OWASP rule against CSV injection; the apostrophe itself is
  escaped too so that the rule can be undone): strip one leading apostrophe from a cell that starts
  with an apostrophe followed by one of those characters to get the original text back.
- .jsonl: written as is (JSON is data to every program that reads it).
"""
from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import pandas as pd

from ..i18n import _
from .files import atomic_path, check_can_replace
from .lookup import Catalogue
from .records import IndicatorRow, InputError

TABLE_SUFFIXES = (".csv", ".xlsx", ".jsonl")
STDOUT = "-"  # `-o -`: JSON Lines on standard output, for pipes (jq, pandas.read_json(lines=True))
CSV_RISKY = ("=", "+", "-", "@", "\t", "\r", "'")
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # characters XML 1.0 cannot hold


def cell_text(v):
    """A CSV cell as written: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(v, str) and v.startswith(CSV_RISKY):
        return "'" + v
    return v


def original_text(v: str) -> str:
    """Undo `cell_text`: the original text of a CSV cell indicode wrote (one leading apostrophe
    removed where `cell_text` put one)."""
    return v[1:] if isinstance(v, str) and v.startswith("'") and v[1:].startswith(CSV_RISKY) else v


def new_workbook(path: Path):
    """An XlsxWriter workbook that never turns text into formulas, links or numbers, streaming rows
    to disk (`constant_memory`) so that memory stays flat however many rows are written."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False,
                                           "nan_inf_to_errors": True})


def put(ws, row: int, col: int, v, fmt=None) -> None:
    """Write one value to a worksheet cell (0-based, as XlsxWriter counts): numbers as numbers, text
    always as text, never a formula, whatever it starts with."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
        return
    if isinstance(v, bool):
        ws.write_boolean(row, col, v, fmt)
    elif isinstance(v, (int, float)):
        ws.write_number(row, col, v, fmt)
    else:
        ws.write_string(row, col, _ILLEGAL.sub("\ufffd", v if isinstance(v, str) else str(v)), fmt)


def close_workbook(wb) -> None:
    """Finish a workbook; a disk that cannot take it is an OSError like any other failed write."""
    import errno

    from xlsxwriter.exceptions import FileCreateError

    try:
        wb.close()
    except FileCreateError as exc:
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        raise OSError(getattr(cause, "errno", errno.EIO), getattr(cause, "strerror", None) or str(exc)) from None


def check_writable(path: Path) -> None:
    """Fail before any work when the output cannot be written: a wrong suffix or a missing folder is a
    usage error (InputError), a read-only file or folder a WriteError."""
    if str(path) == STDOUT:
        return
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(_("{path}: output must end in {suffixes}").format(
            path=path, suffixes=", ".join(TABLE_SUFFIXES)))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(_("{path}: output folder {folder} does not exist").format(path=path, folder=parent))
    if path.is_dir():
        raise InputError(_("{path}: is a folder; give a file name").format(path=path))
    check_can_replace(path)


ROW_COLUMNS = [f for f in IndicatorRow.__dataclass_fields__ if f not in ("extra", "page")]  # extract's columns



def write_jsonl(fh, df: pd.DataFrame) -> None:
    """One JSON object a row; a cell a row does not have (NaN in the frame) is null, so that strict
    JSON readers (jq, JavaScript, Go) read every line."""
    for rec in df.astype(object).where(df.notna(), None).to_dict(orient="records"):
        fh.write(json.dumps(rec, ensure_ascii=False, default=str, allow_nan=False) + "\n")


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """CSV with a BOM (so that Excel reads the Chinese), CRLF rows, every cell and header escaped."""
    safe = df.map(cell_text) if len(df) else df.copy()
    safe.columns = [cell_text(str(c)) for c in df.columns]
    # CRLF rows (RFC 4180): a cell holding a lone CR is then quoted, never a row break that would
    # start the next "row" with whatever follows it
    safe.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def write_sheet(wb, name: str, df: pd.DataFrame) -> None:
    """A plain sheet: bold frozen header, then the rows, every cell through `put`."""
    ws = wb.add_worksheet(name[:31])
    bold = wb.add_format({"bold": True})
    for c, h in enumerate(df.columns):
        put(ws, 0, c, str(h), bold)
    for r, rec in enumerate(df.itertuples(index=False), 1):
        for c, v in enumerate(rec):
            put(ws, r, c, v)
    ws.freeze_panes(1, 0)


def _write_by_suffix(path: Path, to_csv: Callable[[Path], None], to_jsonl: Callable[[IO[str]], None],
                     to_xlsx: Callable[[Path], None]) -> None:
    """The one place an output file is written: `-` is JSON Lines on standard output; a file goes
    through a temp file renamed into place (an interrupted run leaves no half file), in the format
    its suffix names (.csv, .jsonl, else .xlsx)."""
    if str(path) == STDOUT:
        to_jsonl(sys.stdout)
        sys.stdout.flush()
        return
    path = Path(path)
    check_writable(path)
    with atomic_path(path) as tmp:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            to_csv(tmp)
        elif suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                to_jsonl(fh)
        else:
            to_xlsx(tmp)


def write_frames(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Tables written atomically; CSV/JSONL (and `-`, JSON Lines on standard output) take the first sheet."""
    first = next(iter(sheets.values()))

    def to_xlsx(tmp: Path) -> None:
        wb = new_workbook(tmp)
        for name, df in sheets.items():
            write_sheet(wb, name, df)
        close_workbook(wb)

    _write_by_suffix(path, lambda tmp: write_csv(tmp, first), lambda fh: write_jsonl(fh, first), to_xlsx)


def _plain(v):
    """A record's value as the streamed writers take it: NaN (a missing cell) as None."""
    return None if isinstance(v, float) and v != v else v


def write_records(path: Path, columns: list[str], records: Iterable[dict], sheet: str = "rows") -> None:
    """One table written as its records come, never held whole (a normalize or extract run of 10^6
    rows): the same formats, escaping and atomic write as `write_frames` (a CSV with a BOM and CRLF
    rows, every cell and header through `cell_text`; JSON Lines with null for a missing cell; an
    .xlsx sheet through `put`, streamed by XlsxWriter's constant-memory mode). A record's keys
    outside `columns` are not written; a column a record lacks is empty."""
    def rows():
        for rec in records:
            yield [_plain(rec.get(c)) for c in columns]

    def to_csv(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh, lineterminator="\r\n")  # CRLF rows, as `write_csv`
            out.writerow([cell_text(str(c)) for c in columns])
            out.writerows([cell_text(v) for v in row] for row in rows())

    def to_xlsx(tmp: Path) -> None:
        wb = new_workbook(tmp)
        ws = wb.add_worksheet(sheet[:31])
        bold = wb.add_format({"bold": True})
        for c, h in enumerate(columns):
            put(ws, 0, c, str(h), bold)
        for r, row in enumerate(rows(), 1):
            for c, v in enumerate(row):
                put(ws, r, c, v)
        ws.freeze_panes(1, 0)
        close_workbook(wb)

    _write_by_suffix(path, to_csv, lambda fh: _jsonl_rows(fh, columns, rows()), to_xlsx)


def _jsonl_rows(fh, columns: list[str], rows: Iterable[list]) -> None:
    for row in rows:
        fh.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False, default=str,
                            allow_nan=False) + "\n")


def entry_dict(e) -> dict:
    """A catalogue entry as lookup --json, /api/codes and the export give it; `enabled` false: a
    library disabled the code (shown, never suggested); `measure_unit`, `explanation`, `standard`:
    what the library says of it (计量单位, 指标解释, 评分标准)."""
    return {
        "code": e.code, "name": e.name, "aliases": e.aliases, "level1": e.level1, "level2": e.level2,
        "valid": e.valid, "enabled": e.enabled, "count": e.count, "filed_under": e.filed, "sources": e.sources,
        "projects": e.projects, "values": e.values, "measure_unit": e.measure_unit, "explanation": e.explanation,
        "standard": e.standard,
    }


def catalogue_frames(cat: Catalogue) -> dict[str, pd.DataFrame]:
    codes = pd.DataFrame([{**entry_dict(e), "aliases": " | ".join(e.aliases),
                           "filed_under": " | ".join(f"{k} ({v}x)" for k, v in e.filed.items()),
                           "sources": " | ".join(e.sources), "projects": " | ".join(e.projects),
                           "values": " | ".join(e.values)} for e in cat.entries.values()])
    anomalies = pd.DataFrame([a.__dict__ for a in cat.anomalies], columns=["kind", "code", "name", "detail"])
    frames = {"codes": codes, "anomalies": anomalies}
    if cat.proposed:
        frames["proposed"] = pd.DataFrame([p.__dict__ for p in cat.proposed])
    return frames
