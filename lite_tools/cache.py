"""A small content-addressed cache on disk ($LITE_TOOLS_CACHE, default ~/.cache/lite-tools).

Entries are written to a temp name and renamed, so concurrent runs (pytest-xdist, `deploy -j`) never read a
half-written file. A cache that cannot be written (read-only HOME in CI, LITE_TOOLS_CACHE=/dev/null) only costs
time: the first failed write prints one warning and the cache is off for the rest of the process.
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import time
from pathlib import Path

# A file changed this recently may change again within one tick of its timestamps, unseen by stat: its digest is
# not remembered until it has been still this long (git's "racily clean" rule).
STILL_NS = 2_000_000_000
CHUNK = 1 << 20

_off = {}  # cache root -> why it proved unusable in this process (then it is neither read nor written)
NO_HOME = "~/.cache/lite-tools"


def root() -> Path:
    return Path(os.environ.get("LITE_TOOLS_CACHE") or Path.home() / ".cache" / "lite-tools")


def _root():
    """root(), or None (after the one warning) when there is none to use: no HOME, or it proved unusable."""
    try:
        base = root()
    except (RuntimeError, KeyError) as e:  # Path.home() without HOME or a passwd entry
        _unusable(NO_HOME, f"no home directory ({e})")
        return None
    return None if str(base) in _off else base


def _unusable(where, reason: str) -> None:
    if str(where) not in _off:
        _off[str(where)] = reason
        print(f"lite-tools: warning: cache {where}: {reason}; running without it", file=sys.stderr, flush=True)


def write_failed(e: OSError) -> None:
    """Writing into the cache failed with `e`: warn (once) and stop using it."""
    try:
        where = root()
    except (RuntimeError, KeyError):
        where = NO_HOME
    _unusable(where, f"cannot write there ({e.strerror or e})")


def folder(kind: str) -> Path:
    """root()/kind, created; once the cache cannot be written, a private temp folder removed at exit instead, so
    that what callers build there (zoo exports) is only not kept."""
    base = _root()
    if base is not None:
        try:
            (base / kind).mkdir(parents=True, exist_ok=True)
            return base / kind
        except OSError as e:
            write_failed(e)
    if kind not in _scratch:
        import atexit
        import tempfile

        from . import staging

        _scratch[kind] = staging.make(tempfile.gettempdir(), f"lite-tools-{kind}-")  # locked: swept after a SIGKILL
        atexit.register(staging.remove, _scratch[kind])
    return _scratch[kind]


_scratch = {}


def problem():
    """Why the cache cannot be used (for `doctor`), or None: it tries to write a file there, without warning."""
    try:
        where = root()
    except (RuntimeError, KeyError) as e:
        return f"{NO_HOME}: no home directory ({e})"
    probe = where / f".probe-{os.urandom(8).hex()}"
    try:
        where.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        return f"{where}: cannot write there ({e.strerror or e})"
    return None


def _sha256(data: bytes = b""):
    import hashlib  # loads OpenSSL (~4 ms): `opt` needs it only once its optimizer children have their jobs

    return hashlib.sha256(data)


def sha256_file(path: Path) -> str:
    """Hashed through a memory map: no copies of the file's pages into fresh buffers (~10 ms per 12 MB here)."""
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
        put_json("digests", _stat_identity(path, after), {"sha256": digest}, refresh=True)
    return digest


def key_of(*parts) -> str:
    return _sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _path(kind: str, key: str, suffix: str):
    base = _root()
    return None if base is None else base / kind / f"{key}{suffix}"


def get_json(kind: str, key: str):
    p = _path(kind, key, ".json")
    try:
        return json.loads(p.read_text()) if p else None
    except (OSError, ValueError):
        return None


def put_json(kind: str, key: str, value, refresh: bool = False) -> None:
    """refresh: a record that only saves time next run (an entry's new identity, a file's digest); failing to
    write it is silent and keeps the cache in use, so a read-only cache that is already filled keeps serving."""
    p = _path(kind, key, ".json")
    if p is None:
        return
    try:
        _atomic_write(p, lambda f: _write_all(f, json.dumps(value, indent=1, allow_nan=False).encode()))
    except (_WriteError, OSError) as e:
        if not refresh:
            write_failed(e.error if isinstance(e, _WriteError) else e)


def get_file(kind: str, key: str, suffix: str):
    p = _path(kind, key, suffix)
    return p if p and p.is_file() else None


def put_file(kind: str, key: str, suffix: str, src: Path) -> None:
    p = _path(kind, key, suffix)
    if p is None:
        return
    try:
        with open(src, "rb", buffering=0) as s:
            _atomic_write(p, lambda f: _copy_hashed(s, f))
    except _WriteError as e:
        write_failed(e.error)
    except OSError as e:
        write_failed(e)


