"""The HTTP API against a real server process on loopback."""
import json
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from indicode.catalogue.store import Catalogue
from server_proc import running_server


def call(url, path, params=None, body=None, headers=None, raw=None):
    full = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(full, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import shutil

    from indicode.catalogue.store import BUNDLED_DB

    d = tmp_path_factory.mktemp("srv")
    cat = d / "catalogue.sqlite"
    shutil.copy(BUNDLED_DB, cat)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(d / "cache")}) as url:
        yield url, cat


def test_suggest_and_openapi(server):
    url, _ = server
    st, d = call(url, "/api/suggest", {"text": "办事群众满意度", "class": "31", "k": 3})
    assert st == 200 and len(d["candidates"]) == 3 and d["candidates"][0]["class"] == "31"
    assert d["decision"] in ("accept", "review") and d["code"].startswith("331")
    st, spec = call(url, "/openapi.json")
    assert st == 200 and spec["openapi"].startswith("3.") and "/api/feedback" in spec["paths"]


def test_code_detail_and_lookup(server):
    url, _ = server
    st, e = call(url, "/api/codes/222000929")
    assert st == 200 and e["aliases"] == ["保障机构正常运转"] and e["anomalies"][0]["kind"] == "one-code-many-names"
    st, found = call(url, "/api/lookup", {"q": "113", "limit": 50})
    assert st == 200 and found["results"] and all(r["code"].startswith("113") for r in found["results"])
    st, found = call(url, "/api/lookup", {"q": "满意度", "class": "31"})
    assert st == 200 and all(r["level2"] == "31" for r in found["results"])


@pytest.mark.parametrize("path,params,status,field", [
    ("/api/suggest", {}, 400, "text"),
    ("/api/suggest", {"text": "x", "k": "0"}, 400, "k"),
    ("/api/suggest", {"text": "x", "k": "abc"}, 400, "k"),
    ("/api/suggest", {"text": "x", "class": "99"}, 400, "class"),
    ("/api/suggest", {"text": "长" * 201}, 400, "text"),
    ("/api/codes/000000000", None, 404, "code"),
    ("/api/nothing", None, 404, None),
])
def test_bad_input_gets_json_errors(server, path, params, status, field):
    st, d = call(server[0], path, params)
    assert st == status and d["error"]
    assert d.get("field") == field


def test_size_limits_and_methods(server):
    url, _ = server
    st, d = call(url, "/api/suggest", {"text": "x", "value": "v" * 3000})
    assert st == 414 and "query string" in d["error"]
    st, d = call(url, "/api/feedback", raw=b"{" + b" " * 10000 + b"}")
    assert st == 413
    st, d = call(url, "/api/feedback", raw=b"not json")
    assert st == 400 and "JSON" in d["error"]
    st, d = call(url, "/api/suggest", raw=b"{}")
    assert st == 405


def test_concurrent_requests_are_answered_correctly(server):
    url, _ = server
    texts = ["验收合格率", "任务完成率", "办事群众满意度", "系统正常运行率", "资金拨付及时率", "召开会议次数", "员工满意度", "采购完成率"]
    expected = {t: call(url, "/api/suggest", {"text": t, "k": 3})[1]["candidates"] for t in texts}
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: (t, call(url, "/api/suggest", {"text": t, "k": 3})), texts * 6))
    for t, (st, d) in results:
        assert st == 200 and d["text"] == t and d["candidates"] == expected[t]


def test_feedback_is_stored_like_learn(server):
    url, cat = server
    st, d = call(url, "/api/feedback", body={"text": "租金支付及时率", "class": "13", "code": "113001668", "reviewer": "李"})
    assert st == 200 and d["stored"]["code"] == "113001668"
    learned = Catalogue.load(cat).learned
    assert [(l.text, l.level2, l.code, l.reviewer, l.source) for l in learned] == [
        ("租金支付及时率", "13", "113001668", "李", "web feedback")]
    st, s = call(url, "/api/suggest", {"text": "租金支付及时率", "class": "13"})
    assert (s["decision"], s["code"], s["reason"]) == ("accept", "113001668", "learned")
    st, d = call(url, "/api/feedback", body={"text": "x", "code": "123"})
    assert st == 400 and d["field"] == "code"


def test_feedback_off_loopback_needs_the_token(tmp_path):
    import shutil

    from indicode.catalogue.store import BUNDLED_DB

    cat = tmp_path / "c.sqlite"
    shutil.copy(BUNDLED_DB, cat)
    body = {"text": "验收合格率", "class": "12", "code": "112000287"}
    with running_server("--host", "0.0.0.0", "--token", "s3cret", "-c", str(cat)) as url:
        assert call(url, "/api/suggest", {"text": "验收合格率"})[0] == 200  # reading needs no token
        st, d = call(url, "/api/feedback", body=body)
        assert st == 403 and "token" in d["error"]
        st, d = call(url, "/api/feedback", body=body, headers={"X-Indicode-Token": "wrong"})
        assert st == 403
        st, d = call(url, "/api/feedback", body=body, headers={"X-Indicode-Token": "s3cret"})
        assert st == 200
    with running_server("--host", "0.0.0.0", "-c", str(cat)) as url:
        st, d = call(url, "/api/feedback", body=body)
        assert st == 403 and "disabled" in d["error"]


def test_which_addresses_count_as_loopback():
    from indicode.server import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("192.168.1.5")
    assert not is_loopback("example.org")
