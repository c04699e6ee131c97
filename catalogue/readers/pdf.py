"""PDF documents with a text layer (pdfplumber) to rows of text cells, page by page, top to bottom.

Ruled tables come out as rows of cells (a cell's wrapped lines joined again; a cell merged down a
column repeats its text on the rows it covers, as in the .docx and .xls readers). Text outside tables
comes out line by line, a wide gap between characters read as a cell boundary (a tab), so that a
table laid out with spaces reads like the tab text the row readers know. Page furniture that would
cut an item wrapped over a page break in two is left out: page numbers, running heads and feet (the
same line at the top or foot of at least half the pages), a table header repeated on the next page. A
table row that a page break splits (a word processor's "allow row to break across pages") is joined
again, cell by cell: see `_goes_on` for when the first row of a page is the rest of the row above.
A PDF without any text (a scan) is refused with what to do.
"""
from __future__ import annotations

import io
import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from ...i18n import _
from ..opening import quoted
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
CUT, DONE, ENDS = "cut", "done", "ends"  # how a cell of the row at a page's foot ends (see _foot)
FULL = 1.5  # font sizes: a last line ending this close to the cell's widest line runs to the line's end
SAME_X = 1.5  # points: column edges this close are the same column on the next page


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


@dataclass(eq=False)
class _Part:
    """The rows of one ruled table on one page, with what tells whether its last row goes on at the
    top of the next page."""

    columns: list[tuple[float, float]]  # x0, x1 of each column
    rows: list[list[str]]
    foot: list[str]  # per column of the last row: CUT, DONE, ENDS or "" (see _foot); [] when not measured
    down: list[set[int]]  # per row: the columns whose cell is merged down over the rows below it


def _table_rows(table) -> tuple[list[float], _Part]:
    """The top of each row of a ruled table and its rows of cells, merged-down cells repeated."""
    texts = table.extract()
    tops: list[float] = []
    part = _Part([(c.bbox[0], c.bbox[2]) for c in table.columns], [], [], [])
    spans: dict[int, tuple[float, str]] = {}  # column -> (bottom of a cell reaching below its row, text)
    for row, cells_text in zip(table.rows, texts, strict=True):
        top = row.bbox[1]
        # the row's own height: its bbox reaches down to the foot of any cell spanning rows below
        bottom = min((c[3] for c in row.cells if c), default=row.bbox[3])
        cells = []
        for j, (box, text) in enumerate(zip(row.cells, cells_text, strict=True)):
            if box is None:
                span = spans.get(j)
                cells.append(span[1] if span and span[0] > top + 1 else "")
                continue
            t = cell_text(text)
            cells.append(t)
            spans[j] = (box[3], t) if box[3] > bottom + 1 else (0.0, "")
        tops.append(top)
        part.rows.append(_trim(cells))
        part.down.append({j for j, box in enumerate(row.cells) if box is not None and box[3] > bottom + 1})
    return tops, part


def _foot(table, chars: list[dict]) -> list[str]:
    """How each cell of a table's last row ends: CUT where its text runs down to the row's last text
    line and that line runs to the end, as wide as the cell's widest line (a page break may have cut
    it: a wrapped line is full), ENDS where its last line there stops short (the text ended), DONE
    where it ends on a line above (the cell is complete), "" where it is empty or covered by a cell
    merged down from above. A row of one line is CUT in every cell it fills. One pass over the
    page's characters, each placed by bisection: bounded on any page."""
    last = table.rows[-1]
    x0, top, x1, bottom = last.bbox
    own = sorted((box[0], j, box) for j, box in enumerate(last.cells) if box is not None)
    lefts = [b[0] for b in own]
    ends: dict[int, tuple[float, float]] = {}  # column -> (bottom of its lowest character, that size)
    placed: dict[int, list[tuple[float, float]]] = {}  # column -> (bottom, right end) of its characters
    for ch in chars:
        cx, cy = (ch["x0"] + ch["x1"]) / 2, (ch["top"] + ch["bottom"]) / 2
        if not (top <= cy <= bottom and x0 <= cx <= x1) or not ch["text"].strip():
            continue
        k = bisect_right(lefts, cx) - 1
        if k < 0:
            continue
        _, j, box = own[k]
        if not (box[0] <= cx <= box[2] and box[1] <= cy <= box[3]):
            continue
        placed.setdefault(j, []).append((ch["bottom"], ch["x1"]))
        if ch["bottom"] > ends.get(j, (-1.0, 0.0))[0]:
            ends[j] = (ch["bottom"], max(ch.get("size") or 10, 1))
    deepest = max((b for b, _ in ends.values()), default=0.0)

    def state(j: int) -> str:
        if j not in ends:
            return ""
        low, size = ends[j]
        if low < deepest - size / 2:
            return DONE
        widest = max(x for _, x in placed[j])
        last_line = max(x for b, x in placed[j] if b >= low - size / 2)
        return CUT if last_line >= widest - FULL * size else ENDS

    return [state(j) for j in range(len(last.cells))]


