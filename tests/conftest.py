import os
from pathlib import Path

import pytest

# Tests read English unless they ask for Chinese (use_language(CHINESE), or INDICODE_LANG / LANG in the
# environment of the command they run): set before anything imports indicode, and inherited by the
# commands the tests start.
os.environ["INDICODE_LANG"] = "en"

from workspace_fixtures import location, pg_url  # noqa: F401 - the workspace fixtures, for every test module

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "catalogue" / "data" / "seeds"
GOLD_DEV = ROOT / "tests" / "data" / "gold_dev.csv"  # a copy of shared/gold/dev.csv

SEED = {
    "000": SEEDS / "000_60102fb8b0c8a01a.txt",
    "001": SEEDS / "001_7f8e9fb66fad1520.txt",
    "002": SEEDS / "002_f41481170ab5ee96.txt",
    "003": SEEDS / "003_d1b95c24a67cc619.txt",
    "004": SEEDS / "004_0ad10841f304fbca.txt",
}


@pytest.fixture(scope="session")
def bundled_catalogue():
    from indicode.catalogue.lookup import Catalogue

    return Catalogue.load()


@pytest.fixture
def tmp_catalogue(tmp_path):
    """A private copy of the bundled catalogue, for tests that write to it."""
    import shutil

    from indicode.catalogue.paths import BUNDLED_DB

    path = tmp_path / "catalogue.sqlite"
    shutil.copy(BUNDLED_DB, path)
    return path


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("indexes")


@pytest.fixture(scope="session")
def vector_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("vectors")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path, index_dir):
    # tests never touch the user's cache, settings or the shipped indexes
    monkeypatch.delenv("INDICODE_CATALOGUE", raising=False)
    monkeypatch.delenv("INDICODE_MODEL", raising=False)
    monkeypatch.delenv("INDICODE_WORKSPACE", raising=False)
    monkeypatch.setenv("INDICODE_DATA_DIR", str(tmp_path / "data"))  # the default workspace, per test
    monkeypatch.setenv("INDICODE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INDICODE_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("INDICODE_CONFIG", str(tmp_path / "no-config.toml"))


@pytest.fixture
def shared_vector_cache(monkeypatch, _isolated_env, vector_cache_dir):
    """The session's query-vector cache (the `linker` fixture's) instead of an empty one per test, for
    modules whose commands each build their own Linker and code the same documents again. The cache
    only remembers what the encoder gave for a text, so no answer changes; each text is encoded once
    in the session. Tests of the cache itself keep folders of their own."""
    monkeypatch.setenv("INDICODE_CACHE_DIR", str(vector_cache_dir))


@pytest.fixture(scope="session")
def linker(index_dir, vector_cache_dir):
    """The default linker (bundled catalogue, embedded encoder, shipped model). Session fixtures are
    made before the per-test environment, so its index and vector cache folders are set here."""
    from indicode.matcher.linker import Linker

    saved = {k: os.environ.get(k) for k in ("INDICODE_INDEX_DIR", "INDICODE_CACHE_DIR")}
    os.environ["INDICODE_INDEX_DIR"] = str(index_dir)
    os.environ["INDICODE_CACHE_DIR"] = str(vector_cache_dir)
    try:
        lk = Linker.default()
        lk.encode_queries([])  # opens the cache in the session folder
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return lk
