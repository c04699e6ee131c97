"""Pick the reader from a document's content (never its name) and read it to indicator rows.

Every format is first turned into rows of text cells (a text line split at its tabs, a CSV record, a
spreadsheet row, a .docx paragraph or table row, a PDF line or table row), written as tab-separated
lines, so that an export of a seed document goes through the very reader the original does. Formats
are told apart by their first bytes and, for zip packages, by the members they hold:

| content | format | reader |
| --- | --- | --- |
| zip with `xl/workbook.xml` | .xlsx / .xlsm / WPS .et | xlsx.xlsx_rows (openpyxl, streamed) |
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

from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from ...i18n import _
from ..opening import check_file_size, open_regular, quoted, read_regular
from ..records import IndicatorRow, InputError, ReadProblem, ReadResult
from ..textio import decode_text
from . import guangzhou, shenshan, table, zhuhai
from .limits import MAX_FILE_BYTES, MAX_TEXT_BYTES, MAX_XLS_BYTES, Budget
from .sheets import csv_rows, xls_rows
from .table import Columns
from .xlsx import xlsx_rows
from .zips import check_members, open_package

ZIP_MAGIC = b"PK\x03\x04"
XLSX_MAGIC = ZIP_MAGIC  # learn.py tells a workbook from a CSV by it
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEAD_ROWS = 1000  # rows with text of a workbook its format is told from (declaration forms are text documents)


def other_packages() -> tuple[tuple[str, str], ...]:
    """Zip packages of other kinds, by a member they hold, with what to do."""
    return (
        ("xl/workbook.bin", _("an .xlsb binary workbook - save it as .xlsx")),
        ("ppt/presentation.xml", _("a presentation (PowerPoint .pptx or WPS .dps) - copy the indicator table "
                                   "into .xlsx or .docx")),
        ("content.xml", _("an OpenDocument file (.ods/.odt) - save it as .xlsx or .docx")),
    )


def _zip_rows(path: Path, data: bytes) -> tuple[str, Iterable[list[str]]]:
    from .ofd import OFD_ROOT, ofd_rows
    from .word import docx_rows

    pkg = open_package(str(path), data)
    names = pkg.names
    if "xl/workbook.xml" in names:  # streamed: the rows' iterator closes the package
        try:
            check_members(pkg, "xlsx")
        except BaseException:
            pkg.zf.close()
            raise
        return "xlsx", xlsx_rows(path, pkg)
    with pkg.zf:
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
    """What `rows_of` reads a file as: xlsx, docx, ofd (a zip package by its members; zip for another),
    xls, pdf, csv (by its suffix) or text. For a caller that writes a file back in its own format."""
    path = Path(path)
    with open_regular(path) as fh:  # a regular file, judged on its descriptor (a FIFO never hangs us)
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


def _joined(rows: Iterable[list[str]]) -> str:
    return "\n".join("\t".join(r) for r in rows)


def _head(rows: Iterator[list[str]]) -> list[list[str]]:
    """The first rows of a stream, up to the HEAD_ROWS-th with text in it (all of them if fewer)."""
    head: list[list[str]] = []
    with_text = 0
    for r in rows:
        head.append(r)
        with_text += any(c.strip() for c in r)
        if with_text >= HEAD_ROWS:
            break
    return head


def rows_of(path: Path, name_col: str | None = None) -> tuple[str | None, list[list[str]], Iterator[list[str]]]:
    """A document as rows of text cells (see `_rows_of`)."""
    return _rows_of(path, name_col)[:3]


def _rows_of(path: Path, name_col: str | None = None) -> tuple[str | None, list[list[str]], Iterator[list[str]],
                                                             list[int] | None]:
    """`rows_of`, and for a PDF the index of the first row of each page (None for other formats).

    A document as rows of text cells: (its whole text joined with tabs and line breaks, or None for a
    workbook, its first rows, the rows after them). A workbook's rows stream (`xlsx.xlsx_rows`): its
    first rows, up to HEAD_ROWS with text, are read to tell its format, the rest come as they are
    read. `name_col` (a header or a 1-based number) decides a CSV's delimiter when the sniffing would
    not find it."""
    path = Path(path)
    data = read_regular(path, MAX_FILE_BYTES, "document")  # a regular file, judged on its descriptor
    head = data[:1024]
    sniffed = _sniff(head)
    starts = None
    if sniffed != "text":
        if sniffed == "zip":
            kind, rows = _zip_rows(path, data)
        elif sniffed == "xls":
            check_file_size(path, len(data), MAX_XLS_BYTES, ".xls workbook")
            kind, rows = "xls", xls_rows(path, data)
        else:
            from .pdf import pdf_pages

            kind, (rows, starts) = "pdf", pdf_pages(path, data)
        del data
        stream = iter(rows)
        first = _head(stream)
        if not any(any(c.strip() for c in r) for r in first):
            what = {"xlsx": _("workbook"), "xls": _("workbook"), "docx": _("document"), "pdf": "PDF",
                    "ofd": "OFD"}[kind]
            raise InputError(_("{path}: empty {what} (no text in it)").format(path=quoted(path), what=what))
        if kind == "xlsx":
            return None, first, stream, None
        return _joined(rows), first, stream, starts  # (a list: only a workbook streams)
    if head.startswith(b"PK") and path.suffix.lower() in (".xlsx", ".xlsm", ".docx", ".et", ".wps", ".ofd"):
        raise InputError(_("{path}: damaged file (not a complete zip package) - open it and save it again, or "
                           "export the table as .csv").format(path=quoted(path)))
    check_file_size(path, len(data), MAX_TEXT_BYTES, "text document")
    text = decode_text(data, str(path))
    lines = [line for line in text[:1_000_000].split("\n")[:30] if line.strip()]
    is_csv = path.suffix.lower() == ".csv" or (lines and all("\t" not in line for line in lines)
                                                 and sum(line.count(",") >= 2 for line in lines) > len(lines) // 2)
    if is_csv:
        rows = csv_rows(text, str(path), name_col)
        return _joined(rows), rows, iter(()), None
    budget = Budget(str(path))
    rows = [budget.row(line.split("\t"), no) for no, line in enumerate(text.split("\n"), 1)]
    return text, rows, iter(()), None


def load(path: Path, name_col: str | None = None) -> tuple[str, list[list[str]]]:
    """(text, rows) of a document, held whole: tab-joined text for the text readers, cells for the
    table reader (for a review workbook, which is small; documents are read by `stream_document`)."""
    text, first, rest = rows_of(path, name_col)
    rows = first + list(rest)
    return (text if text is not None else _joined(rows)), rows


Items = Iterator[IndicatorRow | ReadProblem]


def stream_document(path: str | Path, columns: Columns | None = None) -> tuple[str, Items]:
    """(format, indicator rows and unreadable lines) of any supported document; InputError (one line)
    when it cannot be read. A table's rows come in line order as they are read (a workbook's stream:
    only its first rows are held, to tell its format); a declaration form, a text document, comes
    whole, its rows first, then its unreadable lines."""
    path = Path(path)
    text, first, rest, starts = _rows_of(path, columns.name if columns is not None else None)
    fmt, items = _read_rows(path, text, first, rest, columns)
    return fmt, (items if starts is None else _paged(items, starts))


def _paged(items: Items, starts: list[int]) -> Items:
    """Each PDF row and problem with the page it starts on: a row's line is the 1-based row of the
    PDF's text (one text line a row, as `_joined` writes them), whichever reader read it."""
    from .pdf import page_of

    for item in items:
        item.page = page_of(starts, item.line)
        yield item