@dataclass
class _Tail:
    """A table row at the foot of a page, which the first row of the next page may go on."""

    at: int  # its index in the rows read
    columns: list[tuple[float, float]]
    foot: list[str]
    filled: list[int]  # per column: how many other rows of its table so far have text in it
    rows: int  # how many other rows there were


def _filled(rows: list[list[str]], width: int, header: list[str] | None) -> tuple[list[int], int]:
    """Per column, how many of the rows (the header left out) have text in it; and how many rows."""
    rows = [r for r in rows if r != header]
    return [sum(1 for r in rows if j < len(r) and r[j].strip()) for j in range(width)], len(rows)


def _both(a: tuple[list[int], int], b: tuple[list[int], int]) -> tuple[list[int], int]:
    return [x + y for x, y in zip(a[0], b[0], strict=True)], a[1] + b[1]


def _goes_on(tail: _Tail, part: _Part, i: int, header: list[str] | None) -> bool:
    """Whether row `i` of a table at the top of a page (under its repeated header, if any) is the rest
    of the row at the foot of the page before, which the page break cut. It is when it is the same
    table (the same columns), it has text only under cells of that row that run down to its last
    line and fill it to the end (CUT: a cell whose text ended there is complete), and it leaves
    empty a cell that the row above completed (its text ended on a line above) in a column that most
    other rows of the table fill (a class written on a group's first row only is not one): a row of
    its own would fill it. A cell empty because it is merged down over the rows below (a class cell
    going on from the page before, repeated on every row it covers) is no such sign: a new row under
    it leaves it empty too. In doubt the rows stay apart: two halves of a row lose nothing, a wrong
    join makes two indicators one. So a row that fills a completed cell is never joined, nor one under
    a row whose cells all end on one line (nothing shows that it was cut)."""
    if len(tail.columns) != len(part.columns) or any(abs(a[0] - b[0]) > SAME_X or abs(a[1] - b[1]) > SAME_X
                                                     for a, b in zip(tail.columns, part.columns, strict=True)):
        return False
    rest = part.rows[i]
    if not any(c.strip() for c in rest):
        return False
    if any(t and (j >= len(tail.foot) or tail.foot[j] != CUT) for j, t in enumerate(rest)):
        return False
    filled, n = _both((tail.filled, tail.rows), _filled(part.rows[:i] + part.rows[i + 1:], len(part.columns), header))
    return any(state == DONE and not (j < len(rest) and rest[j]) and j not in part.down[i]
               and j < len(filled) and 2 * filled[j] > n for j, state in enumerate(tail.foot))


def _join(row: list[str], rest: list[str], budget: Budget, where: str) -> None:
    """The rest of a cut row added to it cell by cell, as the lines of a wrapped cell are joined
    (`cell_text`: a space only between two Latin words). Both halves are one-line cells already, so
    only the seam is looked at: a row joined over many pages is not read again at each page."""
    row.extend([""] * (len(rest) - len(row)))
    for j, t in enumerate(rest):
        if t:
            seam = cell_text(f"{row[j][-1]}\n{t[0]}")[1:-1] if row[j] else ""  # " " or ""
            row[j] = budget.cell(row[j] + seam + t, where)


def _edges(items: list) -> list[str]:
    """Texts of the first and last EDGE lines outside tables of a page."""
    text = [" ".join(c).strip() for c, _, table_row, _ in items if table_row is None]
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
        cells, _, table_row, _ = item
        if table_row is not None:
            return False
        t = " ".join(cells).strip()
        m = BARE_NO_RE.match(t)
        if PAGE_WORDS_RE.match(t) or (m and int(m.group(1)) - no in page_offsets):
            return True
        return t in running and (inner is None or inner[2] is None)

    out = []
    for no, items in enumerate(pages, 1):
        items = list(items)
        for _edge in range(EDGE):
            if items and furniture(items[0], no, items[1] if len(items) > 1 else None):
                items.pop(0)
            if items and furniture(items[-1], no, items[-2] if len(items) > 1 else None):
                items.pop()
        out.append(items)
    return out


