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


def teach(catalogue, links, location=None):
    """Record (text, class, code[, reviewer]) decisions in a workspace (default: the test's default
    workspace) against catalogue file `catalogue`; returns the decisions in force as the linker takes
    them (`Linker(..., learned=...)`)."""
    from indicode.catalogue.lookup import Catalogue
    from indicode.workspace import NewDecision, Workspace

    cat = Catalogue.load(catalogue)
    ws = Workspace.open(location)
    ws.record([NewDecision(t, l2, code, *(rest or ("test",))) for t, l2, code, *rest in links], cat, override=True)
    return ws.learned_links(cat.entries)


def in_force(location=None):
    """(text, class, code, reviewer, via) of every decision in force in a workspace (default: the test's)."""
    from indicode.workspace import Workspace

    return [(e.text, e.subject.level2, e.code, e.reviewer, e.origin.via) for e in Workspace.open(location).in_force()]
