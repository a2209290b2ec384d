"""The EXIF orientation OpenCV's imread (4.6, what PaddleClas and PaddleDetection decode with) applies, read from the
file's bytes: PIL's own reading (ImageOps.exif_transpose) finds the tag in places OpenCV does not look, so the two
turn some files differently. The Java core's ExifOrientation reads the same places the same way.

- JPEG: only the first APP1 segment, and only if it starts "Exif\\0\\0" (an XMP APP1 before the Exif one hides it
  from OpenCV; PIL finds it); segments are walked until the first SOS.
- PNG: the eXIf chunk, before or after the image data (OpenCV reads it after decoding).
- Then the TIFF header (II or MM, 42), IFD0, tag 0x0112 of type SHORT, count 1, value 1..8; anything else, missing or
  damaged reads as 1. Other formats: None (the caller keeps PIL's reading).
"""

from __future__ import annotations

import struct

NORMAL = 1
TAG_ORIENTATION = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The PIL transposition that turns a decoded image as each orientation asks (ImageOps.exif_transpose's table).
TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
             7: "TRANSVERSE", 8: "ROTATE_90"}


def opencv_orientation(data: bytes) -> int | None:
    """1..8 for a JPEG or PNG file's bytes (module docstring), None for any other format."""
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    if data[:8] == PNG_SIGNATURE:
        return _png(data)
    return None


def _jpeg(d: bytes) -> int:
    at = 2
    while at + 4 <= len(d):
        if d[at] != 0xFF:
            return NORMAL
        marker = d[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker in (0xDA, 0xD9):
            return NORMAL
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack_from(">H", d, at + 2)
        if length < 2:
            return NORMAL
        if marker == 0xE1:  # the first APP1 decides, Exif or not
            body = d[at + 4:at + 2 + length]
            return _tiff(body[6:]) if body[:6] == b"Exif\0\0" else NORMAL
        at += 2 + length
    return NORMAL


def _png(d: bytes) -> int:
    at = 8
    while at + 12 <= len(d):
        length, kind = struct.unpack_from(">I4s", d, at)
        if length > len(d) - at - 12:
            return NORMAL
        if kind == b"eXIf":
            return _tiff(d[at + 8:at + 8 + length])
        if kind == b"IEND":
            return NORMAL
        at += 12 + length
    return NORMAL


def _tiff(t: bytes) -> int:
    if len(t) < 8 or t[:2] not in (b"II", b"MM"):
        return NORMAL
    e = ">" if t[:2] == b"MM" else "<"
    magic, ifd = struct.unpack_from(e + "HI", t, 2)
    if magic != 42 or ifd < 8 or ifd > len(t) - 2:
        return NORMAL
    (entries,) = struct.unpack_from(e + "H", t, ifd)
    at = ifd + 2
    for _ in range(entries):
        if at + 12 > len(t):
            break
        tag, kind, count, value = struct.unpack_from(e + "HHIH", t, at)
        if tag == TAG_ORIENTATION:
            return value if kind == 3 and count == 1 and 1 <= value <= 8 else NORMAL
        at += 12
    return NORMAL
