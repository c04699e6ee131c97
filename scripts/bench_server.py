"""Suggest latency over HTTP on loopback against in-process suggest, in the same run, with texts the
vector cache has never seen.

    python scripts/bench_server.py [--requests 200]

Every request carries a different text: the indicator names of the seed documents (read by
indicode's own readers) and variations of them (本年度…, …情况, 项目…), shuffled, each used once
across the whole run, with a fresh vector cache, so every suggestion encodes its text. Phases:
in-process `Linker.suggest` (the baseline), then a real `indicode serve` process asked over
kept-alive connections (one `http.client.HTTPConnection` reused per client) and over a new
connection per request, by 1 and by 4 concurrent clients. Prints medians, p99, throughput and the
ratios the targets are about: keep-alive no slower than new connections, HTTP p99 at concurrency 1
within 2x of in-process p99. `cpu/wall` > 1 for one query means threads spin beside it.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchstats import pct  # noqa: E402
from indicode.catalogue.paths import BUNDLED_SEEDS  # noqa: E402
from indicode.catalogue.readers.detect import read_document  # noqa: E402
from server_proc import running_server  # noqa: E402

VARIATIONS = ["{}", "本年度{}", "{}情况", "项目{}", "全市{}", "{}（全年）", "年度{}目标", "各单位{}"]


def distinct_items() -> list[tuple[str, str]]:
    """(text, class) pairs, every text different, from the seed documents and variations."""
    rows = [r for p in sorted(BUNDLED_SEEDS.glob("00*_*.txt")) for r in read_document(p).rows if r.name.strip()]
    names = list(dict.fromkeys((r.name.strip(), r.level2) for r in rows))
    seen, out = set(), []
    for v in VARIATIONS:
        for name, klass in names:
            t = v.format(name)
            if t not in seen and len(t) <= 200:
                seen.add(t)
                out.append((t, klass))
    random.Random(7).shuffle(out)
    return out


def path_of(text: str, klass: str) -> str:
    return "/api/suggest?" + urllib.parse.urlencode({"text": text, "class": klass, "k": 5})


def get(conn: http.client.HTTPConnection, path: str) -> None:
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"{r.status}: {body[:200]!r}")


def run_http(host: str, port: int, items, clients: int, keep_alive: bool) -> tuple[list[float], float]:
    """Per-request milliseconds and the wall time of the whole phase."""
    chunks = [items[i::clients] for i in range(clients)]

    def client(chunk):
        times = []
        conn = http.client.HTTPConnection(host, port, timeout=60) if keep_alive else None
        for t, c in chunk:
            s = time.perf_counter()
            if keep_alive:
                get(conn, path_of(t, c))
            else:
                fresh = http.client.HTTPConnection(host, port, timeout=60)
                get(fresh, path_of(t, c))
                fresh.close()
            times.append((time.perf_counter() - s) * 1000)
        if conn:
            conn.close()
        return times

    s = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        times = [x for part in pool.map(client, chunks) for x in part]
    return times, time.perf_counter() - s


def line(label: str, times: list[float], wall: float, extra: str = "") -> str:
    return (f"{label:34} median {statistics.median(times):7.2f} ms   p99 {pct(times, 99):7.2f} ms   "
            f"{len(times) / wall:6.1f} req/s  {extra}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200, help="requests per phase (each a new text)")
    ap.add_argument("--rounds", type=int, default=5, help="phases run interleaved in this many rounds")
    args = ap.parse_args()
    n, rounds = args.requests, args.rounds
    items = distinct_items()
    phases = ["in-process c1", "in-process c4", "keep-alive c1", "new-conn c1", "keep-alive c4", "new-conn c4"]
    need = 40 + n * len(phases)
    if len(items) < need:
        sys.exit(f"only {len(items)} distinct texts for {need} requests: lower --requests")
    warm, items = items[:40], items[40:]
    part = {p: items[i * n:(i + 1) * n] for i, p in enumerate(phases)}
    cache = tempfile.mkdtemp(prefix="indicode-bench-cache-")
    os.environ["INDICODE_CACHE_DIR"] = cache  # a fresh vector cache: nothing is answered from it
    try:
        measure(n, rounds, phases, warm, part, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(cache + "-server", ignore_errors=True)


def measure(n: int, rounds: int, phases: list[str], warm, part: dict, cache: str) -> None:

    from indicode.matcher.linker import Linker
    from indicode.server import Service

    linker = Linker.default()
    service = Service(linker)  # as the server calls it: side by side when the Linker allows it
    for t, c in warm[:20]:
        linker.suggest(t, c)

    def in_process(chunk, clients):
        def one(item):
            s = time.perf_counter()
            service.suggest(linker, *item)
            return (time.perf_counter() - s) * 1000

        s = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            out = list(pool.map(one, chunk))
        return out, time.perf_counter() - s

    times = {p: [] for p in phases}
    walls = {p: 0.0 for p in phases}
    transport = {"keep-alive": [], "new-conn": []}
    local_cpu = 0.0  # CPU time of this whole process while suggesting one at a time
    with running_server(env={"INDICODE_CACHE_DIR": cache + "-server"}) as url:
        u = urllib.parse.urlsplit(url)
        run_http(u.hostname, u.port, warm[20:], 1, True)
        for r in range(rounds):  # interleaved, so that a busy moment of the machine hits every phase alike
            for p in phases:
                chunk = part[p][r::rounds]
                clients = 4 if p.endswith("c4") else 1
                if p.startswith("in-process"):
                    c0 = time.process_time()
                    t, w = in_process(chunk, clients)
                    if clients == 1:
                        local_cpu += time.process_time() - c0
                else:
                    t, w = run_http(u.hostname, u.port, chunk, clients, p.startswith("keep-alive"))
                times[p] += t
                walls[p] += w
            # transport alone: a cheap cached answer, so that only connection handling differs
            for how in transport:
                t, _ = run_path(u.hostname, u.port, "/api/codes/112000272", 40, how == "keep-alive")
                transport[how] += t

    report(n, rounds, phases, times, walls, transport, local_cpu, serial=service._serial is not None)


def report(n: int, rounds: int, phases: list[str], times: dict, walls: dict, transport: dict, local_cpu: float,
           serial: bool) -> None:
    """The latencies of each phase, and their ratios against the targets."""
    local = times["in-process c1"]
    print(f"{n} suggest requests per phase in {rounds} interleaved rounds, every text new (fresh vector caches)")
    for p in phases:
        extra = ""
        if p == "in-process c1":
            extra = f"cpu/wall {local_cpu / walls[p]:.2f} (above 1: threads spin beside one query)"
        if p == "in-process c4" and serial:
            extra = "(one lock: this Linker is not thread-safe)"
        print(line(("in-process Linker.suggest " if p.startswith("in-process") else "HTTP /api/suggest ") + p,
                   times[p], walls[p], extra))
    for how, t in transport.items():
        print(line(f"HTTP /api/codes/… (cached) {how}", t, sum(t) / 1000))
    ka1, nc1, ka4, nc4 = times["keep-alive c1"], times["new-conn c1"], times["keep-alive c4"], times["new-conn c4"]
    med = statistics.median
    print("ratios:")
    print(f"  keep-alive / new-conn median: suggest c1 {med(ka1) / med(nc1):.2f}, c4 {med(ka4) / med(nc4):.2f}, "
          f"transport {med(transport['keep-alive']) / med(transport['new-conn']):.2f}   (target <= 1)")
    print(f"  HTTP keep-alive c1 p99 / in-process c1 p99      {pct(ka1, 99) / pct(local, 99):.2f}   (target <= 2)")
    print(f"  HTTP keep-alive c1 median / in-process median   {med(ka1) / med(local):.2f}")
    thr = {p: len(times[p]) / walls[p] for p in phases}
    print(f"  throughput c4 / c1: HTTP keep-alive {thr['keep-alive c4'] / thr['keep-alive c1']:.2f}, "
          f"in-process {thr['in-process c4'] / thr['in-process c1']:.2f}")


def run_path(host: str, port: int, path: str, count: int, keep_alive: bool) -> tuple[list[float], float]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    times = []
    s0 = time.perf_counter()
    for _ in range(count):
        s = time.perf_counter()
        if keep_alive:
            get(conn, path)
        else:
            fresh = http.client.HTTPConnection(host, port, timeout=60)
            get(fresh, path)
            fresh.close()
        times.append((time.perf_counter() - s) * 1000)
    conn.close()
    return times, time.perf_counter() - s0


if __name__ == "__main__":
    main()
