"""Read the header and the layout of a Paddle Lite naive-buffer model (`.nb`) without loading it.

Layout (little-endian): a u16 format version, then a 16-byte NUL-padded string with the version of the opt that
wrote it (e.g. "v2.13-rc"), a u64 size and that many bytes of program (a flatbuffer), then the parameters. A `.nb`
only runs on the Lite runtime of the same version: skew between the opt and the phone's library is the most
reported Paddle Lite failure (empty outputs or crashes).

In format 2 (what Lite 2.13's opt writes) the parameters are: u16 version (0), u16 size of a reserved block and the block; u16
size of a header and the header (u16 number of tensors, u32 size of the largest); then per tensor a u32 record
size, a u32 offset of the tensor's flatbuffer within the record (4) and the record's remaining bytes. Summing the
records gives the exact file size, which is how a truncated copy is caught before Lite aborts on it.
"""

from __future__ import annotations

import collections
import json
import os
import re
import struct
from pathlib import Path

from ..errors import BadInput
from . import files

HEADER_SIZE = 2 + 16

# Paddle Lite's TargetType numbers, as they appear in each op's kernel type ("conv2d/def/4/1/1" is an ARM
# kernel), for the targets opt builds here; host (1) and any (6) kernels run everywhere.
_TARGET_IDS = {"opencl": 5, "arm": 4, "x86": 2}  # checked in this order: an OpenCL model also has ARM kernels
_KERNEL_TYPE = re.compile(rb"[A-Za-z0-9_]+/[A-Za-z0-9_]+/(\d+)/\d+/\d+\0")


class NbHeader(collections.namedtuple("NbHeader", "format_version opt_version")):
    __slots__ = ()  # a namedtuple, not a dataclass: `opt` imports this, and dataclasses costs ~8 ms to import

    def to_json(self):
        return {"format_version": self.format_version, "opt_version": self.opt_version}


class NbLayout(collections.namedtuple("NbLayout", "header size topology_bytes params trailing_bytes")):
    """params and trailing_bytes are None for formats whose parameters this reader does not walk."""
    __slots__ = ()


def read_header(path: Path) -> NbHeader:
    files.require_file(path)  # a FIFO would block the open below; a directory would be a traceback
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


def _truncated(path: Path, size: int, need: int, where: str) -> BadInput:
    return BadInput(f"{path}: is truncated: {size:,} bytes, but its layout needs at least {need:,} ({where}); "
                    "copy it again, or re-run opt")


def read_layout(path: Path) -> NbLayout:
    """Walk the sections of `path`: a BadInput that says "truncated" when the file ends before they do.

    Only sizes are read (8 bytes per tensor), so this costs well under a millisecond for a 10 MB model.
    """
    header = read_header(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        pos = HEADER_SIZE

        def take(fmt: str, where: str) -> tuple:
            nonlocal pos
            n = struct.calcsize(fmt)
            f.seek(pos)
            data = f.read(n)
            if len(data) < n:
                raise _truncated(path, size, pos + n, where)
            pos += n
            return struct.unpack(fmt, data)

        (topology,) = take("<Q", "ends inside its header")
        pos += topology
        if topology >= 1 << 32:  # a 4 GB program: no truncation explains that, the header itself is damaged
            raise BadInput(f"{path}: is corrupt (its program claims {topology:,} bytes, the file has {size:,})")
        if pos > size:
            raise _truncated(path, size, pos, "ends inside its program")
        if header.format_version != 2:
            return NbLayout(header, size, topology, None, None)
        version, reserved = take("<HH", "ends before its parameters")
        if version != 0:
            raise BadInput(f"{path}: is corrupt (its parameter section has version {version}, not 0)")
        pos += reserved
        (head_size,) = take("<H", "ends before its parameters")
        if head_size < 6:
            raise BadInput(f"{path}: is corrupt (its parameter header is {head_size} bytes, not 6)")
        count, _largest = take("<HI", "ends before its parameters")
        pos += head_size - 6
        for i in range(count):
            where = f"ends inside parameter {i + 1} of {count}"
            record, offset = take("<II", where)
            if offset < 4 or record < offset:
                raise BadInput(f"{path}: is corrupt (parameter {i + 1} of {count} has an impossible size)")
            pos += record - 4  # the record counts its offset field, which take() has read
            if pos > size:
                raise _truncated(path, size, pos, where)
    return NbLayout(header, size, topology, count, size - pos)


def built_for(path: Path) -> str | None:
    """The opt target ("arm", "x86", "opencl") `path` was built for, or None when it cannot be told.

    Read from the kernel types in its program; failing that, from the opt manifest beside it
    (NAME.manifest.json records NAME.<target>.nb), when that still describes a file of this size.
    """
    try:
        with open(path, "rb") as f:
            f.seek(HEADER_SIZE)
            raw = f.read(8)
            size = os.fstat(f.fileno()).st_size
            (topology,) = struct.unpack("<Q", raw) if len(raw) == 8 else (0,)
            program = f.read(topology) if 0 < topology <= size else b""
    except OSError:
        return None
    ids = {int(m.group(1)) for m in _KERNEL_TYPE.finditer(program)}
    for target, number in _TARGET_IDS.items():
        if number in ids:
            return target
    return _target_from_manifest(Path(path), size)


def _target_from_manifest(path: Path, size: int) -> str | None:
    stem, _, target = path.name[:-len(".nb")].rpartition(".")
    manifest = path.with_name(f"{stem}.manifest.json")
    try:
        entry = json.loads(manifest.read_text(encoding="utf-8"))["targets"][target]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if isinstance(entry, dict) and entry.get("file") == path.name and entry.get("bytes") == size:
        return target
    return None


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
