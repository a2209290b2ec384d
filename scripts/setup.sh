#!/usr/bin/env bash
# Make .venv from CPython 3.8-3.10 (paddlelite ships x86 wheels only up to 3.10) and install the project.
# Idempotent: does nothing when .venv exists and pyproject.toml has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"

find_python() {
    # A real python3.10 on PATH first; pyenv's shim refuses to run when another version is global.
    for cand in python3.10 python3.9 python3.8; do
        if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys' >/dev/null 2>&1; then
            command -v "$cand"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for ver in 3.10 3.9 3.8; do
            local prefix
            prefix=$(pyenv prefix "$ver" 2>/dev/null | head -n1) || continue
            if [ -x "$prefix/bin/python" ]; then echo "$prefix/bin/python"; return 0; fi
        done
    fi
    return 1
}

# Our bytecode, written even where PYTHONDONTWRITEBYTECODE is set (as on these machines): without it every
# `lite-tools` run compiles its modules again (~15 ms). A no-op when nothing changed; Python ignores stale files.
compile_package() { "$VENV/bin/python" -m compileall -q lite_tools >/dev/null; }

if [ -f "$STAMP" ] && [ -x "$VENV/bin/python" ]; then
    compile_package
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    PY=$(find_python) || {
        echo "setup: no CPython 3.8-3.10 found (paddlelite has x86 wheels only up to 3.10)." >&2
        echo "setup: install one, e.g. 'pyenv install 3.10', then run 'make test' again." >&2
        exit 1
    }
    echo "setup: creating $VENV from $PY ($("$PY" --version 2>&1))"
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
echo "setup: installing lite-tools and its test extra into $VENV"
# Editable in "compat" mode: a plain path entry in a .pth. The default mode installs an import hook whose own
# imports cost every `lite-tools` start ~20 ms (measured with -X importtime), a tenth of a small model's `opt`.
# PYTHONWARNINGS: setuptools' build backend warns that compat mode is transitional, on every fresh set-up (make
# demo's console stays clean; the mode is chosen on purpose, above).
PYTHONWARNINGS=ignore "$VENV/bin/python" -m pip install -q -e '.[test]' --config-settings editable_mode=compat 2>&1 \
    | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c 'import paddle, paddlelite.lite, numpy; assert numpy.__version__ < "2"' \
    || { echo "setup: the installed packages do not import; see the pip output above." >&2; exit 1; }
compile_package
rm -f "$VENV"/.installed-*
touch "$STAMP"