def _in_time(path: Path, start: float, no: int) -> None:
    if time.monotonic() - start > MAX_PDF_SECONDS:
        raise InputError(_("{path}: reading the PDF took more than {MAX_PDF_SECONDS:.0f} s (page {no}) - export the "
                           "text or the table from the program that made it").format(
                             path=quoted(path), MAX_PDF_SECONDS=MAX_PDF_SECONDS, no=no))


def _open(path: Path, data: bytes):
    """pdfplumber's document and its pages, or one line saying why the file is not a readable PDF."""
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = pdf.pages
    except Exception as exc:  # pdfminer raises many types: syntax, encryption, damaged streams
        causes = " ".join(type(e).__name__ for e in (exc, exc.__context__, *exc.args) if isinstance(e, BaseException))
        why = "encrypted" if "password" in f"{causes} {exc}".lower() else type(exc).__name__
        todo = "remove the password and give that" if why == "encrypted" else \
            "export the text or the table from the program that made it"
        raise InputError(_("{path}: not a readable PDF ({why}) - {todo}").format(
                             path=quoted(path), why=why, todo=todo)) from None
    return pdf, pages


def _check_page(path: Path, page, no: int) -> None:
    """Refuse a page too big to read, before the table search, whose time the limit between pages
    cannot bound."""
    edges = len(page.lines) + len(page.rects) + len(page.curves)
    if len(page.chars) > MAX_PAGE_CHARS or edges > MAX_PAGE_EDGES:
        raise InputError(_("{path}: page {no} holds {value} characters and {edges} drawn lines, more than indicode "
                           "reads on one page ({MAX_PAGE_CHARS}, {MAX_PAGE_EDGES}) - export the text or the table "
                           "from the program that made it").format(
                             path=quoted(path), no=no, value=n(len(page.chars)), edges=n(edges),
                             MAX_PAGE_CHARS=n(MAX_PAGE_CHARS), MAX_PAGE_EDGES=n(MAX_PAGE_EDGES)))


def _page_items(page, no: int, budget: Budget) -> list[tuple[list[str], bool, _Part | None, int]]:
    """One page's lines, top to bottom: (cells, table header row?, its table's _Part or None, row in
    it); table rows from the ruled tables, the text outside them line by line."""
    items: list[tuple[float, int, list[str], bool, _Part | None, int]] = []
    tables = page.find_tables()
    parts: list[_Part] = []
    for t in tables:
        tops, part = _table_rows(t)
        parts.append(part)
        for k, (top, cells) in enumerate(zip(tops, part.rows, strict=True)):
            items.append((top, len(items), budget.row(cells, f"page {no}"), k == 0, part, k))
    boxes = [t.bbox for t in tables]

    def outside(obj, boxes=boxes) -> bool:
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    text_page = page.filter(outside) if boxes else page
    for line in text_page.extract_text_lines(return_chars=True, strip=True):
        items.append((line["top"], len(items), budget.row(_line_text(line["chars"]), f"page {no}"),
                      False, None, 0))
    items.sort(key=lambda it: (round(it[0], 1), it[1]))
    at_foot = next((it[4] for it in reversed(items) if it[4] is not None), None)
    for t, part in zip(tables, parts, strict=True):
        if part is at_foot:  # the table whose last row may go on at the top of the next page
            part.foot = _foot(t, page.chars)
    return [(cells, is_head, part, k) for _, _, cells, is_head, part, k in items]


def _read_pages(path: Path, pdf, pages, start: float, budget: Budget) -> tuple[list[list], int, int]:
    """Every page's items (`_page_items`), and how many characters there were and how many of them
    undecodable (`(cid:N)`); an error inside pdfminer is a damaged PDF, named by its page."""
    chars_seen = cid_chars = 0
    page_items: list[list] = []
    try:
        if len(pages) > MAX_PAGES:
            raise InputError(_("{path}: PDF of {value} pages, more than the {MAX_PAGES} indicode reads - "
                               "split it").format(
                                 path=quoted(path), value=n(len(pages)), MAX_PAGES=n(MAX_PAGES)))
        for no, page in enumerate(pages, 1):
            _in_time(path, start, no)
            _check_page(path, page, no)
            chars_seen += len(page.chars)
            cid_chars += sum(1 for c in page.chars if c["text"].startswith("(cid:"))
            page_items.append(_page_items(page, no, budget))
            page.close()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(_("{path}: damaged PDF ({name} on page {value}) - export the text or the table from the "
                           "program that made it").format(
                             path=quoted(path), name=type(exc).__name__, value=len(page_items) + 1)) from None
    finally:
        pdf.close()
    return page_items, chars_seen, cid_chars


