"""Write text lines (a seed document, or generated rows) into .docx, .xls, .pdf, .xlsx and .csv files,
the way departments hold them, so that tests compare what the readers get from each format with what
they get from the text. Lines holding tabs become table rows (one cell per field); other lines
become paragraphs (or, in a PDF, text lines)."""
from __future__ import annotations

import csv
from pathlib import Path
from xml.sax.saxutils import escape


def blocks(lines: list[str]) -> list[tuple[str, list]]:
    """Consecutive tab lines grouped into tables: [("p", line) | ("t", [cells, ...])]."""
    out: list[tuple[str, list]] = []
    for line in lines:
        if "\t" in line:
            if out and out[-1][0] == "t":
                out[-1][1].append(line.split("\t"))
            else:
                out.append(("t", [line.split("\t")]))
        else:
            out.append(("p", line))
    return out


def _is_header(cells: list[str]) -> bool:
    """A table's header row: its cells are never merged with the data under them."""
    return "三级指标" in cells


def _numbered(doc, text: str, num_id: str):
    """A paragraph in automatic list `num_id` (its number is Word's, not text)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = doc.add_paragraph(text)
    ppr = p._p.get_or_add_pPr()
    numpr = OxmlElement("w:numPr")
    for tag, val in (("w:ilvl", "0"), ("w:numId", num_id)):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        numpr.append(el)
    ppr.append(numpr)
    return p


def _new_list(doc, lvl_text: str = "%1、") -> str:
    """A numbering definition (`1、`, `2、` …) and a fresh list using it, as Word makes for each list
    typed with `1、`; returns the list's numId."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = doc.part.numbering_part.element
    ids = [int(n.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}numId")) for n in numbering.num_lst]
    num_id = str(max(ids + [0]) + 1)
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="9{num_id}"><w:lvl w:ilvl="0">'
                         f'<w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="{lvl_text}"/>'
                         f'</w:lvl></w:abstractNum>')
    first_num = numbering.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}num")
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}">'
                               f'<w:abstractNumId w:val="9{num_id}"/></w:num>'))
    return num_id


def write_docx_auto_numbered(lines: list[str], path: Path) -> Path:
    """Guangzhou list text typed in Word: each line starting `N、1-…` becomes a paragraph of an
    automatic numbered list (a new list where N is 1), its `N、` no longer in the text."""
    import re

    import docx

    doc = docx.Document()
    num_id = None
    for line in lines:
        m = re.match(r"^(\d{1,3})、(?=\d-)", line)
        if m:
            if m.group(1) == "1" or num_id is None:
                num_id = _new_list(doc)
            _numbered(doc, line[m.end():], num_id)
        else:
            doc.add_paragraph(line)
    doc.save(path)
    return path


def merge_runs(body: list[list[str]], columns: tuple[int, ...], start: int = 0):
    """(column, first row, last row) of each text in `columns` with empty cells under it: the cells a
    table merges down (a class written once for its block)."""
    for j in columns:
        i = start
        while i < len(body):
            if j < len(body[i]) and body[i][j] and not _is_header(body[i]):
                k = i + 1
                while k < len(body) and not (body[k][j] if j < len(body[k]) else "") and any(body[k]):
                    k += 1
                if k - 1 > i:
                    yield j, i, k - 1
                i = k
            else:
                i += 1


def write_docx(lines: list[str], path: Path, merge_down: tuple[int, ...] = (), merge_title: bool = False) -> Path:
    """A Word document; `merge_down` columns have each text merged down over the empty cells under
    it (as Word tables write a class once for its block); `merge_title` writes one-cell lines as a
    table row merged across the whole table."""
    import docx

    doc = docx.Document()
    for kind, body in blocks(lines):
        if kind == "p":
            doc.add_paragraph(body)
            continue
        width = max(len(r) for r in body)
        t = doc.add_table(rows=len(body), cols=width)
        grid = [[c for c in r.cells] for r in t.rows]
        for i, cells in enumerate(body):
            for j, text in enumerate(cells):
                if text:
                    grid[i][j].text = text
        for j, first, last in merge_runs(body, merge_down):
            text = body[first][j]
            merged = grid[first][j].merge(grid[last][j])
            merged.text = text
    if merge_title:
        t = doc.add_table(rows=1, cols=4)
        merged = t.rows[0].cells[0].merge(t.rows[0].cells[3])
        merged.text = "附：以上指标由项目单位填报"
    doc.save(path)
    return path


