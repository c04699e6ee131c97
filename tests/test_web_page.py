"""The drafting page in a real headless Chromium (Playwright driving the system browser): the mouse
and keyboard flows, the reviewer's name, two reviewers on one text (the decision in force shown, an
explicit replace, 撤销), the unreachable server, a code opened from the address, and a page on another
origin trying to write."""
import shutil
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indicode.cli import app
from indicode.workspace import Workspace
from server_proc import copy_bundled, running_server
from workspace_fixtures import in_force

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page_server(tmp_path):
    assert Path(CHROMIUM).exists(), "Chromium is missing: bash scripts/setup.sh installs it (apt-get install chromium)"
    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url:
        yield url, cat


@contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 800})
        finally:
            browser.close()


def test_type_see_class_31_confirm_and_stored(page_server, tmp_path):
    url, cat = page_server
    with browser_page() as page:
        page.goto(url + "/")
        page.locator("#text").press_sequentially("办事群众满意", delay=40)  # typed, key by key: debounced
        page.wait_for_selector("li.cand[data-code^='331']", timeout=15000)
        first31 = page.locator("li.cand[data-code^='331']").first
        chosen = first31.get_attribute("data-code")
        assert page.locator("#verdict .decision").get_attribute("data-decision") in ("accept", "review", "no-match")
        # results are announced to screen readers
        assert page.locator("#status").get_attribute("aria-live") == "polite"
        assert "条建议" in page.locator("#status").inner_text() or "无匹配" in page.locator("#status").inner_text()
        # the first confirmation asks who is reviewing, once
        first31.locator("button.confirm, button.use").click()  # (a card under 0.5: 仍采用此编码)
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)
        page.fill("#ask-input", "王芳")
        page.click("#ask-save")
        page.wait_for_selector("#verdict .decision[data-decision='accept']", timeout=15000)
        assert page.locator("#reviewer-name").inner_text() == "王芳"
        # a correction: another text, a code typed into 纠正为 and sent with Enter; not asked again
        page.fill("#text", "")
        page.locator("#text").press_sequentially("租金支付及时率", delay=20)
        page.select_option("#class", "13")
        page.wait_for_selector("#verdict[data-text='租金支付及时率'][data-class='13']", timeout=15000)
        page.wait_for_timeout(400)  # let any debounced request still in flight land
        # a correction to a code that is not the tool's own answer (its second candidate)
        fix = page.locator("li.cand[data-code]").nth(1).get_attribute("data-code")
        assert fix and fix not in page.locator("#verdict p").first.inner_text()
        page.fill("li.cand input.fix", "11300")  # not a code: refused, said in Chinese, nothing stored
        page.press("li.cand input.fix", "Enter")
        page.wait_for_selector("#toast:has-text('编码填写有误')", timeout=15000)
        page.fill("li.cand input.fix", fix)
        page.press("li.cand input.fix", "Enter")
        page.wait_for_selector(f"#verdict p:has-text('{fix}')", timeout=15000)
        assert not page.locator("#ask-dialog").evaluate("d => d.open")
        assert page.locator("#verdict .decision").get_attribute("data-decision") == "accept"
        # the lookup view finds a code and shows its detail
        page.click("#tab-lookup")
        page.fill("#q", "222000929")
        page.wait_for_selector("#lresults tr[data-code='222000929'] a.open", timeout=15000)
        page.click("#lresults tr[data-code='222000929'] a.open")
        page.wait_for_selector("#detail:has-text('保障机构正常运转')", timeout=15000)
    assert in_force() == [("办事群众满意", "", chosen, "王芳", "page"),
                          ("租金支付及时率", "13", fix, "王芳", "page")]


