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
