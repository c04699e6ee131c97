"""The drafting page in a real headless Chromium (Playwright driving the system browser)."""
import shutil
from pathlib import Path

import pytest

from indicode.catalogue.store import Catalogue
from server_proc import running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page_server(tmp_path):
    from indicode.catalogue.store import BUNDLED_DB

    assert Path(CHROMIUM).exists(), "Chromium is missing: bash scripts/setup.sh installs it (apt-get install chromium)"
    cat = tmp_path / "c.sqlite"
    shutil.copy(BUNDLED_DB, cat)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url:
        yield url, cat


def test_type_see_class_31_confirm_and_stored(page_server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, cat = page_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url + "/")
        page.locator("#text").press_sequentially("办事群众满意", delay=40)  # typed, key by key: debounced
        page.wait_for_selector("li.cand[data-code^='331']", timeout=15000)
        codes = page.locator("li.cand[data-code]").evaluate_all("els => els.map(e => e.dataset.code)")
        assert any(c.startswith("331") for c in codes)
        first31 = page.locator("li.cand[data-code^='331']").first
        chosen = first31.get_attribute("data-code")
        assert page.locator("#verdict .decision").get_attribute("data-decision") in ("accept", "review", "no-match")
        first31.locator("button.confirm").click()
        page.wait_for_selector("#verdict .decision[data-decision='accept']", timeout=15000)
        page.screenshot(path=str(tmp_path / "page.png"))
        # a correction: another text, a code typed into 纠正为
        page.fill("#text", "")
        page.locator("#text").press_sequentially("租金支付及时率", delay=20)
        page.select_option("#class", "13")
        page.wait_for_selector("#verdict[data-text='租金支付及时率'][data-class='13']", timeout=15000)
        page.wait_for_timeout(400)  # let any debounced request still in flight land
        assert "113001668" not in page.locator("#verdict").inner_text()  # not the tool's own answer
        page.fill("li.cand input.fix", "113001668")
        page.click("li.cand button.send")
        page.wait_for_selector("#verdict:has-text('113001668')", timeout=15000)
        assert page.locator("#verdict .decision").get_attribute("data-decision") == "accept"
        # the lookup view finds a code and shows its detail
        page.click("#tab-lookup")
        page.fill("#q", "222000929")
        page.wait_for_selector("#lresults tr[data-code='222000929'] a.open", timeout=15000)
        page.click("#lresults tr[data-code='222000929'] a.open")
        page.wait_for_selector("#detail:has-text('保障机构正常运转')", timeout=15000)
        browser.close()
    learned = Catalogue.load(cat).learned
    assert [(l.text, l.level2, l.code, l.source) for l in learned] == [
        ("办事群众满意", "", chosen, "web feedback"), ("租金支付及时率", "13", "113001668", "web feedback")]
