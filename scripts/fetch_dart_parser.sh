#!/usr/bin/env bash
# Install tree-sitter's Dart grammar (WASM) and its runtime from the npm registry into build/dart-parser, for
# syntax-checking the generated Dart in tests (no Dart SDK can be installed here). Pinned versions. Idempotent.
# Prints the directory holding node_modules.
set -euo pipefail
DIR=${LITE_TOOLS_DART_PARSER:-"$(cd "$(dirname "$0")/.." && pwd)/build/dart-parser"}
if [ -f "$DIR/node_modules/tree-sitter-wasms/out/tree-sitter-dart.wasm" ] && [ -d "$DIR/node_modules/web-tree-sitter" ]; then
    echo "$DIR"; exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "fetch_dart_parser: npm not found (Node.js is needed)" >&2; exit 1; }
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{"name": "lite-tools-dart-parser", "private": true}' > "$DIR/package.json"
source "$(dirname "$0")/fetch_lib.sh"
retry "npm install (Dart grammar)" npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error web-tree-sitter@0.25.10 tree-sitter-wasms@0.1.13 >&2
echo "$DIR"
