"""Start a real PostgreSQL server in a temporary folder on a free port, and stop it again (for the
workspace tests that run against PostgreSQL, and the benchmark).

PostgreSQL refuses to run as root: when the tests run as root (CI does), the cluster belongs to an
existing unprivileged system user (`postgres`, else `nobody`), and its folder is handed to that user.
The server binaries are looked for on PATH and in Debian's /usr/lib/postgresql/*/bin
(scripts/setup.sh installs Debian's `postgresql` package when neither has them).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

SERVER_USERS = ("postgres", "nobody")


def pg_bin() -> Path | None:
    """The folder of `initdb`, `pg_ctl` and `postgres`, or None when they are not on this machine."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all(os.access(Path(folder) / b, os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: we ourselves unless root; then the first existing SERVER_USERS."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


@contextmanager
def postgres_server(timeout: float = 60.0):
    """Yields a connection URL (`postgresql://…`) to a fresh database on a new cluster."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="indicode-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    kw: dict = {}
    if user is not None:
        os.chmod(root, 0o755)
        for p in (root, sockets):
            os.chown(p, user.pw_uid, user.pw_gid)
        kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [],
              "env": {**os.environ, "HOME": str(root)}, "cwd": str(root)}
    port = _free_port()
    run = lambda *cmd: subprocess.run([str(binaries / cmd[0]), *cmd[1:]], check=True,  # noqa: E731
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, **kw)
    try:
        run("initdb", "-D", str(data), "-U", "indicode", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        opts = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100"
        run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", str(int(timeout)), "start")
        try:
            yield f"postgresql://indicode@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def new_database(url: str, name: str) -> str:
    """A new empty database on the server of `url`; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
