"""The FAISS index: built with its metadata, stale or mismatched indexes never used silently."""
import json

import numpy as np
import pytest

from indicode.catalogue.records import InputError
from indicode.matcher import vector_index


class FakeEncoder:
    """A deterministic stand-in with the encoder interface (hash-seeded vectors)."""

    def __init__(self, name="fake-1", dim=8):
        self.name, self.dim = name, dim

    def _enc(self, texts):
        out = np.array([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts], np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    encode_queries = encode_passages = _enc


def test_build_save_load(bundled_catalogue, tmp_path):
    enc = FakeEncoder()
    vi = vector_index.build(bundled_catalogue, enc, tmp_path)
    assert vi.meta.kind == "flat" and vi.meta.size == sum(len(e.names) for e in bundled_catalogue.entries.values())
    again = vector_index.load(bundled_catalogue, enc, tmp_path)
    q = enc.encode_queries(["验收合格率"])
    assert again.search(q, 3)[1].tolist() == vi.search(q, 3)[1].tolist()
    assert again.names[again.search(q, 1)[1][0][0]] == "验收合格率"


def test_mismatched_encoder_or_tampered_metadata_refused(bundled_catalogue, tmp_path):
    enc = FakeEncoder()
    vector_index.build(bundled_catalogue, enc, tmp_path)
    fpath, mpath = vector_index.paths_for(enc.name, bundled_catalogue, tmp_path)
    meta = json.loads(mpath.read_text())
    meta["dim"] = 16
    mpath.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="stale index .*dimension 16"):
        vector_index.load(bundled_catalogue, enc, tmp_path)
    meta["dim"], meta["fingerprint"] = 8, "0000"
    mpath.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="built from catalogue 0000"):
        vector_index.load(bundled_catalogue, enc, tmp_path)


def test_stale_index_is_rebuilt(bundled_catalogue, tmp_path, capsys):
    enc = FakeEncoder()
    vector_index.build(bundled_catalogue, enc, tmp_path)
    _, mpath = vector_index.paths_for(enc.name, bundled_catalogue, tmp_path)
    meta = json.loads(mpath.read_text())
    meta["prep"] = "raw"
    mpath.write_text(json.dumps(meta))
    vi = vector_index.load_or_build(bundled_catalogue, enc, tmp_path)
    assert vi.meta.prep == vector_index.TEXT_PREP
    assert "stale index" in capsys.readouterr().err
    assert json.loads(mpath.read_text())["prep"] == vector_index.TEXT_PREP


def test_missing_index_is_built_without_a_note(bundled_catalogue, tmp_path, capsys):
    enc = FakeEncoder()
    vi = vector_index.load_or_build(bundled_catalogue, enc, tmp_path / "fresh")
    assert vi.meta.size == len(vector_index.catalogue_names(bundled_catalogue)[0])
    assert all(p.exists() for p in vector_index.paths_for(enc.name, bundled_catalogue, tmp_path / "fresh"))
    assert capsys.readouterr().err == ""


def test_approximate_index_kind(bundled_catalogue, tmp_path):
    enc = FakeEncoder()
    vi = vector_index.build(bundled_catalogue, enc, tmp_path, kind="hnsw")
    assert vi.meta.kind == "hnsw"
    q = enc.encode_queries(["任务完成率"])
    assert vi.names[vi.search(q, 1)[1][0][0]] == "任务完成率"


def test_shipped_index_is_current(bundled_catalogue):
    """The index under indexes/ matches the bundled catalogue and encoder (rebuild it when not:
    `python scripts/build_bundled.py`)."""
    from indicode.matcher.encoders import load_encoder

    vi = vector_index.load(bundled_catalogue, load_encoder(), vector_index.INDEX_DIR)
    assert vi.meta.fingerprint == bundled_catalogue.fingerprint


def test_loaded_hnsw_index_searches_with_the_current_breadth(bundled_catalogue, tmp_path):
    enc = FakeEncoder()
    built = vector_index.build(bundled_catalogue, enc, tmp_path, kind="hnsw")
    built.index.hnsw.efSearch = 16
    vector_index.save(built, bundled_catalogue, tmp_path)  # as if built with an older setting
    vi = vector_index.load(bundled_catalogue, enc, tmp_path)
    assert vi.index.hnsw.efSearch == vector_index.EF_SEARCH
    assert vi.path == vector_index.paths_for(enc.name, bundled_catalogue, tmp_path)[0]
