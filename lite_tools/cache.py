"""A small content-addressed cache on disk ($LITE_TOOLS_CACHE, default ~/.cache/lite-tools).

Entries are written to a temp name and renamed, so concurrent runs (pytest-xdist, `deploy -j`) never read a
half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path


def root() -> Path:
    return Path(os.environ.get("LITE_TOOLS_CACHE") or Path.home() / ".cache" / "lite-tools")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_of(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _path(kind: str, key: str, suffix: str) -> Path:
    return root() / kind / f"{key}{suffix}"


def get_json(kind: str, key: str):
    p = _path(kind, key, ".json")
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def put_json(kind: str, key: str, value) -> None:
    p = _path(kind, key, ".json")
    _atomic_write(p, lambda f: f.write(json.dumps(value, indent=1).encode()))


def get_file(kind: str, key: str, suffix: str):
    p = _path(kind, key, suffix)
    return p if p.is_file() else None


def put_file(kind: str, key: str, suffix: str, src: Path) -> None:
    p = _path(kind, key, suffix)
    try:
        _atomic_write(p, lambda f: shutil.copyfileobj(open(src, "rb"), f))
    except OSError:
        pass  # a cache that cannot be written only costs time


def store_and_hash(kind: str, key: str, suffix: str, src: Path) -> str:
    """Copy `src` into the cache and return its sha256, reading it once (a failed cache write only costs time)."""
    data = Path(src).read_bytes()
    try:
        _atomic_write(_path(kind, key, suffix), lambda f: f.write(data))
    except OSError:
        pass
    return sha256_bytes(data)


def _atomic_write(p: Path, write) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
