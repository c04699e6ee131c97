"""OFD documents (GB/T 33190, the national e-document format; a zip of XML) read from their text layer.

An OFD names its documents in `OFD.xml`, each document its pages in `Document.xml`, and each page
draws its text as `TextObject`s (a box on the page, in millimetres) holding `TextCode`s (the text and
its offset in the box). The text is put back in reading order as a PDF's is: text at one height is a
line, read left to right, and a gap wider than a character between two pieces of text is a cell
boundary, so that a table drawn on the page reads as rows of cells. An OFD with no text (a scan) or
one that cannot be parsed is one line saying what to export instead.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ...i18n import _
from ..opening import quoted
from ..records import InputError
from .limits import MAX_PAGES, Budget, n
from .sheets import _trim, cell_text
from .zips import Package

OFD_ROOT = "OFD.xml"
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _export() -> str:
    return _("export it from the program that made it as .pdf (with text), .xlsx or .docx")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse(pkg: Package, member: str):
    """One XML member as a tree, entities never expanded and nothing fetched."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(pkg.zf.read(member), parser)
    except KeyError:
        raise InputError(_("{path}: an OFD file without its part {member} - {todo}").format(
            path=quoted(pkg.source), member=member, todo=_export())) from None
    except etree.XMLSyntaxError as exc:
        raise InputError(_("{path}: an OFD file whose part {member} is not well-formed XML ({why}) - {todo}").format(
            path=quoted(pkg.source), member=member, why=exc, todo=_export())) from None


def _child_text(el, name: str) -> list[str]:
    return [(c.text or "").strip() for c in el.iter() if _local(c.tag) == name and (c.text or "").strip()]


def _resolve(base: str, loc: str) -> str:
    """A location in the package: absolute (`/Doc_0/…`) or relative to the part that names it."""
    loc = loc.strip().replace("\\", "/")
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc))


def _numbers(text: str | None) -> list[float]:
    return [float(x) for x in _NUM.findall(text or "")]


@dataclass
class _Piece:
    x: float  # left edge on the page (mm)
    y: float  # baseline on the page (mm)
    right: float
    size: float  # font size (mm)
    text: str


def _pieces(page) -> list[_Piece]:
    out: list[_Piece] = []
    for obj in page.iter():
        if _local(obj.tag) != "TextObject":
            continue
        box = _numbers(obj.get("Boundary")) + [0.0] * 4
        size = (_numbers(obj.get("Size")) or [3.5])[0]
        for code in obj:
            if _local(code.tag) != "TextCode" or not (code.text or "").strip():
                continue
            dx = (_numbers(code.get("X")) or [0.0])[0]
            dy = (_numbers(code.get("Y")) or [0.0])[0]
            text = code.text or ""
            x = box[0] + dx
            out.append(_Piece(x, box[1] + dy, max(box[0] + box[2], x + size * len(text) * 0.5), size, text))
    return out


def _lines(pieces: list[_Piece]) -> list[list[str]]:
    """Pieces at one height (within half a character) as one row, a gap of more than a character a
    new cell."""
    rows: list[list[str]] = []
    line: list[_Piece] = []
    for p in sorted(pieces, key=lambda p: (p.y, p.x)):
        if line and abs(p.y - line[0].y) > line[0].size / 2:
            rows.append(_cells(line))
            line = []
        line.append(p)
    if line:
        rows.append(_cells(line))
    return rows


def _cells(line: list[_Piece]) -> list[str]:
    cells: list[str] = []
    end = None
    for p in sorted(line, key=lambda p: p.x):
        if end is not None and p.x - end <= p.size:
            cells[-1] += p.text
        else:
            cells.append(p.text)
        end = max(end or p.right, p.right)
    return [cell_text(c).strip() for c in cells]


def ofd_rows(path: Path, pkg: Package) -> list[list[str]]:
    """Rows of text cells of an OFD's pages in order (see the module docstring)."""
    root = _parse(pkg, OFD_ROOT)
    docs = _child_text(root, "DocRoot")
    if not docs:
        raise InputError(_("{path}: an OFD file that names no document - {todo}").format(
            path=quoted(path), todo=_export()))
    budget = Budget(str(path))
    rows: list[list[str]] = []
    pages = 0
    for doc_loc in docs:
        doc_member = _resolve("", doc_loc)
        doc = _parse(pkg, doc_member)
        for page in doc.iter():
            if _local(page.tag) != "Page" or not page.get("BaseLoc"):
                continue
            pages += 1
            if pages > MAX_PAGES:
                raise InputError(_("{path}: more than {cap} pages, the most indicode reads - split it").format(
                    path=quoted(path), cap=n(MAX_PAGES)))
            content = _parse(pkg, _resolve(posixpath.dirname(doc_member), page.get("BaseLoc")))
            for cells in _lines(_pieces(content)):
                rows.append(budget.row(_trim(cells), f"page {pages}"))
    if not any(any(c for c in r) for r in rows):
        raise InputError(_("{path}: an OFD file with no text layer (scanned?) - {todo}").format(
            path=quoted(path), todo=_export()))
    return rows
