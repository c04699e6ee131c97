"""What a long review history costs: start-up and suggestion latency of the linker with N decisions
in force in a workspace, against the same catalogue with none (the baseline, same run).

    python scripts/bench_learned.py [--links 50000] [--queries 200]

The learned texts are distinct, built from the seed documents' own indicator names with a varying
prefix (as reviewers' decisions on many documents look); queries are other distinct seed-like
texts, so every suggestion is new (no cache answers it). Prints the seconds recording the N decisions
took (one transaction, as `indicode learn` of one workbook), start-up seconds (the workspace's
decisions in force read and a fresh Linker built over them, as every matching command does) and
suggestion median / p99 in ms, and the ratio to the baseline.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchstats import p99
from indicode.bulk import read_all
from indicode.catalogue.lazy import LazyCatalogue
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.paths import BUNDLED_DB, BUNDLED_SEEDS
from indicode.catalogue.records import NIL
from indicode.matcher.linker import Linker
from indicode.workspace import NewDecision, Origin, Via, Workspace

PREFIX = ["区", "市", "街道", "中心", "本单位", "项目", "年度", "全区", "专项", "系统", "平台", "办公"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(0)
    rows, _ = read_all(sorted(BUNDLED_SEEDS.glob("00[1-4]_*.txt")), None)
    names = sorted({r.name for r in rows if r.name.strip()})
    cat = Catalogue.load(BUNDLED_DB)
    codes = sorted(cat.entries)
    links, seen = [], set()
    while len(links) < args.links:
        text = f"{rng.choice(PREFIX)}{rng.randint(1, 10**6)}{rng.choice(names)}"
        if text not in seen:
            seen.add(text)
            klass, code = rng.choice(["11", "12", "13", "31"]), rng.choice(codes + [NIL])
            where = Origin(Via.WORKBOOK, "bench.xlsx", "按文本审核", len(links) + 2)
            links.append(NewDecision(text, klass, code, "bench", where))
    queries = [f"{rng.choice(PREFIX)}{n}{rng.randint(1, 99)}" for n in rng.sample(names, min(args.queries, len(names)))]
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = Path(tmp) / "empty.sqlite", Path(tmp) / "full.sqlite"
        t = time.perf_counter()
        with Workspace.open(full) as ws:
            recorded = len(ws.record(links, cat).recorded)
        print(f"recorded {recorded:,} decisions in one transaction: {time.perf_counter() - t:.2f} s")
        Workspace.open(empty).close()
        encoder = Linker.default(BUNDLED_DB).encoder  # the encoder and index files once, for both
        print(f"{'workspace':28} {'start s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10}")
        base = None
        for label, path in (("no decisions", empty), (f"{args.links:,} decisions in force", full)):
            t = time.perf_counter()
            lazy = LazyCatalogue.load(BUNDLED_DB)
            with Workspace.open(path) as ws:
                linker = Linker(lazy, encoder, learned=ws.learned_links(lazy.entries))
            start = time.perf_counter() - t
            vecs = linker.encode_queries(queries)
            lat = []
            for q, v in zip(queries, vecs, strict=True):
                t = time.perf_counter()
                linker.suggest_many([(q, "11", "")], vectors=v[None, :])
                lat.append((time.perf_counter() - t) * 1000)
            p50 = statistics.median(lat)
            base = base or p50
            print(f"{label:28} {start:8.2f} {p50:8.2f} {p99(lat):8.2f} {p50 / base:9.2f}×")

if __name__ == "__main__":
    main()
