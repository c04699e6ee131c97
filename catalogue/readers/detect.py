"""Pick the reader from a document's content (never its name) and read it to indicator rows.

Every format is first turned into rows of text cells (a text line split at its tabs, a CSV record, a
spreadsheet row, a .docx paragraph or table row, a PDF line or table row), written as tab-separated
lines, so that an export of a seed document goes through the very reader the original does. Formats
are told apart by their first bytes and, for zip packages, by the members they hold:

| content | format | reader |
| --- | --- | --- |
| zip with `xl/workbook.xml` | .xlsx / .xlsm / WPS .et | sheets.xlsx_rows (openpyxl) |
| zip with `word/document.xml` | .docx / WPS .wps | word.docx_rows (python-docx) |
| zip with `OFD.xml` | OFD (GB/T 33190) | ofd.ofd_rows (its text layer) |
| OLE2 compound file | legacy .xls / old WPS .et | sheets.xls_rows (xlrd) |
| `%PDF-` | PDF with a text layer | pdf.pdf_rows (pdfplumber) |
| anything else | text (tab table, numbered lists) or CSV | textio.decode_text, sheets.csv_rows |

WPS Office names its files .et, .wps and .dps whatever format they hold (OOXML or the older OLE2),
so they are read as what their bytes are. The file is read once, from a regular file (see
`catalogue.opening`), and every reader works on those bytes; a zip package's members are inflated and
counted (`zips.check_members`) before any library reads one.
"""
from __future__ import annotations

from pathlib import Path

from ...i18n import _
from ..opening import check_file_size, quoted, read_regular
from ..records import InputError, ReadResult
from ..textio import decode_text
from . import guangzhou, shenshan, table, zhuhai
from .limits import MAX_FILE_BYTES, MAX_TEXT_BYTES, MAX_XLS_BYTES, Budget
from .sheets import csv_rows, xls_rows, xlsx_rows
from .table import Columns
from .zips import check_members, open_package

ZIP_MAGIC = b"PK\x03\x04"
XLSX_MAGIC = ZIP_MAGIC  # learn.py tells a workbook from a CSV by it
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def other_packages() -> tuple[tuple[str, str], ...]:
    """Zip packages of other kinds, by a member they hold, with what to do."""
    return (
        ("xl/workbook.bin", _("an .xlsb binary workbook - save it as .xlsx")),
        ("ppt/presentation.xml", _("a presentation (PowerPoint .pptx or WPS .dps) - copy the indicator table "
                                   "into .xlsx or .docx")),
        ("content.xml", _("an OpenDocument file (.ods/.odt) - save it as .xlsx or .docx")),
    )


def _zip_rows(path: Path, data: bytes) -> tuple[str, list[list[str]]]:
    from .ofd import OFD_ROOT, ofd_rows
    from .word import docx_rows

    pkg = open_package(str(path), data)
    names = pkg.names
    with pkg.zf:
        if "xl/workbook.xml" in names:
            check_members(pkg, "xlsx")
            return "xlsx", xlsx_rows(path, pkg)
        if "word/document.xml" in names:
            check_members(pkg, "docx")
            return "docx", docx_rows(path, pkg)
        if OFD_ROOT in names:
            check_members(pkg, "ofd")
            return "ofd", ofd_rows(path, pkg)
    for member, what in other_packages():
        if member in names:
            raise InputError(f"{quoted(path)}: {what}")
    raise InputError(_("{path}: a zip archive that is neither an .xlsx workbook nor a .docx document "
                       "(no xl/workbook.xml or word/document.xml) - give the document itself").format(
        path=quoted(path)))


def _sniff(head: bytes) -> str:
    """zip, xls, pdf or text: what a file's first bytes say it is (a CSV may mention %PDF- later on)."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "xls"
    return "pdf" if head.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF-") else "text"


def file_kind(path: Path) -> str:
    """What `load` reads a file as: xlsx, docx, ofd (a zip package by its members; zip for another),
    xls, pdf, csv (by its suffix) or text. For a caller that writes a file back in its own format."""
    path = Path(path)
    with path.open("rb") as fh:
        kind = _sniff(fh.read(1024))
    if kind == "zip":
        import zipfile

        from .ofd import OFD_ROOT

        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
        return next((k for member, k in (("xl/workbook.xml", "xlsx"), ("word/document.xml", "docx"),
                                         (OFD_ROOT, "ofd")) if member in names), "zip")
    if kind == "text" and path.suffix.lower() == ".csv":
        return "csv"
    return kind


def load(path: Path, name_col: str | None = None) -> tuple[str, list[list[str]]]:
    """(text, rows) of a document: tab-joined text for the text readers, cells for the table reader.
    `name_col` (a header or a 1-based number) decides a CSV's delimiter when the sniffing would not
    find it."""
    path = Path(path)
    data = read_regular(path, MAX_FILE_BYTES, "document")  # a regular file, judged on its descriptor
    head = data[:1024]
    sniffed = _sniff(head)
    if sniffed != "text":
        if sniffed == "zip":
            kind, rows = _zip_rows(path, data)
        elif sniffed == "xls":
            check_file_size(path, len(data), MAX_XLS_BYTES, ".xls workbook")
            kind, rows = "xls", xls_rows(path, data)
        else:
            from .pdf import pdf_rows

            kind, rows = "pdf", pdf_rows(path, data)
        if not any(any(c.strip() for c in r) for r in rows):
            what = {"xlsx": _("workbook"), "xls": _("workbook"), "docx": _("document"), "pdf": "PDF",
                    "ofd": "OFD"}[kind]
            raise InputError(_("{path}: empty {what} (no text in it)").format(path=quoted(path), what=what))
        return "\n".join("\t".join(r) for r in rows), rows
    if head.startswith(b"PK") and path.suffix.lower() in (".xlsx", ".xlsm", ".docx", ".et", ".wps", ".ofd"):
        raise InputError(_("{path}: damaged file (not a complete zip package) - open it and save it again, or "
                           "export the table as .csv").format(path=quoted(path)))
    check_file_size(path, len(data), MAX_TEXT_BYTES, "text document")
    text = decode_text(data, str(path))
    first = [line for line in text[:1_000_000].split("\n")[:30] if line.strip()]
    is_csv = path.suffix.lower() == ".csv" or (first and all("\t" not in line for line in first)
                                                 and sum(line.count(",") >= 2 for line in first) > len(first) // 2)
    if is_csv:
        rows = csv_rows(text, str(path), name_col)
        return "\n".join("\t".join(r) for r in rows), rows
    budget = Budget(str(path))
    rows = [budget.row(line.split("\t"), no) for no, line in enumerate(text.split("\n"), 1)]
    return text, rows


def read_document(path: str | Path, columns: Columns | None = None) -> ReadResult:
    """Read any supported document to indicator rows; InputError (one line) when it cannot be."""
    path = Path(path)
    text, rows = load(path, columns.name if columns is not None else None)
    source = path.name
    given = columns is not None and columns.name is not None
    if not given:
        for mod in (zhuhai, shenshan, guangzhou):
            if mod.sniff(text):
                return mod.read(text, source)
    if table.sniff(rows, columns, str(path)):
        return table.read_rows(rows, source, columns)
    raise InputError(_("{path}: no indicator table found (not a known declaration format, and no "
                       "indicator name column such as 三级指标/指标名称; name it with --name-col)").format(
        path=quoted(path)))
