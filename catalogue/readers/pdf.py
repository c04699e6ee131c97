"""PDF documents with a text layer (pdfplumber) to rows of text cells, page by page, top to bottom.

Ruled tables come out as rows of cells (a cell's wrapped lines joined again; a cell merged down a
column repeats its text on the rows it covers, as in the .docx and .xls readers). Text outside tables
comes out line by line, a wide gap between characters read as a cell boundary (a tab), so that a
table laid out with spaces reads like the tab text the row readers know. Page furniture that would
cut an item wrapped over a page break in two (a bare page number at the top or bottom of a page, a
table header repeated on the next page) is left out. A PDF without any text (a scan) is refused
with what to do.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from ..records import InputError
from .limits import MAX_PAGES, MAX_PDF_SECONDS, Budget, n
from .sheets import _trim, cell_text

TAB_GAP = 1.5  # a gap wider than this many font sizes separates two cells
SPACE_GAP = 0.2  # a gap wider than this many font sizes is a space
PAGE_NO_RE = re.compile(r"^[-—–\s]*(第\s*)?\d{1,4}\s*(页)?\s*([/／]\s*(共\s*)?\d{1,4}\s*页?)?[-—–\s]*$|"
                        r"^(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?$", re.I)


def _line_text(chars: list[dict]) -> list[str]:
    """Cells of one text line from its characters, a wide gap starting a new cell."""
    cells, cur, prev = [], "", None
    for ch in sorted(chars, key=lambda c: c["x0"]):
        if not ch["text"].strip():
            continue
        if prev is not None:
            gap, size = ch["x0"] - prev["x1"], max(prev.get("size") or 10, 1)
            if gap > TAB_GAP * size:
                cells.append(cur)
                cur = ""
            elif gap > SPACE_GAP * size:
                cur += " "
        cur += ch["text"]
        prev = ch
    cells.append(cur)
    return cells


def _table_rows(table) -> list[tuple[float, list[str]]]:
    """(top, cells) of each row of a ruled table, merged-down cells repeated."""
    texts = table.extract()
    out: list[tuple[float, list[str]]] = []
    spans: dict[int, tuple[float, str]] = {}  # column -> (bottom of a cell reaching below its row, text)
    for row, cells_text in zip(table.rows, texts):
        top, bottom = row.bbox[1], row.bbox[3]
        cells = []
        for j, (box, text) in enumerate(zip(row.cells, cells_text)):
            if box is None:
                span = spans.get(j)
                cells.append(span[1] if span and span[0] > top + 1 else "")
                continue
            t = cell_text(text)
            cells.append(t)
            spans[j] = (box[3], t) if box[3] > bottom + 1 else (0.0, "")
        out.append((top, _trim(cells)))
    return out


def pdf_rows(path: Path) -> list[list[str]]:
    import pdfplumber

    start = time.monotonic()
    try:
        pdf = pdfplumber.open(path)
        pages = pdf.pages
    except Exception as exc:  # pdfminer raises many types: syntax, encryption, damaged streams
        why = "encrypted" if "password" in f"{type(exc).__name__} {exc}".lower() else type(exc).__name__
        raise InputError(f"{path}: not a readable PDF ({why}) - export the text or the table "
                         f"from the program that made it") from None
    budget = Budget(str(path))
    rows: list[list[str]] = []
    chars_seen = cid_chars = 0
    last_header: list[str] | None = None
    try:
        if len(pages) > MAX_PAGES:
            raise InputError(f"{path}: PDF of {n(len(pages))} pages, more than the {n(MAX_PAGES)} indicode "
                             f"reads - split it")
        for no, page in enumerate(pages, 1):
            if time.monotonic() - start > MAX_PDF_SECONDS:
                raise InputError(f"{path}: reading the PDF took more than {MAX_PDF_SECONDS:.0f} s (page {no}) "
                                 f"- export the text or the table from the program that made it")
            chars_seen += len(page.chars)
            cid_chars += sum(1 for c in page.chars if c["text"].startswith("(cid:"))
            items: list[tuple[float, int, list[str], bool]] = []
            tables = page.find_tables()
            for t in tables:
                for k, (top, cells) in enumerate(_table_rows(t)):
                    items.append((top, len(items), cells, k == 0))
            boxes = [t.bbox for t in tables]

            def outside(obj, boxes=boxes) -> bool:
                x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
                return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

            text_page = page.filter(outside) if boxes else page
            for line in text_page.extract_text_lines(return_chars=True, strip=True):
                items.append((line["top"], len(items), _line_text(line["chars"]), False))
            items.sort(key=lambda it: (round(it[0], 1), it[1]))
            # a bare page number first or last on the page is furniture, not text
            while items and not items[0][3] and PAGE_NO_RE.match("".join(items[0][2]).strip()):
                items.pop(0)
            while items and not items[-1][3] and PAGE_NO_RE.match("".join(items[-1][2]).strip()):
                items.pop()
            for k, (_, _, cells, is_head) in enumerate(items):
                if is_head and k == 0 and last_header is not None and cells == last_header:
                    continue  # the table header repeated at the top of a continuation page
                if is_head:
                    last_header = cells
                rows.append(budget.row(cells, f"page {no}"))
            page.close()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: damaged PDF ({type(exc).__name__} after {len(rows)} lines) - export the "
                         f"text or the table from the program that made it") from None
    finally:
        pdf.close()
    if not chars_seen:
        raise InputError(f"{path}: PDF has no text layer (scanned?) - run OCR or export the text")
    if cid_chars > chars_seen // 2:
        raise InputError(f"{path}: PDF text cannot be decoded (its fonts have no Unicode map) - export the "
                         f"text from the program that made it, or run OCR")
    return rows
