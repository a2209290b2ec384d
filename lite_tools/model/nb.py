"""Read the header of a Paddle Lite naive-buffer model (`.nb`) without loading it.

Layout: a little-endian u16 format version, then a 16-byte NUL-padded string with the version of the opt that
wrote it (e.g. "v2.13-rc"). A `.nb` only runs on the Lite runtime of the same version: skew between the opt and
the phone's library is the most reported Paddle Lite failure (empty outputs or crashes).
"""

from __future__ import annotations

import collections
import struct
from pathlib import Path

from ..errors import BadInput

HEADER_SIZE = 2 + 16


class NbHeader(collections.namedtuple("NbHeader", "format_version opt_version")):
    __slots__ = ()  # a namedtuple, not a dataclass: `opt` imports this, and dataclasses costs ~8 ms to import

    def to_json(self):
        return {"format_version": self.format_version, "opt_version": self.opt_version}


def read_header(path: Path) -> NbHeader:
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE)
    if len(head) < HEADER_SIZE:
        raise BadInput(f"{path}: too short to be a Paddle Lite .nb model")
    (fmt,) = struct.unpack_from("<H", head, 0)
    raw = head[2:].split(b"\0", 1)[0]
    try:
        version = raw.decode("ascii")
    except UnicodeDecodeError:
        version = ""
    if not version.startswith("v") or not version[1:2].isdigit():
        raise BadInput(f"{path}: is not a Paddle Lite naive-buffer model (no opt version in its header)")
    return NbHeader(fmt, version)


def zero_header_padding(path: Path) -> bool:
    """Zero the bytes after the NUL in the version field; return whether any changed.

    Lite 2.13's opt leaves uninitialised memory there, so two runs on the same input differ in 3 bytes. The
    runtime reads the field as a NUL-terminated string, so zeroing makes `.nb` files reproducible (stable
    sha256 in manifests and caches) without changing what any runtime sees.
    """
    with open(path, "r+b") as f:
        head = f.read(HEADER_SIZE)
        field = head[2:HEADER_SIZE]
        end = field.find(b"\0")
        if end < 0:
            return False
        clean = field[:end] + b"\0" * (len(field) - end)
        if clean == field:
            return False
        f.seek(2)
        f.write(clean)
    return True
