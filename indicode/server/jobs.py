"""The upload routes: a declaration in, its rows to review, and three downloads out.

    POST /api/jobs                {"name": "申报.xlsx", "data": "<base64>"}  -> 202 {"id": …, "state": "queued"}
    GET  /api/jobs/{id}           the job's state and progress (stage, done, total)
    GET  /api/jobs/{id}/rows      every row with its suggestion and the decision in force for its text
    GET  /api/jobs/{id}/download/{coded|review|csv}
    GET  /api/jobs/{id}/gaps      its no-match rows grouped, one group per thing measured (`indicode gaps`)

The upload is written like feedback (a JSON body from the page's own origin, the token off loopback:
the app's `same_origin_write`), its size bounded by the Guard (`UPLOAD_LIMITS`) and again here once
decoded; the reading itself is the one `normalize` does, within the readers' caps. The coded
declaration is made on each download from the decisions in force in the workspace, so a decision
taken in the page is in the next download.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..apply import code_cell, kind_of_file, subject, write_back
from ..catalogue.readers.detect import read_document
from ..catalogue.records import NIL
from ..gaps.collect import VALUE_COLS
from ..gaps.mine import unit_of
from ..i18n import _
from ..jobs import DONE, Full, JobStore
from ..workspace import Caller
from ..workspace.proposals import label
from .guard import UPLOAD_LIMITS
from .service import Service

# the file itself, decoded: what fits the Guard's body cap once base64 and the JSON around it are taken off
MAX_UPLOAD_BYTES = (UPLOAD_LIMITS.body - 4096) * 3 // 4
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# what the routes answer beyond 200, in the service's one error shape (the Error schema of the
# OpenAPI document), so that the document tells every status and media type
WHY = {403: "another origin or site, or no or a wrong token", 404: "no such job (or kept no longer)",
       409: "the job is not finished", 413: "the upload is larger than the limit",
       415: "the body is not application/json", 503: "too many uploads being coded; try again after Retry-After"}


ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _errors(*statuses: int) -> dict[int | str, dict]:
    return {s: {"description": WHY[s], "content": ERROR_REF} for s in statuses}


FILES: dict[int | str, dict] = {200: {"description": "the file, as an attachment",
               "content": {XLSX: {"schema": {"type": "string", "format": "binary"}},
                           "text/csv": {"schema": {"type": "string", "format": "binary"}}}}}
GAP_CACHE = 16  # jobs whose gap groups are kept
JobId = Annotated[str, PathParam(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Upload(BaseModel):
    """A document to code: its file name (any format `normalize` reads) and its bytes in base64."""
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$")
    data: str = Field(description="the file's bytes, base64")


def _download(path: Path, name: str, media: str) -> FileResponse:
    return FileResponse(path, media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})


def router(service: Service, write_guard: Callable[..., Caller], store: JobStore | None = None) -> APIRouter:
    """The upload routes over `service`; writes pass `write_guard` (the feedback route's rules)."""
    api = APIRouter()
    jobs: list[JobStore] = [store] if store is not None else []
    mined: dict[str, tuple[tuple, dict]] = {}  # job id -> (the state it was mined in, its gap groups)

    def get_store() -> JobStore:
        if not jobs:  # made on first use: the worker process starts only when someone uploads
            ws = service.workspace
            jobs.append(JobStore.from_env(str(service.path), ws.location if ws is not None else None))
        return jobs[0]

    def state_of(job_id: str):
        try:
            return get_store().state(job_id)
        except KeyError:
            raise HTTPException(404, _("no such job (finished jobs are kept {days:g} days)").format(
                days=get_store().keep_days)) from None

    @api.post("/api/jobs", status_code=202, summary="Upload a declaration to code: a job, its id in the answer",
              responses=_errors(403, 413, 415, 503))
    def upload(up: Upload, caller: Caller = Depends(write_guard)):
        try:
            data = base64.b64decode(up.data, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(422, _("data: not base64")) from None
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, _("{name}: {size:,} bytes, more than the {cap:,} an upload may have").format(
                name=up.name, size=len(data), cap=MAX_UPLOAD_BYTES))
        try:
            st = get_store().submit(up.name, data)
        except Full as exc:
            return JSONResponse({"error": str(exc)}, 503, headers={"Retry-After": "30"})
        return {"id": st.id, "name": st.name, "state": st.state}

    @api.get("/api/jobs/{job_id}", summary="A job's state and progress", responses=_errors(404))
    def job(job_id: JobId):
        st = state_of(job_id)
        return {**st.__dict__, "keep_days": get_store().keep_days}

    @api.get("/api/jobs/{job_id}/rows", summary="A finished job's rows, each with the decision in force for its text",
             responses=_errors(404, 409))
    def rows(job_id: JobId):
        if state_of(job_id).state != DONE:
            raise HTTPException(409, _("the job is not finished"))
        in_force = _in_force(service)
        out = []
        for rec in get_store().rows(job_id):
            e = in_force.get(subject(rec.get("indicator") or "", rec.get("class") or "")) if rec.get("indicator") \
                else None
            value = next((str(rec[c]) for c in VALUE_COLS if rec.get(c) not in (None, "")), "")
            out.append({**rec, "unit": unit_of(value), "decided": None if e is None else {
                "id": e.id, "code": e.code, "name": e.name, "reviewer": e.reviewer, "at": e.at, "comment": e.comment}})
        return {"id": job_id, "rows": out}

    @api.get("/api/jobs/{job_id}/download/{kind}", summary="coded: the declaration with its 指标编码 column; "
             "review: the review workbook; csv: the rows as CSV", responses={**FILES, **_errors(404, 409)})
    def download(job_id: JobId, kind: Annotated[str, PathParam(pattern=r"^(coded|review|csv)$")]):
        st = state_of(job_id)
        if st.state != DONE:
            raise HTTPException(409, _("the job is not finished"))
        folder = get_store().folder(job_id)
        stem = Path(st.name).stem
        if kind == "review":
            return _download(folder / "review.xlsx", f"{stem}_审核.xlsx", XLSX)
        if kind == "csv":
            return _download(folder / "rows.csv", f"{stem}_审核.csv", "text/csv; charset=utf-8")
        original = get_store().input_file(job_id)
        suffix = ".csv" if kind_of_file(original) == "csv" else ".xlsx"
        out = folder / f"coded{suffix}"
        coded_rows(service, original, out)
        return _download(out, f"{stem}_编码{suffix}", XLSX if suffix == ".xlsx" else "text/csv; charset=utf-8")

    @api.get("/api/jobs/{job_id}/gaps", summary="A finished job's no-match rows no decision has coded since, grouped "
             "one group per thing measured (as `indicode gaps` groups them), each with the proposal its texts point "
             "to, if any", responses=_errors(404, 409))
    def gaps(job_id: JobId):
        if state_of(job_id).state != DONE:
            raise HTTPException(409, _("the job is not finished"))
        # mined again only when the decisions or the catalogue changed since (a page asks on each G)
        ws = service.workspace
        key = (ws.state() if ws is not None else None, service.linker().cat.fingerprint)
        if job_id not in mined or mined[job_id][0] != key:
            while len(mined) >= GAP_CACHE:
                mined.pop(next(iter(mined)))
            mined[job_id] = (key, gap_groups(service, get_store().folder(job_id) / "rows.csv"))
        return {"id": job_id, **mined[job_id][1]}

    return api


def gap_groups(service: Service, rows_csv: Path) -> dict:
    """The gap groups of a job's rows (its CSV, a `normalize` output): the no-match rows, less those a
    decision in force has since given a catalogue code, mined by `indicode.gaps.mine`."""
    from ..gaps.collect import normalize_output
    from ..gaps.mine import mine

    in_force = _in_force(service)
    ws = service.workspace
    proposals = {p.id: p for p in ws.proposals()} if ws is not None else {}
    rows = []
    for r in normalize_output(rows_csv) or []:
        e = in_force.get(subject(r.text, r.level2))
        if e is None or e.code == NIL or e.proposal is not None:
            rows.append(r)
    lk = service.linker()
    out = []
    for g in mine(rows, lk.canon, lk.encode_queries):
        pointing = {in_force[k].proposal for t in g.members if (k := subject(t, g.level2)) in in_force} - {None}
        named = [label(proposals[i]) for i in sorted(pointing) if i in proposals]
        d = {k: v for k, v in asdict(g).items() if k != "at"}
        out.append({**d, "level1": g.level1, "proposals": named})
    return {"rows": len(rows), "groups": out}


def _in_force(service: Service) -> dict:
    ws = service.workspace
    return {} if ws is None else {(e.subject.key, e.subject.level2): e for e in ws.in_force()}


def coded_rows(service: Service, original: Path, out: Path) -> int:
    """Write the coded declaration of `original` to `out` from the decisions in force; rows coded."""
    in_force = _in_force(service)
    cat = service.linker().cat

    def decide(row) -> str:
        e = in_force.get(subject(row.name, row.level2))
        if e is None:
            return ""
        return code_cell(e.code, cat, e.name if e.proposal is not None and e.code != NIL else "")

    return write_back(original, out, read_document(original).rows, decide).coded
