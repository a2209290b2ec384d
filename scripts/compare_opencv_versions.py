"""Where two OpenCV wheels' cv2.resize disagree on uint8 photos: per interpolation, with Intel IPP on (the wheels'
default) and off, the pixels that differ and by how much.

This process's cv2 (the .venv's, 4.6.0.66 as PaddleClas 2.6.0 installs) is one side; the other runs in a child
Python whose sys.path starts with --other (e.g. `pip install --no-deps --target /tmp/cv410
opencv-python-headless==4.10.0.84`). Inputs: the sample photos of scripts/fetch_sample_photos.sh, decoded RGB.
Not part of CI.

    .venv/bin/python scripts/compare_opencv_versions.py --other /tmp/cv410
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
INTERPS = {"nearest": 0, "linear": 1, "cubic": 2, "area": 3, "lanczos4": 4}

# Runs in the child: resize every (image, size, interp, ipp) job of jobs.npz, write outputs.npz.
CHILD = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import cv2
jobs = np.load(sys.argv[2], allow_pickle=True)
images, specs = jobs["images"], jobs["specs"]
out = {}
for i, (img_index, w, h, interp, ipp) in enumerate(specs):
    cv2.ipp.setUseIPP(bool(ipp))
    out[str(i)] = cv2.resize(images[img_index], (int(w), int(h)), interpolation=int(interp))
np.savez(sys.argv[3], version=cv2.__version__, **out)
"""


def sample_photos():
    import cv2

    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_sample_photos.sh")], capture_output=True,
                          text=True, check=True, env=dict(os.environ, LITE_TOOLS_PYTHON=sys.executable))
    root = Path(proc.stdout.strip().splitlines()[-1])
    photos = []
    for line in (root / "SOURCES.txt").read_text().splitlines():
        name = line.split("\t")[0]
        photos.append((name, np.ascontiguousarray(cv2.imread(str(root / name), cv2.IMREAD_COLOR)[:, :, ::-1])))
    return photos


def target_sizes(w: int, h: int) -> list:
    """PaddleClas / PaddleDetection sizes: resize-short 256 (Python round), fixed squares, an upscale x1.5."""
    p = 256 / min(w, h)
    return [(round(w * p), round(h * p)), (224, 224), (320, 320), (640, 640), (round(w * 1.5), round(h * 1.5))]


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", required=True, help="directory holding the other wheel's cv2 package")
    args = parser.parse_args()
    photos = sample_photos()
    images = np.empty(len(photos), dtype=object)
    images[:] = [img for _, img in photos]
    specs = [(i, w, h, interp, ipp) for i, (_, img) in enumerate(photos)
             for (w, h) in target_sizes(img.shape[1], img.shape[0])
             for interp in INTERPS.values() for ipp in (1, 0)]
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "jobs.npz", images=images, specs=np.array(specs))
        subprocess.run([sys.executable, "-c", CHILD, args.other, str(Path(tmp) / "jobs.npz"),
                        str(Path(tmp) / "outputs.npz")], check=True)
        other = np.load(Path(tmp) / "outputs.npz")
        other_version = str(other["version"])
        theirs = [other[str(i)] for i in range(len(specs))]
    print(f"cv2 {cv2.__version__} (this process) vs cv2 {other_version} ({args.other}), {len(photos)} photos, "
          f"sizes per photo: resize-short 256, 224x224, 320x320, 640x640, x1.5")
    print(f"{'interp':9} {'IPP':4} {'images differing':>17} {'pixels differing':>22} {'max':>4}")
    for name, interp in INTERPS.items():
        for ipp in (1, 0):
            n_img = n_px = total = worst = 0
            where = {}
            for k, (i, w, h, it, flag) in enumerate(specs):
                if it != interp or flag != ipp:
                    continue
                cv2.ipp.setUseIPP(bool(ipp))
                ours = cv2.resize(photos[i][1], (w, h), interpolation=interp)
                diff = np.abs(ours.astype(np.int16) - theirs[k])
                total += diff.size
                if diff.any():
                    n_img += 1
                    n_px += int((diff > 0).sum())
                    worst = max(worst, int(diff.max()))
                    where.setdefault(photos[i][0], []).append(f"{w}x{h}:{int((diff > 0).sum())}")
            print(f"{name:9} {'on' if ipp else 'off':4} {n_img:>8}/{len(photos) * 5:<8} "
                  f"{n_px:>10} ({n_px / total:.2e}) {worst:>4}")
            for photo, hits in list(where.items())[:3]:
                print(f"{'':15}{photo}: {', '.join(hits)}")
    cv2.ipp.setUseIPP(True)


if __name__ == "__main__":
    main()
