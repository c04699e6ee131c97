"""Pick the reader from a document's content (never its name) and read it to indicator rows.

Every format is first turned into rows of text cells (a text line split at its tabs, a CSV record, a
spreadsheet row, a .docx paragraph or table row, a PDF line or table row), written as tab-separated
lines, so that an export of a seed document goes through the very reader the original does. Formats
are told apart by their first bytes and, for zip packages, by the members they hold:

| content | format | reader |
| --- | --- | --- |
| zip with `xl/workbook.xml` | .xlsx / .xlsm | sheets.xlsx_rows (openpyxl) |
| zip with `word/document.xml` | .docx | word.docx_rows (python-docx) |
| OLE2 compound file | legacy .xls | sheets.xls_rows (xlrd) |
| `%PDF-` | PDF with a text layer | pdf.pdf_rows (pdfplumber) |
| anything else | text (tab table, numbered lists) or CSV | textio.read_text, sheets.csv_rows |
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from ..records import InputError, ReadResult
from ..textio import read_text
from . import guangzhou, shenshan, table, zhuhai
from .limits import MAX_FILE_BYTES, MAX_XLS_BYTES, Budget, check_file_size, check_zip_entries
from .sheets import csv_rows, xls_rows, xlsx_rows
from .table import Columns

ZIP_MAGIC = b"PK\x03\x04"
XLSX_MAGIC = ZIP_MAGIC  # learn.py tells a workbook from a CSV by it
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# zip packages of other kinds, named with what to do
OTHER_PACKAGES = (
    ("xl/workbook.bin", "an .xlsb binary workbook - save it as .xlsx"),
    ("ppt/presentation.xml", "a PowerPoint file - copy the indicator table into .xlsx or .docx"),
    ("content.xml", "an OpenDocument file (.ods/.odt) - save it as .xlsx or .docx"),
)


def _head(path: Path) -> tuple[bytes, int]:
    """The first bytes and the size of a file; one line when it is missing, a folder or unreadable."""
    try:
        if path.is_dir():  # (inside: a folder one may not enter raises rather than answering)
            raise InputError(f"{path}: is a folder, not a document - give the files in it")
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # /dev/zero never ends; a pipe blocks until written to
            raise InputError(f"{path}: not a regular file (a device or a pipe) - give a document file")
        with path.open("rb") as fh:
            return fh.read(1024), st.st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None


def _zip_rows(path: Path) -> tuple[str, list[list[str]]]:
    from .word import docx_rows

    check_zip_entries(path)
    try:
        zf = zipfile.ZipFile(path)
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        kind = {".docx": ".docx document", ".xlsx": ".xlsx workbook"}.get(path.suffix.lower(), ".xlsx or .docx file")
        raise InputError(f"{path}: not a readable {kind} (damaged or truncated zip: {exc}) - save it again") from None
    with zf:
        if "xl/workbook.xml" in names:
            return "xlsx", xlsx_rows(path, zf)
        if "word/document.xml" in names:
            return "docx", docx_rows(path, zf)
    for member, what in OTHER_PACKAGES:
        if member in names:
            raise InputError(f"{path}: {what}")
    raise InputError(f"{path}: a zip archive that is neither an .xlsx workbook nor a .docx document "
                     f"(no xl/workbook.xml or word/document.xml) - give the document itself")


def load(path: Path) -> tuple[str, list[list[str]]]:
    """(text, rows) of a document: tab-joined text for the text readers, cells for the table reader."""
    path = Path(path)
    head, size = _head(path)
    is_pdf = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF-")  # (a CSV may mention %PDF-)
    binary = head.startswith((ZIP_MAGIC, OLE_MAGIC)) or is_pdf
    if binary:
        check_file_size(path, size, MAX_FILE_BYTES, "document")
        if head.startswith(ZIP_MAGIC):
            kind, rows = _zip_rows(path)
        elif head.startswith(OLE_MAGIC):
            check_file_size(path, size, MAX_XLS_BYTES, ".xls workbook")
            kind, rows = "xls", xls_rows(path)
        else:
            from .pdf import pdf_rows

            kind, rows = "pdf", pdf_rows(path)
        if not any(any(c.strip() for c in r) for r in rows):
            what = {"xlsx": "workbook", "xls": "workbook", "docx": "document", "pdf": "PDF"}[kind]
            raise InputError(f"{path}: empty {what} (no text in it)")
        return "\n".join("\t".join(r) for r in rows), rows
    if head.startswith(b"PK") and path.suffix.lower() in (".xlsx", ".xlsm", ".docx"):
        raise InputError(f"{path}: not a readable {path.suffix.lower()} file (damaged zip) - save it again")
    text = read_text(path)
    first = [line for line in text[:1_000_000].split("\n")[:30] if line.strip()]
    is_csv = path.suffix.lower() == ".csv" or (first and all("\t" not in line for line in first)
                                                 and sum(line.count(",") >= 2 for line in first) > len(first) // 2)
    if is_csv:
        rows = csv_rows(text, str(path))
        return "\n".join("\t".join(r) for r in rows), rows
    budget = Budget(str(path))
    rows = [budget.row(line.split("\t"), no) for no, line in enumerate(text.split("\n"), 1)]
    return text, rows


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



