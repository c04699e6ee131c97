#!/usr/bin/env bash
# Type-checks the package as it is installed. The repository's folders are not the package's import names
# (pyproject maps catalogue/, matcher/, indexes/ under indicode), and an editable install resolves them by
# an import hook that static tools cannot see; so a non-editable copy goes into build/typecheck/site and
# mypy checks `indicode` there, with the settings of pyproject.toml. Extra arguments go to mypy.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build/typecheck"  # build/ is ignored by git; a fixed place lets mypy reuse its cache
# built from a copy of what the build reads: a build in the work tree would reuse its stale build/lib and
# egg-info, and so install modules that were since moved or deleted
rm -rf "$OUT/src" "$OUT/site"
mkdir -p "$OUT/src"
cp -r "$ROOT"/{pyproject.toml,README.md,indicode,catalogue,matcher,indexes} "$OUT/src/"
find "$OUT/src" -name __pycache__ -prune -exec rm -rf {} +
python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --target "$OUT/site" "$OUT/src"
cd "$OUT/site"  # so that nothing of the repository is on mypy's path, only the installed copy
python -m mypy --config-file "$ROOT/pyproject.toml" --cache-dir "$OUT/mypy-cache" -p indicode "$@"
