"""Bad documents as unlucky users and attackers send them, each written by a small function, with the
words its one-line error must hold. Used by test_bad_documents.py and scripts/bench_bad_inputs.py."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from docmakers import write_docx, write_xlsx

SEEDS = Path(__file__).resolve().parents[1] / "catalogue" / "data" / "seeds"
SEED_002 = SEEDS / "002_f41481170ab5ee96.txt"


def _sheet_xml(dimension: str, rows_xml: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>')


def xlsx_with_sheet(path: Path, sheet_xml_chunks, compresslevel: int = 9) -> Path:
    """A minimal valid .xlsx whose one sheet's XML is written from the given chunks (streamed, so a
    sheet of a gigabyte needs no gigabyte of memory to write)."""
    ct = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/>'
            '</Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
          '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
               '<Relationship Id="rId1" '
               'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
               'Target="worksheets/sheet1.xml"/>'
               '</Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        zf.writestr("[Content_Types].xml", ct)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.xml", wb)
        zf.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for chunk in sheet_xml_chunks:
                fh.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    return path


def rows_bomb(path: Path, rows: int = 10**8, filler_rows: int = 20_000) -> Path:
    """About 1 MB: a sheet declaring `rows` rows, a header, `filler_rows` short rows and one row at the
    last declared number."""
    body = ['<row r="1"><c r="A1" t="inlineStr"><is><t>三级指标</t></is></c></row>']
    body += [f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>指标{i % 97}</t></is></c></row>'
             for i in range(2, filler_rows + 2)]
    body.append(f'<row r="{rows}"><c r="A{rows}"><v>1</v></c></row>')
    return xlsx_with_sheet(path, [_sheet_xml(f"A1:A{rows}", "".join(body))])


def cell_bomb(path: Path, size: int = 20 * 2**20, compresslevel: int = 1) -> Path:
    """One cell of `size` characters, compressed about a thousand times."""
    head, tail = _sheet_xml("A1:A2", "<§>").split("<§>")

    def chunks():
        yield head + '<row r="1"><c r="A1" t="inlineStr"><is><t>三级指标</t></is></c></row>'
        yield '<row r="2"><c r="A2" t="inlineStr"><is><t>'
        block = b"x" * 2**20
        for _ in range(size // len(block)):
            yield block
        yield "</t></is></c></row>" + tail

    return xlsx_with_sheet(path, chunks(), compresslevel=compresslevel)


def seed_lines() -> list[str]:
    return SEED_002.read_text(encoding="utf-8").split("\n")


def mixed_encodings(path: Path) -> Path:
    """UTF-8 text with GBK text pasted after it."""
    text = SEED_002.read_text(encoding="utf-8")
    half = len(text) // 2
    path.write_bytes(text[:half].encode("utf-8") + text[half:].encode("gbk"))
    return path


def huge_csv_field(path: Path) -> Path:
    path.write_text("三级指标,指标值\n任务达标完成率,100%\n\"" + "长" * 200_000 + "\",1\n", encoding="utf-8")
    return path


def huge_text(path: Path) -> Path:
    with path.open("wb") as fh:
        line = ("三级指标\t指标值\n" * 1000).encode("utf-8")
        while fh.tell() < 33 * 2**20:
            fh.write(line)
    return path


def scanned_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for _ in range(2):
        c.rect(50, 50, 400, 600, fill=1)  # a page with a picture and no text layer
        c.showPage()
    c.save()
    return path


def _truncated(write, path: Path, share: float) -> Path:
    """The seed written by `write`, then cut to its first `share` of bytes (a download broken off)."""
    full = write(seed_lines(), path.with_name("full_" + path.name))
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: int(len(data) * share)])
    return path


def truncated_pdf(path: Path) -> Path:
    from docmakers import write_pdf_text

    return _truncated(write_pdf_text, path, 1 / 3)


def encrypted_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    from docmakers import _font

    c = canvas.Canvas(str(path), encrypt="secret")  # a user password: nothing readable without it
    c.setFont(_font(), 10)
    c.drawString(40, 800, "三级指标\t指标值")
    c.showPage()
    c.save()
    return path


def truncated_zip(path: Path) -> Path:
    return _truncated(write_xlsx, path, 1 / 2)


def docx_without_table(path: Path) -> Path:
    return write_docx(["关于印发2025年工作要点的通知", "", "各单位：", "现将工作要点印发给你们，请认真贯彻落实。"],
                      path)


def zip_of_neither(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not an office document")
    return path


def many_parts(path: Path, parts: int = 20_000) -> Path:
    """A package with a workbook part and tens of thousands of empty members."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(parts):
            zf.writestr(f"x/{i}", b"")
    return path


def binary_junk(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 8 + os.urandom(2048))
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def folder(path: Path) -> Path:
    path.mkdir()
    (path / "inside.txt").write_text("三级指标\n任务达标完成率\n", encoding="utf-8")
    return path


# name, file name, maker, words the error line holds
BAD = [
    ("mixed-encodings", "mixed.txt", mixed_encodings, "is not UTF-8 although"),
    ("rows-bomb", "rows_bomb.xlsx", rows_bomb, "workbook declares 100000000 rows, more than the 1,000,000"),
    ("cell-bomb", "cell_bomb.xlsx", cell_bomb, "(a zip bomb?)"),
    ("huge-csv-field", "huge_field.csv", huge_csv_field, ":3: cannot read as CSV: a field of more than 131,072"),
    ("huge-text", "huge.txt", huge_text, "more than the 33,554,432 indicode reads"),
    ("scanned-pdf", "scan.pdf", scanned_pdf, "PDF has no text layer (scanned?) - run OCR or export the text"),
    ("truncated-zip", "cut.xlsx", truncated_zip, "damaged or truncated zip"),
    ("truncated-pdf", "cut.pdf", truncated_pdf, "not a readable PDF"),
    ("encrypted-pdf", "locked.pdf", encrypted_pdf, "not a readable PDF (encrypted)"),
    ("docx-no-table", "notice.docx", docx_without_table, "no indicator table found"),
    ("zip-of-neither", "archive.xlsx", zip_of_neither, "neither an .xlsx workbook nor a .docx document"),
    ("many-parts", "parts.xlsx", many_parts, "a zip package of 20,001 parts, more than the 10,000"),
    ("binary-junk", "junk.dat", binary_junk, "not a text document"),
    ("empty-file", "empty.csv", empty_file, "empty file"),
    ("folder", "folder", folder, "is a folder, not a document"),
]