class _Rows:
    """The rows read so far, page after page, and what the next page needs of them: the last table
    header (repeated at the top of a continuation page) and the table row at the foot of the page
    before (`_Tail`, which the next page's first row may go on)."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.rows: list[list[str]] = []
        self.starts: list[int] = []  # per page: the index of the first row it starts (`page_of`)
        self.last_header: list[str] | None = None
        self.tail: _Tail | None = None

    def add_page(self, items: list, no: int) -> None:
        self.starts.append(len(self.rows))
        first, joined, at = True, False, -1
        went_on: tuple[_Part, int] | None = None  # the table and row joined to the page before
        for k, (cells, is_head, part, i) in enumerate(items):
            if is_head and k == 0 and self.last_header is not None and cells == self.last_header:
                continue  # the table header repeated at the top of a continuation page
            tail = self.tail
            joined = False
            if first and tail is not None and part is not None and _goes_on(tail, part, i, self.last_header):
                joined = True
                _join(self.rows[tail.at], cells, self.budget, f"page {no}")  # the rest of a row the page break cut
                at, went_on = tail.at, (part, i)
            else:
                if is_head:
                    self.last_header = cells
                self.rows.append(cells)
                at = len(self.rows) - 1
            first = False
        self.tail = None if first else self._foot_row(items, at, joined, went_on)

    def _foot_row(self, items: list, at: int, joined: bool, went_on: tuple[_Part, int] | None) -> _Tail | None:
        """The table row at this page's foot, when the next page's first row may go on it."""
        part, i = (items[-1][2], items[-1][3]) if items else (None, 0)
        if part is None or i != len(part.rows) - 1 or not part.foot:
            return None
        tail = self.tail  # the foot row of the page before, which this page went on from when `joined`
        # the row of the table at the foot that went on from the page before: the table began pages before
        joined_row = went_on[1] if went_on is not None and went_on[0] is part else None
        filled = _filled([r for k, r in enumerate(part.rows[:-1]) if k != joined_row],
                         len(part.columns), self.last_header)
        foot = part.foot
        if joined_row is not None and tail is not None:  # count its rows on the pages before too
            filled = _both((tail.filled, tail.rows), filled)
        if joined and tail is not None:  # a row over three pages: the cells it completed before stay complete
            foot = [s or (DONE if j < len(tail.foot) and tail.foot[j] == DONE else "") for j, s in enumerate(foot)]
        return _Tail(at, part.columns, foot, *filled)


def page_of(starts: list[int], line: int) -> int:
    """The 1-based page a 1-based row starts on, from each page's first row index (`pdf_pages`); a row
    joined over a page break is on the page it starts on. A page that starts no row is skipped."""
    return max(bisect_right(starts, line - 1), 1)


def pdf_rows(path: Path, data: bytes) -> list[list[str]]:
    """Rows of text cells of a PDF, in reading order, page furniture left out and rows a page break
    cut joined again (see the module docstring)."""
    return pdf_pages(path, data)[0]


def pdf_pages(path: Path, data: bytes) -> tuple[list[list[str]], list[int]]:
    """`pdf_rows`, and the index of the first row of each page (for `page_of`)."""
    start = time.monotonic()
    pdf, pages = _open(path, data)
    budget = Budget(str(path))
    page_items, chars_seen, cid_chars = _read_pages(path, pdf, pages, start, budget)
    rows = _Rows(budget)
    for no, items in enumerate(_without_furniture(page_items), 1):
        _in_time(path, start, no)  # the rows are put together page by page too, joins included
        rows.add_page(items, no)
    if not chars_seen:
        raise InputError(_("{path}: PDF has no text layer (scanned?) - run OCR or export the text").format(
                             path=quoted(path)))
    if cid_chars > chars_seen // 2:
        raise InputError(_("{path}: PDF text cannot be decoded (its fonts have no Unicode map) - export the text from "
                           "the program that made it, or run OCR").format(path=quoted(path)))
    return rows.rows, rows.starts
