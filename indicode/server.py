"""`indicode serve`: an HTTP API and the drafting page, a thin layer over `Linker` and `Catalogue`.

Standard library only (ThreadingHTTPServer): every request runs in its own thread; the catalogue,
index and encoder are loaded once at start-up and calls into the linker are serialised by one lock
(a suggestion takes a few milliseconds, and the encoder and its cache are not thread-safe).

Safe defaults: loopback unless told otherwise; on any other address, feedback (which writes to the
catalogue) needs the token given at start-up; query strings and bodies are size-limited.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .catalogue.classes import is_class
from .catalogue.export import entry_dict
from .catalogue.records import InputError
from .catalogue.store import NIL, add_learned, writable_path

from .matcher.linker import Linker

STATIC = Path(__file__).parent / "static"
MAX_QUERY = 2048  # bytes of query string
MAX_BODY = 8192  # bytes of request body
MAX_TEXT = 200  # characters of an indicator text
MAX_K = 50


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str = ""):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; '' (every address) and names are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class App:
    """The service's state and its operations (what the handler calls)."""

    def __init__(self, linker: Linker, host: str, token: str = ""):
        self.linker = linker
        self.lock = threading.RLock()
        self.feedback_needs_token = not is_loopback(host)
        self.token = token

    # -------------------------------------------------------------- validation

    @staticmethod
    def text(params: dict, name: str = "text", required: bool = True, limit: int = MAX_TEXT) -> str:
        v = str(params.get(name, "") or "").strip()
        if required and not v:
            raise ApiError(400, f"'{name}' is required", name)
        if len(v) > limit:
            raise ApiError(400, f"'{name}' is longer than {limit} characters", name)
        return v

    @staticmethod
    def klass(params: dict) -> str:
        v = str(params.get("class", "") or "").strip()
        if v and not is_class(v):
            raise ApiError(400, "'class' must be a class: 1-4 or two digits such as 11, 22, 31", "class")
        return v

    @staticmethod
    def k(params: dict) -> int:
        raw = params.get("k", 5)
        try:
            k = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, "'k' must be a whole number", "k") from None
        if not 1 <= k <= MAX_K:
            raise ApiError(400, f"'k' must be between 1 and {MAX_K}", "k")
        return k

    # -------------------------------------------------------------- operations

    def suggest(self, params: dict) -> dict:
        text, klass, value, k = self.text(params), self.klass(params), self.text(params, "value", False, 100), self.k(params)
        with self.lock:
            return self.linker.suggest(text, klass, value, k).to_dict()

    def code(self, code: str) -> dict:
        with self.lock:
            e = self.linker.cat.get(code)
            if e is None:
                raise ApiError(404, f"no code {code} in the catalogue", "code")
            anomalies = [asdict(a) for a in self.linker.cat.anomalies_of(code)]
        return {**entry_dict(e), "anomalies": anomalies}

    def lookup(self, params: dict) -> dict:
        q = self.text(params, "q")
        klass = str(params.get("class", "") or "").strip()
        if klass and not klass.isdigit():
            raise ApiError(400, "'class' must be digits (a class or code prefix)", "class")
        limit = self.k({"k": params.get("limit", 20)})
        with self.lock:
            found = self.linker.cat.lookup(q, klass, limit)
        return {"query": q, "results": [entry_dict(e) for e in found]}

    def feedback(self, body: dict, token: str) -> dict:
        if self.feedback_needs_token:
            if not self.token:
                raise ApiError(403, "feedback is disabled on a non-loopback address unless the server was started with a token")
            if not hmac.compare_digest(token.encode(), self.token.encode()):
                raise ApiError(403, "feedback needs the server's token (header X-Indicode-Token)")
        text, klass = self.text(body), self.klass(body)
        code = str(body.get("code", "") or "").strip()
        reviewer = self.text(body, "reviewer", False, 60) or "web"
        with self.lock:
            if code != NIL and self.linker.cat.get(code) is None:
                raise ApiError(400, f"'code' {code or '(empty)'} is not in the catalogue (or NIL)", "code")
            target = writable_path(self.linker.cat.path)
            add_learned(target, [(text, klass, code, reviewer, "web feedback")])
            self.linker.cat.path = target
            self.linker.reload()
            learned = next(l for l in reversed(self.linker.cat.learned) if l.text == text and l.level2 == klass)
        return {"stored": asdict(learned), "catalogue": str(target)}


