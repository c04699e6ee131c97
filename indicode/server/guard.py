"""The door of the service (an ASGI middleware around the FastAPI app): who may ask, and how much.

Before the app sees a request: the Host must be one this server serves (a foreign Host is DNS
rebinding or a misdirected request), the query string and body must fit their limits whatever
Content-Length says (the body is read here, with a cap and a deadline, chunked or not), and at most
`share.requests` requests run at once, `share.requests_per_address` of them from one client address
(the forwarded one behind a trusted proxy, which then stands in `scope["client"]`). Everything
refused is answered in JSON. The reconciliation
endpoints (read-only) get CORS headers; nothing else does. Each request is answered in the language
of its Accept-Language (the process's language when it names none we speak): the app runs inside
`use_language`, a context variable, which FastAPI carries into the worker threads of sync routes.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from ..i18n import _, current_language, language_from_header, use_language
from .share import Share


@dataclass(frozen=True)
class Limits:
    query: int  # bytes of query string
    body: int  # bytes of request body


HEADER_LIMIT = 16384  # bytes of all request headers (h11 enforces it only on a head still arriving)
API_LIMITS = Limits(query=2048, body=8192)
RECONCILE_LIMITS = Limits(query=16384, body=65536)  # a batch of queries from OpenRefine
RECONCILE = "/reconcile"
UPLOAD_PATH, UPLOAD_LIMITS = "/api/jobs", Limits(query=2048, body=48 * 2**20)  # a declaration, base64 in JSON


def is_reconcile(path: str) -> bool:
    return path == RECONCILE or path.startswith(RECONCILE + "/")


def error_body(message: str, field: str = "") -> dict:
    """The one shape of every error the service answers: `{"error": …}`, with `"field"` naming the
    input at fault when there is one."""
    return {"error": message, **({"field": field} if field else {})}


def json_error(message: str, close: bool = False, extra: list | None = None) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(headers, body) of an error answered below FastAPI: by the Guard, or by the h11 protocol
    before there is a request to hand on."""
    body = json.dumps(error_body(message), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"x-content-type-options", b"nosniff")] + (extra or [])
    if close:
        headers.append((b"connection", b"close"))
    return headers, body


async def send_json(send, status: int, message: str, close: bool = False, extra: list | None = None) -> None:
    headers, body = json_error(message, close, extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


CORS = [(b"access-control-allow-origin", b"*")]
PREFLIGHT = CORS + [(b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                    (b"access-control-allow-headers", b"content-type"), (b"access-control-max-age", b"600")]


class Guard:
    """ASGI middleware: host check, limits, body deadline, in-flight cap, CORS for /reconcile."""

    def __init__(self, app, hosts: set[str], timeout: float = 10.0, share: Share | None = None):
        self.app, self.hosts, self.timeout = app, {h.lower() for h in hosts}, timeout
        self.share = share or Share()
        self.inflight = 0
        self.by_address: dict[str, int] = {}  # requests under way per client address

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        said = headers.get(b"accept-language", b"").decode("latin-1")
        with use_language(language_from_header(said, default=current_language())):
            return await self._serve(scope, headers, receive, send)

    async def _serve(self, scope, headers: dict, receive, send):
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            named = repr(host) if host else _("(none)")
            return await send_json(send, 421, _("this server does not serve the host {host}").format(host=named),
                                   close=True)
        if sum(len(k) + len(v) for k, v in scope["headers"]) > HEADER_LIMIT:
            return await send_json(send, 431, _("request headers larger than {n} bytes").format(n=HEADER_LIMIT),
                                   close=True)
        path = scope["path"]
        limits = RECONCILE_LIMITS if is_reconcile(path) else UPLOAD_LIMITS if path == UPLOAD_PATH else API_LIMITS
        if len(scope["query_string"]) > limits.query:
            return await send_json(send, 414, _("query string longer than {n} bytes").format(n=limits.query))
        if is_reconcile(path) and scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT})
            return await send({"type": "http.response.body", "body": b""})
        # the body first: a client still uploading holds a connection (bounded by the connection cap
        # and the body deadline), never one of the request slots the work itself needs
        try:
            body = await self._read_body(headers, receive, limits.body)
        except BodyError as exc:  # the rest of the body is never read: the connection closes
            return await send_json(send, exc.status, exc.message, close=True)
        peer = scope["client"][0] if scope.get("client") else ""
        client = self.share.client_of(peer, scope["headers"])
        if client != peer:
            scope = {**scope, "client": (client, 0)}
        if self.inflight >= self.share.requests:
            return await send_json(send, 503, _("too many requests at once; try again"),
                                   extra=[(b"retry-after", b"1")])
        if self.by_address.get(client, 0) >= self.share.requests_per_address:
            return await send_json(send, 503, _("too many requests at once from your address; try again"),
                                   extra=[(b"retry-after", b"1")])
        self.inflight += 1
        self.by_address[client] = self.by_address.get(client, 0) + 1
        try:
            await self.app(scope, _replay(body, receive), _with_headers(send, CORS if is_reconcile(path) else []))
        finally:
            self.inflight -= 1
            self.by_address[client] -= 1
            if not self.by_address[client]:
                del self.by_address[client]

    async def _read_body(self, headers: dict, receive, cap: int) -> bytes:
        """The whole body, at most `cap` bytes, within the deadline (h11 has already refused a
        Content-Length that is not a number)."""
        length = headers.get(b"content-length")
        if length is not None and int(length) > cap:
            raise BodyError(413, _("request body larger than {n} bytes").format(n=cap))
        if length is None and b"transfer-encoding" not in headers:
            return b""
        chunks, size = [], 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            try:
                msg = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise BodyError(408, _("request body not received within {seconds:g} s").format(
                    seconds=self.timeout)) from None
            if msg["type"] == "http.disconnect":
                raise BodyError(400, _("client went away before the body was sent"))
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise BodyError(413, _("request body larger than {n} bytes").format(n=cap))
            chunks.append(chunk)
            if not msg.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive):
    """A receive() that gives the app the body already read, then whatever comes next."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send, extra: list):
    async def wrapped(msg):
        if msg["type"] == "http.response.start":
            msg = {**msg, "headers": list(msg.get("headers", [])) + extra + [(b"x-content-type-options", b"nosniff")]}
        await send(msg)

    return wrapped
