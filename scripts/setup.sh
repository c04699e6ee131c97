#!/usr/bin/env bash
# One-step set-up on a fresh machine: the CPU build of PyTorch first (any other torch pulls gigabytes
# of CUDA packages), then indicode with its test extras and the documentation tools, then the distribution's Chromium for the
# browser test (Playwright drives it; it never downloads a browser of its own), a CJK TrueType font
# the PDF format tests embed in the PDFs they write, and PostgreSQL's server for the workspace tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check torch==2.13.0
python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
python -m pip install --quiet --disable-pip-version-check -r docs/requirements.txt  # the docs site (scripts/docs.sh)
APT=()
command -v chromium >/dev/null 2>&1 || APT+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || APT+=(fonts-wqy-microhei)
# a real PostgreSQL server for the workspace tests (they start their own cluster; tests/pg_server.py)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || APT+=(postgresql)
if [ ${#APT[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT[@]}" >/dev/null
fi