class _WriteError(Exception):
    """The writing side of a copy failed (the reading side raises OSError itself): the caller must know which."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


def _write_all(dest, data) -> None:
    """All of `data` into raw (unbuffered) file `dest`: a full disk shows up here, not in a later close()."""
    view = memoryview(data)
    try:
        while view:
            view = view[dest.write(view):]
    except OSError as e:
        raise _WriteError(e) from None


def _copy_hashed(src, dest) -> str:
    """Copy raw file `src` into raw file `dest`; return the sha256 of the bytes copied, i.e. of what `dest` now
    holds. Reading the bytes once for both costs ~13 ms per 12 MB here, against ~10 ms for hashing alone."""
    digest = _sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        n = src.readinto(buf)
        if not n:
            return digest.hexdigest()
        digest.update(view[:n])
        _write_all(dest, view[:n])


def _identity(st: os.stat_result) -> list:
    """What an entry's record pins, as for the inputs (remembered_sha256): a rewrite, even one that restores size
    and mtime (`touch -m -d @old`), moves the ctime; a copy made elsewhere has another inode."""
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def put_copy(kind: str, key: str, suffix: str, src: Path) -> str:
    """Enter a copy of `src`; return `src`'s sha256. Never a link: an entry sharing an inode with an output would
    change with every edit of that output, and so would every other output linked to it. If the entry already
    holds these bytes (its identity is the recorded one, and so is the digest) nothing is written."""
    p = _path(kind, key, suffix)
    if p is None:
        return sha256_file(src)
    record = get_json(kind, key)
    try:
        if record and record.get("identity") == _identity(p.stat()):
            digest = sha256_file(src)
            if digest == record.get("sha256"):
                return digest
    except OSError:
        pass
    tmp = _temp_name(p)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb", buffering=0) as s, open(tmp, "xb", buffering=0) as f:
            digest = _copy_while_hashing(s, f)
            ino = os.fstat(f.fileno()).st_ino
        os.replace(tmp, p)
        st = p.stat()
        if st.st_ino == ino:  # else another run replaced it meanwhile, and its record describes its file
            put_json(kind, key, {"sha256": digest, "identity": _identity(st)})
        return digest
    except _WriteError as e:
        write_failed(e.error)
    except OSError as e:
        write_failed(e)
    finally:
        _unlink(tmp)
    return sha256_file(src)


def get_copy(kind: str, key: str, suffix: str, dest: Path):
    """Copy the entry into the new file `dest`; return its record, whose "sha256" is then that of the bytes in
    `dest`. An entry whose identity is still the recorded one (no rewrite since: it shares no inode with anything)
    is trusted and copied by the kernel (~5 ms per 12 MB here); any other is hashed while copying (~18 ms) and
    dropped if its bytes are not the recorded ones. None, and no `dest`, on a miss. Failing to write `dest`
    raises OSError: the destination's problem, not the cache's."""
    p = _path(kind, key, suffix)
    record = get_json(kind, key) if p else None
    if not record or "sha256" not in record:
        return None
    try:
        src = open(p, "rb", buffering=0)
    except OSError:
        return None
    with src:
        st = os.fstat(src.fileno())
        with open(dest, "xb", buffering=0) as f:
            if record.get("identity") == _identity(st) and _kernel_copy(src, f, st.st_size) \
                    and _identity(os.fstat(src.fileno())) == record["identity"]:
                return record
            try:
                f.seek(0)
                f.truncate()
                src.seek(0)
                digest = _copy_hashed(src, f)
            except _WriteError as e:
                _unlink(dest)
                raise e.error from None
            except OSError:  # the entry could not be read: a miss
                digest = None
    if digest != record["sha256"]:
        _unlink(dest)
        if digest is not None:
            _drop(p, st)
        return None
    if record.get("identity") != _identity(st):  # the same bytes in another file (say restored by `cp -r`)
        put_json(kind, key, {**record, "identity": _identity(st)}, refresh=True)
    return record


def _copy_while_hashing(src, dest) -> str:
    """The sha256 of raw file `src` (ours, not changing), computed while the kernel copies it into `dest` on
    another thread: both release the GIL, so a cold `opt` pays the longer of the two, not their sum (~12 ms
    instead of ~20 for SSD's 22 MB .nb). A copy the kernel cannot do falls back to the hashed copy."""
    import threading

    size = os.fstat(src.fileno()).st_size
    copied = []
    worker = threading.Thread(target=lambda: copied.append(_kernel_copy(src, dest, size)))
    worker.start()
    try:
        digest, offset = _sha256(), 0
        while offset < size:
            chunk = os.pread(src.fileno(), CHUNK, offset)  # pread and sendfile leave the file position alone
            if not chunk:
                break
            digest.update(chunk)
            offset += len(chunk)
    finally:
        worker.join()
    if copied == [True] and offset == size:
        return digest.hexdigest()
    os.lseek(src.fileno(), 0, os.SEEK_SET)
    os.ftruncate(dest.fileno(), 0)
    os.lseek(dest.fileno(), 0, os.SEEK_SET)
    return _copy_hashed(src, dest)


def _kernel_copy(src, dest, size: int) -> bool:
    """All `size` bytes of raw file `src` into raw file `dest` by sendfile (no trip through Python); False if that
    did not work, whatever the reason (the hashed copy then tells a full disk from a bad entry)."""
    offset = 0
    try:
        while offset < size:
            sent = os.sendfile(dest.fileno(), src.fileno(), offset, size - offset)
            if sent == 0:
                return False
            offset += sent
    except OSError:
        return False
    return True


def _drop(p: Path, st: os.stat_result) -> None:
    """Remove a damaged entry, unless another run has replaced it with a new file meanwhile."""
    try:
        now = os.stat(p)
        if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            os.unlink(p)
    except OSError:
        pass


def _unlink(p) -> None:
    try:
        os.unlink(p)
    except OSError:  # never there, or in a folder that goes anyway
        pass


def _temp_name(p: Path) -> Path:
    return p.with_name(f".tmp-{os.urandom(8).hex()}")  # 64 random bits: no two writers pick the same


def _atomic_write(p: Path, write) -> None:
    """`write(f)` into a raw temp file beside `p`, then renamed to `p`."""
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(p)
    try:
        with open(tmp, "xb", buffering=0) as f:
            write(f)
        os.replace(tmp, p)
    finally:
        _unlink(tmp)
