"""Word documents (.docx, python-docx) to rows of text cells, in the order the document shows them.

A paragraph is a line (its tabs split it into cells, as in a text export; a line break inside it
starts a new line); a table row is a row of cells. Content controls and custom-XML wrappers are
looked into, not skipped. Merged cells read as a person sees them: a cell merged down a column
repeats its text on every row it covers, a cell merged across columns keeps its text in its first
column and leaves the others empty (so later columns stay where the header puts them). A nested
table's text stays in the cell that holds it. Automatic list numbering (Word turns a typed `1、` into
a numbered list, whose number is then no longer text) is written back in front of the paragraph as
Word shows it, so a Guangzhou list typed in Word reads like its text.
"""
from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from ...i18n import _
from ..opening import quoted
from ..records import InputError
from .limits import Budget
from .sheets import _trim, cell_text
from .zips import Package, damaged

MAX_GRID = 1024  # columns of one table row (Word itself stops at 63)


_CN = "零一二三四五六七八九"


def _chinese(k: int) -> str:
    if k < 10:
        return _CN[k]
    if k < 20:
        return "十" + (_CN[k % 10] if k % 10 else "")
    if k < 100:
        return _CN[k // 10] + "十" + (_CN[k % 10] if k % 10 else "")
    return str(k)


def _letters(k: int) -> str:
    out = ""
    while k > 0:
        k, r = divmod(k - 1, 26)
        out = chr(97 + r) + out
    return out


FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str, "chineseCounting": _chinese, "chineseCountingThousand": _chinese,
    "ideographTraditional": lambda k: "甲乙丙丁戊己庚辛壬癸"[(k - 1) % 10],
    "lowerLetter": _letters, "upperLetter": lambda k: _letters(k).upper(),
    "decimalEnclosedCircle": lambda k: chr(0x245F + k) if 1 <= k <= 20 else str(k),
    "decimalZero": lambda k: f"{k:02d}", "bullet": lambda k: ""}


class Numbering:
    """Renders automatic paragraph numbers from the document's numbering definitions."""

    def __init__(self, doc, qn):
        self.qn = qn
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, fmt, text)
        self.counters: dict[str, list[int]] = {}
        try:
            numbering = doc.part.numbering_part.element
        except Exception:  # no numbering part: nothing is numbered
            return
        def W(tag: str) -> str:
            return qn(f"w:{tag}")

        def val(el, tag: str) -> str | None:
            found = el.find(W(tag)) if el is not None else None
            return found.get(W("val")) if found is not None else None

        abstract = {a.get(W("abstractNumId")): a for a in numbering.findall(W("abstractNum"))}
        for num in numbering.findall(W("num")):
            a = abstract.get(val(num, "abstractNumId"))
            if a is None:
                continue
            lv = {}
            for lvl in a.findall(W("lvl")):
                start = val(lvl, "start")
                lv[int(lvl.get(W("ilvl"), "0"))] = (int(start) if start and start.isdigit() else 1,
                                                    val(lvl, "numFmt") or "decimal", val(lvl, "lvlText") or "")
            self.levels[num.get(W("numId"))] = lv

    def label(self, p, style_numpr) -> str:
        """The number Word shows in front of paragraph `p` ("" when it has none)."""
        W = lambda tag: self.qn(f"w:{tag}")  # noqa: E731
        ppr = p.find(W("pPr"))
        numpr = ppr.find(W("numPr")) if ppr is not None else None
        numpr = numpr if numpr is not None else style_numpr
        if numpr is None:
            return ""
        nid = numpr.find(W("numId"))
        ilvl_el = numpr.find(W("ilvl"))
        num_id = nid.get(W("val")) if nid is not None else None
        if num_id is None:
            return ""
        ilvl = int(ilvl_el.get(W("val"), "0")) if ilvl_el is not None else 0
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels:
            return ""
        count = self.counters.setdefault(num_id, [0] * 10)
        count[ilvl] += 1
        for deeper in range(ilvl + 1, len(count)):
            count[deeper] = 0
        text = levels[ilvl][2]
        for k in range(ilvl, -1, -1):
            start, fmt, _ = levels.get(k, (1, "decimal", ""))
            n = start + max(count[k], 1) - 1
            text = text.replace(f"%{k + 1}", FORMATS.get(fmt, str)(n))
        return text


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIP = {_W + "del", _W + "moveFrom", _W + "drawing", _W + "pict", _W + "object", _W + "rPr", _W + "pPr",
         _W + "fldChar", _W + "instrText", _W + "footnoteReference", _W + "endnoteReference",
         "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"}


def _wrapped(parent, tag: str):
    """Children of `parent` with `tag`, also those wrapped in content controls or custom XML (forms
    made by budget systems wrap rows and cells in them)."""
    for child in parent.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _wrapped(content, tag)
        elif child.tag == _W + "customXml":
            yield from _wrapped(child, tag)


def _as_written(t) -> str:
    """The text of a `w:t` as the file writes it: an entity reference that was not expanded (the
    parser expands none: no DTD of a document is trusted) kept as `&name;`, and the text after it
    kept too (lxml holds it in the reference's tail, which `.text` leaves out)."""
    from lxml import etree

    out = [t.text or ""]
    for child in t:
        if child.tag is etree.Entity:
            out.append(child.text or "")  # `&xxe;`
        out.append(child.tail or "")
    return "".join(out)


