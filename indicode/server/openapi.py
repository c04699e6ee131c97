"""The OpenAPI document, telling the truth about every status a route can answer.

FastAPI documents 200 and its own 422 (with a schema that is not the one the service answers).
Here every operation gets, besides what its route declares with `answers(...)`, the statuses the
layers below the app answer on any route: the Guard (421 foreign Host, 431 headers, 414 query
string, 413 body, 408 body deadline, 503 too many requests), the h11 protocol (400 malformed
request, 408 head deadline, 503 too many connections) and the router (405 another method on the
path). Every error body is the one shape `{"error": …, "field": …}`; the JSONP answers of the
reconciliation routes are documented as application/javascript. tests/test_server_openapi.py runs
schemathesis against a real server and fails on any status or media type the document leaves out.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR = "Error"
ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": True,
    "properties": {"error": {"type": "string", "description": "what went wrong, in the request's language"},
                   "field": {"type": "string", "description": "the input at fault"},
                   "in_force": {"description": "409: the decision in force", "type": ["object", "null"]}},
}

# what each status means, for every route that can answer it
MEANING = {
    400: "the request could not be read (malformed request line, headers, Content-Length or body)",
    403: "not allowed: another origin or site, no or a wrong token, or a role that may not do this",
    404: "no such code in the catalogue",
    405: "another method than this one on this path",
    408: "the request's headers or body did not arrive within the deadline",
    409: "another reviewer's decision is in force and was not named (`replaces`), or the one named is not in force",
    413: "request body larger than the limit",
    414: "query string longer than the limit",
    415: "the body is not of a media type this route reads",
    421: "a Host header this server does not serve",
    422: "an input is invalid (the field is named)",
    431: "request headers larger than the limit",
    503: "too many connections or requests at once (from this address or in all), or the catalogue or "
         "workspace cannot be served or written; try again after Retry-After",
}
# answered below the app, whatever the route
EVERY_ROUTE = (400, 405, 408, 413, 414, 421, 431, 503)


def _error_response(status: int) -> dict[str, Any]:
    return {"description": MEANING[status],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}}}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: the errors its own code answers, beyond EVERY_ROUTE."""
    return {s: _error_response(s) for s in statuses}


def truthful(schema: dict) -> dict:
    """`schema` (FastAPI's document) with every operation's statuses and media types filled in."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR] = ERROR_SCHEMA
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _error_response(422)
            for status in EVERY_ROUTE:
                responses.setdefault(str(status), _error_response(status))
            if any(p.get("name") == "callback" for p in op.get("parameters", [])):
                responses["200"].setdefault("content", {})["application/javascript"] = {
                    "schema": {"type": "string", "description": "JSONP: the JSON answer as a call to `callback`"}}
    return schema


def install(app: FastAPI) -> None:
    """Serve the truthful document at /openapi.json (built once, on the first request)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = truthful(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