def test_keyboard_picks_and_confirms_a_suggestion(page_server):
    url, cat = page_server
    with browser_page() as page:
        page.goto(url + "/")
        page.evaluate("localStorage.setItem('indicode.reviewer', '李')")  # asked before, remembered
        page.reload()
        page.locator("#text").press_sequentially("验收合格率", delay=20)
        page.wait_for_selector("#verdict[data-text='验收合格率'] .decision", timeout=15000)
        codes = page.locator("li.cand[data-code]").evaluate_all("els => els.map(e => e.dataset.code)")
        assert len(codes) >= 2
        page.press("#text", "ArrowDown")
        page.press("#text", "ArrowDown")
        assert page.get_attribute("#text", "aria-activedescendant") == "cand-1"
        page.press("#text", "ArrowUp")
        assert page.locator("li.cand.active").get_attribute("data-code") == codes[0]
        assert page.get_attribute("#cand-0", "aria-selected") == "true"
        assert page.get_attribute("#cand-1", "aria-selected") == "false"
        page.press("#text", "ArrowDown")  # the second one, then Enter confirms it
        page.press("#text", "Enter")
        page.wait_for_selector(f"#verdict:has-text('{codes[1]}') .decision[data-decision='accept']", timeout=15000)
    assert in_force() == [("验收合格率", "", codes[1], "李", "page")]


def _pick_other(page, code):
    """↓ on the text box until a suggestion other than `code` is picked, then Enter (as the second
    reviewer of issue 20 did with ↓↓Enter); the code confirmed."""
    for _ in range(5):
        page.press("#text", "ArrowDown")
        picked = page.locator("li.cand.active").get_attribute("data-code")
        if picked != code:
            page.press("#text", "Enter")
            return picked
    raise AssertionError(f"no suggestion other than {code}")


def test_two_reviewers_the_second_replaces_only_when_asked_and_undo_brings_the_first_back(page_server, tmp_path):
    url, cat = page_server
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text("indicator,class,reviewer_code\n办事群众满意度,31,331003339\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["learn", str(reviewed), "-c", str(cat), "--reviewer", "张三"])
    assert r.exit_code == 0, r.output
    [first] = Workspace.open().in_force()
    with browser_page() as page:
        page.goto(url + "/")
        page.evaluate("localStorage.setItem('indicode.reviewer', '李四')")
        page.reload()
        page.locator("#text").press_sequentially("办事群众满意度（%）", delay=20)  # another spelling: one subject
        page.select_option("#class", "31")
        page.wait_for_selector("#verdict[data-text='办事群众满意度（%）'][data-class='31']:has-text('331003339')",
                               timeout=15000)  # the first reviewer's decision, applied
        page.wait_for_timeout(400)  # let the debounced request of the typing land (it renders the list again)
        code = _pick_other(page, "331003339")
        # refused with the decision in force: who, when, what; nothing replaced until asked
        page.wait_for_selector("#conflict-dialog[open]", timeout=15000)
        shown = page.locator("#conflict-dialog").inner_text()
        assert "张三" in shown and first.at[:10] in shown and "331003339" in shown and code in shown
        page.click("#conflict-keep")
        page.wait_for_selector("#toast:has-text('未替换')", timeout=5000)
        assert [e.id for e in Workspace.open().history("办事群众满意度", "31")] == [first.id]
        assert page.locator("#undo-bar").is_hidden()
        # asked again, and this time replaced: the page sends the id of the decision it replaces
        page.press("#text", "Enter")
        page.wait_for_selector("#conflict-dialog[open]", timeout=15000)
        page.click("#conflict-replace")
        page.wait_for_selector(f"#undo-bar:has-text('{code}')", timeout=15000)
        # (the old verdict is an accept too: wait for the one that names the new code)
        page.wait_for_selector(f"#verdict p:has-text('{code}') .decision[data-decision='accept']", timeout=15000)
        first_, second = Workspace.open().history("办事群众满意度", "31")
        assert (first_.id, first_.reviewer, first_.code) == (first.id, "张三", "331003339")
        assert (second.reviewer, second.code, second.replaces, second.origin.via) == ("李四", code, first.id, "page")
        # 撤销: the first decision is in force again, and the page says so
        page.click("#undo")
        page.wait_for_selector("#toast:has-text('现行决定恢复为 331003339')", timeout=15000)
        page.wait_for_selector("#verdict:has-text('331003339')", timeout=15000)
        assert page.locator("#undo-bar").is_hidden()
    hist = Workspace.open().history("办事群众满意度", "31")
    assert [(e.kind, e.reviewer) for e in hist] == [("decision", "张三"), ("decision", "李四"), ("retraction", "李四")]
    assert hist[-1].replaces == second.id
    assert in_force() == [("办事群众满意度", "31", "331003339", "张三", "workbook")]


def test_unreachable_server_is_shown_and_recovered_from(tmp_path):
    cat = copy_bundled(tmp_path)
    env = {"INDICODE_CACHE_DIR": str(tmp_path / "cache")}
    with browser_page() as page:
        with running_server("-c", str(cat), env=env) as url:
            page.goto(url + "/")
            page.locator("#text").press_sequentially("验收合格率", delay=20)
            page.wait_for_selector("li.cand button.confirm", timeout=15000)
        port = url.rsplit(":", 1)[1]
        page.locator("#text").press_sequentially("和满意度", delay=20)
        page.wait_for_selector("#offline:not([hidden])", timeout=15000)
        assert "无法连接" in page.locator("#offline").inner_text()
        assert page.locator("li.cand").count() == 0 and page.locator("#verdict").inner_text() == ""  # no stale results
        assert all(page.locator("main button").evaluate_all("bs => bs.map(b => b.disabled)"))
        with running_server("-c", str(cat), "--port", port, env=env):  # back on the same address
            page.locator("#offline").wait_for(state="hidden", timeout=20000)
            page.wait_for_selector("#verdict[data-text='验收合格率和满意度'] .decision", timeout=15000)
            assert not any(page.locator("main button").evaluate_all("bs => bs.map(b => b.disabled)"))


def test_a_shared_server_asks_for_its_token_once(tmp_path):
    cat = copy_bundled(tmp_path)
    with running_server("--host", "0.0.0.0", "--token", "s3cret", "-c", str(cat),
                        env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url, browser_page() as page:
        page.goto(url + "/")
        page.evaluate("localStorage.setItem('indicode.reviewer', '李')")
        page.reload()
        page.locator("#text").press_sequentially("验收合格率", delay=20)
        page.wait_for_selector("li.cand button.confirm", timeout=15000)
        code = page.locator("li.cand[data-code]").first.get_attribute("data-code")
        page.locator("li.cand button.confirm").first.click()
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)  # refused without the token: asked for it
        assert page.get_attribute("#ask-input", "type") == "password"
        page.fill("#ask-input", "wrong")
        page.press("#ask-input", "Enter")
        page.wait_for_selector("#toast:has-text('令牌')", timeout=15000)  # said in Chinese, nothing stored
        assert in_force() == []
        page.evaluate("sessionStorage.removeItem('indicode.token')")
        page.locator("li.cand button.confirm").first.click()
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)
        page.fill("#ask-input", "s3cret")
        page.click("#ask-save")
        page.wait_for_selector(f"#verdict:has-text('{code}') .decision[data-decision='accept']", timeout=15000)
    assert in_force() == [("验收合格率", "", code, "李", "page")]


