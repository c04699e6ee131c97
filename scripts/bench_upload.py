"""/api/suggest latency while a 5,000-row workbook is uploaded and coded, against idle, in one run.

    python scripts/bench_upload.py [--rows 5000] [--idle 200] [--gap 0.1]

One real `indicode serve` with a fresh vector cache and a fresh jobs folder. Every suggestion carries
a text never asked before (the seed indicators and variations, as scripts/bench_server.py makes them),
and the workbook's texts are yet others, so both the queries and the upload encode. Phase 1: `--idle`
queries one after another, `--gap` seconds apart (the baseline). Phase 2: the workbook is uploaded
(POST /api/jobs) and queries go on at the same pace until the job is done. Prints median and p99 of each phase, the
ratio of the p99s (the target: within 2x) and how long the job took.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import distinct_items, path_of  # noqa: E402
from benchstats import pct  # noqa: E402
from server_proc import running_server  # noqa: E402


def workbook(path: Path, rows: int, skip: set[str]) -> Path:
    """A declaration-like .xlsx of `rows` indicator rows, every text distinct and not among `skip`."""
    import openpyxl

    names = list(dict.fromkeys(t for t, _ in distinct_items()))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["项目名称", "一级指标", "二级指标", "三级指标", "指标值"])
    i = 0
    while ws.max_row <= rows:
        text = f"{names[i % len(names)]}第{i // len(names) + 1}批"
        i += 1
        if text not in skip:
            ws.append(["基准测试项目", "1-产出指标", "11-数量指标", text, "100%"])
    wb.save(path)
    return path


def timed(conn: http.client.HTTPConnection, path: str, gap: float = 0.0) -> float:
    time.sleep(gap)
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit(f"suggest answered {r.status}")
    return time.perf_counter() - t0


def line(label: str, xs: list[float]) -> str:
    return f"{label:28} n={len(xs):4d}  median {statistics.median(xs) * 1000:7.1f} ms  p99 {pct(xs, 99) * 1000:7.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--idle", type=int, default=200)
    ap.add_argument("--gap", type=float, default=0.1, help="seconds between two queries (other users' pace)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="indicode-bench-upload-"))
    try:
        items = distinct_items()
        queries = iter(items)
        book = workbook(tmp / "big.xlsx", args.rows, {t for t, _ in items})
        env = {"INDICODE_CACHE_DIR": str(tmp / "cache"), "INDICODE_JOBS": str(tmp / "jobs"),
               "INDICODE_DATA_DIR": str(tmp / "data")}
        with running_server(env={**os.environ, **env}) as url:
            u = urlsplit(url)
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            for _ in range(10):  # warm-up, not counted
                timed(conn, path_of(*next(queries)))
            idle = [timed(conn, path_of(*next(queries)), args.gap) for _ in range(args.idle)]
            body = json.dumps({"name": book.name, "data": base64.b64encode(book.read_bytes()).decode()})
            up = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            up.request("POST", "/api/jobs", body, {"Content-Type": "application/json"})
            job = json.loads(up.getresponse().read())
            t0, busy, state = time.perf_counter(), [], {}
            while True:
                try:
                    busy.append(timed(conn, path_of(*next(queries)), args.gap))
                except StopIteration:
                    raise SystemExit("ran out of distinct queries before the job finished") from None
                if len(busy) % 10 == 0:
                    up.request("GET", f"/api/jobs/{job['id']}")
                    state = json.loads(up.getresponse().read())
                    if state["state"] in ("done", "failed"):
                        break
            took = time.perf_counter() - t0
        if state["state"] != "done":
            raise SystemExit(f"the job failed: {state.get('error')}")
        print(f"upload: {args.rows} rows coded in {took:.1f} s (state {state['state']}, {state['rows']} rows)")
        print(line("suggest, idle", idle))
        print(line("suggest, during the upload", busy))
        print(f"p99 during / p99 idle = {pct(busy, 99) / pct(idle, 99):.2f} (target <= 2)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
