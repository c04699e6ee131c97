"""W3C Reconciliation Service API 0.2 at `/reconcile` (what OpenRefine speaks), over the same Linker.

Entities are catalogue codes; types are the level-2 classes (`31` 服务对象满意度 …, each with its
level-1 class as the broader type); two properties refine a query: `class` (the same as a type) and
`value`, the target value (指标值), which the linker reads as the kind-of-measure signal. Scores are
the linker's calibrated chance that the code is right, on a 0-100 scale; `match` is true only for the
top candidate of an `accept` decision. Read-only: the Guard adds CORS to every answer under this path.
"""
from __future__ import annotations

import html
import json
from functools import partial
from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from .. import __version__
from ..catalogue.classes import LEVEL1, LEVEL2
from ..catalogue.records import InputError
from ..i18n import _
from ..inputs import BadValue, blank, known_class, read_k, read_query, suggest_request
from ..matcher.linker import Linker
from ..matcher.present import class_label, why
from ..matcher.results import Verdict
from ..matcher.text import MAX_TEXT
from .headers import media_type, own_origin
from .openapi import answers
from .service import Service

MAX_QUERIES = 50  # queries in one batch (OpenRefine sends 10)
DEFAULT_LIMIT = 5
SUGGEST_PAGE = 20
PROPERTIES = {"value": ("指标值", "the target value (e.g. ≥95%, 100%, 及时): tells the kind of measure"),
              "class": ("二级指标", "the level-2 class digits (11 … 43), the same as a type")}
Short = Annotated[str, Field(max_length=MAX_TEXT)]
# JSONP, which the spec allows beside CORS for older clients: a plain function name, nothing else
Callback = Annotated[str | None, Query(pattern=r"^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$",
                                       description="JSONP: wrap the answer in a call to this function")]


def reply(obj: dict, callback: str | None) -> Response:
    """JSON, or with `callback` the same JSON as a JavaScript call (the `/**/` keeps the first bytes
    from being anything but a comment)."""
    if callback is None:
        return JSONResponse(obj)
    body = json.dumps(obj, ensure_ascii=False)
    return Response(f"/**/{callback}({body});", media_type="application/javascript")


class EntityRef(BaseModel):
    id: Short
    name: Short | None = None


PropertyValue = Short | float | bool | EntityRef


class PropertyMapping(BaseModel):
    pid: Short
    v: PropertyValue | Annotated[list[PropertyValue], Field(max_length=20)]


class ReconQuery(BaseModel):
    """One query of a batch, as reconciliation-query-batch.json describes it."""
    model_config = ConfigDict(extra="forbid")
    query: str | None = None  # read, and cut when long, by indicode.inputs like every indicator text
    type: Short | Annotated[list[Short], Field(max_length=20)] | None = None
    limit: bool | int | float | str | None = None  # read by indicode.inputs: a whole number from 1 to 50
    properties: Annotated[list[PropertyMapping], Field(max_length=20)] | None = None
    type_strict: Literal["any", "should", "all"] | None = None


Batch = RootModel[Annotated[dict[Annotated[str, Field(max_length=100)], ReconQuery], Field(max_length=MAX_QUERIES)]]


def class_type(level2: str) -> dict:
    t: dict[str, object] = {"id": level2, "name": LEVEL2.get(level2) or LEVEL1.get(level2) or level2}
    if level2 in LEVEL2:
        t["broader"] = [{"id": level2[0], "name": LEVEL1[level2[0]]}]
    return t


def _first(v) -> str:
    """A property value as text: the first of a list, an entity's id, a number as written."""
    if isinstance(v, list):
        v = v[0] if v else ""
    if isinstance(v, EntityRef):
        return v.id
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def answer(service: Service, linker: Linker, q: ReconQuery) -> dict:
    """One query's candidates, best first. Types and the class property are hints: one that names
    no class (a client may send types it has from elsewhere) narrows nothing."""
    types = [q.type] if isinstance(q.type, str) else (q.type or [])
    klass = next((c for c in map(known_class, types) if c), "")
    value = ""
    for p in q.properties or []:
        v = _first(p.v).strip()
        if p.pid == "class":
            klass = known_class(v) or klass
        elif p.pid == "value":
            value = v[:100]
    k = DEFAULT_LIMIT if q.limit is None else read_k(q.limit, what="limit", field="limit")
    if q.query is None or blank(q.query):  # no indicator can be told from a class or a value alone
        return {"result": []}
    s = suggest_request(q.query, klass, value, k).run(partial(service.suggest, linker))
    return {"result": [{
        "id": c.code, "name": c.name, "description": f"{class_label(c.level2)} · {why(c)}",
        "score": round(c.score * 100, 1), "match": i == 0 and s.decision == Verdict.ACCEPT,
        "type": [class_type(c.level2)] if c.level2 else [],
        "features": [{"id": k, "value": round(v, 4)} for k, v in c.features.items()],
    } for i, c in enumerate(s.candidates)]}


