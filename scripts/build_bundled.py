"""Rebuild what the repository ships: the catalogue from the bundled seeds, and its vector index
for the embedded encoder under indexes/. Run after changing a reader, the catalogue builder or the
text preparation; then `indicode calibrate` refits the shipped model.

    python scripts/build_bundled.py
"""
from __future__ import annotations

from indicode.catalogue.build import build
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.paths import BUNDLED_DB, BUNDLED_SEEDS
from indicode.matcher import vector_index
from indicode.matcher.encoders import load_encoder


def main() -> None:
    n, problems = build(sorted(BUNDLED_SEEDS.glob("*.txt")), BUNDLED_DB)
    cat = Catalogue.load(BUNDLED_DB)
    print(f"{BUNDLED_DB}: {len(cat)} codes from {n} coded rows; reader problems: {problems}")
    for old in vector_index.INDEX_DIR.glob("*"):
        if old.suffix in (".faiss", ".json", ".npz"):  # the index, its metadata, prepared names
            old.unlink()
    vi = vector_index.build(cat, load_encoder(), vector_index.INDEX_DIR)
    print(f"{vector_index.INDEX_DIR}: {vi.meta}")


if __name__ == "__main__":
    main()
