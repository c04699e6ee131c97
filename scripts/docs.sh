#!/usr/bin/env bash
# Builds the documentation site (MkDocs, Material theme) into site/, strictly: a broken link, a missing
# page or an API entry that does not resolve fails the build. The Python API reference (mkdocstrings)
# is read from indicode as installed, not from the repository: its folders are not the package's names
# (pyproject maps catalogue/, matcher/, indexes/ under indicode), so a non-editable copy goes into
# build/docs/site first, and mkdocs.yml points mkdocstrings there. Extra arguments go to `mkdocs build`.
#   pip install -r docs/requirements.txt   (scripts/setup.sh does)
#   bash scripts/docs.sh                   then open site/index.html
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build/docs"
rm -rf "$OUT/site"
bash "$ROOT/scripts/source_copy.sh" "$OUT/src"
python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --target "$OUT/site" "$OUT/src"
cd "$ROOT"
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict "$@"
