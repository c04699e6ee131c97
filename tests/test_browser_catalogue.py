"""Browsing the catalogue (issue 21 §5): the class tree with counts equal to what a class's lookup
lists, page by page; a code's page with the documents it was seen in by readable names, the texts
reviewers decided for it, the proposals near it and its anomalies in words — the API, then the page in
a real Chromium."""
import pytest

from server_proc import call, copy_bundled, running_server
from test_web_page import browser_page
from test_web_upload import IMG

CODE = "222000929"  # 保障机构正常运作 / 保障机构正常运转: one code, two names


def _decide_and_propose(url):
    st, _ = call(url, "/api/feedback", body={"text": "机关正常运转保障情况", "class": "22", "code": CODE,
                                             "reviewer": "王芳", "comment": "按目录", "origin": "page"})
    assert st == 200
    st, made = call(url, "/api/proposals", body={"name": "保障机构正常运转率", "class": "22", "reviewer": "王芳"})
    assert st == 200
    return made["proposal"]


def test_class_tree_and_a_codes_page_through_the_api(tmp_path):
    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url:
        proposal = _decide_and_propose(url)
        st, tree = call(url, "/api/classes")
        assert st == 200 and sum(t["codes"] for t in tree["tree"]) + tree["unclassed"] == tree["codes"]
        l22 = next(c for t in tree["tree"] for c in t["classes"] if c["level2"] == "22")
        assert l22["prefix"] == "222" and l22["proposed"] == 1 and l22["codes"] > 20
        listed = call(url, "/api/lookup", {"q": l22["prefix"], "limit": 1000})[1]
        assert listed["total"] == l22["codes"] and all(r["level2"] == "22" for r in listed["results"])
        st, e = call(url, f"/api/codes/{CODE}")
        assert st == 200
        [doc] = e["documents"]
        assert doc["source"].startswith("000_") and doc["name"].startswith("2025年珠海高新技术产业开发区")
        assert [d["text"] for d in e["decided"]] == ["机关正常运转保障情况"] and e["decided"][0]["reviewer"] == "王芳"
        assert e["proposals_near"][0]["code"] == proposal["code"]
        assert e["anomalies"][0]["words"].startswith("一码多名：同一编码写作 保障机构正常运作（2 次）")
        words = {a["kind"]: a["words"] for c in ("111063829", "1114010894", "212003359", "111000231")
                 for a in call(url, f"/api/codes/{c}")[1]["anomalies"]}
        assert words["filed-class-mismatch"].startswith("归类不一致：编码的类别位是 1/11，申报表把它归入 1/12")
        assert words["malformed-code"].startswith("编码格式错误：10 位，应为 9 位")
        assert words["code-digits-disagree"] == "编码类别位自相矛盾：一级位是 2，二级位却是 12"
        assert words["one-name-many-codes"] == "一名多码：「召开会议次数」对应编码 111000231、111000234"
        names = {d["source"][:3]: d["name"] for c in call(url, "/api/lookup", {"q": "1", "limit": 1000})[1]["results"]
                 for d in call(url, f"/api/codes/{c['code']}")[1]["documents"]}
        assert all(not n.endswith(".txt") for n in names.values()), names  # no hash names shown


@pytest.mark.slow
def test_browse_the_class_tree_and_open_a_codes_page_in_the_page(tmp_path):
    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url, \
            browser_page() as page:
        proposal = _decide_and_propose(url)
        tree = call(url, "/api/classes")[1]["tree"]
        n22 = next(c for t in tree for c in t["classes"] if c["level2"] == "22")["codes"]
        page.goto(url + "/")
        page.focus("#tab-lookup")
        page.keyboard.press("Enter")
        page.wait_for_selector("#tree details", timeout=15000)
        page.focus("#tree details[data-level1='2'] summary")
        page.keyboard.press("Enter")  # opens 2 效益指标
        page.focus("#tree button[data-level2='22']")
        assert f"（{n22}，已提议 1）" in page.locator("#tree button[data-level2='22']").inner_text()
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#lstatus:has-text('共 {n22} 条')", timeout=15000)
        assert page.locator("#lresults tr").count() == min(20, n22)
        assert all(c.startswith("222") for c in page.locator("#lresults tr").evaluate_all(
            "rows => rows.map(r => r.dataset.code)"))
        page.screenshot(path=str(IMG / "browse-1-tree.png"))
        page.goto(url + f"/#code={CODE}")
        page.wait_for_selector("#detail ul.docs li", timeout=15000)
        detail = page.locator("#detail")
        assert "2025年珠海高新技术产业开发区" in detail.locator("ul.docs").inner_text()
        assert ".txt" not in detail.locator("ul.docs").inner_text()
        assert "「机关正常运转保障情况」" in detail.locator("ul.decided").inner_text()
        assert proposal["code"] in detail.locator("ul.near").inner_text()
        assert "一码多名" in detail.locator(".anomalies").inner_text()
        assert "保障机构正常运转" in detail.inner_text()  # its other name
        page.screenshot(path=str(IMG / "browse-2-code.png"), full_page=True)