def openapi() -> dict:
    def param(name, desc, required=False, schema=None):
        return {"name": name, "in": "query", "required": required, "description": desc,
                "schema": schema or {"type": "string"}}

    err = {"description": "bad input", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "indicode", "version": "0.1.0",
                 "description": "Suggest Guangdong performance-indicator codes; look codes up; record feedback."},
        "paths": {
            "/api/suggest": {"get": {
                "summary": "Ranked codes for an indicator text",
                "parameters": [param("text", "the indicator as written", True, {"type": "string", "maxLength": MAX_TEXT}),
                               param("class", "class digits (1-4, 11 … 43)"), param("value", "target value, e.g. ≥95%"),
                               param("k", "how many codes", schema={"type": "integer", "minimum": 1, "maximum": MAX_K})],
                "responses": {"200": {"description": "suggestion", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Suggestion"}}}}, "400": err}}},
            "/api/codes/{code}": {"get": {
                "summary": "A code's catalogue entry",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "entry"}, "404": err}}},
            "/api/lookup": {"get": {
                "summary": "Codes by code prefix or (part of) a name",
                "parameters": [param("q", "code, code prefix or name part", True), param("class", "class or code prefix"),
                               param("limit", "at most this many", schema={"type": "integer", "minimum": 1, "maximum": MAX_K})],
                "responses": {"200": {"description": "results"}, "400": err}}},
            "/api/feedback": {"post": {
                "summary": "Confirm or correct a suggestion (stored like `indicode learn`)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text", "code"],
                    "properties": {"text": {"type": "string", "maxLength": MAX_TEXT}, "class": {"type": "string"},
                                   "code": {"type": "string", "description": "a catalogue code or NIL"},
                                   "reviewer": {"type": "string"}}}}}},
                "responses": {"200": {"description": "stored"}, "400": err, "403": err, "413": err}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}, "field": {"type": "string"}}},
            "Suggestion": {"type": "object", "properties": {
                "decision": {"type": "string", "enum": ["accept", "review", "no-match"]}, "code": {"type": "string"},
                "name": {"type": "string"}, "score": {"type": "number"}, "reason": {"type": "string"},
                "new_code_class": {"type": "string"}, "candidates": {"type": "array", "items": {"type": "object"}}}},
        }},
    }


class Handler(BaseHTTPRequestHandler):
    app: App  # set on the subclass made by make_server
    server_version = "indicode"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: one line per request is noise for a drafting tool
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _dispatch(self, method: str) -> None:
        try:
            parts = urlsplit(self.path)
            if len(parts.query.encode()) > MAX_QUERY:
                raise ApiError(414, f"query string longer than {MAX_QUERY} bytes")
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            route = parts.path.rstrip("/") or "/"
            if method == "GET" and route == "/":
                return self._send(200, (STATIC / "index.html").read_bytes(), "text/html; charset=utf-8")
            if method == "GET" and route == "/openapi.json":
                return self._json(200, openapi())
            if method == "GET" and route == "/api/health":
                return self._json(200, {"ok": True, "codes": len(self.app.linker.cat)})
            if method == "GET" and route == "/api/suggest":
                return self._json(200, self.app.suggest(params))
            if method == "GET" and route.startswith("/api/codes/"):
                return self._json(200, self.app.code(route.rsplit("/", 1)[1]))
            if method == "GET" and route == "/api/lookup":
                return self._json(200, self.app.lookup(params))
            if method == "POST" and route == "/api/feedback":
                return self._json(200, self.app.feedback(self._body(), self.headers.get("X-Indicode-Token", "")))
            if route in ("/", "/openapi.json", "/api/health", "/api/suggest", "/api/lookup", "/api/feedback") \
                    or route.startswith("/api/codes/"):
                raise ApiError(405, f"{method} not allowed on {route}")
            raise ApiError(404, f"no such path {route}")
        except ApiError as exc:
            self._json(exc.status, {"error": exc.message, **({"field": exc.field} if exc.field else {})})
        except InputError as exc:
            self._json(400, {"error": str(exc)})

    def _body(self) -> dict:
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "bad Content-Length") from None
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, f"request body larger than {MAX_BODY} bytes")
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        return body

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")


def make_server(linker: Linker, host: str = "127.0.0.1", port: int = 8000, token: str = "") -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"app": App(linker, host, token)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
