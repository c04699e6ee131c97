#!/usr/bin/env bash
# One-step set-up on a fresh machine: the CPU build of PyTorch first (any other torch pulls gigabytes
# of CUDA packages), then indicode with its test extras, then Chromium for the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check torch==2.13.0
python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