def _read_rows(path: Path, text: str | None, first: list[list[str]], rest: Iterator[list[str]],
               columns: Columns | None) -> tuple[str, Items]:
    """The format and items of a document's rows (`stream_document`)."""
    source = path.name
    given = columns is not None and columns.name is not None
    if not given:
        sniffed = text if text is not None else _joined(first)
        for mod in (zhuhai, shenshan, guangzhou):
            if mod.sniff(sniffed):
                res = mod.read(text if text is not None else _joined(chain(first, rest)), source)
                return res.format, iter([*res.rows, *res.problems])
    if table.sniff(first, columns, str(path)):
        return "table", table.stream_rows(chain(first, rest), source, columns)
    raise InputError(_("{path}: no indicator table found (not a known declaration format, and no "
                       "indicator name column such as 三级指标/指标名称; name it with --name-col)").format(
        path=quoted(path)))


def read_document(path: str | Path, columns: Columns | None = None) -> ReadResult:
    """Read any supported document to indicator rows, held whole; InputError (one line) when it cannot be."""
    fmt, items = stream_document(path, columns)
    rows: list[IndicatorRow] = []
    problems: list[ReadProblem] = []
    for item in items:
        (problems if isinstance(item, ReadProblem) else rows).append(item)  # type: ignore[arg-type]
    return ReadResult(rows, problems, fmt)
