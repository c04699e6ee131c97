"""Upload jobs: a declaration handed in through the page, read and coded beside the service.

Each job is a folder under the jobs root (default: `jobs` in the user's data folder, or
$INDICODE_JOBS) named by an id nobody can guess (`secrets.token_urlsafe`): the uploaded file under its
own name in `in/`, `state.json` (written whole to a temporary name and renamed, so a reader or a
restart never sees half of it), and when done the rows (`rows.json`), the review workbook
(`review.xlsx`) and the CSV (`rows.csv`). The work runs in a pool of worker *processes* (one by
default, its encoder on one thread), never in the threads that answer suggestions, so a large upload
does not slow other users' suggestions; a bounded queue refuses more than `MAX_QUEUED` waiting jobs.
A job a restart interrupted is queued again when the store opens; jobs older than `keep_days`
(default 7, $INDICODE_JOBS_DAYS) are deleted. An upload may hold at most `max_rows` indicator rows
(default 20,000, $INDICODE_JOBS_MAX_ROWS) and be coded within `max_seconds` (default 900,
$INDICODE_JOBS_MAX_SECONDS, checked as each stage reports its progress); past either the job fails with
one line saying which limit and how to raise it.

Nothing here imports the matcher at module level: a worker process sets its thread count before the
encoder loads (`_init_worker`).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .catalogue.files import atomic_path
from .catalogue.records import InputError
from .i18n import _

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
KEEP_DAYS = 7
MAX_QUEUED = 8  # jobs waiting or running at once; more are refused (503) until one finishes
WORKERS = 1
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".docx", ".pdf", ".txt")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PROGRESS_EVERY = 0.5  # seconds between two progress writes of a running job
MAX_ROWS = 20_000  # indicator rows one upload may hold
MAX_SECONDS = 900.0  # seconds one upload may take to be read and coded


@dataclass
class JobState:
    """What `state.json` holds: the job as the page shows it."""

    id: str
    name: str  # the uploaded file's name as the clerk gave it (made safe)
    created: float
    state: str = QUEUED
    stage: str = ""  # reading, encoding, matching, writing
    done: int = 0
    total: int = 0
    error: str = ""
    rows: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    finished: float | None = None


def safe_name(name: str) -> str:
    """The file name of an upload, without folders or control characters, at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = ("." + suffix.lower()) if suffix else ""
    return (stem[:100] or "upload") + (suffix if suffix in SUFFIXES else "")


def _write_state(folder: Path, st: JobState) -> None:
    with atomic_path(folder / "state.json") as tmp:
        Path(tmp).write_text(json.dumps(asdict(st), ensure_ascii=False), encoding="utf-8")


