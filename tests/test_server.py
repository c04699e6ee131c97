"""The HTTP API against a real server process on loopback: answers, validation, JSON errors."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from indicode.catalogue.lookup import Catalogue
from server_proc import call, copy_bundled, running_server, server_on_copy
from workspace_fixtures import in_force


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with server_on_copy(tmp_path_factory.mktemp("srv")) as served:
        yield served


def test_suggest_and_openapi(server):
    url, _ = server
    st, d = call(url, "/api/suggest", {"text": "办事群众满意度", "class": "31", "k": 3})
    assert st == 200 and len(d["candidates"]) == 3 and d["candidates"][0]["class"] == "31"
    assert d["decision"] in ("accept", "review") and d["code"].startswith("331")
    st, spec = call(url, "/openapi.json")
    assert st == 200 and spec["openapi"].startswith("3.")
    assert {"/api/suggest", "/api/codes/{code}", "/api/lookup", "/api/feedback", "/api/health",
            "/reconcile"} <= set(spec["paths"])
    # the framework documents the validation it does
    assert "application/x-www-form-urlencoded" in spec["paths"]["/reconcile"]["post"]["requestBody"]["content"]
    params = {p["name"]: p for p in spec["paths"]["/api/suggest"]["get"]["parameters"]}
    assert params["text"]["schema"]["minLength"] == 1 and "200 characters" in params["text"]["schema"]["description"]
    assert params["k"]["schema"]["type"] == "integer" and params["k"]["schema"]["maximum"] == 50
    assert "数量指标" in params["class"]["schema"]["description"]


def test_code_detail_and_lookup(server):
    url, _ = server
    st, e = call(url, "/api/codes/222000929")
    assert st == 200 and e["aliases"] == ["保障机构正常运转"] and e["anomalies"][0]["kind"] == "one-code-many-names"
    st, found = call(url, "/api/lookup", {"q": "113", "limit": 50})
    assert st == 200 and found["results"] and all(r["code"].startswith("113") for r in found["results"])
    st, found = call(url, "/api/lookup", {"q": "满意度", "class": "31"})
    assert st == 200 and found["results"] and all(r["level2"] == "31" for r in found["results"])


def test_health_tells_what_is_served(server):
    url, cat = server
    st, h = call(url, "/api/health")
    assert st == 200 and h["ok"] is True and h["codes"] == len(Catalogue.load(cat))
    assert h["fingerprint"] == Catalogue.load(cat).fingerprint


@pytest.mark.parametrize("path,params,status,field", [
    ("/api/suggest", {}, 422, "text"),
    ("/api/suggest", {"text": "   "}, 422, "text"),
    ("/api/suggest", {"text": "x", "k": "0"}, 422, "k"),
    ("/api/suggest", {"text": "x", "k": "abc"}, 422, "k"),
    ("/api/suggest", {"text": "x", "k": "9" * 5000}, 414, None),
    ("/api/suggest", {"text": "x", "class": "99"}, 422, "class"),
    ("/api/suggest", {"text": "x", "class": "3a"}, 422, "class"),
    ("/api/suggest", {"text": "a\x00b"}, 422, "text"),
    ("/api/suggest", {"text": "x", "k": "5.0"}, 422, "k"),
    ("/api/lookup", {"q": "x", "limit": "1001"}, 422, "limit"),
    ("/api/lookup", {"q": ""}, 422, "q"),
    ("/api/lookup", {"q": "x", "class": "99"}, 422, "class"),
    ("/api/codes/000000000", None, 404, "code"),
    ("/api/nothing", None, 404, None),
])
def test_bad_input_gets_json_errors(server, path, params, status, field):
    st, d = call(server[0], path, params)
    assert st == status and d["error"]
    assert d.get("field") == field


def test_a_long_text_is_matched_by_its_beginning_and_says_so(server):
    st, d = call(server[0], "/api/suggest", {"text": "长" * 201})
    assert st == 200 and d["cut"] is True and d["text"] == "长" * 200
    st, d = call(server[0], "/api/suggest", {"text": "长" * 200})
    assert st == 200 and d["cut"] is False


def test_size_limits_and_methods_answer_in_json(server):
    url, _ = server
    st, d = call(url, "/api/suggest", {"text": "x", "value": "v" * 3000})
    assert st == 414 and "query string" in d["error"]
    st, d = call(url, "/api/feedback", raw=b"{" + b" " * 10000 + b"}")
    assert st == 413 and "8192" in d["error"]
    st, d = call(url, "/api/feedback", raw=b"not json")
    assert st == 422 and "JSON" in d["error"]
    st, d = call(url, "/api/suggest", raw=b"{}")
    assert st == 405 and "POST" in d["error"]
    st, d = call(url, "/api/feedback")
    assert st == 405
    st, d = call(url, "/api/health", method="DELETE")
    assert st == 405 and d["error"]


def test_concurrent_requests_are_answered_correctly(server):
    url, _ = server
    texts = ["验收合格率", "任务完成率", "办事群众满意度", "系统正常运行率", "资金拨付及时率", "召开会议次数",
             "员工满意度", "采购完成率"]
    expected = {t: call(url, "/api/suggest", {"text": t, "k": 3})[1]["candidates"] for t in texts}
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: (t, call(url, "/api/suggest", {"text": t, "k": 3})), texts * 6))
    for t, (st, d) in results:
        assert st == 200 and d["text"] == t and d["candidates"] == expected[t]


def _force(cat):
    return in_force(str(cat.parent / "data" / "workspace.sqlite"))


def test_feedback_is_stored_like_learn(server):
    url, cat = server
    before = len(_force(cat))
    st, d = call(url, "/api/feedback",
                 body={"text": "租金支付及时率", "class": "13", "code": "113001668", "reviewer": "李"})
    assert st == 200 and d["stored"]["code"] == "113001668"
    assert _force(cat)[before:] == [("租金支付及时率", "13", "113001668", "李", "http")]
    assert Catalogue.load(cat).learned == []  # never into the catalogue
    st, s = call(url, "/api/suggest", {"text": "租金支付及时率", "class": "13"})
    assert (s["decision"], s["code"], s["reason"]) == ("accept", "113001668", "learned")
    st, d = call(url, "/api/feedback", body={"text": "x", "code": "123456789"})
    assert st == 422 and d["field"] == "code"
    assert len(_force(cat)) == before + 1
    # the class as a JSON number or as a name is read as the API reads it, and stored as digits
    for klass in (31, "服务对象满意度"):
        st, d = call(url, "/api/feedback", body={"text": "办事群众满意程度", "class": klass, "code": "NIL"})
        assert st == 200 and d["stored"]["class"] == "31"
    assert len(_force(cat)) == before + 2  # the same text and class again: the same subject


def test_two_reviewers_over_http_409_replace_and_undo(server):
    url, cat = server
    first = {"text": "办事群众满意度", "class": "31", "code": "331003339", "reviewer": "张三"}
    st, a = call(url, "/api/feedback", body=first)
    assert st == 200 and a["recorded"]
    second = {"text": "办事群众满意度（%）", "class": "31", "code": "331000551", "reviewer": "李四"}
    st, refused = call(url, "/api/feedback", body=second)
    assert st == 409 and refused["field"] == "replaces" and refused["in_force"]["id"] == a["stored"]["id"]
    assert refused["in_force"]["reviewer"] == "张三" and refused["in_force"]["code"] == "331003339"
    assert call(url, "/api/suggest", {"text": "办事群众满意度", "class": "31"})[1]["code"] == "331003339"
    st, b = call(url, "/api/feedback", body={**second, "replaces": a["stored"]["id"]})
    assert st == 200 and b["stored"]["replaces"] == a["stored"]["id"]
    assert call(url, "/api/suggest", {"text": "办事群众满意度", "class": "31"})[1]["code"] == "331000551"
    st, h = call(url, "/api/decisions", {"text": "办事群众满意度", "class": "31"})
    assert [(e["code"], e["reviewer"]) for e in h["events"]] == [("331003339", "张三"), ("331000551", "李四")]
    st, u = call(url, "/api/retract", body={"id": b["stored"]["id"], "reviewer": "李四"})
    assert st == 200 and u["in_force"]["id"] == a["stored"]["id"]
    s = call(url, "/api/suggest", {"text": "办事群众满意度", "class": "31"})[1]
    assert (s["code"], s["reason"]) == ("331003339", "learned")
    st, again = call(url, "/api/retract", body={"id": b["stored"]["id"]})
    assert st == 409 and "not in force" in again["error"] and again["field"] == "id"
    st, h = call(url, "/api/health")
    assert h["workspace"].endswith("workspace.sqlite") and h["decisions"] >= 1 and h["fingerprint"]


@pytest.mark.slow
def test_feedback_off_loopback_needs_the_token(tmp_path):
    cat = copy_bundled(tmp_path)
    body = {"text": "验收合格率", "class": "12", "code": "112000287"}
    with running_server("--host", "0.0.0.0", "--token", "s3cret", "-c", str(cat)) as url:
        assert call(url, "/api/suggest", {"text": "验收合格率"})[0] == 200  # reading needs no token
        st, d = call(url, "/api/feedback", body=body)
        assert st == 403 and "token" in d["error"]
        st, d = call(url, "/api/feedback", body=body, headers={"X-Indicode-Token": "wrong"})
        assert st == 403
        assert in_force() == []
        st, d = call(url, "/api/feedback", body=body, headers={"X-Indicode-Token": "s3cret"})
        assert st == 200
    with running_server("--host", "0.0.0.0", "-c", str(cat)) as url:
        st, d = call(url, "/api/feedback", body=body)
        assert st == 403 and "disabled" in d["error"]


def test_which_addresses_count_as_loopback_and_which_hosts_are_served():
    from indicode.server import is_loopback, served_hosts

    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("192.168.1.5")
    assert not is_loopback("example.org")
    assert served_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert served_hosts("indicode.example.org", 80) == {"indicode.example.org:80", "indicode.example.org"}
    assert "10.1.2.3:8000" in served_hosts("0.0.0.0", 8000, ["10.1.2.3"])
    assert "evil.example:8000" not in served_hosts("0.0.0.0", 8000)


@pytest.mark.slow
def test_roles_off_loopback_by_member_tokens(tmp_path):
    """Off loopback the caller is known by the token the workspace issued: a reviewer may decide but
    not replace another's decision; a lead may."""
    from indicode.workspace import Workspace

    cat = copy_bundled(tmp_path)
    ws = Workspace.open()
    reviewer, lead = ws.add_member("李四", "reviewer"), ws.add_member("组长", "lead")
    with running_server("--host", "0.0.0.0", "-c", str(cat)) as url:
        body = {"text": "验收合格率", "class": "12", "code": "112000287", "reviewer": "冒名"}
        st, a = call(url, "/api/feedback", body=body, headers={"X-Indicode-Token": reviewer})
        assert st == 200 and a["stored"]["reviewer"] == "李四"  # the token names the caller, not the body
        other = {"text": "验收合格率", "class": "12", "code": "NIL", "replaces": a["stored"]["id"]}
        st, d = call(url, "/api/feedback", body=other, headers={"X-Indicode-Token": "ix_forged"})
        assert st == 403
        st, d = call(url, "/api/feedback", body={**other, "reviewer": "x"}, headers={"X-Indicode-Token": lead})
        assert st == 200 and d["stored"]["reviewer"] == "组长"
        st, d = call(url, "/api/retract", body={"id": d["stored"]["id"]}, headers={"X-Indicode-Token": reviewer})
        assert st == 403 and "may not retract" in d["error"]
    assert in_force() == [("验收合格率", "12", "NIL", "组长", "http")]
