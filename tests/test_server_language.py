"""The service answers in the request's Accept-Language, the process's language when it names none we
speak; the page is Chinese whatever is asked (issue 19). Against real server processes."""
import asyncio
import json
import re
import urllib.request
from pathlib import Path

import pytest

from indicode.i18n import CHINESE, use_language
from indicode.server.guard import Guard
from server_proc import call, server_on_copy

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def english_phrase(text: str) -> str | None:
    """Three English words in a row (field names, codes and numbers aside): what Chinese must not hold."""
    m = re.search(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}", text)
    return m.group(0) if m else None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose process speaks English (the tests' INDICODE_LANG=en)."""
    with server_on_copy(tmp_path_factory.mktemp("lang")) as served:
        yield served[0]


# (path, params, status): the Guard's own answer, validation by indicode.inputs inside a sync route
# (run in FastAPI's worker threads), pydantic's, the app's 404s and 405, the reconciliation router's
CASES = {
    "query string too long (Guard)": ("/api/suggest", {"text": "x", "value": "v" * 3000}, 414),
    "empty text (sync route)": ("/api/suggest", {"text": "   "}, 422),
    "k not a number (sync route)": ("/api/suggest", {"text": "x", "k": "abc"}, 422),
    "unknown code": ("/api/codes/000000000", None, 404),
    "value with a control character (pydantic)": ("/api/suggest", {"text": "x", "value": "a\x01"}, 422),
    "no such path": ("/api/nothing", None, 404),
    "preview of an unknown code (reconcile)": ("/reconcile/preview", {"id": "000000000"}, 404),
}


@pytest.mark.parametrize("case", CASES)
def test_errors_in_the_requests_language(server, case):
    path, params, status = CASES[case]
    st_zh, zh = call(server, path, params, headers=ZH)
    st_en, en = call(server, path, params, headers=EN)
    st_none, none = call(server, path, params)
    assert st_zh == st_en == st_none == status
    assert HAN.search(zh["error"]) and english_phrase(zh["error"]) is None, zh
    assert english_phrase(en["error"]) and en != zh, en  # (an English message may quote a Chinese example)
    assert none == en  # no Accept-Language: the process's language, English here
    assert zh.get("field") == en.get("field")


def test_the_process_language_when_the_request_names_none():
    """The Guard's default is the language of the process (the command line's, which `indicode serve`
    runs in): Chinese here, for no Accept-Language and for one naming a language we lack."""
    async def app(scope, receive, send):  # never reached: the Guard refuses the long query first
        raise AssertionError

    guard = Guard(app, {"h"})

    def refusal(headers: list) -> str:
        sent: list = []

        async def send(msg):
            sent.append(msg)

        scope = {"type": "http", "headers": [(b"host", b"h"), *headers], "path": "/api/suggest",
                 "query_string": b"q" * 3000, "method": "GET"}
        asyncio.run(guard(scope, None, send))
        assert sent[0]["status"] == 414
        return json.loads(sent[1]["body"])["error"]

    with use_language(CHINESE):
        none, fr, en = refusal([]), refusal([(b"accept-language", b"fr-FR")]), refusal([(b"accept-language", b"en")])
    assert HAN.search(none) and none == fr
    assert english_phrase(en) and not HAN.search(en)
    assert english_phrase(refusal([])) and not HAN.search(refusal([]))  # an English process: English


def test_a_request_the_guard_refuses_before_the_app_is_in_its_language_too(server):
    st, d = call(server, "/api/feedback", raw=b"{" + b" " * 10000 + b"}", headers=ZH)
    assert st == 413 and "8192" in d["error"] and HAN.search(d["error"]), d


def test_the_page_is_chinese_whatever_the_request_asks(server):
    page = (Path(__file__).resolve().parent.parent / "indicode" / "static" / "index.html").read_bytes()
    for headers in (EN, ZH, {}):
        with urllib.request.urlopen(urllib.request.Request(server + "/", headers=headers), timeout=30) as r:
            assert r.read() == page
    assert HAN.search(page.decode())


def test_a_request_refused_before_it_is_parsed_is_in_its_language_too(tmp_path):
    """The protocol's own refusals — a request h11 cannot parse (400), a head not finished within the
    deadline (408) — read the Accept-Language of what arrived, not the process's language."""
    import socket

    with server_on_copy(tmp_path, "--timeout", "1") as (url, _):
        host = url.split("://", 1)[1]

        def exchange(data: bytes) -> str:
            h, port = host.rsplit(":", 1)
            with socket.create_connection((h, int(port)), timeout=30) as s:
                s.sendall(data)
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
            return json.loads(out.partition(b"\r\n\r\n")[2])["error"]

        bad = f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nAccept-Language: {{}}\r\nContent-Length: -1\r\n\r\n"
        zh, en = exchange(bad.format("zh-CN").encode()), exchange(bad.format("en").encode())
        assert HAN.search(zh) and english_phrase(zh) is None and english_phrase(en), (zh, en)
        late = f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nAccept-Language: {{}}\r\nX-Slow: 1"
        zh, en = exchange(late.format("zh-CN").encode()), exchange(late.format("en-GB").encode())
        assert HAN.search(zh) and "1" in zh and english_phrase(zh) is None and english_phrase(en), (zh, en)


def test_a_server_started_in_chinese_is_found_by_the_test_helper(tmp_path):
    """tests/server_proc finds the ready line whatever language the server speaks."""
    from server_proc import READY, copy_bundled, running_server

    assert READY.search("indicode 服务已启动：http://127.0.0.1:8000（123 个编码）").group(1) == "http://127.0.0.1:8000"
    assert READY.search("indicode serving http://0.0.0.0:8000/  (123 codes)").group(1) == "http://0.0.0.0:8000/"
    with running_server("-c", str(copy_bundled(tmp_path)), env={"INDICODE_LANG": "zh_CN"}) as url:
        st, health = call(url, "/api/health")
        assert st == 200 and health["ok"]