def read_state(folder: Path) -> JobState | None:
    try:
        return JobState(**json.loads((folder / "state.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


class JobStore:
    """The jobs of one server: submit an upload, read its state and results, expire old ones."""

    def __init__(self, root: Path, catalogue: str, workspace: str | None, keep_days: float = KEEP_DAYS,
                 workers: int = WORKERS, executor: Executor | None = None, max_rows: int = MAX_ROWS,
                 max_seconds: float = MAX_SECONDS):
        self.max_rows, self.max_seconds = max_rows, max_seconds
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.catalogue, self.workspace, self.keep_days = catalogue, workspace, keep_days
        self._pool = executor
        self._workers = workers
        self._running: dict[str, object] = {}
        self.expire()
        for folder in sorted(self.root.iterdir()):  # interrupted by a restart: again from the start
            st = read_state(folder) if folder.is_dir() else None
            if st is not None and st.state in (QUEUED, RUNNING):
                st.state, st.stage, st.done, st.total = QUEUED, "", 0, 0
                _write_state(folder, st)
                self._start(st.id)

    @classmethod
    def from_env(cls, catalogue: str, workspace: str | None) -> JobStore:
        from .catalogue.paths import user_data_dir

        root = Path(os.environ.get("INDICODE_JOBS") or user_data_dir() / "jobs")
        days = _setting("INDICODE_JOBS_DAYS", KEEP_DAYS)
        rows = int(_setting("INDICODE_JOBS_MAX_ROWS", MAX_ROWS))
        return cls(root, catalogue, workspace, keep_days=days, max_rows=rows,
                   max_seconds=_setting("INDICODE_JOBS_MAX_SECONDS", MAX_SECONDS))

    @property
    def pool(self) -> Executor:
        if self._pool is None:
            import multiprocessing

            # spawn: a fresh interpreter, never a fork of the server's threads
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(os.getpid(),))
        return self._pool

    def folder(self, job_id: str) -> Path:
        if not JOB_ID_RE.match(job_id or ""):
            raise KeyError(job_id)
        folder = self.root / job_id
        if not (folder / "state.json").exists():
            raise KeyError(job_id)
        return folder

    def state(self, job_id: str) -> JobState:
        st = read_state(self.folder(job_id))
        if st is None:
            raise KeyError(job_id)
        return st

    def submit(self, name: str, data: bytes) -> JobState:
        """Store an upload and queue its coding; InputError for a file of no format `normalize` reads
        (told before it is stored, not as a failed job) or an empty one, `Full` when the queue is full."""
        suffix = Path(re.split(r"[\\/]", name or "")[-1]).suffix.lower()
        if suffix not in SUFFIXES:
            raise InputError(_("{name}: not a declaration indicode reads ({kind}); upload a {formats} file").format(
                name=name or "upload", kind=suffix or _("no file extension"), formats=" / ".join(SUFFIXES)))
        if not data:
            raise InputError(_("{name}: the file is empty").format(name=name or "upload"))
        self.expire()
        self._running = {k: f for k, f in self._running.items() if not f.done()}  # type: ignore[attr-defined]
        if len(self._running) >= MAX_QUEUED:
            raise Full(_("{n} uploads are being coded; try again in a minute").format(n=len(self._running)))
        job_id = secrets.token_urlsafe(24)
        folder = self.root / job_id
        (folder / "in").mkdir(parents=True)
        name = safe_name(name)
        (folder / "in" / name).write_bytes(data)
        st = JobState(job_id, name, time.time())
        _write_state(folder, st)
        self._start(job_id)
        return st

    def _start(self, job_id: str) -> None:
        self._running[job_id] = self.pool.submit(run_job, str(self.root / job_id), self.catalogue, self.workspace,
                                                 self.max_rows, self.max_seconds)

    def input_file(self, job_id: str) -> Path:
        folder = self.folder(job_id)
        return folder / "in" / self.state(job_id).name

    def rows(self, job_id: str) -> list[dict]:
        return json.loads((self.folder(job_id) / "rows.json").read_text(encoding="utf-8"))

    def expire(self) -> int:
        """Delete the jobs older than `keep_days`; how many were."""
        cutoff = time.time() - self.keep_days * 86400
        gone = 0
        for folder in list(self.root.iterdir()):
            st = read_state(folder) if folder.is_dir() and JOB_ID_RE.match(folder.name) else None
            if st is not None and st.created < cutoff and st.id not in self._running:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        return gone

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class Full(Exception):
    """Too many uploads queued (503)."""


def _setting(name: str, default: float) -> float:
    """A positive number from the environment (the default when unset), or InputError naming it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InputError(_("{name}={value}: give a positive number").format(name=name, value=raw))
    return value


# ---------------------------------------------------------------- in the worker process


def _plain(rec: dict) -> dict:
    """A record as strict JSON (no NaN, which JSON.parse refuses)."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in rec.items()}


_linkers: dict[tuple, object] = {}


def _init_worker(parent: int) -> None:
    """One encoder thread per worker (the server's cores stay free for suggestions), and the worker
    ends when the server does, however it ended (a killed server never leaves a worker behind)."""
    import threading

    os.environ["INDICODE_THREADS"] = "1"

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _linker(catalogue: str, workspace: str | None):
    """The worker's Linker for this catalogue and the workspace's decisions in force (rebuilt when
    they changed since the last job)."""
    from .workspace.use import linker_for, open_workspace

    ws = open_workspace(workspace) if workspace else None
    key = (catalogue, workspace, ws.state() if ws is not None else None)
    if key not in _linkers:
        _linkers.clear()
        _linkers[key] = linker_for(ws, catalogue)[0]
    return _linkers[key]


def run_job(folder_name: str, catalogue: str, workspace: str | None, max_rows: int = MAX_ROWS,
            max_seconds: float = MAX_SECONDS) -> str:
    """Read and code one upload, writing progress to its state as it goes; returns the final state.
    Every failure is the job's `error` (one line), never an exception for the pool."""
    folder = Path(folder_name)
    st = read_state(folder)
    if st is None:
        return FAILED
    from .i18n import CHINESE, use_language

    with use_language(CHINESE):  # the page is Chinese: so are a job's messages
        return _run(folder, st, catalogue, workspace, max_rows, max_seconds)


def _run(folder: Path, st: JobState, catalogue: str, workspace: str | None, max_rows: int = MAX_ROWS,
         max_seconds: float = MAX_SECONDS) -> str:
    last, started = [0.0], time.monotonic()

    def in_time() -> None:
        if time.monotonic() - started > max_seconds:
            raise InputError(_("{name}: not coded within {seconds:g} s, the time an upload may take "
                               "(INDICODE_JOBS_MAX_SECONDS); split the file, or raise the limit").format(
                name=st.name, seconds=max_seconds))

    def progress(stage: str, done: int, total: int) -> None:
        in_time()
        if time.monotonic() - last[0] >= PROGRESS_EVERY or done == total:
            last[0] = time.monotonic()
            st.stage, st.done, st.total = stage, done, total
            _write_state(folder, st)

    try:
        st.state, st.stage = RUNNING, "reading"
        _write_state(folder, st)
        from .bulk import TooManyRows, normalize
        from .review_sheet import write_result

        linker = _linker(catalogue, workspace)
        try:
            res = normalize([folder / "in" / st.name], linker, progress=progress, max_rows=max_rows)
        except TooManyRows as exc:
            raise InputError(_("{name}: {n:,} indicator rows, more than the {most:,} an upload may have "
                               "(INDICODE_JOBS_MAX_ROWS); split the file, or raise the limit").format(
                name=st.name, n=exc.rows, most=max_rows)) from None
        if res.failed:
            raise InputError(res.failed[0].error.replace(str(folder / "in") + os.sep, ""))
        progress("writing", st.total, st.total)
        about = {"catalogue": str(linker.cat.path), "catalogue fingerprint": linker.cat.fingerprint,
                 "decisions applied": str(len(linker.decisions))}
        write_result(folder / "review.xlsx", res, about)
        write_result(folder / "rows.csv", res, about)
        with atomic_path(folder / "rows.json") as tmp:
            Path(tmp).write_text(json.dumps([_plain(r) for r in res.records], ensure_ascii=False, default=str),
                                 encoding="utf-8")
        st.state, st.rows, st.decisions = DONE, len(res.records), dict(res.decisions)
    except InputError as exc:
        st.state, st.error = FAILED, str(exc)
    except Exception as exc:  # the job says so; the server goes on
        st.state, st.error = FAILED, _("internal error ({kind}) while coding the file").format(kind=type(exc).__name__)
    st.finished = time.time()
    _write_state(folder, st)
    return st.state
