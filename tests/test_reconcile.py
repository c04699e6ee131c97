"""The W3C Reconciliation Service API 0.2 at /reconcile, against a real server process: every answer
validated against the spec's JSON schemas, the spec's example queries run, the two facts a data
person checks first."""
import json
import urllib.parse
import urllib.request

import pytest

from indicode.catalogue.classes import LEVEL2
from indicode.catalogue.lookup import Catalogue
from reconcile_schemas import examples, validator
from server_proc import call, server_on_copy

MANIFEST = validator("manifest")
QUERY_BATCH = validator("reconciliation-query-batch")
RESULT_BATCH = validator("reconciliation-result-batch")
SUGGEST_ENTITIES = validator("suggest-entities-response")
SUGGEST_TYPES = validator("suggest-types-response")
SUGGEST_PROPERTIES = validator("suggest-properties-response")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with server_on_copy(tmp_path_factory.mktemp("recon")) as served:
        yield served


def fetch(url, path, data: bytes | None = None, ctype: str | None = None, method=None):
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": ctype} if ctype else {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def reconcile(url, batch: dict, how: str = "post-form") -> dict:
    q = json.dumps(batch, ensure_ascii=False)
    if how == "get":
        st, headers, body = fetch(url, "/reconcile?" + urllib.parse.urlencode({"queries": q}))
    elif how == "post-form":
        st, headers, body = fetch(url, "/reconcile", urllib.parse.urlencode({"queries": q}).encode(),
                                  "application/x-www-form-urlencoded")
    else:
        st, headers, body = fetch(url, "/reconcile", q.encode(), "application/json")
    assert st == 200, body
    assert headers["access-control-allow-origin"] == "*"
    out = json.loads(body)
    RESULT_BATCH.validate(out)
    assert set(out) == set(batch)
    return out


def test_manifest_validates_and_describes_the_service(server):
    url, _ = server
    st, headers, body = fetch(url, "/reconcile")
    m = json.loads(body)
    MANIFEST.validate(m)
    assert st == 200 and headers["access-control-allow-origin"] == "*" and "0.2" in m["versions"]
    assert m["view"]["url"] == url + "/#code={{id}}"
    assert {t["id"] for t in m["defaultTypes"]} == set(LEVEL2)
    assert next(t for t in m["defaultTypes"] if t["id"] == "31")["name"] == "服务对象满意度"
    # the manifest's own URLs lead somewhere that answers
    preview = m["preview"]["url"].replace("{{id}}", "331000551")
    assert fetch(url, preview[len(url):])[0] == 200
    suggest = m["suggest"]["entity"]
    assert suggest["service_url"] == url and fetch(url, suggest["service_path"] + "?prefix=331")[0] == 200


@pytest.mark.parametrize("name", sorted(examples("reconciliation-query-batch")))
@pytest.mark.parametrize("how", ["get", "post-form", "post-json"])
def test_the_specs_example_queries_are_answered(server, name, how):
    batch = examples("reconciliation-query-batch")[name]
    QUERY_BATCH.validate(batch)
    out = reconcile(server[0], batch, how)
    for key, q in batch.items():
        if "query" not in q:  # properties alone (a uid): nothing to match an indicator name by
            assert out[key]["result"] == []
        else:
            assert len(out[key]["result"]) <= q.get("limit", 5)


def test_the_schema_checks_are_not_vacuous():
    for doc in examples("reconciliation-result-batch", valid=False).values():
        assert not RESULT_BATCH.is_valid(doc)
    for doc in examples("manifest", valid=False).values():
        assert not MANIFEST.is_valid(doc)


def test_satisfaction_matches_and_bandwidth_does_not(server):
    url, _ = server
    out = reconcile(url, {"a": {"query": "办事群众满意度", "type": "31"},
                          "a_untyped": {"query": "办事群众满意度"},
                          "b": {"query": "电子政务外网主骨干带宽", "type": "11"},
                          "c": {"query": "电子政务外网主骨干带宽"}})
    top = out["a"]["result"][0]
    assert top["id"].startswith("331") and top["match"] is True
    assert top["type"][0]["id"] == "31"
    assert out["a_untyped"]["result"][0]["id"].startswith("331")
    assert not any(r["match"] for r in out["b"]["result"] + out["c"]["result"])


