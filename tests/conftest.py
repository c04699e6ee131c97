import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "catalogue" / "data" / "seeds"
SHARED_GOLD = ROOT.parent / "shared" / "gold" / "dev.csv"

SEED = {
    "000": SEEDS / "000_60102fb8b0c8a01a.txt",
    "001": SEEDS / "001_7f8e9fb66fad1520.txt",
    "002": SEEDS / "002_f41481170ab5ee96.txt",
    "003": SEEDS / "003_d1b95c24a67cc619.txt",
    "004": SEEDS / "004_0ad10841f304fbca.txt",
}


@pytest.fixture(scope="session")
def bundled_catalogue():
    from catalogue.store import Catalogue

    return Catalogue.load()


@pytest.fixture
def tmp_catalogue(tmp_path):
    """A private copy of the bundled catalogue, for tests that write to it."""
    import shutil

    from catalogue.store import BUNDLED_DB

    path = tmp_path / "catalogue.sqlite"
    shutil.copy(BUNDLED_DB, path)
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    # tests never touch the user's cache or catalogue settings
    monkeypatch.delenv("INDICODE_CATALOGUE", raising=False)
    monkeypatch.delenv("INDICODE_MODEL", raising=False)
    monkeypatch.setenv("INDICODE_CACHE_DIR", str(tmp_path / "cache"))
