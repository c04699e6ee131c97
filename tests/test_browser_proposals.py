"""Issue 22 in a real Chromium: a new code proposed in the page (P on a review row, P on a gap group, the
提议新编码 button of a no-match card), then found by the lookup tab (marked 已提议), its `#code=` page and
suggest; the lookup tab's true count with paging."""
import re
import urllib.parse

import pytest

from server_proc import call, copy_bundled, running_server
from test_server_proposals import DECLARATION
from test_web_page import CHROMIUM, browser_page
from test_web_upload import IMG

pytestmark = pytest.mark.slow


def _fill_proposal(page, unit=""):
    page.wait_for_selector("#propose-dialog[open]", timeout=5000)
    assert page.evaluate("() => document.activeElement.id") == "p-name"
    if unit:
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # 计量单位
        page.keyboard.type(unit)
    page.keyboard.press("Enter")


def test_propose_in_the_page_and_find_it_in_lookup_code_page_and_suggest(tmp_path):
    assert CHROMIUM
    cat = copy_bundled(tmp_path)
    orig = tmp_path / "申报.csv"
    orig.write_text(DECLARATION, encoding="utf-8")
    env = {"INDICODE_JOBS": str(tmp_path / "jobs"), "INDICODE_CACHE_DIR": str(tmp_path / "cache")}
    with running_server("-c", str(cat), env=env) as url, browser_page() as page:
        page.goto(url + "/")
        page.focus("#tab-upload")
        page.keyboard.press("Enter")
        page.set_input_files("#file", str(orig))
        page.wait_for_selector("#review:not([hidden])", timeout=240000)
        # P on a no-match row: who (asked once), then the proposal's dialog, its name the row's text
        while page.locator("#jrows li.active").get_attribute("data-text") != "志愿者服务总时长":
            page.keyboard.press("ArrowDown")
        page.keyboard.press("p")
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)
        page.keyboard.type("王芳")
        page.keyboard.press("Enter")
        page.wait_for_selector("#propose-dialog[open]", timeout=5000)
        assert page.input_value("#p-name") == "志愿者服务总时长" and page.input_value("#p-class") == "11"
        page.screenshot(path=str(IMG / "propose-1-dialog.png"))
        _fill_proposal(page, unit="小时")
        page.wait_for_selector("#toast:has-text('已提议：新-')", timeout=15000)
        row = page.locator("#jrows li[data-text='志愿者服务总时长']")
        volunteer = re.search(r"新-[A-Z]+-11-\d{4}", row.locator(".proposal").inner_text()).group(0)
        assert row.get_attribute("data-status") == "decided" and volunteer in row.inner_text()
        assert page.evaluate("() => document.activeElement.id") == "jrows"
        # G: the gap groups; the group of the two spellings proposed at once with P
        page.keyboard.press("g")
        page.wait_for_selector("#gaps li", timeout=60000)
        assert page.evaluate("() => document.activeElement.id") == "gaps"
        for _ in range(page.locator("#gaps li").count()):
            if "居民垃圾分类知晓率" in page.locator("#gaps li.active").inner_text():
                break
            page.keyboard.press("ArrowDown")
        group = page.locator("#gaps li.active")
        assert "3 行" in group.inner_text() and "单位 %" in group.inner_text()
        page.screenshot(path=str(IMG / "propose-2-gaps.png"))
        page.keyboard.press("p")
        page.wait_for_selector("#propose-dialog[open]", timeout=5000)
        assert "居民垃圾分类知晓率" in page.locator("#p-texts").inner_text() or \
            page.input_value("#p-name") == "居民垃圾分类知晓率"
        assert page.input_value("#p-class") == "22" and page.input_value("#p-unit") == "%"
        _fill_proposal(page)
        page.wait_for_selector("#gaps li.active .proposal", timeout=15000)
        waste = re.search(r"新-[A-Z]+-22-\d{4}", page.locator("#gaps li.active .proposal").inner_text()).group(0)
        page.keyboard.press("Escape")
        assert page.evaluate("() => document.activeElement.id") == "jrows"
        for text in ("垃圾分类知晓率", "居民垃圾分类知晓率"):
            assert waste in page.locator(f"#jrows li[data-text='{text}'] .proposal").inner_text()
        # the lookup tab finds both, marked as proposed, not as catalogue codes
        page.click("#tab-lookup")
        page.fill("#q", "垃圾分类知晓")
        page.wait_for_selector(f"#lproposed tr[data-code='{waste}'] .pbadge", timeout=15000)
        assert "已提议" in page.locator(f"#lproposed tr[data-code='{waste}'] .pbadge").inner_text()
        assert "已提议的新编码" in page.locator("#lstatus").inner_text()
        page.screenshot(path=str(IMG / "propose-3-lookup.png"))
        # its #code= page
        page.goto(url + "/#code=" + urllib.parse.quote(volunteer))
        page.wait_for_selector("#detail .pbadge", timeout=15000)
        detail = page.locator("#detail").inner_text()
        assert volunteer in detail and "待审批" in detail and "计量单位 小时" in detail and "志愿者服务总时长" in detail
        # the suggest tab: the card names it; a no-match card's 提议新编码 makes another
        page.click("#tab-suggest")
        page.locator("#text").press_sequentially("居民垃圾分类知晓率", delay=20)
        page.select_option("#class", "22")
        page.wait_for_selector(f"#verdict .proposal[data-code='{waste}']", timeout=15000)
        page.fill("#text", "")
        page.locator("#text").press_sequentially("职工食堂菜品口味评价", delay=20)
        page.select_option("#class", "")
        page.wait_for_selector("#verdict[data-text='职工食堂菜品口味评价'] button.propose", timeout=20000)
        page.locator("#verdict button.propose").click()
        _fill_proposal(page)
        page.wait_for_selector("#verdict[data-text='职工食堂菜品口味评价'] .proposal", timeout=15000)
        said = page.locator("#verdict .proposal").inner_text()
        assert said.startswith("已提议：新-") and said.endswith("（待审批）")
        page.screenshot(path=str(IMG / "propose-4-card.png"))
        listed = {p["name"]: p for p in call(url, "/api/proposals")[1]["proposals"]}
        assert listed["职工食堂菜品口味评价"]["origin"]["via"] == "page"
        assert listed["志愿者服务总时长"]["unit"] == "小时"
        assert listed["志愿者服务总时长"]["reviewer"] == "王芳"


def test_lookup_tab_says_the_true_count_and_pages(tmp_path):
    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url, \
            browser_page() as page:
        total = call(url, "/api/lookup", {"q": "113"})[1]["total"]
        assert total > 20
        page.goto(url + "/")
        page.click("#tab-lookup")
        page.fill("#q", "113")
        page.wait_for_selector(f"#lstatus:has-text('共 {total} 条')", timeout=15000)
        first = page.locator("#lresults tr").first.get_attribute("data-code")
        assert page.locator("#lresults tr").count() == 20 and not page.locator("#lpager").is_hidden()
        page.click("#lnext")
        page.wait_for_selector("#lstatus:has-text('第 2/')", timeout=15000)
        assert page.locator("#lresults tr").first.get_attribute("data-code") != first
