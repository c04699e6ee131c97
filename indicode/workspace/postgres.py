"""A workspace in PostgreSQL (`--workspace postgresql://user@host/db`), for several `indicode serve`
processes on several machines sharing one workspace. psycopg 3 is an optional extra:
`pip install 'indicode[postgresql]'`.

Writers serialise on one transaction-scoped advisory lock (the same one step of read-then-append the
SQLite file gets from its write lock), waiting at most their timeout (`lock_timeout`), then BusyError.
A process shares one connection between its threads behind a lock and reconnects when it was lost.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..catalogue.files import BusyError, WriteError
from ..catalogue.locking import lock_timeout
from ..catalogue.records import InputError
from ..i18n import _

WRITE_LOCK = 20_020  # the advisory lock key every workspace writer takes
CONNECT_TIMEOUT = 10  # seconds


def redacted(url: str) -> str:
    """The URL without its password, to show."""
    return re.sub(r"^(\w+://[^:/@]+):[^@]*@", r"\1:***@", url)


class _Tx:
    def __init__(self, con):
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cur = self.con.execute(sql.replace("?", "%s"), tuple(params))
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.con.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.con.execute(sql.replace("?", "%s") + " RETURNING id", tuple(params)).fetchone()[0])


class PostgresBackend:
    kind = "postgresql"

    def __init__(self, url: str):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise InputError(_("{url}: a PostgreSQL workspace needs psycopg: pip install 'indicode[postgresql]'")
                             .format(url=redacted(url))) from None
        self.url = url
        self.location = redacted(url)
        self._con: Any = None  # a psycopg connection (psycopg is optional: not imported at module level)
        self._lock = threading.RLock()

    def _connection(self) -> Any:
        import psycopg

        if self._con is None or self._con.closed or self._con.broken:
            try:
                self._con = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            except psycopg.Error as exc:
                raise InputError(_("{url}: cannot reach the workspace ({why})").format(
                    url=self.location, why=" ".join(str(exc).split())[:300])) from None
        return self._con

    @contextmanager
    def transaction(self, write: bool = False, timeout: float | None = None) -> Iterator[_Tx]:
        import psycopg

        with self._lock:
            con = self._connection()
            wait = lock_timeout() if timeout is None else timeout
            try:
                with con.transaction():
                    if write:
                        con.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(wait * 1000))}ms",))
                        con.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    yield _Tx(con)
            except psycopg.errors.LockNotAvailable:
                raise BusyError(_("{url}: workspace busy: another indicode process is writing it; nothing was "
                                  "written, run again when it has finished").format(url=self.location)) from None
            except psycopg.OperationalError as exc:
                raise WriteError(_("{url}: the workspace cannot be written ({why}); nothing was written").format(
                    url=self.location, why=" ".join(str(exc).split())[:300])) from None

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