def paragraph_text(p) -> str:
    """A paragraph's text as Word shows it with changes accepted: text in tracked insertions, moves,
    hyperlinks, fields and content controls included; deleted text, text boxes and field codes not;
    tabs as tabs and line breaks as new lines."""
    out: list[str] = []

    def walk(el) -> None:
        for child in el:
            tag = child.tag
            if tag in _SKIP or not isinstance(tag, str):
                continue
            if tag == _W + "t":
                out.append(_as_written(child))
            elif tag in (_W + "tab", _W + "ptab"):
                out.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                out.append("\n")
            elif tag == _W + "noBreakHyphen":
                out.append("-")
            else:
                walk(child)

    walk(p)
    return "".join(out)


def _open_docx(path: Path, pkg: Package):
    """The python-docx document of a checked package (`zips.check_members`), or one line saying the
    package is not a readable .docx."""
    import docx

    try:
        return docx.Document(pkg.stream())
    except zipfile.BadZipFile as exc:
        raise damaged(str(path), str(exc)) from None
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise InputError(_("{path}: not a readable .docx document ({name}) - open and save it again in Word").format(
                             path=quoted(path), name=type(exc).__name__)) from None


def _style_numbers(doc, qn) -> dict[str, object]:
    """The numbering a paragraph style gives its paragraphs (its `w:numPr`), by style id."""
    style_numpr: dict[str, object] = {}
    for style in doc.styles.element.findall(qn("w:style")):
        ppr = style.find(qn("w:pPr"))
        if ppr is not None and ppr.find(qn("w:numPr")) is not None:
            style_numpr[style.get(qn("w:styleId"))] = ppr.find(qn("w:numPr"))
    return style_numpr


P, TBL, TR, TC, SDT, SDT_CONTENT, CUSTOM = (_W + t for t in ("p", "tbl", "tr", "tc", "sdt", "sdtContent", "customXml"))


class _Body:
    """A walk over a document body in order: a paragraph's lines and a table's rows become rows of
    cells (`rows`), with the list numbers Word shows."""

    def __init__(self, path: Path, doc, qn):
        self.path, self.qn = path, qn
        self.budget = Budget(str(path))
        self.rows: list[list[str]] = []
        self.numbering = Numbering(doc, qn)
        self.style_numpr = _style_numbers(doc, qn)

    def add(self, cells: list[str]) -> None:
        self.rows.append(self.budget.row(cells, len(self.rows) + 1))

    def label_of(self, p) -> str:
        qn = self.qn
        ppr = p.find(qn("w:pPr"))
        pstyle = ppr.find(qn("w:pStyle")) if ppr is not None else None
        return self.numbering.label(p, self.style_numpr.get(pstyle.get(qn("w:val"))) if pstyle is not None else None)

    def cell_of(self, tc) -> str:
        return cell_text("\n".join(self.label_of(p) + paragraph_text(p) for p in tc.iter(P)))

    def paragraph(self, p) -> None:
        label = self.label_of(p)
        for k, line in enumerate(paragraph_text(p).split("\n")):
            self.add([c.replace("\r", "") for c in ((label if k == 0 else "") + line).split("\t")])

    def table(self, tbl) -> None:
        above: dict[int, str] = {}  # text of the cell last seen at each grid column
        for tr in _wrapped(tbl, TR):
            # grid numbers come from the file: bounded before they size anything (Word's own limit is
            # 63 columns; a gridSpan of 3×10^8 in a 37 KB file once took gigabytes)
            cells = [""] * min(tr.grid_before or 0, MAX_GRID)
            for tc in _wrapped(tr, TC):
                col = len(cells)
                if col >= MAX_GRID:
                    raise InputError(_("{path}: a table row wider than {MAX_GRID} columns - "
                                       "is this the right file?").format(
                                         path=quoted(self.path), MAX_GRID=MAX_GRID))
                text = above.get(col, "") if tc.vMerge == "continue" else self.cell_of(tc)
                span = min(max(tc.grid_span or 1, 1), MAX_GRID - col)
                above[col] = text
                for k in range(1, span):
                    above.pop(col + k, None)
                cells += [text] + [""] * (span - 1)
            self.add(_trim(cells))

    def walk(self, parent) -> None:
        for child in parent.iterchildren():
            if child.tag == P:
                self.paragraph(child)
            elif child.tag == TBL:
                self.table(child)
            elif child.tag == SDT:
                content = child.find(SDT_CONTENT)
                if content is not None:
                    self.walk(content)
            elif child.tag == CUSTOM:
                self.walk(child)


def docx_rows(path: Path, pkg: Package) -> list[list[str]]:
    """Rows of text cells of a .docx, in the order the document shows them (see the module docstring);
    an error inside python-docx is a damaged document, named by how far the reading got."""
    from docx.oxml.ns import qn

    doc = _open_docx(path, pkg)
    body = _Body(path, doc, qn)
    try:
        body.walk(doc.element.body)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(_("{path}: damaged .docx document ({name} after {rows} lines) - open and save it again in "
                           "Word").format(path=quoted(path), name=type(exc).__name__, rows=len(body.rows))) from None
    return body.rows
