"""The whole job in a real Chromium, by keyboard: upload a declaration, review its texts (↑/↓, 1–5,
Enter, N, M), accept every 建议采用 (count and confirmation), reload (the job's id in the address),
download the coded declaration and reopen it with openpyxl: every decided row carries its code and
nothing else changed. Screenshots of each step go to docs/img/."""
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

import openpyxl
import pytest

from conftest import SEED
from docmakers import write_xlsx
from server_proc import copy_bundled, running_server
from test_web_page import CHROMIUM, browser_page

pytestmark = pytest.mark.slow
IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


def test_upload_review_accept_all_download_by_keyboard(tmp_path):
    assert Path(CHROMIUM).exists()
    cat = copy_bundled(tmp_path)
    orig = write_xlsx(SEED["000"].read_text(encoding="utf-8").split("\n"), tmp_path / "高新区申报.xlsx")
    env = {"INDICODE_JOBS": str(tmp_path / "jobs"), "INDICODE_CACHE_DIR": str(tmp_path / "cache")}
    IMG.mkdir(parents=True, exist_ok=True)
    with running_server("-c", str(cat), env=env) as url, browser_page() as page:
        page.goto(url + "/")
        page.focus("#tab-upload")
        page.keyboard.press("Enter")
        page.set_input_files("#file", str(orig))  # the one step a keyboard user does in the OS's file dialog
        page.wait_for_url(re.compile(r"#job=[\w-]{32,}$"), timeout=20000)
        page.wait_for_selector("#jstatus:has-text('高新区申报.xlsx：')", timeout=20000)
        page.screenshot(path=str(IMG / "upload-1-progress.png"))
        page.wait_for_selector("#review:not([hidden])", timeout=240000)
        assert page.evaluate("() => document.activeElement.id") == "jrows"
        counts = [int(page.locator("#jrows li[role=option]").nth(i).inner_text().split("· ")[1].split(" 行")[0])
                  for i in range(3)]
        assert counts == sorted(counts, reverse=True)  # the texts written most often first
        page.screenshot(path=str(IMG / "upload-2-review.png"))
        # a 需复核 text: filter with F, choose its second candidate with 2, confirm with Enter
        while page.locator("#filters button[aria-pressed=true]").get_attribute("data-f") != "review":
            page.keyboard.press("f")
        first = page.locator("#jrows li.active")
        text = first.get_attribute("data-text")
        second = first.locator("ol.jc li").nth(1).locator(".code").inner_text()
        page.keyboard.press("2")
        assert page.locator("#jrows li.active ol.jc li.chosen .code").inner_text() == second
        page.keyboard.press("Enter")
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)  # who reviews: asked once
        page.keyboard.type("王芳")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#toast:has-text('{text}')", timeout=15000)
        # next one: a note (M), then 无匹配 (N), the note kept with the decision
        while page.locator("#filters button[aria-pressed=true]").get_attribute("data-f") != "all":
            page.keyboard.press("f")
        while page.locator("#jrows li.active").get_attribute("data-status") == "decided":
            page.keyboard.press("ArrowDown")
        nil_text = page.locator("#jrows li.active").get_attribute("data-text")
        page.keyboard.press("m")
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)
        page.keyboard.type("不知道，请科长定")
        page.keyboard.press("Enter")
        page.keyboard.press("n")
        page.wait_for_selector(f"#toast:has-text('{nil_text}')", timeout=15000)
        # accept every 建议采用: a count and a confirmation first
        page.keyboard.press("a")
        page.wait_for_selector("#bulk-dialog[open]", timeout=5000)
        n = int(page.locator("#bulk-title").inner_text().split("将 ")[1].split(" 个")[0])
        assert n > 10
        page.screenshot(path=str(IMG / "upload-3-accept-all.png"))
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#toast:has-text('已确认 {n} 个指标')", timeout=120000)
        assert page.locator("#filters button[data-f=accept]").inner_text().endswith("(0)")
        # a reload comes back to the job, its decisions shown
        page.reload()
        page.wait_for_selector("#review:not([hidden])", timeout=30000)
        decided = int(page.locator("#filters button[data-f=decided]").inner_text().split("(")[1].rstrip(")"))
        assert decided >= n + 2
        page.screenshot(path=str(IMG / "upload-4-decided.png"))
        page.focus("#dl-coded")
        with page.expect_download() as dl:
            page.keyboard.press("Enter")
        coded = tmp_path / "coded.xlsx"
        dl.value.save_as(coded)
        assert dl.value.suggested_filename == "高新区申报_编码.xlsx"
        rows = json.loads(urllib.request.urlopen(url + "/api/jobs/" + page.url.split("#job=")[1] + "/rows").read())
    ws, ws0 = openpyxl.load_workbook(coded).active, openpyxl.load_workbook(orig).active
    col = ws0.max_column + 1
    for row in ws0.iter_rows():  # cell by cell, nothing else changed
        for c in row:
            assert ws.cell(c.row, c.column).value == c.value
    for r in rows["rows"]:
        got = ws.cell(r["line"], col).value
        if r["decided"] is None:
            assert got is None, r["line"]
        elif r["decided"]["code"] == "NIL":
            assert got == "无匹配"
        else:
            assert got.split("-")[0] == r["decided"]["code"], r["line"]
    by_text = {r["indicator"]: r["decided"] for r in rows["rows"] if r["indicator"]}
    assert by_text[text]["code"] == second and by_text[nil_text]["code"] == "NIL"
    assert by_text[nil_text]["comment"] == "不知道，请科长定" and by_text[text]["reviewer"] == "王芳"


