"""The OpenAPI document tells the truth: every status a route answers is documented for it, with the
one error shape; and schemathesis, run against a real server for a bounded time, finds no 5xx, no
undocumented status and no undocumented media type."""
import os
import re
import subprocess
import sys

import pytest

from indicode.server import Service, create_app
from indicode.server.openapi import ERROR, EVERY_ROUTE
from server_proc import call, raw_exchange, server_on_copy

ST = os.path.join(os.path.dirname(sys.executable), "st")  # schemathesis's command, installed beside Python


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with server_on_copy(tmp_path_factory.mktemp("srv-openapi")) as served:
        yield served


def test_every_operation_documents_what_the_layers_below_it_answer(linker):
    spec = create_app(Service(linker)).openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    ops = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(ops) >= 13
    for path, method, op in ops:
        for status in (*EVERY_ROUTE, 422):
            if status == 422 and "422" not in op["responses"]:
                continue  # a route that takes no input
            ref = op["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/" + ERROR), (path, method, status)
    assert {"403", "409", "415"} <= set(spec["paths"]["/api/feedback"]["post"]["responses"])
    assert "404" in spec["paths"]["/api/codes/{code}"]["get"]["responses"]
    assert "application/javascript" in spec["paths"]["/reconcile/suggest/type"]["get"]["responses"]["200"]["content"]


def _documented(spec, path, method):
    return set(spec["paths"][path][method]["responses"])


def test_each_refusal_is_answered_as_documented(server):
    url, _ = server
    st, spec = call(url, "/openapi.json")
    assert st == 200
    host = url.split("//")[1]
    cases = [  # (request bytes, documented operation, status)
        (b"GET /api/health HTTP/1.1\r\nHost: evil.example\r\n\r\n", ("/api/health", "get"), 421),
        (f"GET /api/suggest?text={'x' * 3000} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), ("/api/suggest", "get"), 414),
        (f"POST /api/feedback HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
         f"Content-Length: 100000\r\n\r\n".encode(), ("/api/feedback", "post"), 413),
        (f"GET /api/lookup?q=1 HTTP/1.1\r\nHost: {host}\r\nX-Big: {'a' * 17000}\r\n\r\n".encode(),
         ("/api/lookup", "get"), 431),
        (f"DELETE /api/suggest HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), ("/api/suggest", "get"), 405),
        (f"GET /api/codes/999999999 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), ("/api/codes/{code}", "get"), 404),
        (f"POST /api/feedback HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
         f"\r\n{{}}".encode(), ("/api/feedback", "post"), 415),
        (f"POST /api/retract HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 31\r\n"
         f"\r\n{{\"id\": 50573133721472327483392}}".encode(), ("/api/retract", "post"), 422),
        (f"POST /reconcile HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode(),
         ("/reconcile", "post"), 415),
        (b"GET /api/health HTTP/1.1\r\nHost: \r\nContent-Length: -1\r\n\r\n", ("/api/health", "get"), 400),
    ]
    for data, (path, method), status in cases:
        got, headers, body = raw_exchange(url, data)
        assert got == status and body["error"], (path, status, got, body)
        assert str(status) in _documented(spec, path, method), (path, method, status)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(ST), reason="schemathesis is not installed (pip install -e '.[dev]')")
def test_schemathesis_finds_no_server_error_and_no_undocumented_status(server, tmp_path):
    """About 40 s: the coverage phase over every operation, then fuzzing until the budget is spent."""
    url, _ = server
    config = tmp_path / "schemathesis.toml"
    # a request the schema forbids may be refused by the Guard's limits (413/414/431) before validation
    config.write_text("[checks.negative_data_rejection]\n"
                      "expected-statuses = [400, 404, 405, 413, 414, 415, 422, 431]\n")
    checks = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
              "response_schema_conformance,negative_data_rejection,unsupported_method,missing_required_header,"
              "allow_header_conformance")
    out = subprocess.run([ST, "--config-file", str(config), "run", url + "/openapi.json",
                          "--max-time", "40", "-w", "1", "--seed", os.environ.get("INDICODE_FUZZ_SEED", "24"),
                          "--generation-database", "none", "-c", checks, "--no-color"],
                         capture_output=True, text=True, timeout=180, cwd=tmp_path)
    tail = out.stdout[-6000:]
    assert out.returncode == 0, tail
    m = re.search(r"(\d+) generated, (\d+) passed", tail)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) > 200 and "Failures:" not in tail, tail
