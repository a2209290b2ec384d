"""How far the reference's resamplers are from what PaddleClas/PaddleDetection run: OpenCV's cv2.resize (default
backend, opencv-python 4.6.0.66) and Pillow's resize (backend: pil), in grey levels (0..255) and in normalised units
(/ 255 / 0.225, the ImageNet std's smallest channel), on the sample photos of matplotlib's, scikit-image's and
scikit-learn's wheels (scripts/fetch_sample_photos.sh; generated photos when they are not fetched). Two columns:
today's 8-bit resamplers (reference/cv2_resize.py, reference/pil_resize.py) and, beside them, the float64 resampler
lite-tools used before issue 12 (reference/resize.py, which never rounds to 8 bits). IPP's code is picked by CPU:
the table is against its AVX2 code (OPENCV_IPP=avx2, pinned here as in the tests, before cv2 is imported); the last
two lines, from a child process without the pin, measure the code this CPU runs by default (AVX-512 CPUs: k0, which
ours models too; other codes are compared with l9)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
HOST_DISPATCH = "--host-dispatch"  # the child's flag: measure with the IPP code this CPU picks itself
if HOST_DISPATCH not in sys.argv:
    os.environ["OPENCV_IPP"] = "avx2"


def photos() -> list:
    import cv2

    proc = subprocess.run(["bash", str(REPO / "scripts/fetch_sample_photos.sh")], capture_output=True, text=True)
    if proc.returncode == 0:
        root = Path(proc.stdout.strip().splitlines()[-1])
        names = [ln.split("\t")[0] for ln in (root / "SOURCES.txt").read_text().splitlines()]
        return [cv2.imread(str(root / n), cv2.IMREAD_COLOR)[:, :, ::-1].copy() for n in names]
    from lite_tools.reference import synthetic_images
    print(f"(sample photos not fetched: {proc.stderr.strip()[:120]}; generated photos instead)")
    return synthetic_images(24, seed=7)


def main() -> int:
    import cv2
    from PIL import Image

    from lite_tools.config import Interp
    from lite_tools.reference import cv2_resize, pil_resize
    from lite_tools.reference.resize import resize as float_resize

    def opencv(flag):
        return lambda im, size: cv2.resize(im, size, interpolation=flag)

    def pillow(flag):
        return lambda im, size: np.asarray(Image.fromarray(im).resize(size, flag))

    cases = [("cv2 INTER_LINEAR", Interp.BILINEAR, False, opencv(cv2.INTER_LINEAR),
              lambda im, size: cv2_resize.resize(im, *size, 1)),
             ("cv2 INTER_CUBIC (IPP)", Interp.BICUBIC, False, opencv(cv2.INTER_CUBIC),
              lambda im, size: cv2_resize.resize(im, *size, 2)),
             ("PIL BILINEAR", Interp.BILINEAR, True, pillow(Image.BILINEAR),
              lambda im, size: pil_resize.resize(im, *size, "bilinear")),
             ("PIL BICUBIC", Interp.BICUBIC, True, pillow(Image.BICUBIC),
              lambda im, size: pil_resize.resize(im, *size, "bicubic"))]
    images = photos()
    print(f"{len(images)} photos, sizes 224x224, 300x300 and half")
    print(f"{'against':22s} {'8-bit max':>10s} {'values off':>11s} {'float64 max':>12s} {'float64 mean':>13s} "
          f"{'float64 max normalised':>23s}")
    for label, interp, aa, theirs, ours in cases:
        worst_new, off, total, worst_old, means = 0, 0, 0, 0.0, []
        for img in images:
            for size in ((224, 224), (300, 300), (max(1, img.shape[1] // 2), max(1, img.shape[0] // 2))):
                ref = theirs(img, size).astype(np.int64)
                new = ours(img, size).astype(np.int64)
                worst_new = max(worst_new, int(np.abs(new - ref).max()))
                off += int(np.count_nonzero(new != ref))
                total += ref.size
                old = np.clip(float_resize(img, *size, interp, aa), 0, 255)
                d = np.abs(old - ref)
                worst_old = max(worst_old, float(d.max()))
                means.append(float(d.mean()))
        print(f"{label:22s} {worst_new:10d} {off / total:11.2e} {worst_old:12.2f} {np.mean(means):13.3f} "
              f"{worst_old / 255 / 0.225:23.4f}")
    warp_affine(images, cv2, cv2_resize, float_resize, Interp)
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IPP"}
    child = subprocess.run([sys.executable, __file__, HOST_DISPATCH], env=env, capture_output=True, text=True)
    print(child.stdout.strip() or f"(host dispatch not measured: {child.stderr.strip()[-200:]})")
    return 0


def host_dispatch() -> int:
    """Two lines: ours against cv2 INTER_CUBIC as this CPU's own IPP code computes it, one thread: its resize
    (dsize 224x224 and 300x300, and keep-ratio 608 where that scale is a dsize) and its warpAffine (keep-ratio
    608 elsewhere), both modelled for l9 and k0."""
    import cv2

    from lite_tools.reference import cv2_resize

    cv2.setNumThreads(1)
    version = cv2.ipp.getIppVersion()
    code = next(iter(re.findall(r"\((\w\d)\)", version)), "?")  # "ippIP AVX-512F/... (k0) 2020.0.0 ..."
    model = code if code in cv2_resize.IPP_DISPATCHES else "l9"
    counts = {"resize": [0, 0, 0], "warp": [0, 0, 0]}

    def tally(kind, ref, new):
        c = counts[kind]
        c[0], c[1] = c[0] + int(np.count_nonzero(new != ref)), c[1] + ref.size
        c[2] = max(c[2], int(np.abs(new.astype(np.int64) - ref).max()))

    for img in photos():
        for size in ((224, 224), (300, 300)):
            tally("resize", cv2.resize(img, size, interpolation=cv2.INTER_CUBIC),
                  cv2_resize.resize(img, *size, 2, ipp_dispatch=model))
        h, w = img.shape[:2]
        s = 608 / min(h, w)
        dw, dh = cv2_resize.output_geometry(w, h, 0, 0, s, s)[:2]
        affine = cv2_resize._affine(w, h, dw, dh, s, s)  # else this scale is a dsize: IPP's resize runs
        tally("warp" if affine else "resize", cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC),
              cv2_resize.resize(img, 0, 0, 2, fx=s, fy=s, ipp_dispatch=model))
    for kind, what in (("resize", "resize"), ("warp", "warpAffine, keep-ratio 608")):
        off, total, worst = counts[kind]
        print(f"{'cv2 CUBIC, host IPP':22s} {worst:10d} {off / total:11.2e}   (this CPU runs IPP's {code}; {what}, "
              f"ours as {model}: {off} of {total} values off)")
    return 0


def warp_affine(images, cv2, cv2_resize, float_resize, Interp) -> None:
    """PaddleDetection's keep_ratio call, cv2.resize(im, None, fx=s, fy=s) with s = 608 / short side (800 / 1333
    capped as well): IPP's warpAffine (reference/ipp_warp.py), with one OpenCV thread (its result depends on the
    thread count)."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    worst_new = off = total = 0
    worst_old, means = 0.0, []
    try:
        for img in images:
            h, w = img.shape[:2]
            for t_min, t_max in ((608, 608), (800, 1333)):
                s = t_min / min(w, h)
                s = t_max / max(w, h) if round(s * max(w, h)) > t_max else s
                ref = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC).astype(np.int64)
                new = cv2_resize.resize(img, 0, 0, 2, fx=s, fy=s).astype(np.int64)
                worst_new = max(worst_new, int(np.abs(new - ref).max()))
                off += int(np.count_nonzero(new != ref))
                total += ref.size
                d = np.abs(np.clip(float_resize(img, ref.shape[1], ref.shape[0], Interp.BICUBIC, False), 0, 255) - ref)
                worst_old = max(worst_old, float(d.max()))
                means.append(float(d.mean()))
    finally:
        cv2.setNumThreads(threads)
    print(f"{'cv2 CUBIC keep_ratio':22s} {worst_new:10d} {off / total:11.2e} {worst_old:12.2f} {np.mean(means):13.3f} "
          f"{worst_old / 255 / 0.225:23.4f}   (fx/fy: IPP warpAffine, one OpenCV thread; keep-ratio 608 and 800)")


if __name__ == "__main__":
    sys.exit(host_dispatch() if HOST_DISPATCH in sys.argv else main())
