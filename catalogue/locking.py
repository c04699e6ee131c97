"""The catalogue's write lock: one writer at a time, across processes.

Kept behind this one small module so that the lock itself (fcntl today) can be replaced without
touching the writers.
"""
from __future__ import annotations

import fcntl
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import BusyError, write_failed

LOCK_TIMEOUT = 30.0  # seconds a writer waits for another one ($INDICODE_LOCK_TIMEOUT)


def lock_timeout() -> float:
    """Seconds a command-line writer waits for another: $INDICODE_LOCK_TIMEOUT when it is a finite
    number of seconds (nan or inf would wait for ever), else LOCK_TIMEOUT."""
    try:
        t = float(os.environ.get("INDICODE_LOCK_TIMEOUT", LOCK_TIMEOUT))
    except ValueError:
        return LOCK_TIMEOUT
    return t if math.isfinite(t) and t >= 0 else LOCK_TIMEOUT


@contextmanager
def write_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the catalogue's write lock (`CATALOGUE.lock` beside it, fcntl.flock) for the block.

    Every writer takes it: `catalogue build` from before it reads the learned links until its new
    file has replaced the old, learn / feedback / `learned remove` around their transaction. So a
    decision recorded while a build runs lands in the new file, never in the one being replaced.
    Waits at most `timeout` seconds ($INDICODE_LOCK_TIMEOUT, default 30), then BusyError.
    The lock file stays (removing it would race with a waiting writer); it holds no data."""
    path = Path(path)
    if timeout is None:
        timeout = lock_timeout()
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise write_failed(path, exc) from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(f"{path}: catalogue busy: another indicode process is writing it "
                                    f"(waited {timeout:g} s); nothing was written, run again when it has "
                                    f"finished") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
