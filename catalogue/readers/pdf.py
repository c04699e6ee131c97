"""PDF documents with a text layer (pdfplumber) to rows of text cells, page by page, top to bottom.

Ruled tables come out as rows of cells (a cell's wrapped lines joined again; a cell merged down a
column repeats its text on the rows it covers, as in the .docx and .xls readers). Text outside tables
comes out line by line, a wide gap between characters read as a cell boundary (a tab), so that a
table laid out with spaces reads like the tab text the row readers know. Page furniture that would
cut an item wrapped over a page break in two is left out: page numbers, running heads and feet (the
same line at the top or foot of at least half the pages), a table header repeated on the next page. A PDF without any text (a scan) is refused
with what to do.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from ..records import InputError
from .limits import MAX_PAGE_CHARS, MAX_PAGE_EDGES, MAX_PAGES, MAX_PDF_SECONDS, Budget, n
from .sheets import _trim, cell_text

TAB_GAP = 1.5  # a gap wider than this many font sizes separates two cells
SPACE_GAP = 0.2  # a gap wider than this many font sizes is a space
# page furniture: `第 3 页 共 10 页`, `Page 3 of 10` always; a bare `3`, `- 3 -` or `3/10` only where the
# numbers run with the pages (a wrapped `100` at the top of a page is text)
PAGE_WORDS_RE = re.compile(r"^(第\s*\d{1,4}\s*页\s*[,，/／]?\s*(共\s*\d{1,4}\s*页)?|共\s*\d{1,4}\s*页\s*[,，]?\s*"
                           r"第\s*\d{1,4}\s*页|page\s*\d{1,4}(\s*(of|/)\s*\d{1,4})?)$", re.I)
BARE_NO_RE = re.compile(r"^[-—–\s]*(\d{1,4})(\s*[/／]\s*\d{1,4})?[-—–\s]*$")
EDGE = 2  # lines looked at, at the top and at the foot of each page


def _line_text(chars: list[dict]) -> list[str]:
    """Cells of one text line from its characters, a wide gap starting a new cell."""
    cells, cur, prev = [], "", None
    for ch in sorted(chars, key=lambda c: c["x0"]):
        if ch["text"] and ord(ch["text"][0]) < 32:  # a tab drawn as a glyph (read back as \t or NUL)
            cells.append(cur)
            cur, prev = "", None
            continue
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
        top = row.bbox[1]
        # the row's own height: its bbox reaches down to the foot of any cell spanning rows below
        bottom = min((c[3] for c in row.cells if c), default=row.bbox[3])
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


def _edges(items: list) -> list[str]:
    """Texts of the first and last EDGE lines outside tables of a page."""
    text = [" ".join(c).strip() for c, _, table_row in items if not table_row]
    return text[:EDGE] + text[-EDGE:]


def _without_furniture(pages: list[list]) -> list[list]:
    """Pages with their running heads, feet and page numbers taken off the top and the foot: lines
    that sit there on at least half the pages (two at least) with text flowing past them, page
    numbers in words, and bare numbers that run with the pages."""
    need = max(2, (len(pages) + 1) // 2)
    seen: dict[str, int] = {}
    offsets: dict[int, int] = {}
    for no, items in enumerate(pages, 1):
        for t in set(_edges(items)):
            seen[t] = seen.get(t, 0) + 1
            m = BARE_NO_RE.match(t)
            if m:
                offsets[int(m.group(1)) - no] = offsets.get(int(m.group(1)) - no, 0) + 1
    running = {t for t, k in seen.items() if k >= need}
    page_offsets = {o for o, k in offsets.items() if k >= need or (len(pages) == 1 and o == 0)}

    def furniture(item, no: int, inner) -> bool:
        """`inner`: the item next to it on the page's inside. A running line is taken off only where
        text flows past it (a title over a table, as a form starting each page has, stays)."""
        cells, _, table_row = item
        if table_row:
            return False
        t = " ".join(cells).strip()
        m = BARE_NO_RE.match(t)
        if PAGE_WORDS_RE.match(t) or (m and int(m.group(1)) - no in page_offsets):
            return True
        return t in running and (inner is None or not inner[2])

    out = []
    for no, items in enumerate(pages, 1):
        items = list(items)
        for _ in range(EDGE):
            if items and furniture(items[0], no, items[1] if len(items) > 1 else None):
                items.pop(0)
            if items and furniture(items[-1], no, items[-2] if len(items) > 1 else None):
                items.pop()
        out.append(items)
    return out


def pdf_rows(path: Path) -> list[list[str]]:
    import pdfplumber

    start = time.monotonic()
    try:
        pdf = pdfplumber.open(path)
        pages = pdf.pages
    except Exception as exc:  # pdfminer raises many types: syntax, encryption, damaged streams
        causes = " ".join(type(e).__name__ for e in (exc, exc.__context__, *exc.args) if isinstance(e, BaseException))
        why = "encrypted" if "password" in f"{causes} {exc}".lower() else type(exc).__name__
        todo = "remove the password and give that" if why == "encrypted" else \
            "export the text or the table from the program that made it"
        raise InputError(f"{path}: not a readable PDF ({why}) - {todo}") from None
    budget = Budget(str(path))
    rows: list[list[str]] = []
    chars_seen = cid_chars = 0
    page_items: list[list] = []  # per page: (cells, table header row?, table row?) top to bottom
    try:
        if len(pages) > MAX_PAGES:
            raise InputError(f"{path}: PDF of {n(len(pages))} pages, more than the {n(MAX_PAGES)} indicode "
                             f"reads - split it")
        for no, page in enumerate(pages, 1):
            if time.monotonic() - start > MAX_PDF_SECONDS:
                raise InputError(f"{path}: reading the PDF took more than {MAX_PDF_SECONDS:.0f} s (page {no}) "
                                 f"- export the text or the table from the program that made it")
            # checked before the table search, whose time the limit between pages cannot bound
            edges = len(page.lines) + len(page.rects) + len(page.curves)
            if len(page.chars) > MAX_PAGE_CHARS or edges > MAX_PAGE_EDGES:
                raise InputError(f"{path}: page {no} holds {n(len(page.chars))} characters and {n(edges)} drawn lines, "
                                 f"more than indicode reads on one page ({n(MAX_PAGE_CHARS)}, {n(MAX_PAGE_EDGES)}) "
                                 f"- export the text or the table from the program that made it")
            chars_seen += len(page.chars)
            cid_chars += sum(1 for c in page.chars if c["text"].startswith("(cid:"))
            items: list[tuple[float, int, list[str], bool, bool]] = []
            tables = page.find_tables()
            for t in tables:
                for k, (top, cells) in enumerate(_table_rows(t)):
                    items.append((top, len(items), budget.row(cells, f"page {no}"), k == 0, True))
            boxes = [t.bbox for t in tables]

            def outside(obj, boxes=boxes) -> bool:
                x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
                return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

            text_page = page.filter(outside) if boxes else page
            for line in text_page.extract_text_lines(return_chars=True, strip=True):
                items.append((line["top"], len(items), budget.row(_line_text(line["chars"]), f"page {no}"),
                              False, False))
            items.sort(key=lambda it: (round(it[0], 1), it[1]))
            page_items.append([(cells, is_head, table_row) for _, _, cells, is_head, table_row in items])
            page.close()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: damaged PDF ({type(exc).__name__} on page {len(page_items) + 1}) - export the "
                         f"text or the table from the program that made it") from None
    finally:
        pdf.close()
    last_header: list[str] | None = None
    for no, items in enumerate(_without_furniture(page_items), 1):
        for k, (cells, is_head, _) in enumerate(items):
            if is_head and k == 0 and last_header is not None and cells == last_header:
                continue  # the table header repeated at the top of a continuation page
            if is_head:
                last_header = cells
            rows.append(cells)
    if not chars_seen:
        raise InputError(f"{path}: PDF has no text layer (scanned?) - run OCR or export the text")
    if cid_chars > chars_seen // 2:
        raise InputError(f"{path}: PDF text cannot be decoded (its fonts have no Unicode map) - export the "
                         f"text from the program that made it, or run OCR")
    return rows
