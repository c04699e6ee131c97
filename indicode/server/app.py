"""The FastAPI application: the drafting page and `/api/…`, a thin layer over the Linker and the
catalogue (`indicode.api.Matcher` makes the same calls). Validation, the OpenAPI document and the
thread pool come from FastAPI: the endpoints are plain functions, run in its worker threads, so
suggestions run side by side (the Service swaps the Linker when the catalogue changes; no lock is
held while suggesting). Every error is JSON: `{"error": "...", "field": "..."}`.
"""
from __future__ import annotations

import hmac
from functools import partial
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__, inputs
from ..catalogue.export import entry_dict
from ..catalogue.records import NIL, InputError
from ..i18n import _
from ..matcher.present import suggestion_dict
from ..matcher.text import MAX_TEXT
from ..workspace import LOCAL, Caller, Role
from . import jobs
from .browse import about
from .browse import router as browse_router
from .guard import error_body
from .headers import media_type, own_origin
from .openapi import answers, install
from .proposing import proposal_named, proposed_matching
from .proposing import router as proposal_router
from .reconcile import router
from .service import FEEDBACK_LOCK_TIMEOUT, Busy, Conflicting, NotAllowed, Service, Unavailable, Unwritable

STATIC = Path(__file__).resolve().parent.parent / "static"
CODE_PATTERN = rf"^({NIL}|[0-9]{{9,10}})$"
MAX_ID = 2**63 - 1  # a decision id is an SQLite integer: a larger one is invalid input, not an overflow
# the page: its own scripts and styles only, never inside another site's frame
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                           "img-src 'self' data:; frame-ancestors 'none'; form-action 'none'",
                "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}

# Inputs are read by indicode.inputs, as the CLI and the Python API read them (one message for one
# mistake); the schemas only document them, so FastAPI takes them as text.
TEXT_DOC = (f"the indicator as written; longer than {MAX_TEXT} characters once folded, it is matched by its "
            "beginning (`cut`)")
CLASS_DOC = f"the class: {inputs.CLASS_HELP.removeprefix('give ')}"
Text = Annotated[str, Query(description=TEXT_DOC, json_schema_extra={"minLength": 1})]
Class = Annotated[str, Query(alias="class", description=CLASS_DOC)]


def whole(most: int, description: str):
    """A whole-number query parameter from 1 to `most`, documented as one, read by indicode.inputs."""
    return Query(description=description, json_schema_extra={"type": "integer", "minimum": 1, "maximum": most})