def test_a_code_in_the_address_opens_on_the_page(page_server):
    url, _ = page_server
    with browser_page() as page:
        page.goto(url + "/#code=222000929")  # the reconciliation manifest's view URL
        page.wait_for_selector("#detail:has-text('保障机构正常运转')", timeout=15000)
        assert page.locator("#view-lookup").is_visible()
        page.goto(url + "/?code=112000272")
        page.wait_for_selector("#detail:has-text('任务达标完成率')", timeout=15000)


ATTACK = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<form id="plain" method="POST" action="{target}/api/feedback" enctype="text/plain" target="out1">
  <input name='{{"text":"群众满意度","class":"31","code":"112000272","x":"' value='"}}'></form>
<form id="urlenc" method="POST" action="{target}/api/feedback" target="out2">
  <input name="text" value="群众满意度"><input name="class" value="31"><input name="code" value="112000272"></form>
<iframe name="out1"></iframe><iframe name="out2"></iframe>
<script>
const body = JSON.stringify({{text: "群众满意度", "class": "31", code: "112000272"}});
const done = [];
fetch("{target}/api/feedback", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body}})
  .then(() => done.push("no-cors sent"), () => done.push("no-cors failed"))
  .then(() => fetch("{target}/api/feedback", {{method: "POST", headers: {{"Content-Type": "application/json"}}, body}}))
  .then(() => done.push("cors answered"), () => done.push("cors blocked"))
  .then(() => {{ document.getElementById("plain").submit(); document.getElementById("urlenc").submit(); }})
  .then(() => {{ document.title = done.join(";"); }});
