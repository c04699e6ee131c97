"""Exact (IndexFlatIP) against approximate (HNSW) search as the catalogue grows.

    python scripts/bench_index.py [--sizes 10000 50000 100000 200000 400000] [--queries 200]

Prints, per size, the median single-query latency of each index for the linker's search (the
K_EACH = 64 nearest, one thread, HNSW built and searched as `vector_index` does), their ratio, and
HNSW's recall: the share of queries whose exact 10 nearest are all among the 64 it returns (what
the linker needs: those names among its candidates). Vectors have the embedded encoder's dimension
(384) and are clustered like indicator names (many spellings around shared meanings): unit vectors
drawn around 1 centroid per 20 names; queries are fresh draws around the same centroids. Uniform
random vectors would be the worst case for a graph index and say little about real catalogues.
`vector_index.APPROX_THRESHOLD` is the size where exact search costs several times the graph; the
last line says where exact search passes `--budget-ms`.
"""
from __future__ import annotations

import argparse
import statistics
import time

import faiss
import numpy as np

from indicode.matcher.generate import K_EACH
from indicode.matcher.vector_index import EF_CONSTRUCTION, EF_SEARCH


def unit(x):
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(rng, centroids, n, spread=0.6):
    pick = rng.integers(0, len(centroids), n)
    return unit(centroids[pick] + spread * rng.normal(size=(n, centroids.shape[1])) / np.sqrt(centroids.shape[1]))


def median_ms(index, queries) -> float:
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q[None, :], K_EACH)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000, 200_000, 400_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--budget-ms", type=float, default=10.0)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'names':>8} {'flat ms':>8} {'hnsw ms':>8} {'flat/hnsw':>9} {'top10 in hnsw 64':>17}")
    threshold = None
    for n in args.sizes:
        centroids = unit(rng.normal(size=(max(1, n // 20), args.dim)))
        xb, xq = clustered(rng, centroids, n), clustered(rng, centroids, args.queries)
        flat = faiss.IndexFlatIP(args.dim)
        flat.add(xb)
        hnsw = faiss.IndexHNSWFlat(args.dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = EF_CONSTRUCTION
        hnsw.hnsw.efSearch = EF_SEARCH
        hnsw.add(xb)
        f_ms, h_ms = median_ms(flat, xq), median_ms(hnsw, xq)
        _, exact = flat.search(xq, 10)
        _, approx = hnsw.search(xq, K_EACH)
        recall = np.mean([set(e) <= set(a) for a, e in zip(approx, exact, strict=True)])
        print(f"{n:8d} {f_ms:8.2f} {h_ms:8.2f} {f_ms / h_ms:9.1f} {recall:17.3f}", flush=True)
        if threshold is None and f_ms > args.budget_ms:
            threshold = n
    print(f"exact search passes {args.budget_ms} ms per query at about {threshold or 'more than the largest'} names")


if __name__ == "__main__":
    main()
