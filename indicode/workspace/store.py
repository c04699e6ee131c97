"""The one small storage interface behind the workspace, and how a location picks its backend.

A backend runs SQL (written with `?` placeholders) in transactions; everything else — the rules, the
records, the migration — is the same code over either. SQLite (`sqlite.py`) is the embedded default,
one file; PostgreSQL (`postgres.py`, psycopg 3: `pip install indicode[postgresql]`) serves a deployment
where several servers on several machines share one workspace.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from ..catalogue.paths import user_data_dir

ENV_VAR = "INDICODE_WORKSPACE"
FILE_NAME = "workspace.sqlite"
URL_SCHEMES = ("postgresql://", "postgres://")


class Tx(Protocol):
    """One transaction: run a statement and get its rows; `insert` returns the new row's id."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class Backend(Protocol):
    """Where a workspace lives. `transaction(write=True)` holds the workspace's write lock (one writer
    at a time, across processes and machines) for its block, waiting at most `timeout` seconds (None:
    the command line's wait) before BusyError; the block commits whole or not at all."""

    location: str  # the file path or the URL (without a password)
    kind: str  # sqlite | postgresql

    def transaction(self, write: bool = False, timeout: float | None = None) -> AbstractContextManager[Tx]: ...

    def close(self) -> None: ...


def default_location() -> str:
    """$INDICODE_WORKSPACE, else workspace.sqlite in the user's data folder."""
    return os.environ.get(ENV_VAR) or str(user_data_dir() / FILE_NAME)


def is_url(location: str) -> bool:
    return str(location).lower().startswith(URL_SCHEMES)


def open_backend(location: str | Path | None = None) -> Backend:
    """The backend for a file path or a `postgresql://` URL (default: `default_location()`)."""
    loc = str(location) if location else default_location()
    if is_url(loc):
        from .postgres import PostgresBackend

        return PostgresBackend(loc)
    from .sqlite import SQLiteBackend

    return SQLiteBackend(Path(loc))
