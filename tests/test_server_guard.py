"""What a careful attacker sends to a real server process: every refusal is a JSON 4xx and nothing
is stored; half-sent requests are timed out; the server keeps answering."""
import json
import socket
import threading

import pytest

from indicode.catalogue.lookup import Catalogue
from server_proc import call, raw_exchange, server_on_copy

TIMEOUT = 1.0  # --timeout of the server under test: seconds for a request head, then its body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with server_on_copy(tmp_path_factory.mktemp("guard"), "--timeout", str(TIMEOUT)) as served:
        yield served


def host_of(url):
    return url.split("://", 1)[1]


def feedback_request(url, body: bytes, ctype="application/json", extra: str = "", length: int | None = None) -> bytes:
    n = len(body) if length is None else length
    return (f"POST /api/feedback HTTP/1.1\r\nHost: {host_of(url)}\r\nContent-Type: {ctype}\r\n{extra}"
            f"Content-Length: {n}\r\n\r\n").encode() + body


GOOD = json.dumps({"text": "群众满意度", "class": "31", "code": "112000272"}).encode()


def assert_nothing_stored(cat):
    assert Catalogue.load(cat).learned == []


@pytest.mark.parametrize("name,request_bytes,status", [
    ("html form post", lambda u: feedback_request(
        u, b"text=%E7%BE%A4&code=112000272", "application/x-www-form-urlencoded"), 415),
    ("no-cors text/plain fetch", lambda u: feedback_request(u, GOOD, "text/plain;charset=UTF-8"), 415),
    ("multipart form", lambda u: feedback_request(u, b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x"), 415),
    ("foreign Origin", lambda u: feedback_request(u, GOOD, extra="Origin: http://evil.example\r\n"), 403),
    ("null Origin", lambda u: feedback_request(u, GOOD, extra="Origin: null\r\n"), 403),
    ("cross-site fetch metadata", lambda u: feedback_request(u, GOOD, extra="Sec-Fetch-Site: cross-site\r\n"), 403),
    ("foreign Host (DNS rebinding)", lambda u: feedback_request(u, GOOD).replace(
        f"Host: {host_of(u)}".encode(), b"Host: evil.example:" + host_of(u).split(":")[1].encode()), 421),
    ("negative Content-Length", lambda u: feedback_request(u, GOOD, length=-1), 400),
    ("oversized Content-Length", lambda u: feedback_request(u, GOOD, length=300_000_000), 413),
    ("non-numeric Content-Length", lambda u: feedback_request(u, GOOD).replace(
        b"Content-Length: ", b"Content-Length: 1e3 "), 400),
    ("list in text", lambda u: feedback_request(u, b'{"text": ["a"], "code": "NIL"}'), 422),
    ("number in text", lambda u: feedback_request(u, b'{"text": 12, "code": "NIL"}'), 422),
    ("object in text", lambda u: feedback_request(u, b'{"text": {"a": 1}, "code": "NIL"}'), 422),
    ("5000-digit number", lambda u: feedback_request(u, b'{"text": ' + b"9" * 5000 + b', "code": "NIL"}'), 400),
    ("deep nesting", lambda u: feedback_request(
        u, b'{"text": ' + b"[" * 4000 + b"]" * 4000 + b', "code": "NIL"}'), 400),
    ("lone surrogate", lambda u: feedback_request(u, b'{"text": "\\ud800", "code": "NIL"}'), 422),
    ("bytes that are not UTF-8", lambda u: feedback_request(u, b'{"text": "\xff\xfe", "code": "NIL"}'), 400),
    ("class not digits", lambda u: feedback_request(u, b'{"text": "a", "class": "31 OR 1", "code": "NIL"}'), 422),
    ("class not a class", lambda u: feedback_request(u, b'{"text": "a", "class": "99", "code": "NIL"}'), 422),
    ("class as a fraction", lambda u: feedback_request(u, b'{"text": "a", "class": 3.5, "code": "NIL"}'), 422),
    ("class as true", lambda u: feedback_request(u, b'{"text": "a", "class": true, "code": "NIL"}'), 422),
    ("blank text", lambda u: feedback_request(u, b'{"text": " \\u200b ", "code": "NIL"}'), 422),
    ("unknown field", lambda u: feedback_request(u, b'{"text": "a", "code": "NIL", "source": "x"}'), 422),
    ("code not a code", lambda u: feedback_request(u, b'{"text": "a", "code": "DROP"}'), 422),
    ("reviewer too long", lambda u: feedback_request(
        u, json.dumps({"text": "a", "code": "NIL", "reviewer": "x" * 61}).encode()), 422),
    ("body not an object", lambda u: feedback_request(u, b'["text"]'), 422),
])
def test_refused_with_json_4xx_and_nothing_stored(server, name, request_bytes, status):
    url, cat = server
    st, headers, body = raw_exchange(url, request_bytes(url))
    assert st == status, (name, body)
    assert headers["content-type"].startswith("application/json") and body["error"]
    assert_nothing_stored(cat)


def test_foreign_host_is_refused_on_every_route(server):
    url, _ = server
    port = host_of(url).split(":")[1]
    for path in ("/", "/api/health", "/api/suggest?text=x", "/api/codes/112000272", "/api/lookup?q=1", "/openapi.json",
                 "/reconcile", "/nothing"):
        for host in (f"evil.example:{port}", "127.0.0.1:1", "localhost", ""):
            st, _, body = raw_exchange(url, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert st == 421 and "host" in body["error"], (path, host)
    # the names it does serve
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        st, _, body = raw_exchange(url, f"GET /api/health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert st == 200 and body["ok"]


def test_chunked_body_over_the_limit_is_refused(server):
    url, cat = server
    chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
    req = (f"POST /api/feedback HTTP/1.1\r\nHost: {host_of(url)}\r\nContent-Type: application/json\r\n"
           f"Transfer-Encoding: chunked\r\n\r\n").encode() + chunk * 3 + b"0\r\n\r\n"
    st, _, body = raw_exchange(url, req)
    assert st == 413 and "8192" in body["error"]
    assert_nothing_stored(cat)


def test_oversized_headers_are_refused(server):
    url, _ = server
    big = f"GET /api/health HTTP/1.1\r\nHost: {host_of(url)}\r\nX-Big: {'a' * 20000}\r\n\r\n"
    st, _, body = raw_exchange(url, big.encode())
    assert st in (400, 431) and body["error"]


def test_a_body_shorter_than_its_content_length_times_out(server):
    url, cat = server
    st, _, body = raw_exchange(url, feedback_request(url, GOOD, length=len(GOOD) + 50))
    assert st == 408 and "body" in body["error"]  # answered by the server, not held open
    assert_nothing_stored(cat)


def test_half_sent_requests_are_timed_out_and_do_not_pile_up(server):
    url, _ = server
    host, port = host_of(url).split(":")
    socks = []
    for _ in range(40):
        s = socket.create_connection((host, int(port)), timeout=30)
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 12")  # never finished
        socks.append(s)
    # the server still answers while they hang
    assert call(url, "/api/health")[0] == 200
    answers = []

    def read(s):
        try:
            answers.append(s.recv(4096))
        except OSError as exc:
            answers.append(repr(exc).encode())

    threads = [threading.Thread(target=read, args=(s,)) for s in socks]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    for s in socks:
        s.close()
    assert len(answers) == 40 and all(b" 408 " in a for a in answers)
    assert all(b'"error"' in a for a in answers)


def test_every_error_is_json_even_from_the_framework(server):
    url, _ = server
    for method, path in (("PUT", "/api/feedback"), ("DELETE", "/"), ("GET", "/api/feedback"), ("PATCH", "/reconcile")):
        request = f"{method} {path} HTTP/1.1\r\nHost: {host_of(url)}\r\nContent-Length: 0\r\n\r\n"
        st, headers, body = raw_exchange(url, request.encode())
        assert st == 405 and headers["content-type"].startswith("application/json") and body["error"]
    st, headers, body = raw_exchange(url, b"NONSENSE\r\n\r\n")
    assert st == 400 and body["error"]


def test_errors_answered_below_the_app_are_made_by_the_one_helper(server):
    """The h11 protocol (no request yet) and the Guard (before FastAPI) answer errors with the same
    bytes the one helper makes: same headers, same JSON, whichever layer refuses."""
    from indicode.server.guard import json_error
    from indicode.server.protocol import raw_error

    def exchange(data: bytes) -> bytes:  # both answers close the connection
        host, port = host_of(url).rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(data)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out

    url, _ = server
    answer = exchange(b"NONSENSE\r\n\r\n")  # refused by the protocol
    message = json.loads(answer.partition(b"\r\n\r\n")[2])["error"]
    assert answer == raw_error(400, "Bad Request", message)
    port = host_of(url).split(":")[1]
    answer = exchange(f"GET /api/health HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n".encode())  # by the Guard
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 421 Misdirected Request"
    headers = [tuple(line.split(b": ", 1)) for line in lines[1:] if not line.lower().startswith(b"date:")]
    want_headers, want_body = json_error(json.loads(body)["error"], close=True)
    assert (headers, body) == (want_headers, want_body) and b"evil.example" in body


def test_the_page_may_not_be_framed_and_loads_nothing_from_outside(server):
    import urllib.request

    url, _ = server
    with urllib.request.urlopen(url + "/") as r:
        csp = r.headers["Content-Security-Policy"]
        html = r.read().decode()
    assert "frame-ancestors 'none'" in csp and r.headers["X-Frame-Options"] == "DENY"
    assert "http://" not in html and "https://" not in html


def test_requests_beyond_the_in_flight_cap_get_a_json_503():
    import asyncio

    from indicode.server.guard import Guard
    from indicode.server.share import Share

    release = asyncio.Event()

    async def slow_app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    guard = Guard(slow_app, {"127.0.0.1:1"}, share=Share(requests=2, requests_per_address=2))
    scope = {"type": "http", "method": "GET", "path": "/api/health", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:1")]}

    async def one():
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(msg):
            sent.append(msg)

        await guard(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    async def main():
        tasks = [asyncio.create_task(one()) for _ in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert sorted(st for st, _ in results) == [200, 200, 503]
    assert json.loads(next(body for st, body in results if st == 503))["error"]
    assert guard.inflight == 0


def test_a_client_still_uploading_holds_no_request_slot():
    """Slow uploads (headers sent, the body trickling) must not take the request slots: with every
    slot's worth of them pending, a plain request is still served."""
    import asyncio

    from indicode.server.guard import Guard
    from indicode.server.share import Share

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    guard = Guard(app, {"127.0.0.1:1"}, share=Share(requests=2, requests_per_address=2), timeout=5)

    def scope(method, length):
        headers = [(b"host", b"127.0.0.1:1")] + ([(b"content-length", str(length).encode())] if length else [])
        return {"type": "http", "method": method, "path": "/api/feedback" if length else "/api/health",
                "query_string": b"", "headers": headers}

    async def call(sc, receive):
        sent = []

        async def send(msg):
            sent.append(msg)

        await guard(sc, receive, send)
        return sent[0]["status"]

    async def main():
        stuck = asyncio.Event()

        async def trickle():  # one byte, then nothing more for now
            if not stuck.is_set():
                stuck.set()
                return {"type": "http.request", "body": b"{", "more_body": True}
            await asyncio.sleep(3600)

        async def whole():
            return {"type": "http.request", "body": b"", "more_body": False}

        uploads = [asyncio.create_task(call(scope("POST", 100), trickle)) for _ in range(4)]
        await asyncio.sleep(0.05)
        status = await asyncio.wait_for(call(scope("GET", 0), whole), 2)
        for t in uploads:
            t.cancel()
        return status

    assert asyncio.run(main()) == 200


@pytest.mark.slow
def test_a_busy_port_is_a_one_line_error(server):
    import subprocess
    import sys

    url, cat = server
    port = host_of(url).split(":")[1]
    out = subprocess.run([sys.executable, "-m", "indicode.cli", "serve", "--port", port, "-c", str(cat)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.startswith("error: ") and "cannot listen" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_crash_inside_is_a_json_500():
    import asyncio

    from indicode.server import create_app

    class Broken:  # a Service whose linker fails in a way nobody planned for
        def linker(self):
            raise RuntimeError("boom")

        def suggest(self, *args):
            raise AssertionError("not reached: the linker failed first")

    app = create_app(Broken())
    scope = {"type": "http", "method": "GET", "path": "/api/suggest", "raw_path": b"/api/suggest",
             "query_string": b"text=x", "headers": [(b"host", b"127.0.0.1:1")], "scheme": "http",
             "server": ("127.0.0.1", 1), "client": ("127.0.0.1", 2), "root_path": "", "http_version": "1.1",
             "asgi": {"version": "3.0"}}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg):
        sent.append(msg)

    async def main():
        try:
            await app(scope, receive, send)
        except RuntimeError:
            pass  # re-raised for the server's log after the answer went out

    asyncio.run(main())
    assert sent[0]["status"] == 500
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert "internal error" in body["error"] and "boom" not in body["error"]  # no internals leak


def test_a_half_sent_second_request_on_a_kept_alive_connection_times_out(server):
    url, _ = server
    host, port = host_of(url).split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"GET /api/health HTTP/1.1\r\nHost: {host_of(url)}\r\n\r\n".encode())
        first = b""
        while b'"ok"' not in first:
            first += s.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        s.sendall(b"GET /api/health HTTP/1.1\r\nHo")  # the next request never finishes
        rest = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 408") and b'"error"' in rest
