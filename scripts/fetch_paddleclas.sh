#!/usr/bin/env bash
# Fetch PaddleClas 2.6.0's wheel and unpack it into build/upstream/paddleclas-2.6.0/ (never installed: its pins
# clash with ours). The tests run its own deploy/ code on deploy configs, as the independent reading our config
# reader is held to, and read its deploy/configs/. The wheel's sha256 is pinned; a mismatch is an error.
# Idempotent; the unpacked tree appears by one rename or not at all. Prints the `paddleclas` package dir last.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${LITE_TOOLS_UPSTREAM_CACHE:-"$REPO/build/upstream"}
DEST="$ROOT/paddleclas-2.6.0"
WHEEL=paddleclas-2.6.0-py3-none-any.whl
SHA256=3c12fd8994d95ed1b4fd60017cdbc12bb0e77a41a7921b022e9a6fb5d287fe8a
if [ -d "$DEST/paddleclas/deploy/python" ]; then echo "$DEST/paddleclas"; exit 0; fi
PY=${LITE_TOOLS_PYTHON:-"$REPO/.venv/bin/python"}
[ -x "$PY" ] || PY=python3
mkdir -p "$ROOT"
TMP=$(mktemp -d "$ROOT/.paddleclas-2.6.0.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
for attempt in 1 2 3; do
    if "$PY" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q -d "$TMP/dl" \
        paddleclas==2.6.0 >&2; then
        break
    fi
    if [ "$attempt" = 3 ]; then echo "fetch_paddleclas: pip download paddleclas==2.6.0 failed 3 times" >&2; exit 1; fi
    sleep $((attempt * 5))
done
ACTUAL=$(sha256sum "$TMP/dl/$WHEEL" | cut -d' ' -f1)
if [ "$ACTUAL" != "$SHA256" ]; then
    echo "fetch_paddleclas: $WHEEL has sha256 $ACTUAL, expected $SHA256" >&2; exit 1
fi
"$PY" -m zipfile -e "$TMP/dl/$WHEEL" "$TMP/unpacked"
# Another process may have won the race: its complete tree is as good as ours.
mv -T "$TMP/unpacked" "$DEST" 2>/dev/null || [ -d "$DEST/paddleclas/deploy/python" ]
echo "$DEST/paddleclas"