def test_scores_and_match_follow_the_suggestion(server):
    url, _ = server
    texts = [("办事群众满意度", "31"), ("验收合格率", "12"), ("资金拨付及时率", "13"), ("召开会议次数", ""),
             ("设备正常使用率", "")]
    batch = {f"q{i}": {"query": t, **({"type": c} if c else {}), "limit": 4} for i, (t, c) in enumerate(texts)}
    out = reconcile(url, batch)
    for i, (t, c) in enumerate(texts):
        st, s = call(url, "/api/suggest", {"text": t, "class": c, "k": 4})
        res = out[f"q{i}"]["result"]
        assert [r["id"] for r in res] == [x["code"] for x in s["candidates"]]
        assert [r["score"] for r in res] == pytest.approx([100 * x["score"] for x in s["candidates"]], abs=0.06)
        assert all(0 <= r["score"] <= 100 for r in res)
        assert [r["match"] for r in res] == [j == 0 and s["decision"] == "accept" for j in range(len(res))]


def test_properties_class_and_value_refine_the_query(server):
    url, _ = server
    out = reconcile(url, {
        "by_type": {"query": "群众满意度", "type": "31"},
        "by_property": {"query": "群众满意度", "properties": [{"pid": "class", "v": "31"}]},
        "as_entity": {"query": "群众满意度",
                      "properties": [{"pid": "class", "v": {"id": "31", "name": "服务对象满意度"}}]},
        "with_value": {"query": "资金拨付",
                       "properties": [{"pid": "value", "v": "≥95%"}, {"pid": "class", "v": ["13"]}]},
        "no_value": {"query": "资金拨付", "properties": [{"pid": "class", "v": ["13"]}]},
    })
    assert out["by_type"] == out["by_property"] == out["as_entity"]
    st, s = call(url, "/api/suggest", {"text": "资金拨付", "class": "13", "value": "≥95%"})
    assert [r["id"] for r in out["with_value"]["result"]] == [c["code"] for c in s["candidates"]]
    assert [r["score"] for r in out["with_value"]["result"]] == \
        pytest.approx([100 * c["score"] for c in s["candidates"]], abs=0.06)


@pytest.mark.parametrize("batch,status", [
    ({"q": {"query": 5}}, 422),
    ({"q": {"query": "x", "limit": 0}}, 422),
    ({"q": {"query": "x", "unknown": 1}}, 422),
    ({"q": {"query": "x", "limit": 2.5}}, 422),
    ({"q": {"query": "x", "limit": 51}}, 422),
    ({"q": {"query": "a\u0000b"}}, 422),
    ({f"q{i}": {"query": "x"} for i in range(51)}, 422),
    (["q"], 422),
])
def test_bad_batches_get_json_errors(server, batch, status):
    url, _ = server
    st, headers, body = fetch(url, "/reconcile", urllib.parse.urlencode({"queries": json.dumps(batch)}).encode(),
                              "application/x-www-form-urlencoded")
    assert st == status and json.loads(body)["error"]
    st, _, body = fetch(url, "/reconcile", urllib.parse.urlencode({"queries": "{not json"}).encode(),
                        "application/x-www-form-urlencoded")
    assert st == 400 and json.loads(body)["error"]
    st, _, body = fetch(url, "/reconcile", b"queries=x", "text/plain")
    assert st == 415 and json.loads(body)["error"]


def test_classes_are_read_by_the_front_door_and_long_queries_cut(server):
    """A type or a class property may be a label or a name (a column of 31-服务对象满意度 reconciled
    as it is); one that names no class narrows nothing (types are hints); a long query is matched
    by its beginning, as everywhere."""
    url, _ = server
    out = reconcile(url, {"digits": {"query": "群众满意度", "type": "31"},
                          "label": {"query": "群众满意度", "type": "31-服务对象满意度"},
                          "name": {"query": "群众满意度", "properties": [{"pid": "class", "v": "服务对象满意度"}]},
                          "untyped": {"query": "群众满意度"}, "unknown": {"query": "群众满意度", "type": "Q5"},
                          "long": {"query": "长" * 201}, "long200": {"query": "长" * 200}})
    assert out["digits"] == out["label"] == out["name"]
    assert out["unknown"] == out["untyped"]
    assert out["long"] == out["long200"]


