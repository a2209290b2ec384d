"""The fp16 estimate (lite_tools/parity/fp16.py) for the zoo's PP-LCNet_x1_0 on the three inputs measured on an
ARMv8.2 fp16 Paddle Lite runtime (issue 12), printed beside the device's figures, so the gap between estimate and
device stays visible. Also today's weights-only estimate, which --fp16 used before.

    .venv/bin/python scripts/bench_fp16.py      # needs build/sample-photos (scripts/fetch_sample_photos.sh)

The document page here is rendered by this script (PIL's default font); the device's page was another rendering,
so that row compares like with like only roughly.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# ARMv8.2 fp16 Paddle Lite vs x86 fp32, zoo PP-LCNet_x1_0, 224x224, 1 thread (issue 12)
DEVICE = {"grace_hopper.jpg": (0.0139, False), "document page": (0.0078, False), "U(-2,2) noise, seed 0": (0.064, True)}


def document_page() -> np.ndarray:
    """A white A4-ish page of black text lines, deterministic."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(page)
    words = "the quick brown fox jumps over the lazy dog while fp16 rounds every tensor".split()
    for line in range(40):
        text = " ".join(words[(line * 3 + k) % len(words)] for k in range(11))
        draw.text((60, 50 + line * 25), text, fill="black")
    return np.asarray(page)


def inputs(config) -> dict:
    from lite_tools.reference import preprocess
    from lite_tools.reference.images import load_folder

    photos = REPO / "build" / "sample-photos" / "matplotlib"
    loaded = dict(load_folder(photos)[0]) if photos.is_dir() else {}
    if "grace_hopper.jpg" not in loaded:
        sys.exit(f"{photos}/grace_hopper.jpg missing: run scripts/fetch_sample_photos.sh")
    return {"grace_hopper.jpg": preprocess(loaded["grace_hopper.jpg"], config).tensor,
            "document page": preprocess(document_page(), config).tensor,
            "U(-2,2) noise, seed 0": np.random.default_rng(0).uniform(-2, 2, (1, 3, 224, 224)).astype(np.float32)}


def top2(p: np.ndarray) -> str:
    return " ".join(f"{int(i)}:{p[i]:.3f}" for i in np.argsort(-p)[:2])


def main() -> None:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    from lite_tools import zoo
    from lite_tools.model import files, program as programs
    from lite_tools.parity import fp16, metrics
    from lite_tools.parity.quant_estimate import write_estimated_params

    mf = files.locate(zoo.exported("PPLCNet_x1_0"))
    tensors = inputs(zoo.config_for("PPLCNet_x1_0"))
    with tempfile.TemporaryDirectory() as tmp:
        rounded = Path(tmp) / "fp16.pdiparams"
        write_estimated_params(programs.load_program(mf.model_file), mf.param_file, rounded, None, True)
        batch = [[t] for t in tensors.values()]
        full = fp16.run_isolated(mf.model_file, mf.param_file, rounded, batch, Path(tmp))  # (fp32, estimate)
        weights_only = fp16.run_isolated(mf.model_file, rounded, rounded, batch, Path(tmp))  # (weights, estimate)
    print("zoo PP-LCNet_x1_0, max |fp16 - fp32| on the probabilities (estimate in Paddle vs ARMv8.2 device)")
    print(f"{'input':24s} {'device':>8s} {'estimate':>9s} {'weights only':>13s} {'cosine':>9s}  top-2 fp32 -> estimate"
          "  (device swapped?)  overflows")
    for (name, (device, swapped)), (ref, est, over), (w, _, _) in zip(DEVICE.items(), full, weights_only):
        p, q = ref[0][0], est[0][0]
        print(f"{name:24s} {device:8.4f} {metrics.max_abs(p, q):9.4f} {metrics.max_abs(p, w[0][0]):13.4f} "
              f"{metrics.cosine(p, q):9.6f}  {top2(p)} -> {top2(q)}  ({'yes' if swapped else 'no'})  {len(over)}")


if __name__ == "__main__":  # spawn context: the estimate's child re-imports this module
    main()
