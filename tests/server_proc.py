"""Start `indicode serve` as a real process on a free port and stop it again (for tests and benchmarks)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

# the ready line in any language (`indicode serving http://…  (N codes)`, `indicode 服务已启动：http://…（N 个编码）`):
# the first address on the line that starts with the program's name
READY = re.compile(r"^indicode\b.*?(https?://[^\s（()]+)")


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
            m = READY.search(line)
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


def call(url, path, params=None, body=None, headers=None, raw=None, method=None):
    """(status, decoded JSON) of one request; the body is JSON unless `raw` bytes are given."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    full = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(full, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                 method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode())


def raw_exchange(url: str, data: bytes, timeout: float = 30.0) -> tuple[int, dict, dict]:
    """Send bytes as they are on a new connection; (status, headers, JSON body) of the answer, or
    status 0 when the server closed the connection without one."""
    import json
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                hdrs = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
                hdrs = {k.lower(): v for k, v in hdrs.items()}
                if len(body) >= int(hdrs.get("content-length", 10**9)):
                    break
    if not out:
        return 0, {}, {}
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), hdrs, json.loads(body.decode() or "null")


def copy_bundled(folder) -> Path:
    """A private copy of the bundled catalogue in `folder` (a server may write to it)."""
    import shutil
    from pathlib import Path

    from indicode.catalogue.paths import BUNDLED_DB

    path = Path(folder) / "catalogue.sqlite"
    shutil.copy(BUNDLED_DB, path)
    return path


@contextmanager
def server_on_copy(folder, *args: str):
    """(base URL, catalogue path) of a server on a private copy of the bundled catalogue in
    `folder`, with its own vector cache and its own default workspace (`folder/data`) there."""
    cat = copy_bundled(folder)
    env = {"INDICODE_CACHE_DIR": str(Path(folder) / "cache"), "INDICODE_DATA_DIR": str(Path(folder) / "data")}
    with running_server("-c", str(cat), *args, env=env) as url:
        yield url, cat


@contextmanager
def server_in_thread(linker, **kw):
    """(uvicorn server, port) of `make_server(linker, "127.0.0.1", 0, **kw)` running in a thread of
    this process (for tests that look at its connections), stopped on leaving."""
    import threading

    from indicode.server import make_server

    server, sock, _url = make_server(linker, "127.0.0.1", 0, **kw)
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        yield server, sock.getsockname()[1]
    finally:
        server.should_exit = True
        t.join(10)
    assert not t.is_alive(), "the server did not stop"