def parse_batch(raw: str) -> dict[str, ReconQuery]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise HTTPException(400, _("'queries' must be a JSON object of queries")) from None
    try:
        return Batch.model_validate(data).root
    except ValidationError as exc:
        errors = [{**e, "loc": ("queries", *e["loc"])} for e in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None


def router(service: Service) -> APIRouter:
    r = APIRouter(prefix="/reconcile", tags=["reconciliation"])

    def manifest(request: Request) -> dict:
        b = own_origin(request)
        return {
            "versions": ["0.2"], "name": "indicode 绩效指标编码 (Guangdong performance-indicator codes)",
            "identifierSpace": f"{b}/api/codes/", "schemaSpace": f"{b}/reconcile/types/",
            "serviceVersion": __version__, "documentation": f"{b}/openapi.json",
            "view": {"url": f"{b}/#code={{{{id}}}}"},
            "preview": {"url": f"{b}/reconcile/preview?id={{{{id}}}}", "width": 430, "height": 150},
            "defaultTypes": [class_type(c) for c in LEVEL2],
            "suggest": {k: {"service_url": b, "service_path": f"/reconcile/suggest/{k}"}
                        for k in ("entity", "type", "property")},
        }

    def run_batch(raw: str) -> dict:
        batch = parse_batch(raw)
        linker = service.linker()  # one catalogue for the whole batch
        out = {}
        for key, q in batch.items():
            try:
                out[key] = answer(service, linker, q)
            except InputError as exc:  # the query named, as a validation error of the batch is
                raise BadValue(f"queries.{key}: {exc}", "queries") from None
        return out

    @r.get("", summary="The service manifest, or answers to `queries` (a JSON batch)")
    def get_reconcile(request: Request, queries: Annotated[str | None, Query(max_length=16000)] = None,
                      callback: Callback = None):
        return reply(manifest(request) if queries is None else run_batch(queries), callback)

    @r.post("", summary="Answers to a batch of queries: form field `queries`, or the batch as a JSON body",
            responses=answers(415, 422), openapi_extra={"requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["queries"],
                    "properties": {"queries": {"type": "string", "description": "a JSON reconciliation query batch"}}}},
                "application/json": {"schema": {"type": "object", "description": "a reconciliation query batch"}}}}})
    async def post_reconcile(request: Request):
        ctype = media_type(request)
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, _("the body is not UTF-8")) from None
        if ctype == "application/x-www-form-urlencoded":
            try:
                fields = parse_qs(text, max_num_fields=10)
            except ValueError:  # more fields than that: a crafted form, not OpenRefine
                raise HTTPException(400, _("too many form fields (send 'queries' alone)")) from None
            if "queries" not in fields:
                raise HTTPException(400, _("form field 'queries' is missing"))
            text = fields["queries"][0]
        elif ctype != "application/json":
            raise HTTPException(415, _("send the queries as a form field 'queries' or as an application/json body"))
        return await run_in_threadpool(run_batch, text)

    @r.get("/suggest/entity", summary="Codes whose code starts with, or whose name holds, the prefix")
    def suggest_entity(prefix: Annotated[str, Query(json_schema_extra={"minLength": 1})],
                       type: Annotated[str, Query(max_length=MAX_TEXT)] = "",
                       cursor: Annotated[int, Query(ge=0, le=10000)] = 0, callback: Callback = None):
        query = read_query(prefix, field="prefix")
        found = service.linker().cat.lookup(query, known_class(type), cursor + SUGGEST_PAGE)[cursor:]
        return reply({"result": [{"id": e.code, "name": e.name,
                                  "description": class_label(e.level2)
                                  + (f" · 别名 {'、'.join(e.aliases)}" if e.aliases else ""),
                                  "notable": [class_type(e.level2)] if e.level2 else []} for e in found]}, callback)

    @r.get("/suggest/type", summary="Classes whose digits or name hold the prefix")
    def suggest_type(prefix: Annotated[str, Query(max_length=MAX_TEXT)] = "", callback: Callback = None):
        p = prefix.strip()
        types = [class_type(c) for c, name in LEVEL2.items() if c.startswith(p) or p in name]
        return reply({"result": types}, callback)

    @r.get("/suggest/property", summary="The properties a query may carry: value and class")
    def suggest_property(prefix: Annotated[str, Query(max_length=MAX_TEXT)] = "", callback: Callback = None):
        p = prefix.strip().lower()
        return reply({"result": [{"id": pid, "name": name, "description": desc}
                                 for pid, (name, desc) in PROPERTIES.items() if p in pid or p in name]}, callback)

    @r.get("/preview", response_class=HTMLResponse, summary="A code in a few lines of HTML, for OpenRefine's preview",
           responses=answers(404))
    def preview(request: Request, id: Annotated[str, Query(min_length=1, max_length=20)]):
        e = service.linker().cat.get(id)
        if e is None:
            raise HTTPException(404, _("no code {code} in the catalogue").format(code=id))
        esc = html.escape
        rows = [f"<b>{esc(e.code)}-{esc(e.name)}</b>", esc(class_label(e.level2))]
        if e.aliases:
            rows.append("别名：" + esc("、".join(e.aliases)))
        if e.values:
            rows.append("指标值示例：" + esc("、".join(e.values[:5])))
        rows.append(f'<a href="{esc(own_origin(request))}/#code={esc(e.code)}" target="_blank">在 indicode 中打开</a>')
        return HTMLResponse('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
                            '<body style="font:14px sans-serif;margin:6px">' + "<br>".join(rows) + "</body></html>")

    return r
