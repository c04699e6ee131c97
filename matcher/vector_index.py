"""FAISS index over every catalogue name and alias, stored under `indexes/` with what built it.

The metadata beside each index records the encoder name and dimension and the catalogue fingerprint;
an index whose metadata does not match the encoder and catalogue in use is never used: `load_or_build`
rebuilds it (saying so on stderr), `load` refuses it with a clear message.

Exact inner-product search (`IndexFlatIP`) while the catalogue is small; an HNSW graph above
`APPROX_THRESHOLD` names, where exact search costs several times more than the graph at the same
recall (measured by `scripts/bench_index.py`, see README). Beside each index, `names.py` stores the
names prepared for matching.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from ..catalogue.files import atomic_path
from ..catalogue.lookup import Catalogue
from ..catalogue.records import InputError
from ..i18n import _
from . import threads  # noqa: F401  (sets the OpenMP variables before FAISS loads its runtime)
from .cache import user_cache
from .encoders import encoder_slug
from .text import clean

# HNSW graph quality and search breadth. The linker needs a query's exact 10 nearest among the 64
# it asks for; on clustered vectors of 2x10^5 names (scripts/bench_index.py) that held for 96% of
# queries with the default efConstruction 40 at efSearch 512 (97% at 768), for 100% with
# efConstruction 100 at efSearch 512, for about 1.8x the build time.
EF_CONSTRUCTION = 100
EF_SEARCH = 512
APPROX_THRESHOLD = 50_000  # exact up to here, HNSW above (scripts/bench_index.py; figures in the README)
INDEX_DIR = Path(__file__).resolve().parents[1] / "indexes"


def index_dir() -> Path:
    """$INDICODE_INDEX_DIR, else the repository's `indexes/` when writable, else a user cache folder."""
    if os.environ.get("INDICODE_INDEX_DIR"):
        return Path(os.environ["INDICODE_INDEX_DIR"])
    if INDEX_DIR.is_dir() and os.access(INDEX_DIR, os.W_OK):
        return INDEX_DIR
    return user_cache() / "indexes"


TEXT_PREP = "clean-v1"  # names are encoded as `text.clean` leaves them (width, units, punctuation folded)


@dataclass
class IndexMeta:
    encoder: str
    dim: int
    prep: str  # how names were prepared before encoding
    fingerprint: str  # of the catalogue the names came from
    kind: str  # flat | hnsw
    size: int


def catalogue_names(cat: Catalogue) -> tuple[list[str], list[str]]:
    """(names, codes): every spelling of every code that may be suggested (not those a library
    disabled), canonical first, in a stable order."""
    names, codes = [], []
    for e in cat.suggestable_entries():
        for n in e.names:
            names.append(n)
            codes.append(e.code)
    return names, codes


class VectorIndex:
    """Nearest catalogue names to a query vector."""

    def __init__(self, index: faiss.Index, meta: IndexMeta, names: list[str], codes: list[str],
                 path: Path | None = None):
        self.index, self.meta, self.names, self.codes = index, meta, names, codes
        self.path = path  # the .faiss file, where what is stored beside it goes (None: not stored)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, row ids) of the k nearest names for each query row."""
        k = min(k, len(self.names))
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def vectors(self) -> np.ndarray:
        """All name vectors (flat index only; the ranker scores every candidate with them)."""
        return self.index.reconstruct_n(0, self.index.ntotal)


def paths_for(encoder_name: str, cat: Catalogue, folder: Path | None = None) -> tuple[Path, Path]:
    folder = folder or index_dir()
    base = f"{encoder_slug(encoder_name)}-{cat.fingerprint}"
    return folder / f"{base}.faiss", folder / f"{base}.json"


def build(cat: Catalogue, encoder, folder: Path | None = None, kind: str | None = None) -> VectorIndex:
    names, codes = catalogue_names(cat)
    vecs = encoder.encode_passages([clean(n) for n in names])
    kind = kind or ("hnsw" if len(names) > APPROX_THRESHOLD else "flat")
    index: faiss.Index
    if kind == "hnsw":
        index = hnsw = faiss.IndexHNSWFlat(encoder.dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = EF_CONSTRUCTION
        hnsw.hnsw.efSearch = EF_SEARCH
    else:
        index = faiss.IndexFlatIP(encoder.dim)
    index.add(vecs)
    meta = IndexMeta(encoder=encoder.name, dim=encoder.dim, prep=TEXT_PREP, fingerprint=cat.fingerprint, kind=kind,
                     size=len(names))
    vi = VectorIndex(index, meta, names, codes)
    try:
        save(vi, cat, folder)
        vi.path = paths_for(vi.meta.encoder, cat, folder)[0]
    except OSError as exc:
        print(f"indicode: cannot store the index in {folder or index_dir()} ({exc.strerror}); "
              "it is built again at each start", file=sys.stderr)
    return vi


def save(vi: VectorIndex, cat: Catalogue, folder: Path | None = None) -> None:
    fpath, mpath = paths_for(vi.meta.encoder, cat, folder)
    fpath.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(fpath) as tmp:
        faiss.write_index(vi.index, str(tmp))
    with atomic_path(mpath) as tmp:
        tmp.write_text(json.dumps({**asdict(vi.meta), "names": vi.names, "codes": vi.codes}, ensure_ascii=False))


def load(cat: Catalogue, encoder, folder: Path | None = None) -> VectorIndex:
    """The stored index for this catalogue and encoder; InputError if missing, stale or mismatched."""
    fpath, mpath = paths_for(encoder.name, cat, folder)
    if not fpath.exists() or not mpath.exists():
        raise InputError(_("{fpath}: no index for encoder {name} and catalogue {fingerprint}").format(
                             fpath=fpath, name=encoder.name, fingerprint=cat.fingerprint))
    try:
        raw = json.loads(mpath.read_text(encoding="utf-8"))
        names, codes = raw.pop("names"), raw.pop("codes")
        meta = IndexMeta(**{"prep": "", **raw})
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(_("{mpath}: unreadable index metadata ({exc})").format(mpath=mpath, exc=exc)) from None
    problems = []
    if meta.encoder != encoder.name:
        problems.append(f"built by encoder {meta.encoder}, not {encoder.name}")
    if meta.dim != encoder.dim:
        problems.append(f"dimension {meta.dim}, encoder gives {encoder.dim}")
    if meta.prep != TEXT_PREP:
        problems.append(f"names prepared as {meta.prep}, not {TEXT_PREP}")
    if meta.fingerprint != cat.fingerprint:
        problems.append(f"built from catalogue {meta.fingerprint}, not {cat.fingerprint}")
    index = faiss.read_index(str(fpath))
    if index.ntotal != meta.size or len(names) != meta.size or index.d != meta.dim:
        problems.append("index file and metadata disagree")
    if problems:
        raise InputError(_("{fpath}: stale index ({problems})").format(fpath=fpath, problems='; '.join(problems)))
    if isinstance(index, faiss.IndexHNSW):  # what read_index gives for meta.kind "hnsw"
        index.hnsw.efSearch = EF_SEARCH  # the current setting, whatever the file was built with
    return VectorIndex(index, meta, names, codes, fpath)


def load_or_build(cat: Catalogue, encoder, folder: Path | None = None) -> VectorIndex:
    """The stored index, or a new one: built silently when there is none, with a note when stale."""
    if all(p.exists() for p in paths_for(encoder.name, cat, folder)):
        try:
            return load(cat, encoder, folder)
        except InputError as exc:
            print(f"indicode: {exc}; rebuilding", file=sys.stderr)
    return build(cat, encoder, folder)
