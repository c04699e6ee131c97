"""How much of a document indicode reads, checked before and while parsing.

A declaration has tens to a few thousand rows; these caps are far above that and far below what
would exhaust a small machine. Archives (.xlsx, .docx, OFD) are inflated and counted before any
library reads them (`zips.check_members`: their directory is not believed); the declared sheet
dimension is read from the first bytes of the sheet; rows, cells and characters are counted as
they are read. Going over any cap is an InputError: one line naming the file (and row), the figure,
the cap and what to do.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...i18n import _
from ..opening import quoted
from ..records import InputError

MAX_TEXT_BYTES = 32 * 2**20  # a text document (the largest seed is 68 KB)
MAX_FILE_BYTES = 128 * 2**20  # a binary document (.xlsx, .docx, .pdf) on disk
MAX_XLS_BYTES = 32 * 2**20  # a legacy .xls, parsed whole by xlrd (at most 65,536 rows anyway)
MAX_ROWS = 1_000_000  # rows (or lines) of one document
MAX_CELLS = 5_000_000  # cells of one document, empty cells inside a row included
MAX_CELL_CHARS = 131_072  # one cell (the csv module's own default field limit)
MAX_CHARS = 64_000_000  # all the text of one document
MAX_UNZIPPED = {"xlsx": 256 * 2**20, "docx": 160 * 2**20, "ofd": 160 * 2**20}  # all members, inflated
# members parsed whole into memory (an XML tree, a string table): pictures may be large, these not
MAX_MEMBER = {"xlsx": {"xl/sharedStrings.xml": 64 * 2**20, "xl/workbook.xml": 16 * 2**20},
              "docx": {"word/document.xml": 48 * 2**20}}
MAX_ZIP_ENTRIES = 10_000  # parts of a package (a workbook or document has tens to hundreds)
MAX_RATIO = 100  # uncompressed/compressed of one member, checked above RATIO_FLOOR bytes
RATIO_FLOOR = 8 * 2**20
MAX_PAGES = 2_000  # pages of a PDF
MAX_PDF_SECONDS = 120.0  # text extraction of one PDF
MAX_PAGE_CHARS = 200_000  # characters drawn on one PDF page (a dense A3 table page holds a few thousand)
MAX_PAGE_EDGES = 20_000  # lines, rectangles and curves of one page: table finding grows faster than them


def n(x: int) -> str:
    """A figure as the messages write it: 1,000,000."""
    return f"{x:,}"


@dataclass
class Budget:
    """Counts rows, cells and characters as a reader produces them; raises when a cap is passed."""

    source: str
    rows: int = 0
    cells: int = 0
    chars: int = 0

    def row(self, cells: list[str], where: int | str | None = None) -> list[str]:
        """Account for one row (its 1-based number or a place such as `page 3`); returns it."""
        self.rows += 1
        self._within(self.rows, MAX_ROWS, "rows", "split it")
        self.cells += len(cells)
        self._within(self.cells, MAX_CELLS, "cells", "split it or export only the indicator table")
        for c in cells:
            self.cell(c, where if where is not None else self.rows)
            self.chars += len(c)
        self._within(self.chars, MAX_CHARS, "characters of text", "split it")
        return cells

    def cell(self, text: str, where: int | str) -> str:
        """Check one cell (also a cell grown by joining text to it); returns it."""
        if len(text) > MAX_CELL_CHARS:
            raise InputError(_("{source}:{where}: a cell of {value} characters, more than the {MAX_CELL_CHARS} "
                               "indicode reads - is this the right file?").format(
                                 source=quoted(self.source), where=where, value=n(len(text)),
                                 MAX_CELL_CHARS=n(MAX_CELL_CHARS)))
        return text

    def _within(self, count: int, cap: int, what: str, advice: str) -> None:
        if count > cap:
            raise InputError(_("{source}: more than {cap} {what}, the most indicode reads from one "
                               "document - {advice}").format(
                                 source=quoted(self.source), cap=n(cap), what=what, advice=advice))
