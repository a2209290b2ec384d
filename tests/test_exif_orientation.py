"""The Java core's EXIF orientation (ExifOrientation: the tag read from the file's bytes, the pixels turned) gives
what cv2.imread and the Python reference (lite_tools.reference.images.load_image) give, on real photos written as
JPEG and PNG with each of the 8 orientations, little- and big-endian TIFF, the Exif segment behind JFIF and XMP
segments (OpenCV reads only the first APP1: an Exif segment behind an XMP one is not applied, where PIL's own
exif_transpose would turn the image), a PNG eXIf after the image data, and damaged or lying metadata (which all
three read as "no orientation")."""

from __future__ import annotations

import io
import struct
import subprocess
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from javatools import build_harness
from lite_tools.reference.images import load_image

CORE = REPO / "android_template/app/src/main/java/com/litetools/core"


def tiff(orientation: int, big: bool, tag_type: int = 3, count: int = 1) -> bytes:
    """A TIFF header + IFD0 with one entry: the orientation tag (and a second, unrelated tag before it)."""
    e = ">" if big else "<"
    head = (b"MM" if big else b"II") + struct.pack(e + "HI", 42, 8)
    entries = [struct.pack(e + "HHI4s", 0x010F, 2, 4, b"cam\0"),  # Make
               struct.pack(e + "HHIH2x", 0x0112, tag_type, count, orientation)]
    return head + struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", 0)


def jpeg_with(rgb: np.ndarray, segments: list) -> bytes:
    """A baseline JPEG of `rgb` (PIL, no metadata) with `segments` ((marker, payload)) inserted after SOI."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    extra = b"".join(bytes([0xFF, m]) + struct.pack(">H", len(p) + 2) + p for m, p in segments)
    return data[:2] + extra + data[2:]


def png_with_exif(rgb: np.ndarray, exif: bytes) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", exif=exif)
    return buf.getvalue()


def png_exif_at_end(rgb: np.ndarray, exif: bytes) -> bytes:
    """A PNG whose eXIf chunk comes after the image data, just before IEND (OpenCV still reads it)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    data = buf.getvalue()
    end = data.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(exif)) + b"eXIf" + exif + struct.pack(">I", zlib.crc32(b"eXIf" + exif))
    return data[:end] + chunk + data[end:]


def cases(photo: np.ndarray) -> dict:
    """name -> (file bytes, the orientation the file says)."""
    out = {}
    for k in range(1, 9):
        out[f"jpeg-ii-{k}"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + tiff(k, False))]), k)
        out[f"png-{k}"] = (png_with_exif(photo, tiff(k, k % 2 == 0)), k)
    xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"
    jfif = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    for k in (3, 6, 8):
        out[f"jpeg-mm-{k}"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + tiff(k, True))]), k)
        out[f"jpeg-behind-jfif-icc-{k}"] = (jpeg_with(photo, [(0xE0, jfif), (0xE2, b"ICC_PROFILE\0\x01\x01"),
                                                              (0xE1, b"Exif\0\0" + tiff(k, False))]), k)
        out[f"jpeg-xmp-after-exif-{k}"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + tiff(k, False)), (0xE1, xmp)]), k)
    for k in (6, 8):  # what OpenCV does not read, the reference and the core must not read either
        out[f"jpeg-exif-behind-xmp-{k}"] = (jpeg_with(photo, [(0xE1, xmp), (0xE1, b"Exif\0\0" + tiff(k, False))]), 1)
        out[f"png-exif-after-idat-{k}"] = (png_exif_at_end(photo, tiff(k, True)), k)
    good = tiff(6, False)
    out["jpeg-orientation-9"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + tiff(9, False))]), 1)
    out["jpeg-orientation-0"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + tiff(0, False))]), 1)
    out["jpeg-bad-byte-order"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + b"XX" + good[2:])]), 1)
    out["jpeg-ifd-past-end"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + good[:4] + struct.pack("<I", 4000)
                                                   + good[8:])]), 1)
    out["jpeg-truncated-ifd"] = (jpeg_with(photo, [(0xE1, b"Exif\0\0" + good[:14])]), 1)
    out["jpeg-no-exif"] = (jpeg_with(photo, []), 1)
    return out


@pytest.fixture(scope="module")
def harness(android_jar, tmp_path_factory):
    return build_harness([CORE / "ExifOrientation.java"], REPO / "tests/java/ExifHarness.java",
                         tmp_path_factory.mktemp("exif-java"), android_jar)


def test_java_orientation_is_what_cv2_and_the_reference_apply(harness, sample_photos, tmp_path):
    photo = dict(sample_photos)["scikit_image/chelsea.png"][:60, :90]  # a real photo, not square
    work = []
    for name, (data, said) in cases(photo).items():
        base = tmp_path / name
        (base.parent / f"{name}.img").write_bytes(data)
        raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        rgb = raw[:, :, ::-1].astype(np.uint32)
        argb = (0xFF << 24) | (rgb[:, :, 0] << 16) | (rgb[:, :, 1] << 8) | rgb[:, :, 2]
        (base.parent / f"{name}.raw").write_bytes(struct.pack(">ii", raw.shape[1], raw.shape[0])
                                                  + argb.astype(">u4").tobytes())
        work.append((name, data, said, raw))
    run = subprocess.run(["java", "-cp", str(harness), "ExifHarness", *[str(tmp_path / n) for n, *_ in work]],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for name, data, said, raw in work:
        out = (tmp_path / f"{name}.out").read_bytes()
        orientation, w, h = struct.unpack(">iii", out[:12])
        assert orientation == said, name
        argb = np.frombuffer(out[12:], ">u4").reshape(h, w)
        java_rgb = np.stack([(argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF], axis=-1).astype(np.uint8)
        opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert np.array_equal(java_rgb, opencv), name
        (tmp_path / f"{name}.check").write_bytes(data)
        ours = load_image(tmp_path / f"{name}.check")
        if name.startswith("png"):  # lossless: the reference decodes the same pixels
            assert np.array_equal(ours, java_rgb), name
        else:  # PIL's and OpenCV's JPEG decoders may differ by a level; the geometry may not
            assert ours.shape == java_rgb.shape and np.abs(ours.astype(int) - java_rgb).max() <= 4, name
        if "behind-xmp" in name:  # the case PIL's own exif_transpose (the reference before) reads differently
            from PIL import ImageOps
            assert ImageOps.exif_transpose(Image.open(io.BytesIO(data))).size != (raw.shape[1], raw.shape[0])
        turned = said != 1
        assert turned == (not np.array_equal(raw, opencv[:, :, ::-1]) or raw.shape != opencv.shape), name
