#!/usr/bin/env bash
# Copies what a build of indicode reads (pyproject.toml, README.md and the package folders) into DEST,
# freshly: a build in the work tree would reuse its stale build/lib and egg-info, and so install modules
# that were since moved or deleted. Used by typecheck.sh, docs.sh and wheelhouse.sh.
#   bash scripts/source_copy.sh DEST
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:?usage: source_copy.sh DEST}"
rm -rf "$DEST"
mkdir -p "$DEST"
cp -r "$ROOT"/{pyproject.toml,README.md,indicode,catalogue,matcher,indexes} "$DEST/"
find "$DEST" -name __pycache__ -prune -exec rm -rf {} +
