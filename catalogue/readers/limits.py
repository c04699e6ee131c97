"""How much of a document indicode reads, checked before and while parsing.

A declaration has tens to a few thousand rows; these caps are far above that and far below what
would exhaust a small machine. Archives (.xlsx, .docx) are measured from their zip directory before
anything is decompressed; the declared sheet dimension is read from the first bytes of the sheet;
rows, cells and characters are counted as they are read. Going over any cap is an InputError: one
line naming the file (and row), the figure, the cap and what to do.
"""
from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..records import InputError

MAX_TEXT_BYTES = 32 * 2**20  # a text document (the largest seed is 68 KB)
MAX_FILE_BYTES = 128 * 2**20  # a binary document (.xlsx, .docx, .pdf) on disk
MAX_XLS_BYTES = 32 * 2**20  # a legacy .xls, parsed whole by xlrd (at most 65,536 rows anyway)
MAX_ROWS = 1_000_000  # rows (or lines) of one document
MAX_CELLS = 5_000_000  # cells of one document, empty cells inside a row included
MAX_CELL_CHARS = 131_072  # one cell (the csv module's own default field limit)
MAX_CHARS = 64_000_000  # all the text of one document
MAX_UNZIPPED = {"xlsx": 256 * 2**20, "docx": 160 * 2**20}  # all members of an archive, uncompressed
# members parsed whole into memory (an XML tree, a string table): pictures may be large, these not
MAX_MEMBER = {"xlsx": {"xl/sharedStrings.xml": 64 * 2**20}, "docx": {"word/document.xml": 48 * 2**20}}
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


def check_file_size(path: Path, size: int, cap: int, what: str) -> None:
    if size > cap:
        raise InputError(f"{path}: {what} of {n(size)} bytes, more than the {n(cap)} indicode reads - "
                         f"split it or export only the indicator table")


def zip_entries(path: Path) -> int | None:
    """The number of members a zip's end record declares, read before the directory is parsed (the
    directory of millions of empty members would fill memory by itself); None when not found."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    z64 = tail.rfind(b"PK\x06\x06", 0, at)
    if count == 0xFFFF and z64 >= 0 and len(tail) >= z64 + 40:
        count = struct.unpack("<Q", tail[z64 + 32:z64 + 40])[0]
    return count


def check_zip_entries(path: Path) -> None:
    count = zip_entries(path)
    if count is not None and count > MAX_ZIP_ENTRIES:
        raise InputError(f"{path}: a zip package of {n(count)} parts, more than the {n(MAX_ZIP_ENTRIES)} "
                         f"indicode opens (not a workbook or document as Office writes them)")


def check_zip(path: Path, zf: zipfile.ZipFile, kind: str) -> None:
    """Refuse an archive whose members would decompress to too much, before decompressing any."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        cap = MAX_MEMBER[kind].get(info.filename)
        if cap is not None and info.file_size > cap:
            raise InputError(f"{path}: {info.filename} is {n(info.file_size)} bytes uncompressed, more than "
                             f"the {n(cap)} indicode reads - split the document or export only the table")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise InputError(f"{path}: {info.filename} expands {n(ratio)} times ({n(info.file_size)} bytes "
                             f"from {n(info.compress_size)}), more than the {MAX_RATIO} indicode accepts "
                             f"(a zip bomb?) - re-save the file or export the table as .csv")
    cap = MAX_UNZIPPED[kind]
    if total > cap:
        raise InputError(f"{path}: .{kind} holds {n(total)} bytes uncompressed, more than the {n(cap)} "
                         f"indicode reads - split it or export only the indicator table")


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
            raise InputError(f"{self.source}:{where}: a cell of {n(len(text))} characters, more "
                             f"than the {n(MAX_CELL_CHARS)} indicode reads - is this the right file?")
        return text

    def _within(self, count: int, cap: int, what: str, advice: str) -> None:
        if count > cap:
            raise InputError(f"{self.source}: more than {n(cap)} {what}, the most indicode reads from one "
                             f"document - {advice}")
