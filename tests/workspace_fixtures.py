"""Fixtures for the workspace tests: one workspace location per backend, so that the same tests run on
the SQLite file and on a real PostgreSQL server (started once per test module, stopped after; skipped
only where the server binaries are absent, with the reason shown)."""
from __future__ import annotations

import itertools

import pytest

from pg_server import new_database, pg_bin, postgres_server

BACKENDS = ["sqlite", "postgresql"]
_names = itertools.count()


@pytest.fixture(scope="module")
def pg_url():
    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: scripts/setup.sh installs them")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path):
    """A new, empty workspace location: a file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "workspace.sqlite")
    url = request.getfixturevalue("pg_url")
    return new_database(url, f"ws{next(_names)}")