def write_xls(lines: list[str], path: Path, merge_down: tuple[int, ...] = ()) -> Path:
    """A legacy .xls workbook, one line a row, one field a cell (merged down like write_docx)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("sheet1")
    rows = [line.split("\t") for line in lines]
    merged: set[tuple[int, int]] = set()
    for j in merge_down:
        i = 0
        while i < len(rows):
            if j < len(rows[i]) and rows[i][j] and "\t" in lines[i] and not _is_header(rows[i]):
                k = i + 1
                while (k < len(rows) and "\t" in lines[k] and not (rows[k][j] if j < len(rows[k]) else "")):
                    k += 1
                if k - 1 > i:
                    ws.write_merge(i, k - 1, j, j, rows[i][j])
                    merged.update((r, j) for r in range(i, k))
                i = k
            else:
                i += 1
    for i, cells in enumerate(rows):
        for j, text in enumerate(cells):
            if text and (i, j) not in merged:
                ws.write(i, j, text)
    wb.save(str(path))
    return path


def write_xlsx(lines: list[str], path: Path, merge_down: tuple[int, ...] = ()) -> Path:
    """An .xlsx workbook, one line a row, one field a text cell (merged down like write_docx)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    rows = [line.split("\t") for line in lines]
    for i, cells in enumerate(rows, 1):
        for j, text in enumerate(cells, 1):
            if text:
                cell = ws.cell(row=i, column=j)
                cell.value = text
                cell.data_type = "s"  # text as a real export stores it, even `=100%`
    for j in merge_down:
        i = 0
        while i < len(rows):
            if j < len(rows[i]) and rows[i][j] and "\t" in lines[i] and not _is_header(rows[i]):
                k = i + 1
                while k < len(rows) and "\t" in lines[k] and not (rows[k][j] if j < len(rows[k]) else ""):
                    k += 1
                if k - 1 > i:
                    ws.merge_cells(start_row=i + 1, start_column=j + 1, end_row=k, end_column=j + 1)
                i = k
            else:
                i += 1
    wb.save(path)
    return path