</script></body></html>"""


@contextmanager
def other_origin_server(html: str):
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            data = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_page_on_another_origin_cannot_write(page_server):
    url, cat = page_server
    with other_origin_server(ATTACK.format(target=url)) as evil, browser_page() as page:
        assert evil != url
        page.goto(evil + "/")
        page.wait_for_function("document.title.includes('cors')", timeout=15000)
        assert page.title() == "no-cors sent;cors blocked"  # sent, but refused; the JSON one never leaves
        for name in ("out1", "out2"):
            frame = page.frame(name=name)
            frame.wait_for_load_state()
            frame.wait_for_selector("body:has-text('error')", timeout=15000)
            assert "application/json" in frame.inner_text("body")  # the 415 the server answered
        page.wait_for_timeout(500)
    assert in_force() == []


def propose(cat, name, klass):
    """A pending proposal in the test's workspace, made as a reviewer makes it (`indicode proposals add`)."""
    r = CliRunner().invoke(app, ["proposals", "add", name, "--class", klass, "-c", str(cat), "--reviewer", "王芳"])
    assert r.exit_code == 0, r.output
    [proposed] = Workspace.open().proposals()
    return proposed


def test_the_class_read_from_the_text_is_shown_and_kept_under_a_level_1_class_and_proposals_named(tmp_path):
    # issue 21 §4 and issue 22 on the card: no class chosen, the class the server read from the text is
    # said (按文本推断类别); under a level-1 class it stays within it, and the decision is recorded under
    # it; a text a pending proposal fits shows 已提议：新-…（待审批）, never as a code to accept
    from server_proc import call

    cat = copy_bundled(tmp_path)
    proposed = propose(cat, "课题验收专家满意度", "32")
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url, \
            browser_page() as page:
        free = call(url, "/api/suggest", {"text": "培训人数"})[1]["inferred_class"]
        under3 = call(url, "/api/suggest", {"text": "培训人数", "class": "3"})[1]
        assert free and not free.startswith("3") and under3["inferred_class"].startswith("3")
        page.goto(url + "/")
        page.locator("#text").press_sequentially("培训人数", delay=20)
        line = page.wait_for_selector("#verdict[data-text='培训人数'][data-class=''] p.inferred", timeout=15000)
        assert line.get_attribute("data-class") == free and "按文本推断类别：" + free in line.inner_text()
        page.select_option("#class", "3")
        line = page.wait_for_selector("#verdict[data-class='3'] p.inferred", timeout=15000)
        assert line.get_attribute("data-class") == under3["inferred_class"]
        if under3["decision"] == "no-match":  # the new code's class keeps to the level-1 class too
            assert page.locator("#verdict b").first.inner_text().startswith("3")
        page.select_option("#class", "11")
        page.wait_for_selector("#verdict[data-class='11']", timeout=15000)
        assert page.locator("#verdict p.inferred").count() == 0  # a class given: nothing to infer
        # decided under the level-1 class: recorded under the class read from the text, within it
        page.select_option("#class", "3")
        page.wait_for_selector("#verdict[data-class='3'] p.inferred", timeout=15000)
        code = page.locator("li.cand").first.get_attribute("data-code")
        page.locator("li.cand").first.locator("button.confirm, button.use").click()
        page.wait_for_selector("#ask-dialog[open]", timeout=5000)
        page.fill("#ask-input", "王芳")
        page.click("#ask-save")
        page.wait_for_selector("#toast:has-text('已记录')", timeout=15000)
        [e] = Workspace.open().history("培训人数", under3["inferred_class"])
        assert e.code == code
        # a pending proposal the text fits
        page.select_option("#class", "")
        page.fill("#text", "")
        page.locator("#text").press_sequentially("课题验收专家满意度", delay=20)
        prop = page.wait_for_selector("#verdict[data-text='课题验收专家满意度'] p.proposal", timeout=15000)
        said = prop.inner_text()
        assert said.startswith("已提议：" + proposed.code) and said.endswith("（待审批）")
        assert "课题验收专家满意度" in said
        assert proposed.code.startswith("新-")
        assert page.locator("#verdict .decision").get_attribute("data-decision") != "accept"
        assert prop.query_selector("button") is None
        assert page.locator(f"li.cand[data-code='{proposed.code}']").count() == 0
        assert "已提议" in page.locator("#status").inner_text() or \
            page.locator("#verdict .decision").get_attribute("data-decision") == "review"
