"""Suggest latency over HTTP on loopback, warm, against the bundled catalogue.

    python scripts/bench_server.py [--requests 300]

Starts `indicode serve` as a real process, warms it up, then sends --requests suggest requests one
after another (indicator names from the seed documents, with their classes) and prints the median
and 99th percentile, beside the same suggestions made in-process in the same run (the baseline:
what HTTP adds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from indicode.catalogue.readers.detect import read_document  # noqa: E402
from indicode.catalogue.store import BUNDLED_SEEDS  # noqa: E402
from indicode.matcher.linker import Linker  # noqa: E402
from server_proc import running_server  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    rows = [r for p in sorted(BUNDLED_SEEDS.glob("00[1-4]_*.txt")) for r in read_document(p).rows]
    items = [(r.name, r.level2) for r in rows][: args.requests]
    while len(items) < args.requests:
        items += items[: args.requests - len(items)]
    linker = Linker.default()
    for t, c in items:  # warm the cache the server shares
        linker.suggest(t, c)
    local = []
    for t, c in items:
        s = time.perf_counter()
        linker.suggest(t, c)
        local.append((time.perf_counter() - s) * 1000)
    http = []
    with running_server() as url:
        for t, c in items[:20]:
            urllib.request.urlopen(f"{url}/api/suggest?" + urllib.parse.urlencode({"text": t, "class": c})).read()
        for t, c in items:
            q = urllib.parse.urlencode({"text": t, "class": c, "k": 5})
            s = time.perf_counter()
            urllib.request.urlopen(f"{url}/api/suggest?{q}").read()
            http.append((time.perf_counter() - s) * 1000)
    print(f"{len(items)} suggest requests, warm")
    print(f"in-process  median {statistics.median(local):6.2f} ms   p99 {pct(local, 99):6.2f} ms")
    print(f"HTTP        median {statistics.median(http):6.2f} ms   p99 {pct(http, 99):6.2f} ms   "
          f"(median {statistics.median(http) / statistics.median(local):.1f}x in-process)")


if __name__ == "__main__":
    main()