def test_crafted_forms_and_blank_prefixes_get_json_4xx(server):
    """More form fields than a reconciliation client sends, and a prefix of spaces (which would list
    every code): JSON 4xx, not a 500 or the whole catalogue."""
    url, _ = server
    form = "&".join(f"f{i}=x" for i in range(11)) + "&queries=" + urllib.parse.quote(json.dumps({"q": {"query": "x"}}))
    st, _, body = fetch(url, "/reconcile", form.encode(), "application/x-www-form-urlencoded")
    assert st == 400 and "too many form fields" in json.loads(body)["error"]
    st, _, body = fetch(url, "/reconcile/suggest/entity?prefix=%20%20")
    d = json.loads(body)
    assert st == 422 and d["field"] == "prefix" and d["error"].startswith("query '  ': empty")


def test_entity_suggest_by_code_prefix_and_name(server):
    url, cat = server
    c = Catalogue.load(cat)
    st, headers, body = fetch(url, "/reconcile/suggest/entity?prefix=1120002")
    d = json.loads(body)
    SUGGEST_ENTITIES.validate(d)
    assert headers["access-control-allow-origin"] == "*"
    assert d["result"] and all(r["id"].startswith("1120002") for r in d["result"])
    st, _, body = fetch(url, "/reconcile/suggest/entity?" + urllib.parse.urlencode({"prefix": "满意度", "type": "31"}))
    d = json.loads(body)
    SUGGEST_ENTITIES.validate(d)
    assert d["result"] and all("满意度" in "".join(c.get(r["id"]).names) for r in d["result"])
    assert all(r["notable"][0]["id"] == "31" for r in d["result"])
    # cursor pages through the same list
    first = json.loads(fetch(url, "/reconcile/suggest/entity?prefix=1")[2])["result"]
    second = json.loads(fetch(url, "/reconcile/suggest/entity?prefix=1&cursor=5")[2])["result"]
    assert [r["id"] for r in second[:5]] == [r["id"] for r in first[5:10]]


def test_type_and_property_suggest_and_preview(server):
    url, _ = server
    d = json.loads(fetch(url, "/reconcile/suggest/type?" + urllib.parse.urlencode({"prefix": "满意"}))[2])
    SUGGEST_TYPES.validate(d)
    assert {t["id"] for t in d["result"]} == {"31", "32"}
    d = json.loads(fetch(url, "/reconcile/suggest/property?prefix=")[2])
    SUGGEST_PROPERTIES.validate(d)
    assert {p["id"] for p in d["result"]} == {"value", "class"}
    st, headers, html = fetch(url, "/reconcile/preview?id=222000929")
    assert st == 200 and headers["content-type"].startswith("text/html") and "保障机构正常运作" in html
    assert "#code=222000929" in html
    st, _, body = fetch(url, "/reconcile/preview?id=000000000")
    assert st == 404 and json.loads(body)["error"]


def test_cors_only_on_the_reconciliation_endpoints(server):
    url, _ = server
    st, headers, _ = fetch(url, "/reconcile", method="OPTIONS")
    assert st == 204 and headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    for path in ("/api/suggest?text=x", "/api/health", "/"):
        assert "access-control-allow-origin" not in {k.lower() for k in fetch(url, path)[1]}
    st, headers, _ = fetch(url, "/api/feedback", method="OPTIONS")
    assert st == 405 and "access-control-allow-origin" not in {k.lower() for k in headers}


def test_jsonp_for_older_clients_with_a_plain_function_name_only(server):
    url, _ = server
    st, headers, body = fetch(url, "/reconcile?callback=jQuery_123.cb")
    assert st == 200 and headers["content-type"].startswith("application/javascript")
    assert body.startswith("/**/jQuery_123.cb(") and body.endswith(");")
    MANIFEST.validate(json.loads(body[len("/**/jQuery_123.cb("):-2]))
    st, _, body = fetch(url, "/reconcile/suggest/entity?prefix=331&callback=cb")
    SUGGEST_ENTITIES.validate(json.loads(body[len("/**/cb("):-2]))
    for bad in ("alert(1)//", "a b", "1abc", "x" * 65):
        st, _, body = fetch(url, "/reconcile?" + urllib.parse.urlencode({"callback": bad}))
        assert st == 422 and json.loads(body)["field"] == "callback"
