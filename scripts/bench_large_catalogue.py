"""Suggest at library scale: start-up, latency with the real encoder, memory and candidate recall.

    python scripts/bench_large_catalogue.py [--size 200000] [--queries 300] [--json] [--cache DIR]

1. Builds (or reuses, in --cache, default ~/.cache/indicode/bench-large) a synthetic catalogue of
   --size codes, its FAISS index and the prepared names stored beside it. The catalogue side is a
   documented stand-in, since encoding 2×10^5 names with the embedded encoder takes most of an hour:
   each name is made of real name parts (an optional district/unit prefix, the object part of one
   bundled catalogue name, sometimes after that of a third, and the measure head of another, e.g.
   街道 + 档案数字化 + 验收合格率), and its vector is the unit sum of the REAL e5 passage vectors of
   those parts' source names (and the prefix; extra parts at half weight) plus Gaussian noise of
   length NOISE (0.05), so that no two are equal. The noise is small against the distance between
   the real e5 vectors of two different bundled names (median 0.39, 1st percentile 0.24): the
   vectors lie where e5 puts such names, near their parts, with the structure (names sharing parts
   close together) an index meets in a real catalogue. (With noise as large as those distances every
   name is about equally far from a query, and no approximate index finds its exact 10 nearest:
   unlike real names.)
2. Runs each catalogue (the synthetic one and the bundled one) in a fresh process with an empty
   vector cache and the REAL embedded encoder for queries: `start_s` is the time from starting that
   process to its first answer; then --queries DISTINCT queries, the two processes taking turns
   query by query (so a busy moment of the machine falls on both alike) (gold-set texts, bundled names and
   variations of them with prefixes and suffixes; none repeated, none cached) through
   `Linker.suggest`, query encoding included: `suggest_p50_ms`, `suggest_p99_ms`; `rss_mb` is the
   process's peak resident memory after them.
3. `candidate_recall`: the share of queries whose exact top-10 names — by vector (brute force over
   every vector) and by characters (`fuzz.ratio` over every name) — are all among the candidates the
   fast path scores (approximate HNSW search plus the character index).

With --sweep N1 N2 …, instead: the matching cost per query outside encoding (`Linker.score` with
the query vectors computed beforehand, in-process, median and p99 ms) for synthetic catalogues of
those sizes, to show it grows smoothly (no jump where the candidate path starts).

Prints a summary, or with --json one JSON object: the synthetic catalogue's figures at the top level
and the bundled catalogue's under `bundled`, with `p99_ratio` = synthetic p99 / bundled p99.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchstats import p99

ROOT = Path(__file__).resolve().parents[1]
NOISE = 0.05  # length of the Gaussian noise added to each (unit) stand-in vector; see the docstring
PREFIXES = ["", "", "", "全区", "市级", "街道", "本单位", "县级", "社区", "镇级", "年度", "各部门", "区直", "重点",
            "农村", "城区", "全市", "新增", "专项", "日常"]
Q_PREFIXES = ["", "全区", "本单位", "年度", "各街道", "市级", "项目"]
Q_SUFFIXES = ["", "（%）", "情况", "(2024年)", "指标", "（件）"]


# ------------------------------------------------------------------ building the synthetic catalogue

def build_synthetic(size: int, folder: Path) -> tuple[Path, Path]:
    """The catalogue file and index folder for `size` codes (built once, then reused)."""
    from indicode.catalogue.lookup import Catalogue
    from indicode.catalogue.writing import write_catalogue
    from indicode.matcher import names as prepared
    from indicode.matcher import vector_index
    from indicode.matcher.encoders import load_encoder

    db, idx = folder / "catalogue.sqlite", folder / "indexes"
    done = folder / "built"
    if done.exists():
        # the prepared names are stamped with the matcher's code: refresh them here when it changed,
        # so that the measured start-up never includes preparing them
        from indicode.catalogue.lazy import LazyCatalogue

        cat = LazyCatalogue.load(db)
        vi = vector_index.load(cat, load_encoder(), idx)
        prepared.load_or_build(cat, vi, vi.path)
        return db, idx
    folder.mkdir(parents=True, exist_ok=True)
    idx.mkdir(exist_ok=True)
    enc = load_encoder()
    occs, vecs = synthetic_names(size, Catalogue.load(), enc)
    t = time.perf_counter()
    write_catalogue(db, occs)
    big = Catalogue.load(db)
    print(f"catalogue: {len(big)} codes in {time.perf_counter() - t:.0f}s", file=sys.stderr)

    class Passages:  # the real encoder's name and dimension; catalogue vectors from the stand-in above
        name, dim = enc.name, enc.dim

        def encode_passages(self, texts):
            import numpy as np

            return np.stack([vecs[t] for t in texts])

    t = time.perf_counter()
    vi = vector_index.build(big, Passages(), idx)
    print(f"index: {vi.meta.kind}, {vi.meta.size} names in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    t = time.perf_counter()
    prepared.load_or_build(big, vi, vi.path)
    print(f"prepared names in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    done.write_text("ok")
    return db, idx


def synthetic_names(size: int, small, enc) -> tuple[list, dict]:
    """`size` occurrences of new names put together from the bundled catalogue's object parts and
    measure heads, and a vector for each (the parts' vectors summed, with noise)."""
    import numpy as np

    from indicode.catalogue.entries import Occurrence
    from indicode.matcher.features import measure_heads
    from indicode.matcher.text import Canon, clean

    rng = random.Random(0)
    base = sorted({clean(n) for e in small.entries.values() for n in e.names if clean(n)})
    canon = Canon()
    heads = measure_heads([canon(n) for n in base])
    parts = []  # (object part, head, source name)
    for n in base:
        h = heads.get(canon(n), n[-2:])
        h = h if n.endswith(h) else n[-2:]
        parts.append((n[: len(n) - len(h)], h, n))
    vec_of = dict(zip(base, enc.encode_passages(base), strict=True))
    pvec = dict(zip(PREFIXES, enc.encode_passages([p or "。" for p in PREFIXES]), strict=True))
    classes = sorted({e.code[:3] for e in small.entries.values() if e.valid})
    seen: set[str] = set()
    occs, vecs = [], {}
    noise = np.random.default_rng(0)
    while len(occs) < size:
        pre = rng.choice(PREFIXES)
        a, b = rng.choice(parts), rng.choice(parts)
        c = rng.choice(parts) if rng.random() < 0.6 else None  # a second object part: 中心档案数字化
        name = pre + (c[0] if c else "") + a[0] + b[1]
        if len(name) < 3 or name in seen:
            continue
        seen.add(name)
        v = vec_of[a[2]] + vec_of[b[2]] + (0.5 * vec_of[c[2]] if c else 0) + (0.5 * pvec[pre] if pre else 0)
        v = v / np.linalg.norm(v)
        v = v + noise.normal(size=v.shape).astype(np.float32) * (NOISE / np.sqrt(v.shape[0]))
        vecs[clean(name)] = (v / np.linalg.norm(v)).astype(np.float32)
        occs.append(Occurrence(code=f"{rng.choice(classes)}{len(occs):06d}", name=name, source="synthetic",
                               line=len(occs)))
    return occs, vecs


def queries(n: int) -> list[tuple[str, str]]:
    """n distinct (text, class) queries: gold-set texts, bundled names, then variations of both."""
    from indicode.catalogue.lookup import Catalogue
    from indicode.matcher.text import clean

    rng = random.Random(1)
    base: list[tuple[str, str]] = []
    with (ROOT / "tests" / "data" / "gold_dev.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            base.append((r.get("text") or r.get("name") or "", r.get("level2") or r.get("class") or ""))
    base += [(n, e.level2) for e in Catalogue.load().entries.values() for n in e.names]
    out: dict[str, tuple[str, str]] = {}  # by the text the encoder sees: no query is a cache hit
    for t, c in base:
        if clean(t):
            out.setdefault(clean(t), (t, c))
    while len(out) < n:
        t, c = rng.choice(base)
        t = rng.choice(Q_PREFIXES) + t + rng.choice(Q_SUFFIXES)
        out.setdefault(clean(t), (t, c))
    return list(out.values())[:n]


# ------------------------------------------------------------------ the measured process

def child(args) -> None:
    """Runs in a fresh process: the first answer, then one timed query per `q` line on stdin (the
    parent alternates the two catalogues query by query, so both meet the same machine load), then
    on `done` memory and recall; answers are JSON lines."""
    from indicode.matcher.linker import Linker

    qs = json.loads(Path(args.queries_file).read_text(encoding="utf-8"))
    lk = Linker.default(args.catalogue or None)
    lk.suggest(*qs[0])
    print(json.dumps({"ready": time.time()}), flush=True)
    nxt = iter(qs[1:])
    for line in sys.stdin:
        if line.strip() != "q":
            break
        t, c = next(nxt)
        s = time.perf_counter()
        lk.suggest(t, c)
        print(json.dumps({"ms": (time.perf_counter() - s) * 1000}), flush=True)
    rss = peak_rss_mb()
    recall = candidate_recall(lk, qs)
    print(json.dumps({"rss_mb": round(rss), **recall, "names": len(lk.names), "index": lk.index.meta.kind,
                      "queries": len(qs)}), flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def candidate_recall(lk, qs) -> dict:
    """Share of queries whose exact top-10 by vector and by characters the fast path also scores."""
    import numpy as np
    from rapidfuzz import fuzz, process

    vecs = lk.encode_queries([t for t, _ in qs])
    n = len(lk.index.names)
    full = np.vstack([lk.index.index.reconstruct_n(i, min(50_000, n - i)) for i in range(0, n, 50_000)])
    both = vec_ok = char_ok = 0
    for (t, c), v in zip(qs, vecs, strict=True):
        q = lk.make_query(t, c)
        got = set(lk.generator(q, v))
        exact_vec = set(np.argsort(-(full @ v))[:10].tolist())
        exact_char = {i for _, _, i in process.extract(q.canon, lk.name_canon[:n], scorer=fuzz.ratio, limit=10)}
        vec_ok += exact_vec <= got
        char_ok += exact_char <= got
        both += (exact_vec | exact_char) <= got
    k = len(qs)
    return {"candidate_recall": round(both / k, 4), "vector_recall": round(vec_ok / k, 4),
            "char_recall": round(char_ok / k, 4)}


def start(catalogue: str, index_dir: str | None, qfile: Path, cache: Path) -> tuple[subprocess.Popen, float]:
    """A measured process for one catalogue, and its start time: process start to first answer."""
    env = {**os.environ, "INDICODE_CACHE_DIR": str(cache)}
    env.pop("INDICODE_CATALOGUE", None)
    env.pop("INDICODE_INDEX_DIR", None)
    if index_dir:
        env["INDICODE_INDEX_DIR"] = index_dir
    cmd = [sys.executable, __file__, "--child", "--queries-file", str(qfile), "--catalogue", catalogue]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    line = p.stdout.readline()
    if not line:
        raise SystemExit(f"benchmark child failed: {' '.join(cmd)}")
    return p, round(json.loads(line)["ready"] - t0, 2)


def ask(p: subprocess.Popen, what: str) -> dict:
    p.stdin.write(what + "\n")
    p.stdin.flush()
    line = p.stdout.readline()
    if not line:
        raise SystemExit("benchmark child failed")
    return json.loads(line)


def sweep(sizes: list[int], folder: Path, n_queries: int) -> list[dict]:
    from indicode.catalogue.lazy import LazyCatalogue
    from indicode.matcher import vector_index
    from indicode.matcher.encoders import load_encoder
    from indicode.matcher.linker import Linker

    qs = queries(n_queries)
    enc = load_encoder()
    vecs = enc.encode_queries([t for t, _ in qs])
    out = []
    for size in sizes:
        db, idx = build_synthetic(size, folder / f"size-{size}")
        os.environ["INDICODE_INDEX_DIR"] = str(idx)
        cat = LazyCatalogue.load(db)
        lk = Linker(cat, enc, index=vector_index.load(cat, enc, idx))
        times = []
        for (t, c), v in zip(qs, vecs, strict=True):
            s = time.perf_counter()
            lk.score(lk.make_query(t, c), v)
            times.append((time.perf_counter() - s) * 1000)
        out.append({"size": size, "names": len(lk.names), "full_scan": lk.generator.all_vecs is not None,
                    "score_p50_ms": round(statistics.median(times), 2), "score_p99_ms": round(p99(times), 2)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--sweep", type=int, nargs="+", default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--catalogue", default="", help=argparse.SUPPRESS)
    ap.add_argument("--queries-file", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    from indicode.matcher.cache import user_cache

    if args.sweep:
        rows = sweep(args.sweep, args.cache or user_cache() / "bench-large", args.queries)
        if args.json:
            print(json.dumps(rows))
        for r in rows if not args.json else ():
            print(f"{r['size']:>7} codes, {r['names']:>7} names ({'every name' if r['full_scan'] else 'candidates'}): "
                  f"score p50 {r['score_p50_ms']} ms, p99 {r['score_p99_ms']} ms")
        return
    folder = (args.cache or user_cache() / "bench-large") / f"size-{args.size}"
    db, idx = build_synthetic(args.size, folder)
    with tempfile.TemporaryDirectory() as tmp:
        qfile = Path(tmp) / "queries.json"
        qfile.write_text(json.dumps(queries(args.queries), ensure_ascii=False), encoding="utf-8")
        from indicode.catalogue.paths import BUNDLED_DB

        procs = {}
        for label, cat, index in (("big", str(db), str(idx)), ("bundled", str(BUNDLED_DB), None)):
            procs[label] = start(cat, index, qfile, Path(tmp) / f"cache-{label}")
        times: dict[str, list[float]] = {"big": [], "bundled": []}
        for _ in range(args.queries - 1):  # query by query, alternating: the same load for both
            for label, (p, _) in procs.items():
                times[label].append(ask(p, "q")["ms"])
        res = {}
        for label, (p, start_s) in procs.items():
            res[label] = {"start_s": start_s, "suggest_p50_ms": round(statistics.median(times[label]), 2),
                          "suggest_p99_ms": round(p99(times[label]), 2), **ask(p, "done")}
            p.stdin.close()
            p.wait()
        big, small = res["big"], res["bundled"]
    out = {"size": args.size, **big, "p99_ratio": round(big["suggest_p99_ms"] / small["suggest_p99_ms"], 2),
           "bundled": small}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for label, r in (("synthetic", big), ("bundled", small)):
            print(f"{label}: {r['names']} names ({r['index']}), start {r['start_s']}s, suggest p50 "
                  f"{r['suggest_p50_ms']} ms p99 {r['suggest_p99_ms']} ms, rss {r['rss_mb']} MB, "
                  f"candidate recall {r['candidate_recall']}")
        print(f"p99 synthetic / bundled: {out['p99_ratio']}")


if __name__ == "__main__":
    main()
