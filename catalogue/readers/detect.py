"""Pick the reader from a document's content (never its name) and read it to indicator rows.

Spreadsheets (.xlsx) and CSV files are first turned into rows of cells, written as tab-separated
lines, so that an export of a seed document goes through the very reader the original does.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..records import InputError, ReadResult
from ..textio import read_text
from . import guangzhou, shenshan, table, zhuhai
from .table import Columns

XLSX_MAGIC = b"PK\x03\x04"


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\t", " ").replace("\r", "").replace("\n", "")


def xlsx_rows(path: Path) -> list[list[str]]:
    """Every row of every sheet of a workbook, as text cells."""
    import openpyxl

    try:
        # data_only=False: a cell typed as `=100%` is kept as written rather than lost as a formula
        wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged archive
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    rows: list[list[str]] = []
    for ws in wb.worksheets:
        for r in ws.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in r])
    wb.close()
    return rows


def csv_rows(text: str) -> list[list[str]]:
    sample = "\n".join(text.split("\n")[:50])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [[_cell_text(c) for c in r] for r in csv.reader(io.StringIO(text), dialect)]


def load(path: Path) -> tuple[str, list[list[str]]]:
    """(text, rows) of a document: tab-joined text for the text readers, cells for the table reader."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a document")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == XLSX_MAGIC:
        rows = xlsx_rows(path)
        if not any(any(c.strip() for c in r) for r in rows):
            raise InputError(f"{path}: empty workbook")
        return "\n".join("\t".join(r) for r in rows), rows
    if path.suffix.lower() in (".xls", ".xlsx", ".xlsm"):
        raise InputError(f"{path}: not a readable .xlsx workbook (old .xls files: save as .xlsx)")
    text = read_text(path)
    first = [l for l in text.split("\n")[:30] if l.strip()]
    is_csv = path.suffix.lower() == ".csv" or (first and all("\t" not in l for l in first)
                                                 and sum(l.count(",") >= 2 for l in first) > len(first) // 2)
    if is_csv:
        rows = csv_rows(text)
        return "\n".join("\t".join(r) for r in rows), rows
    return text, [l.split("\t") for l in text.split("\n")]


def read_document(path: str | Path, columns: Columns | None = None) -> ReadResult:
    """Read any supported document to indicator rows; InputError (one line) when it cannot be."""
    path = Path(path)
    text, rows = load(path)
    source = path.name
    given = columns is not None and columns.name is not None
    if not given:
        for mod in (zhuhai, shenshan, guangzhou):
            if mod.sniff(text):
                return mod.read(text, source)
    if table.sniff(rows, columns, str(path)):
        return table.read_rows(rows, source, columns)
    raise InputError(f"{path}: no indicator table found (not a known declaration format, and no "
                     f"indicator name column such as 三级指标/指标名称; name it with --name-col)")



