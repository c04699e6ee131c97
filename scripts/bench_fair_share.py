"""An ordinary client's suggestions beside a client that holds 300 idle connections, against the
same client on a quiet server, in the same run.

    python scripts/bench_fair_share.py [--requests 120] [--rounds 3] [--idle 300]

A real `indicode serve` process on loopback. The hostile client is another process, on another
loopback address (127.0.0.2), that keeps `--idle` TCP connections open, sends nothing on them, and
reopens each one as soon as the server closes it. The ordinary client (127.0.0.1) asks /api/suggest
once per text, every text new (a fresh vector cache: each suggestion encodes its text), on a new
connection per request (each must be admitted). Quiet and hostile phases alternate in `--rounds`
rounds. Prints medians and p99 of both, the failures, how often the hostile client had to reopen,
and the target: every ordinary suggestion succeeds, hostile p99 within 2x of quiet p99.
"""
from __future__ import annotations

import argparse
import http.client
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_server import distinct_items, path_of  # noqa: E402
from benchstats import pct  # noqa: E402
from server_proc import running_server  # noqa: E402

HOSTILE_ADDRESS = "127.0.0.2"


def hold(host: str, port: int, count: int) -> None:
    """The hostile client: `count` idle connections, each reopened when closed, until SIGTERM; then
    print how many were open and how many times one was reopened."""
    sel = selectors.DefaultSelector()
    stop = False
    reopened = 0

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)

    def open_one() -> None:
        while not stop:
            try:
                s = socket.create_connection((host, port), timeout=5, source_address=(HOSTILE_ADDRESS, 0))
            except OSError:
                time.sleep(0.01)
                continue
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            return

    for _ in range(count):
        open_one()
    print("ready", flush=True)
    while not stop:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                continue  # an answer (a 503): the close comes next
            sel.unregister(s)
            s.close()
            reopened += 1
            open_one()
    print(f"open {len(sel.get_map())} reopened {reopened}", flush=True)


def ask(host: str, port: int, text: str, klass: str) -> tuple[float, int]:
    """(milliseconds, status) of one suggestion on a new connection; status 0 when the connection failed."""
    s = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request("GET", path_of(text, klass))
        r = conn.getresponse()
        r.read()
        status = r.status
        conn.close()
    except OSError:
        status = 0
    return (time.perf_counter() - s) * 1000, status


def phase(host: str, port: int, items) -> tuple[list[float], list[int]]:
    times, statuses = [], []
    for t, c in items:
        ms, st = ask(host, port, t, c)
        times.append(ms)
        statuses.append(st)
    return times, statuses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=120, help="ordinary suggestions per phase")
    ap.add_argument("--rounds", type=int, default=3, help="quiet and hostile phases alternate this many times")
    ap.add_argument("--idle", type=int, default=300, help="idle connections the hostile client keeps open")
    ap.add_argument("--hold", nargs=3, metavar=("HOST", "PORT", "COUNT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hold:
        return hold(args.hold[0], int(args.hold[1]), int(args.hold[2]))
    items = distinct_items()
    n = args.requests
    if len(items) < 20 + 2 * n:
        sys.exit(f"only {len(items)} distinct texts for {20 + 2 * n} requests: lower --requests")
    warm, quiet_items, hostile_items = items[:20], items[20:20 + n], items[20 + n:20 + 2 * n]
    cache = tempfile.mkdtemp(prefix="indicode-bench-cache-")
    quiet, hostile, statuses, reports = [], [], [], []
    try:
        # a fresh vector cache, and a workspace of its own (not the user's)
        with running_server(env={"INDICODE_CACHE_DIR": cache, "INDICODE_DATA_DIR": cache + "/data"}) as url:
            u = urllib.parse.urlsplit(url)
            host, port = u.hostname, u.port
            phase(host, port, warm)
            for r in range(args.rounds):
                t, _st = phase(host, port, quiet_items[r::args.rounds])
                quiet += t
                holder = subprocess.Popen([sys.executable, __file__, "--hold", host, str(port), str(args.idle)],
                                          stdout=subprocess.PIPE, text=True)
                try:
                    assert holder.stdout is not None
                    if holder.stdout.readline().strip() != "ready":
                        sys.exit("the hostile client did not start")
                    time.sleep(1.0)  # its connections admitted, or let go and reopening
                    t, st = phase(host, port, hostile_items[r::args.rounds])
                    hostile += t
                    statuses += st
                finally:
                    holder.send_signal(signal.SIGTERM)
                    out, _ = holder.communicate(timeout=30)
                    reports.append(out.strip())
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    failed = sum(1 for s in statuses if s != 200)
    ratio = pct(hostile, 99) / pct(quiet, 99)
    print(f"{n} ordinary suggestions per phase, {args.rounds} rounds, each on a new connection, every text new")
    print(f"quiet                          median {statistics.median(quiet):7.2f} ms   p99 {pct(quiet, 99):7.2f} ms")
    print(f"beside {args.idle} idle connections   median {statistics.median(hostile):7.2f} ms   "
          f"p99 {pct(hostile, 99):7.2f} ms   failed {failed} of {len(statuses)}"
          + (f" (statuses {sorted(set(statuses))})" if failed else ""))
    print(f"hostile client, per round: {'; '.join(reports)}")
    print(f"p99 hostile / quiet {ratio:.2f}   (target: 0 failed, ratio <= 2)  "
          + ("PASS" if not failed and ratio <= 2 else "FAIL"))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
