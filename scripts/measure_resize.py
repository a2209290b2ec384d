"""How far our documented resampler (lite_tools.reference.resize) is from what PaddleClas/PaddleDetection run:
OpenCV's cv2.resize (default backend) and Pillow's resize (backend: pil), in grey levels (0..255) and in
normalised units (/ 255 / 0.225, the ImageNet std's smallest channel), on 24 generated photos."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    import cv2
    from PIL import Image

    from lite_tools.config import Interp
    from lite_tools.reference import synthetic_images
    from lite_tools.reference.resize import resize

    def opencv(flag):
        return lambda im, size: cv2.resize(im, size, interpolation=flag)

    def pillow(flag):
        return lambda im, size: np.asarray(Image.fromarray(im).resize(size, flag))

    cases = [("cv2 INTER_LINEAR", Interp.BILINEAR, False, opencv(cv2.INTER_LINEAR)),
             ("cv2 INTER_CUBIC", Interp.BICUBIC, False, opencv(cv2.INTER_CUBIC)),
             ("PIL BILINEAR", Interp.BILINEAR, True, pillow(Image.BILINEAR)),
             ("PIL BICUBIC", Interp.BICUBIC, True, pillow(Image.BICUBIC))]
    photos = synthetic_images(24, seed=7)
    print(f"{'against':18s} {'max levels':>10s} {'mean levels':>11s} {'max normalised':>15s}")
    for label, interp, aa, theirs in cases:
        worst, means = 0.0, []
        for img in photos:
            for size in ((224, 224), (300, 300), (img.shape[1] // 2, img.shape[0] // 2)):
                ours = np.clip(resize(img, *size, interp, aa), 0, 255)
                d = np.abs(ours - theirs(img, size).astype(np.float64))
                worst, _ = max(worst, float(d.max())), means.append(float(d.mean()))
        print(f"{label:18s} {worst:10.2f} {np.mean(means):11.3f} {worst / 255 / 0.225:15.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
