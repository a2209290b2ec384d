#!/usr/bin/env bash
# Fetch Debian's packaged Android build tools (aapt2, dx, zipalign, apksigner, API 29 framework resources, API 23's
# android.jar) and make the debug signing key, for building the generated projects' APKs in tests. The same code
# as `lite-tools android --apk` (lite_tools/apk/toolchain.py: a private apt state on this machine's own Debian
# mirror, download only, nothing system-wide changes), cached under build/apk-tools. Prints the cache. Idempotent.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
export LITE_TOOLS_APK_CACHE=${LITE_TOOLS_APK_CACHE:-"$REPO/build/apk-tools"}
PYTHON=${LITE_TOOLS_PYTHON:-"$REPO/.venv/bin/python"}
[ -x "$PYTHON" ] || PYTHON=python3
cd "$REPO" && exec "$PYTHON" -m lite_tools.apk.toolchain
