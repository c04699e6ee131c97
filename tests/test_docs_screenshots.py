"""The user guide's screenshots, taken in a real headless Chromium: the drafting page after the guide's
steps on a real server, its 编码查询 tab, and the review workbook that `indicode normalize` wrote (its
按文本审核 sheet drawn from the file: the cells, their fills, the column widths and one 审核 cell's
dropdown list as the file holds them).

Each run checks what the pictures show; with `INDICODE_WRITE_SCREENSHOTS=1` it also writes them into
docs/ (the committed ones were made so):

    INDICODE_WRITE_SCREENSHOTS=1 python -m pytest -q tests/test_docs_screenshots.py
"""
from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, SEED
from indicode.cli import app
from server_proc import copy_bundled, running_server
from test_web_page import CHROMIUM, browser_page

pytestmark = pytest.mark.slow

DOCS = ROOT / "docs"
WRITE = os.environ.get("INDICODE_WRITE_SCREENSHOTS") == "1"


def _keep(shot: Path) -> None:
    assert shot.stat().st_size > 20_000, f"{shot.name} looks empty"
    if WRITE:
        shutil.copy(shot, DOCS / shot.name)


def test_page_screenshots_follow_the_guide(tmp_path):
    assert Path(CHROMIUM).exists(), "Chromium is missing: bash scripts/setup.sh installs it"
    cat = copy_bundled(tmp_path)
    env = {"INDICODE_CACHE_DIR": str(tmp_path / "cache"), "INDICODE_DATA_DIR": str(tmp_path / "data")}
    with running_server("-c", str(cat), env=env) as url, browser_page() as page:
        page.goto(url + "/")
        # the guide: type the indicator, pick its class, the suggestions appear; ↓ picks the first
        page.select_option("#class", "31")
        page.locator("#text").press_sequentially("办事群众满意", delay=30)
        page.wait_for_selector("li.cand[data-code^='331']", timeout=15000)
        page.locator("#text").press("ArrowDown")
        assert page.locator("#verdict .decision").inner_text().strip() in ("建议采用", "需人工复核", "无匹配编码")
        assert "331" in page.locator("li.cand").first.get_attribute("data-code")
        shot = tmp_path / "guide-page.png"
        page.screenshot(path=str(shot), full_page=False)
        _keep(shot)

        # the 编码查询 tab: a code by part of its name, then the code itself
        page.click("#tab-lookup")
        page.locator("#q").press_sequentially("任务达标", delay=30)
        page.wait_for_selector("#lresults tr[data-code='112000272'] a.open", timeout=15000)
        page.click("#lresults tr[data-code='112000272'] a.open")
        page.wait_for_selector("#detail:has-text('任务达标完成率')", timeout=15000)
        shot = tmp_path / "guide-lookup.png"
        page.screenshot(path=str(shot), full_page=False)
        _keep(shot)


def _sheet_html(workbook: Path, sheet: str, rows: int, dropdown_row: int) -> str:
    """The sheet's first rows as a spreadsheet grid: values, fills and widths from the file, and the
    dropdown list of the 审核 cell in `dropdown_row` opened below it."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    ws = openpyxl.load_workbook(workbook)[sheet]
    header = [c.value for c in ws[1]]
    ncols = header.index("备选1") + 1
    mine = header.index("审核")
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    cell = f"{get_column_letter(mine + 1)}{dropdown_row}"
    choices = next((re.findall(r'[^",]+', f) for ref, f in lists.items() if cell in ref.split()), [])
    assert choices, f"no dropdown in {cell}"
    width = [int((ws.column_dimensions[get_column_letter(i + 1)].width or 9) * 7) for i in range(ncols)]
    grey = "background:#eee;text-align:center;border:1px solid #ccc"
    out = ["<html><body style='margin:0;font:13px \"WenQuanYi Micro Hei\",sans-serif;background:#fff'>",
           f"<div style='padding:6px 8px;background:#217346;color:#fff'>{html.escape(workbook.name)} — {sheet}</div>",
           "<table style='border-collapse:collapse;table-layout:fixed'>",
           f"<tr><td style='width:34px;{grey}'></td>"]
    out += [f"<td style='width:{w}px;{grey}'>{get_column_letter(i + 1)}</td>" for i, w in enumerate(width)]
    out.append("</tr>")
    for r in range(1, rows + 1):
        out.append(f"<tr><td style='{grey}'>{r}</td>")
        for i, c in enumerate(ws[r][:ncols]):
            rgb = c.fill.fgColor.rgb if c.fill and c.fill.fill_type else None
            fill = rgb[2:] if isinstance(rgb, str) else "fff"
            weight = "bold" if r == 1 else "normal"
            text = "" if c.value is None else html.escape(str(c.value))
            extra = ""
            if r == dropdown_row and i == mine:
                items = "".join(f"<div style='padding:2px 6px'>{html.escape(x)}</div>" for x in choices)
                extra = ("<div style='position:absolute;left:0;top:100%;z-index:2;background:#fff;"
                         f"border:1px solid #888;box-shadow:2px 2px 6px #aaa;width:300px'>{items}</div>▾")
            out.append(f"<td style='position:relative;background:#{fill};border:1px solid #d4d4d4;padding:2px 4px;"
                       f"font-weight:{weight};white-space:nowrap;overflow:visible'>{text}{extra}</td>")
        out.append("</tr>")
    out.append("</table></body></html>")
    return "".join(out)


def test_workbook_screenshot(tmp_path, monkeypatch):
    monkeypatch.setenv("INDICODE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INDICODE_DATA_DIR", str(tmp_path / "data"))
    workbook = tmp_path / "待审核.xlsx"
    r = CliRunner().invoke(app, ["normalize", str(SEED["002"]), "-o", str(workbook), "--quiet"])
    assert r.exit_code == 0, r.output
    import openpyxl

    ws = openpyxl.load_workbook(workbook)["按文本审核"]
    said = [c.value for c in ws[1]].index("建议")
    review_row = next(r for r in range(2, 14) if ws.cell(r, said + 1).value == "需复核")
    page_html = tmp_path / "sheet.html"
    page_html.write_text(_sheet_html(workbook, "按文本审核", 14, review_row), encoding="utf-8")
    with browser_page() as page:
        page.goto(page_html.as_uri())
        assert page.locator("td:text('审核')").count() == 1
        assert page.locator("td:text-is('确认')").count() == 0  # only inside the opened list, not as a cell
        assert page.locator("div:text-is('确认')").count() == 1 and page.locator("div:text-is('无匹配')").count() == 1
        shot = tmp_path / "guide-workbook.png"
        page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1280, "height": 470})
        _keep(shot)
