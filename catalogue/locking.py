"""The catalogue's write lock: one writer at a time, across processes, on any system.

The lock is `filelock`'s (the POSIX file lock on Unix, the Windows locking call on Windows, where
clerks work and the POSIX calls do not exist), behind this one small module so that the writers never
see which.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from ..i18n import _
from .files import BusyError, write_failed

LOCK_TIMEOUT = 30.0  # seconds a writer waits for another one ($INDICODE_LOCK_TIMEOUT)
POLL = 0.05  # seconds between two tries for a lock another process holds


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
    """Hold the write lock of `path` (`PATH.lock` beside it) for the block.

    `catalogue build` takes it from before it reads the file it replaces until its new file has replaced
    the old. Waits at most `timeout` seconds ($INDICODE_LOCK_TIMEOUT, default 30), then BusyError. The
    lock file holds no data; filelock decides whether it stays (it does where removing it would race
    with a waiting writer). The lock is held by this process's open file: a killed writer lets go."""
    path = Path(path)
    if timeout is None:
        timeout = lock_timeout()
    lock = filelock.FileLock(path.with_name(path.name + ".lock"), thread_local=False, is_singleton=False)
    try:
        lock.acquire(timeout=timeout, poll_interval=POLL)
    except filelock.Timeout:
        raise BusyError(_("{path}: catalogue busy: another indicode process is writing it (waited {seconds:g} s); "
                          "nothing was written, run again when it has finished").format(
            path=path, seconds=timeout)) from None
    except OSError as exc:
        raise write_failed(path, exc) from None
    try:
        yield
    finally:
        lock.release()
