"""A small reader of ELF shared objects: the machine a `.so` was built for and the libraries it needs (DT_NEEDED).

The APK build checks the Paddle Lite `.so` files a user places in `jniLibs/<abi>/` before they reach a phone: a
library for the wrong ABI, or one needing a library the APK lacks (the `c++_shared` `libc++_shared.so`), builds fine
and fails only at `System.loadLibrary`. Only what the dynamic loader itself reads is used: the program headers'
PT_DYNAMIC segment and DT_STRTAB mapped through the PT_LOAD segments (section headers may be stripped).
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

from ..errors import BadInput

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5
EM_386, EM_ARM, EM_X86_64, EM_AARCH64 = 3, 40, 62, 183
# Android's ABI directory names and the e_machine of a library built for each.
ABI_MACHINES = {"arm64-v8a": EM_AARCH64, "armeabi-v7a": EM_ARM, "x86": EM_386, "x86_64": EM_X86_64}
MACHINE_NAMES = {EM_386: "x86", EM_ARM: "ARM", EM_X86_64: "x86-64", EM_AARCH64: "AArch64"}


@dataclasses.dataclass(frozen=True)
class SharedObject:
    bits: int  # 32 or 64
    machine: int  # e_machine
    needed: tuple  # DT_NEEDED names, in file order

    @property
    def machine_name(self) -> str:
        return MACHINE_NAMES.get(self.machine, f"e_machine {self.machine}")


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.path = data, path

    def unpack(self, fmt: str, offset: int) -> tuple:
        size = struct.calcsize(fmt)
        if offset < 0 or offset + size > len(self.data):
            raise BadInput(f"{self.path}: not a valid ELF shared object (truncated at byte {offset})")
        return struct.unpack_from(fmt, self.data, offset)

    def c_string(self, offset: int) -> str:
        end = self.data.find(b"\0", offset)
        if offset < 0 or offset >= len(self.data) or end < 0:
            raise BadInput(f"{self.path}: not a valid ELF shared object (a DT_NEEDED name outside the file)")
        return self.data[offset:end].decode("utf-8", "replace")


def read(path) -> SharedObject:
    """The ELF32/ELF64 little-endian object at `path`; BadInput (one line naming it) when it is not one."""
    path = Path(path)
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise BadInput(f"{path}: not an ELF shared object")
    if len(data) < 16 or data[4] not in (1, 2):
        raise BadInput(f"{path}: not a valid ELF shared object (unknown ELF class)")
    if data[5] != 1:
        raise BadInput(f"{path}: a big-endian ELF object; Android libraries are little-endian")
    r, wide = _Reader(data, path), data[4] == 2
    addr = "Q" if wide else "I"
    machine, = r.unpack("<H", 18)
    phoff, = r.unpack("<" + addr, 32 if wide else 28)
    phentsize, phnum = r.unpack("<HH", 54 if wide else 42)
    segments = []  # (type, offset, vaddr, filesz)
    for i in range(phnum):
        at = phoff + i * phentsize
        if wide:
            p_type, _, p_offset, p_vaddr, _, p_filesz = r.unpack("<IIQQQQ", at)
        else:
            p_type, p_offset, p_vaddr, _, p_filesz = r.unpack("<IIIII", at)
        segments.append((p_type, p_offset, p_vaddr, p_filesz))
    dynamic = [s for s in segments if s[0] == PT_DYNAMIC]
    if not dynamic:
        raise BadInput(f"{path}: an ELF object without a dynamic section (not a shared library)")
    entries, (_, dyn_offset, _, dyn_size) = [], dynamic[0]
    entry = struct.calcsize("<" + addr * 2)
    for at in range(dyn_offset, dyn_offset + dyn_size - entry + 1, entry):
        tag, value = r.unpack("<" + ("q" if wide else "i") + addr, at)
        if tag == DT_NULL:
            break
        entries.append((tag, value))
    strtab = [v for t, v in entries if t == DT_STRTAB]
    needed = [v for t, v in entries if t == DT_NEEDED]
    if needed and not strtab:
        raise BadInput(f"{path}: not a valid ELF shared object (DT_NEEDED without DT_STRTAB)")
    base = _file_offset(segments, strtab[0], path) if strtab else 0
    return SharedObject(bits=64 if wide else 32, machine=machine, needed=tuple(r.c_string(base + v) for v in needed))


def _file_offset(segments: list, vaddr: int, path: Path) -> int:
    """The file offset of virtual address `vaddr`, through the PT_LOAD segment holding it (as the loader maps it)."""
    for p_type, p_offset, p_vaddr, p_filesz in segments:
        if p_type == PT_LOAD and p_vaddr <= vaddr < p_vaddr + p_filesz:
            return p_offset + vaddr - p_vaddr
    raise BadInput(f"{path}: not a valid ELF shared object (DT_STRTAB is in no loaded segment)")