def test_honest_cards_no_match_words_and_did_you_mean(tmp_path):
    """On a no-match, 确认无匹配 comes first and no low-scoring card carries the green 确认采用; the
    correction box takes 无匹配 (the workbook's word); a mistyped code gets a did-you-mean."""
    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url, \
            browser_page() as page:
        page.goto(url + "/")
        page.locator("#text").press_sequentially("职工食堂菜品口味评价", delay=20)
        page.wait_for_selector("#verdict .decision[data-decision='no-match']", timeout=20000)
        page.wait_for_selector("#cands li.cand[data-code]", timeout=5000)
        assert page.locator("#verdict button.nil").inner_text() == "确认无匹配"
        assert page.locator("#cands button.confirm").count() == 0  # every card scores below 0.5
        assert page.locator("#cands button.use").count() == page.locator("#cands li.cand[data-code]").count()
        page.screenshot(path=str(IMG / "cards-no-match.png"))
        page.fill("li.cand input.fix", "112000273")  # one digit off 112000272
        page.press("li.cand input.fix", "Enter")
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)
        page.keyboard.type("李明")
        page.keyboard.press("Enter")
        page.wait_for_selector("#toast:has-text('您是否要找')", timeout=15000)
        assert "112000272-" in page.locator("#toast").inner_text()
        page.fill("li.cand input.fix", "无匹配")
        page.press("li.cand input.fix", "Enter")
        page.wait_for_selector("#toast:has-text('已记录')", timeout=15000)
        q = urllib.parse.quote("职工食堂菜品口味评价")
        hist = json.loads(urllib.request.urlopen(url + "/api/decisions?text=" + q).read())
        assert [e["code"] for e in hist["events"]] == ["NIL"] and hist["events"][0]["reviewer"] == "李明"


def test_the_upload_list_names_proposals_and_the_class_read_from_the_text(tmp_path):
    # a row a pending proposal fits carries 已提议：新-…（待审批） in the list, never as a candidate; a row
    # of no class says which class was read from its text, and a 无匹配 where its new code would go
    from server_proc import call
    from test_web_page import propose

    cat = copy_bundled(tmp_path)
    proposed = propose(cat, "课题验收专家满意度", "32")
    orig = tmp_path / "申报.csv"
    orig.write_text("项目名称,三级指标,指标值\n课题研究,课题验收专家满意度,≥90%\n课题研究,培训人数,≥100人\n"
                    "课题研究,培训人数,≥100人\n", encoding="utf-8")
    env = {"INDICODE_JOBS": str(tmp_path / "jobs"), "INDICODE_CACHE_DIR": str(tmp_path / "cache")}
    with running_server("-c", str(cat), env=env) as url, browser_page() as page:
        page.goto(url + "/")
        page.click("#tab-upload")
        page.set_input_files("#file", str(orig))
        page.wait_for_selector("#review:not([hidden])", timeout=240000)
        job = re.search(r"#job=([\w-]+)", page.url).group(1)
        rows = {r["indicator"]: r for r in call(url, f"/api/jobs/{job}/rows")[1]["rows"]}
        inferred = re.search(r"class inferred (\d+)", rows["培训人数"]["check"]).group(1)
        assert rows["课题验收专家满意度"]["proposal"].startswith("已提议：" + proposed.code)
        prop = page.locator("#jrows li[data-text='课题验收专家满意度']")
        said = prop.locator(".proposal").inner_text()
        assert said.startswith("已提议：" + proposed.code) and said.endswith("（待审批）")
        assert proposed.code not in prop.locator("ol.jc").inner_text()  # not a candidate to confirm
        assert prop.locator(".proposal button").count() == 0
        line = page.locator("#jrows li[data-text='培训人数'] p.inferred")
        assert line.get_attribute("data-class") == inferred and "按文本推断类别：" + inferred in line.inner_text()
        for li in page.locator("#jrows li[data-status='no-match']").all():
            assert "新编码应归入" in li.inner_text()
