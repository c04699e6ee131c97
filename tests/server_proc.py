"""Start `indicode serve` as a real process on a free port and stop it again (for tests and benchmarks)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager


@contextmanager
def running_server(*args: str, env: dict | None = None, timeout: float = 60.0):
    """Yields the base URL of a server started with `indicode serve --port 0 ARGS…`."""
    cmd = [sys.executable, "-m", "indicode.cli", "serve", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + timeout
        url = None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            m = re.search(r"serving (http://\S+?)/? ", line + " ")
            if m:
                url = m.group(1).rstrip("/")
                break
        if url is None:
            raise RuntimeError("server did not start in time")
        yield url.replace("://0.0.0.0:", "://127.0.0.1:")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