class Feedback(BaseModel):
    """A reviewer's decision on one text: `code` confirms or corrects (a catalogue code), or `NIL`
    says no code fits."""
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    text: str = Field(description=TEXT_DOC, json_schema_extra={"minLength": 1})
    klass: str | int = Field("", alias="class", description=CLASS_DOC)
    code: str = Field(pattern=CODE_PATTERN, description="a catalogue code, or NIL")
    reviewer: str = Field("", max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")
    replaces: int | None = Field(None, ge=1, le=MAX_ID, description="the id of the decision in force this one replaces "
                                 "(needed to replace another reviewer's decision; answered 409 without it)")
    comment: str = Field("", max_length=inputs.MAX_COMMENT, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")
    origin: str = Field("http", pattern=r"^(page|http)$", description="`page` when sent by the drafting page")


class Retract(BaseModel):
    """Take a decision back (undo): the decision before it comes back into force."""
    model_config = ConfigDict(extra="forbid", strict=True)
    id: int = Field(ge=1, le=MAX_ID, description="the id of the decision in force to take back")
    reviewer: str = Field("", max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")
    origin: str = Field("http", pattern=r"^(page|http)$")


# the body fields whose wrong JSON types (a list, a number …) are answered in the front door's words
BODY_READERS = {"text": inputs.read_text, "class": inputs.read_class}


class FieldError(HTTPException):
    """An HTTP error about one input field (named in the JSON answer)."""

    def __init__(self, status: int, message: str, field: str):
        super().__init__(status, message)
        self.field = field


def invalid_why(err: dict) -> str:
    """What is wrong with one input, from a pydantic validation error, in the request's language
    (pydantic's own words, English, for a kind not listed)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    n = next((ctx[k] for k in ("max_length", "min_length", "ge", "le", "gt", "lt") if k in ctx), "")
    said = {
        "missing": _("required"),
        "extra_forbidden": _("not a field of this request"),
        "string_too_long": _("at most {n} characters"),
        "string_too_short": _("at least {n} characters"),
        "string_pattern_mismatch": _("not in the form this field takes"),
        "string_type": _("must be text"),
        "int_type": _("must be a whole number"),
        "int_parsing": _("must be a whole number"),
        "int_from_float": _("must be a whole number"),
        "bool_type": _("must be true or false"),
        "greater_than_equal": _("must be at least {n}"),
        "greater_than": _("must be more than {n}"),
        "less_than_equal": _("must be at most {n}"),
        "less_than": _("must be less than {n}"),
        "literal_error": _("must be one of {choices}"),
        "too_long": _("at most {n} items"),
        "model_type": _("must be a JSON object"),
        "dict_type": _("must be a JSON object"),
    }.get(kind)
    if said is None:
        return str(err.get("msg", _("invalid")))
    return said.format(n=n, choices=ctx.get("expected", ""))


def _flat(routes):
    """Every route, those of included routers too (FastAPI keeps an included router as one entry;
    none of ours has a prefix)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield r


def create_app(service: Service, token: str = "", needs_token: bool = False) -> FastAPI:
    """The app serving `service`. `needs_token`: feedback must carry `token` (off loopback)."""
    app = FastAPI(title="indicode", version=__version__, docs_url=None, redoc_url=None,
                  description="Suggest Guangdong performance-indicator codes, look codes up, record feedback; "
                              "W3C Reconciliation Service API 0.2 at /reconcile.")
    index_html = (STATIC / "index.html").read_bytes()

    # ------------------------------------------------------------------ errors, all JSON

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = exc.headers
        if exc.status_code == 404 and detail == "Not Found":
            detail = _("no such path {path}").format(path=request.url.path)
        elif exc.status_code == 405:
            detail = _("{method} not allowed on {path}").format(method=request.method,
                                                                 path=request.url.path)
            # every method of every route on this path (Starlette names those of the first route only)
            allowed = {m for r in _flat(app.router.routes) if getattr(r, "path_regex", None) is not None
                       and r.path_regex.match(request.url.path) for m in (getattr(r, "methods", None) or ())}
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(sorted(allowed))}
        return JSONResponse(error_body(detail, getattr(exc, "field", "")), exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": _("invalid request")}
        if err.get("type") == "json_invalid":
            return JSONResponse(error_body(_("the body is not valid JSON")), 422)
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "body", "path", "header")]
        field = loc[0] if loc else ""
        message = "{where}: {why}".format(where=".".join(loc) or _("request"), why=invalid_why(err))
        if len(loc) == 1 and field in BODY_READERS and "input" in err:  # a JSON type the front door refuses too
            try:
                BODY_READERS[field](err["input"])
            except InputError as exc:
                message = str(exc)
        return JSONResponse(error_body(message, field), 422)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError):
        return JSONResponse(error_body(str(exc), getattr(exc, "field", "")), 422)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable):
        return JSONResponse(error_body(_("the catalogue cannot be served: {why}").format(why=exc)), 503,
                            headers={"Retry-After": "2"})

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy):
        return JSONResponse(error_body(_("catalogue busy, try again; feedback not recorded: {why}").format(why=exc)),
                            503, headers={"Retry-After": f"{FEEDBACK_LOCK_TIMEOUT:.0f}"})

    @app.exception_handler(Unwritable)
    async def unwritable(request: Request, exc: Unwritable):
        return JSONResponse(error_body(_("feedback not recorded, nothing was written: {why}").format(why=exc)), 503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(Conflicting)
    async def conflicting(request: Request, exc: Conflicting):
        return JSONResponse({**error_body(str(exc), exc.field), "in_force": exc.in_force}, 409)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed):
        return JSONResponse(error_body(str(exc)), 403)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        said = _("internal error ({kind}); see the server's log").format(kind=type(exc).__name__)
        return JSONResponse(error_body(said), 500)

    # ------------------------------------------------------------------ the page and the API

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        return HTMLResponse(index_html, headers=PAGE_HEADERS)

    @app.get("/api/health", summary="Whether the catalogue can be served, and which one")
    def health():
        h = service.health()
        return JSONResponse(h, 200 if h["ok"] else 503)

    @app.get("/api/suggest", summary="Ranked codes for an indicator text, with a decision and why")
    def suggest(text: Text, klass: Class = "",
                value: Annotated[str, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$",
                                            description="target value, e.g. ≥95%")] = "",
                k: Annotated[str, whole(inputs.MAX_K, "how many codes")] = "5"):
        ask = inputs.suggest_request(text, klass, value, k)
        s = ask.run(partial(service.suggest, service.linker()))
        return suggestion_dict(s)

    @app.get("/api/codes/{code}", summary="A code's catalogue entry, with its anomalies (in words too), the "
             "documents it was seen in by readable names, the texts reviewers decided for it and the proposals near "
             "it; or the proposed code of that provisional id (or approved code not catalogued yet), marked "
             "`proposed`", responses=answers(404))
    def code(code: Annotated[str, PathParam(max_length=40)]):
        cat = service.linker().cat
        e = cat.get(code)
        if e is None:
            proposed = proposal_named(service, code)
            if proposed is not None:
                return proposed
            raise FieldError(404, _("no code {code} in the catalogue").format(code=code), "code")
        return {**entry_dict(e), **about(service, e, cat.anomalies_of(code))}

    @app.get("/api/lookup", summary="Codes by exact code, code prefix or (part of) a name: one page of them, "
             "how many match in all (`total`), and the proposed codes found (`proposed`, marked)")
    def lookup(q: Annotated[str, Query(description="a code, a code prefix or part of a name",
                                       json_schema_extra={"minLength": 1})],
               klass: Annotated[str, Query(alias="class", description=f"{CLASS_DOC}; or a code prefix (113)")] = "",
               limit: Annotated[str, whole(inputs.MAX_LIMIT, "at most this many codes")] = "20",
               page: Annotated[str, whole(inputs.MAX_PAGE, "which page of `limit` codes (1: the first)")] = "1"):
        query, klass, n = inputs.read_query(q, field="q"), inputs.read_lookup_class(klass), inputs.read_limit(limit)
        first = (inputs.read_page(page) - 1) * n
        cat = service.linker().cat
        every = cat.lookup(query, klass, len(cat) or 1)
        return {"query": query, "total": len(every), "page": first // n + 1, "limit": n,
                "results": [entry_dict(e) for e in every[first:first + n]],
                "proposed": proposed_matching(service, query, klass, n)}

    def same_origin_write(request: Request,
                          x_indicode_token: Annotated[str, Header(max_length=200)] = "") -> Caller:
        """Writes come only from the page itself: a JSON body (an HTML form or a no-cors fetch cannot
        send one without the browser asking first), an Origin, when the browser sends one, equal to
        ours. On a non-loopback address the caller is known by a token: a member's, which the
        workspace issued (their name and role), or the start-up token (a reviewer, named in the body).
        On loopback the caller is the local user (`LOCAL`)."""
        if media_type(request) != "application/json":
            raise HTTPException(415, _("feedback must be sent as application/json"))
        own = own_origin(request)
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() != own.lower():
            raise HTTPException(403, _("feedback from another origin ({origin}) is refused").format(origin=origin))
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise HTTPException(403, _("feedback from a {site} page is refused").format(site=site))
        if not needs_token:
            return LOCAL
        member = service.caller_for(x_indicode_token) if x_indicode_token else None
        if member is not None:
            return member
        if not token:
            raise HTTPException(403, _("feedback is disabled on a non-loopback address unless the server was "
                                       "started with a token"))
        if not hmac.compare_digest(x_indicode_token.encode(), token.encode()):
            raise HTTPException(403, _("feedback needs the server's token (header X-Indicode-Token)"))
        return Caller("", Role.REVIEWER)

    @app.post("/api/feedback", summary="Confirm or correct a suggestion: a decision in the workspace (as "
              "`indicode learn` records); 409 with the decision in force when it is another reviewer's and "
              "`replaces` does not name it", responses=answers(403, 409, 415))
    def feedback(fb: Feedback, caller: Caller = Depends(same_origin_write)):
        text, klass = inputs.read_text(fb.text).text, inputs.read_decision_class(fb.klass)
        return service.learn(text, klass, fb.code, fb.reviewer.strip() or "web", fb.replaces, fb.origin,
                             fb.comment, caller)

    @app.post("/api/retract", summary="Undo: take a decision back; the one before it is in force again",
              responses=answers(403, 409, 415))
    def retract(r: Retract, caller: Caller = Depends(same_origin_write)):
        return service.retract(r.id, r.reviewer.strip() or "web", r.origin, caller)

    @app.get("/api/decisions", summary="Every decision and retraction about a text (in a class), oldest first")
    def decisions(text: Text, klass: Class = ""):
        t = inputs.read_text(text).text
        return {"text": t, "events": service.history(t, inputs.read_class(klass) if klass else None)}

    app.include_router(router(service))
    app.include_router(jobs.router(service, same_origin_write))
    app.include_router(proposal_router(service, same_origin_write))
    app.include_router(browse_router(service))
    install(app)
    return app
