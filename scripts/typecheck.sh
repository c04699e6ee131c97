#!/usr/bin/env bash
# Type-checks the package as it is installed. The repository's folders are not the package's import names
# (pyproject maps catalogue/, matcher/, indexes/ under indicode), and an editable install resolves them by
# an import hook that static tools cannot see; so a non-editable copy goes into build/typecheck/site and
# mypy checks `indicode` there, with the settings of pyproject.toml. Extra arguments go to mypy.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build/typecheck"  # build/ is ignored by git; a fixed place lets mypy reuse its cache
rm -rf "$OUT/site"
bash "$ROOT/scripts/source_copy.sh" "$OUT/src"  # built from a fresh copy of what the build reads
python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --target "$OUT/site" "$OUT/src"
cd "$OUT/site"  # so that nothing of the repository is on mypy's path, only the installed copy
python -m mypy --config-file "$ROOT/pyproject.toml" --cache-dir "$OUT/mypy-cache" -p indicode "$@"
