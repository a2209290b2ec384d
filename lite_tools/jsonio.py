"""Writing the files a user asked for: JSON that is always valid (no NaN or Infinity, which json.dumps writes by
default and no JSON parser reads), written atomically (a temporary file beside the target, then a rename), and
output paths checked first, each problem one BadInput line naming the file."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path

from .errors import BadInput


def finite(value):
    """`value` with every non-finite float replaced by None (what JSON can say), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value, **kwargs) -> str:
    """json.dumps of `value` with NaN/Infinity as null, never written as the invalid tokens NaN or Infinity."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)


def same_file(a: Path, b) -> bool:
    """The same file: a hard link or a symlink to it counts (real paths compared where one does not exist)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_out_file(out, inputs=(), option: str = "--out") -> Path:
    """Refuse an output FILE path that cannot be written as one: a directory, a missing or non-directory parent,
    or one of the user's inputs (compared as real paths)."""
    out = Path(out)
    if out.is_dir():
        raise BadInput(f"{out}: is a directory; give {option} a file name (e.g. {out / 'config.json'})")
    parent = out.parent
    if not parent.exists():
        raise BadInput(f"{out}: no such directory {parent}")
    if not parent.is_dir():
        raise BadInput(f"{out}: {parent} is not a directory")
    for given in inputs:
        if given and same_file(out, given):
            raise BadInput(f"{out}: is the input {given}; give {option} another file (the input is left as it is)")
    return out


def _write_in_place(path: Path, text: str) -> None:
    """`--out /dev/stdout` (or stderr) goes through our own stream, so it keeps its place among the other lines
    (and `>>` keeps what it appended to); any other device or pipe is opened and written."""
    import sys

    st = os.stat(path)
    for stream in (sys.stdout, sys.stderr):
        try:
            same = os.path.samestat(st, os.fstat(stream.fileno()))
        except (OSError, ValueError, AttributeError):
            continue
        if same:
            stream.write(text)
            stream.flush()
            return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _names_a_descriptor(path: Path) -> bool:
    """`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`: names of an open file, not places for a new
    one (a file in /dev/shm is a plain file, written atomically like any other)."""
    text = str(path.absolute())
    return (text in ("/dev/stdin", "/dev/stdout", "/dev/stderr")
            or re.fullmatch(r"/dev/fd/\d+|/proc/(self|\d+)/fd/\d+", text) is not None)


def write_text_atomic(path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename: `path` is the old file or the new
    one, never half of either. A symlink is written through (its target replaced, the link kept); a path that is
    not a regular file (`/dev/stdout`, a FIFO) is written in place, never replaced. OSError becomes one BadInput
    line."""
    given = Path(path)
    tmp = None
    try:
        # A device or a pipe (followed through any symlink), or a file descriptor's name (`/dev/stdout` redirected
        # to a file, which a rename would replace, losing what `>>` appended to): written in place.
        if (given.exists() and not given.is_file()) or _names_a_descriptor(given):
            _write_in_place(given, text)
            return
        path = Path(os.path.realpath(given))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise BadInput(f"{given}: cannot write there ({e.strerror or e})") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
