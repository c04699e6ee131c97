"""Word documents (.docx, python-docx) to rows of text cells, in the order the document shows them.

A paragraph is a line (its tabs split it into cells, as in a text export; a line break inside it
starts a new line); a table row is a row of cells. Content controls and custom-XML wrappers are
looked into, not skipped. Merged cells read as a person sees them: a cell merged down a column
repeats its text on every row it covers, a cell merged across columns keeps its text in its first
column and leaves the others empty (so later columns stay where the header puts them). A nested
table's text stays in the cell that holds it.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from ..records import InputError
from .limits import Budget, check_zip
from .sheets import _trim, cell_text


def docx_rows(path: Path, zf: zipfile.ZipFile) -> list[list[str]]:
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    check_zip(path, zf, "docx")
    try:
        with path.open("rb") as fh:
            doc = docx.Document(fh)
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise InputError(f"{path}: not a readable .docx document ({type(exc).__name__}) - open and save it "
                         f"again in Word") from None
    budget = Budget(str(path))
    rows: list[list[str]] = []
    P, TBL, SDT, SDT_CONTENT, CUSTOM = (qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent"),
                                         qn("w:customXml"))

    def add(cells: list[str]) -> None:
        rows.append(budget.row(cells, len(rows) + 1))

    def paragraph(p) -> None:
        for line in Paragraph(p, None).text.split("\n"):
            add([c.replace("\r", "") for c in line.split("\t")])

    def cell_of(tc) -> str:
        return cell_text("".join(Paragraph(p, None).text for p in tc.iter(P)))

    def table(tbl) -> None:
        above: dict[int, str] = {}  # text of the cell last seen at each grid column
        for tr in tbl.tr_lst:
            cells = [""] * (tr.grid_before or 0)
            for tc in tr.tc_lst:
                col = len(cells)
                text = above.get(col, "") if tc.vMerge == "continue" else cell_of(tc)
                span = max(tc.grid_span or 1, 1)
                for k in range(span):
                    above[col + k] = text if k == 0 else ""
                cells += [text] + [""] * (span - 1)
            add(_trim(cells))

    def walk(parent) -> None:
        for child in parent.iterchildren():
            if child.tag == P:
                paragraph(child)
            elif child.tag == TBL:
                table(child)
            elif child.tag == SDT:
                content = child.find(SDT_CONTENT)
                if content is not None:
                    walk(content)
            elif child.tag == CUSTOM:
                walk(child)

    try:
        walk(doc.element.body)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: damaged .docx document ({type(exc).__name__} after {len(rows)} lines) - "
                         f"open and save it again in Word") from None
    return rows
