"""A small content-addressed cache on disk ($LITE_TOOLS_CACHE, default ~/.cache/lite-tools).

Entries are written to a temp name and renamed, so concurrent runs (pytest-xdist, `deploy -j`) never read a
half-written file.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import time
from pathlib import Path

# A file changed this recently may change again within one tick of its timestamps, unseen by stat: its digest is
# not remembered until it has been still this long (git's "racily clean" rule).
STILL_NS = 2_000_000_000


def root() -> Path:
    return Path(os.environ.get("LITE_TOOLS_CACHE") or Path.home() / ".cache" / "lite-tools")


def _sha256(data: bytes = b""):
    import hashlib  # loads OpenSSL (~4 ms): `opt` needs it only once its optimizer children have their jobs

    return hashlib.sha256(data)


def sha256_file(path: Path) -> str:
    """Hashed through a memory map: no copies of the file's pages into fresh buffers (~1 ms per 20 MB here)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return _sha256().hexdigest()
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return _sha256(mapped).hexdigest()


def _version_of(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _stat_identity(path: Path, st: os.stat_result) -> str:
    return key_of(str(Path(path).resolve()), *_version_of(st))


def remembered_sha256(path: Path):
    """The sha256 recorded for this very version of the file (same path, inode, size, mtime and ctime, the test
    git's index uses), or None; a cache hit then costs a stat instead of reading 10-40 MB of params."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    hit = get_json("digests", _stat_identity(path, st))
    return hit["sha256"] if hit else None


def sha256_file_remembered(path: Path) -> str:
    """sha256_file, remembered for remembered_sha256 once the file has been still."""
    before = os.stat(path)
    digest = sha256_file(path)
    after = os.stat(path)
    still = time.time_ns() - max(after.st_mtime_ns, after.st_ctime_ns) > STILL_NS
    if _version_of(after) == _version_of(before) and still:
        put_json("digests", _stat_identity(path, after), {"sha256": digest})
    return digest


def key_of(*parts) -> str:
    return _sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


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


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def put_linked(kind: str, key: str, suffix: str, src: Path, meta: dict) -> None:
    """Enter `src` with `meta`, as a hard link where the file system allows (copying a 12 MB .nb costs ~25 ms
    here), else a copy. The entry's size and mtime go into its record: an entry changed through a link (someone
    editing their output in place) is no longer served. A cache that cannot be written only costs time."""
    p = _path(kind, key, suffix)
    present = _valid_meta(kind, key, p)
    if present and all(present.get(k) == v for k, v in meta.items()):
        return  # the same bytes are in already: replacing them would only free a copy (~8 ms for 12 MB here)
    tmp = _temp_name(p)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(src, tmp)
        os.replace(tmp, p)
        st = p.stat()
        put_json(kind, key, {**meta, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns})
    except OSError:
        if tmp.exists():
            tmp.unlink()


def get_linked(kind: str, key: str, suffix: str, dest: Path):
    """Place the entry at `dest` (a hard link, else a copy) and return its meta; None if there is none or it was
    changed after it was entered."""
    p = _path(kind, key, suffix)
    meta = _valid_meta(kind, key, p)
    if meta is not None:
        _link_or_copy(p, dest)
    return meta


def _valid_meta(kind: str, key: str, p: Path):
    """The record of a linked entry, or None when it is missing or the file changed after it was recorded."""
    meta = get_json(kind, key)
    try:
        st = p.stat()
    except OSError:
        return None
    if meta is None or (st.st_size, st.st_mtime_ns) != (meta.get("bytes"), meta.get("mtime_ns")):
        return None
    return meta


def _temp_name(p: Path) -> Path:
    return p.with_name(f".tmp-{os.urandom(8).hex()}")  # 64 random bits: no two writers pick the same


def _atomic_write(p: Path, write) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(p)
    try:
        with open(tmp, "xb") as f:
            write(f)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