def write_csv(lines: list[str], path: Path, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        for line in lines:
            w.writerow(line.split("\t"))
    return path


CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian fonts-wqy-microhei (scripts/setup.sh)


def _font() -> str:
    """A CJK TrueType font embedded in the PDF with its Unicode map, as office programs write them.
    (reportlab's built-in STSong-Light lacks characters such as ² that the seeds hold.)"""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "WenQuanYiMicroHei"
    if name not in pdfmetrics.getRegisteredFontNames():
        if not CJK_FONT.exists():
            raise RuntimeError(f"{CJK_FONT} missing: run scripts/setup.sh (apt package fonts-wqy-microhei)")
        pdfmetrics.registerFont(TTFont(name, str(CJK_FONT), subfontIndex=0))
    return name


def write_pdf_text(lines: list[str], path: Path, per_page: int = 45, head: str = "",
                   foot: str = "{page}") -> Path:
    """A PDF whose text layer holds the lines (as a PDF of wrapped text does), `per_page` lines to a
    page under a running `head`, with `foot` at the foot of each page (`{page}`, `{pages}` filled
    in), so that items wrapped over a page break are cut there by page furniture."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4)
    pages = max(1, -(-len(lines) // per_page))
    for page in range(1, pages + 1):
        if head:
            c.setFont(font, 9)
            c.drawCentredString(A4[0] / 2, 815, head)
        y = 790
        c.setFont(font, 10)
        for line in lines[(page - 1) * per_page: page * per_page]:
            c.drawString(40, y, line)
            y -= 16
        c.setFont(font, 9)
        c.drawCentredString(A4[0] / 2, 30, foot.format(page=page, pages=pages))
        c.showPage()
    c.save()
    return path


def write_pdf_tables(lines: list[str], path: Path, merge_down: tuple[int, ...] = ()) -> Path:
    """A PDF with ruled tables (the tab lines, one field a cell, long cells wrapped) between
    paragraphs, on landscape A3 pages; a table's first row is repeated on each page it runs over;
    `merge_down` columns have each text spanning the empty cells under it (as write_docx)."""
    from reportlab.lib.pagesizes import A3, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    font = _font()
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=7, leading=9, wordWrap="CJK")
    para_style = ParagraphStyle("para", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    size = landscape(A3)
    usable = size[0] - 60
    story = []
    for kind, body in blocks(lines):
        if kind == "p":
            if body.strip():
                story.append(Paragraph(escape(body), para_style))
            continue
        width = max(len(r) for r in body)
        longest = [max((len(r[j]) if j < len(r) else 0) for r in body) for j in range(width)]
        weights = [min(max(n, 4), 60) for n in longest]
        widths = [usable * w / sum(weights) for w in weights]
        data = [[Paragraph(escape(c), cell_style) for c in r] + [""] * (width - len(r)) for r in body]
        style = [("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        # the first row is repeated on every page: never part of a span
        style += [("SPAN", (j, first), (j, last)) for j, first, last in merge_runs(body, merge_down, start=1)]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle(style))
        story.append(t)
    SimpleDocTemplate(str(path), pagesize=size, leftMargin=30, rightMargin=30, topMargin=30,
                      bottomMargin=30).build(story)
    return path


def wrap(text: str, per_line: int) -> list[str]:
    """A cell's text in lines `per_line` Chinese characters wide, as a word processor wraps it in a
    narrow column: by the glyphs' widths (`100%` takes about two), so a wrapped line is full."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font, lines, cur = _font(), [], ""
    for ch in text:
        if cur and stringWidth(cur + ch, font, 1) > per_line + 1e-6:
            lines.append(cur)
            cur = ""
        cur += ch
    return lines + [cur] if cur else lines


def split_row(cells: list[str], per_line: list[int], keep: int) -> tuple[list[list[str]], list[list[str]]]:
    """A table row broken across a page break the way Word breaks it ("allow row to break across
    pages"): each cell's first `keep` wrapped lines at the foot of one page, the rest at the top of
    the next (a cell that fits leaves an empty cell there)."""
    lines = [wrap(c, n) for c, n in zip(cells, per_line, strict=True)]
    return [cell[:keep] for cell in lines], [cell[keep:] for cell in lines]


def write_pdf_ruled(pages: list[list[list]], path: Path, widths: list, foot: str = "- {page} -",
                    size: float = 9, leading: float = 12, pad: float = 3, wide: bool = False) -> Path:
    """A PDF of a ruled table drawn page by page, exactly as given: each page a list of rows, each
    row a list of cells, a cell its text lines (drawn as given, top-aligned) or None where a cell
    merged down from the row above covers it (no rule between them). A row is as tall as its
    tallest cell, so a row that `split_row` broke ends part-way through its long cells at the foot
    of one page and goes on at the top of the next, as in a word processor's PDF. `widths`: the
    columns' widths, or a list of them for each page; `wide`: landscape pages."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    font = _font()
    page = landscape(A4) if wide else A4
    c = canvas.Canvas(str(path), pagesize=page)
    for no, rows in enumerate(pages, 1):
        xs = [40.0]
        for w in (widths[no - 1] if isinstance(widths[0], (list, tuple)) else widths):
            xs.append(xs[-1] + w)
        y = page[1] - 50
        c.setLineWidth(0.5)
        for row in rows:
            height = max(1, max(len(cell or []) for cell in row)) * leading + 2 * pad
            for j, cell in enumerate(row):
                if cell is not None:
                    c.line(xs[j], y, xs[j + 1], y)  # the rule above the cell
                    c.setFont(font, size)
                    for i, line in enumerate(cell):
                        c.drawString(xs[j] + pad, y - pad - i * leading - size, line)
            for x in xs:
                c.line(x, y, x, y - height)
            y -= height
        c.line(xs[0], y, xs[-1], y)
        if foot:
            c.setFont(font, 9)
            c.drawCentredString(page[0] / 2, 30, foot.format(page=no, pages=len(pages)))
        c.showPage()
    c.save()
    return path
