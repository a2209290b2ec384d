"""Benchmark: the reference preprocessing per 1920x1080 image against issue 12's goal, then `lite-tools parity`
throughput.

1. Preprocessing (lite_tools.reference.preprocess: the fused resize-and-crop of reference/cv2_resize.py or
   reference/pil_resize.py, bit-exact with the upstream's resampler, then the normalisation) on the real sample
   photos (scripts/fetch_sample_photos.sh: matplotlib's, scikit-image's and scikit-learn's sample images), each
   scaled to 1920x1080 by cv2.resize INTER_CUBIC (aspect ratio not kept: a full HD frame of photo content), or
   synthetic 1920x1080 images when the photos cannot be fetched (the line says which). Configs: the cv2 bilinear
   classifier configs (imagenet-cls = inference_cls.yaml, pulc-person-exists: resize_short 256 + crop 224), the SSD
   300x300 cv2 bilinear stretch, whose goal is <= 3 ms per image, and PP-HGNetV2's PIL bicubic (resize_short 232 +
   crop 224), printed beside them without a goal. Each image is preprocessed REPEATS times; "min" is the mean over
   the images of each image's fastest run (the figure the goal is judged on: the machine may be shared), "median"
   the median of all runs, "cpu" the min's counterpart in this thread's CPU time (what the runs cost when other
   processes take the cores: the wall-clock figures then say more about the load than about the code), "before"
   the same for the float64 pipeline lite-tools ran before issue 12 (preprocess_before), run by run beside ours,
   and "ratio" min / before: hosts differ by 2x and more in these figures, the ratio much less.
2. `lite-tools parity` on 32 synthetic images (96..720 px, not 1920x1080) for PPLCNet_x1_0 and SSD-MobileNetV1-300,
   split into preprocessing, reference inference (Paddle Inference, CPU fp32, 1 thread, no IR passes) and Lite
   inference (Paddle Lite x86, MobileConfig), plus the Lite/Paddle ratio. Its preprocess column is on those small
   images, so it is not the goal's figure (issue 12's "today 9.6 ms" was read from it). --preprocess-only skips
   it (it needs Paddle and Paddle Lite and takes a minute or more).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
IMAGES = 32
FRAME = (1920, 1080)
REPEATS = 7
GOAL_MS = 3.0
# (preset, what it is, judged against the goal)
PREPROCESS_CONFIGS = (("imagenet-cls", "cv2 bilinear, short 256 + crop 224 (inference_cls.yaml)", True),
                      ("pulc-person-exists", "cv2 bilinear, short 256 + crop 224 (PULC)", True),
                      ("ssd-mobilenet-300", "cv2 bilinear, 300x300 stretch (PaddleDetection)", True),
                      ("pphgnetv2-cls", "PIL bicubic, short 232 + crop 224 (PP-HGNetV2)", False))


def frames() -> tuple:
    """([1920x1080 RGB uint8], where they came from)."""
    import cv2

    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_sample_photos.sh")], capture_output=True, text=True,
                          env=dict(os.environ, LITE_TOOLS_PYTHON=sys.executable))
    if proc.returncode == 0:
        root = Path(proc.stdout.strip().splitlines()[-1])
        out = []
        for line in (root / "SOURCES.txt").read_text().splitlines():
            bgr = cv2.imread(str(root / line.split("\t")[0]), cv2.IMREAD_COLOR)
            if bgr is not None:
                out.append(np.ascontiguousarray(cv2.resize(bgr, FRAME, interpolation=cv2.INTER_CUBIC)[:, :, ::-1]))
        if out:
            return out, f"{len(out)} sample photos scaled to {FRAME[0]}x{FRAME[1]} by cv2 INTER_CUBIC"
    from lite_tools.reference import synthetic_images

    out = [np.ascontiguousarray(cv2.resize(img, FRAME, interpolation=cv2.INTER_CUBIC))
           for img in synthetic_images(8, seed=99)]
    return out, (f"{len(out)} SYNTHETIC images scaled to {FRAME[0]}x{FRAME[1]} (sample photos unavailable: "
                 f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'fetch failed'})")


def preprocess_before(img, config):
    """The preprocessing lite-tools ran before issue 12's 8-bit resamplers, for the side-by-side figure: the float64
    resampler (lite_tools/reference/resize.py, kept for scripts/measure_resize.py) on the crop window, the channel
    flip, then the normalisation on those float64 values (normalise_values: each upstream's arithmetic, as then),
    to NCHW."""
    from lite_tools.config import ChannelOrder
    from lite_tools.reference import resize as float64_resize
    from lite_tools.reference.preprocess import normalise_values, resized_size

    h, w = img.shape[:2]
    rw, rh = resized_size(config, w, h)
    cw, ch = config.crop or (rw, rh)
    window = ((rw - cw) // 2, (rh - ch) // 2, cw, ch)
    r = config.resize
    out = float64_resize.resize(img, rw, rh, r.interp, r.antialias, window=window)
    if config.channel_order == ChannelOrder.BGR:
        out = out[:, :, ::-1]
    return np.ascontiguousarray(normalise_values(out, config).transpose(2, 0, 1)[None])


def time_preprocess(config, images: list) -> tuple:
    """(mean over images of the fastest of REPEATS runs, median of all runs, mean of the fastest CPU times, mean of
    the fastest runs of preprocess_before), ms; the two pipelines take turns run by run, so both see the same
    load."""
    from lite_tools.reference import preprocess

    fastest, runs, cpu, before = [], [], [], []
    for img in images:
        preprocess(img, config)  # warm: tables, caches
        wall, used, old = [], [], []
        for _ in range(REPEATS):
            start, start_cpu = time.perf_counter(), time.thread_time()
            preprocess(img, config)
            wall.append(time.perf_counter() - start)
            used.append(time.thread_time() - start_cpu)
            start = time.perf_counter()
            preprocess_before(img, config)
            old.append(time.perf_counter() - start)
        fastest.append(min(wall))
        cpu.append(min(used))
        before.append(min(old))
        runs.extend(wall)
    return (float(np.mean(fastest)) * 1e3, float(np.median(runs)) * 1e3, float(np.mean(cpu)) * 1e3,
            float(np.mean(before)) * 1e3)


def preprocess_table() -> bool:
    from lite_tools.config import resolve

    images, origin = frames()
    print(f"Reference preprocessing per {FRAME[0]}x{FRAME[1]} image ({origin}; {REPEATS} runs each; goal "
          f"<= {GOAL_MS:g} ms for the cv2 bilinear configs)")
    print(f"{'preset':20s} {'min':>8s} {'median':>8s} {'cpu':>8s} {'before':>8s} {'ratio':>6s}  {'goal':10s} config")
    met = True
    for preset, what, judged in PREPROCESS_CONFIGS:
        best, median, cpu, before = time_preprocess(resolve(preset=preset), images)
        verdict = ("met" if best <= GOAL_MS else "MISSED") if judged else "(no goal)"
        met = met and (best <= GOAL_MS or not judged)
        print(f"{preset:20s} {best:6.2f}ms {median:6.2f}ms {cpu:6.2f}ms {before:6.2f}ms {best / before:5.2f}x  "
              f"{verdict:10s} {what}")
    print(f"(before: the float64 resampler and normalisation lite-tools ran before issue 12, timed run by run beside "
          f"ours; the issue's goal {GOAL_MS:g} ms against its 'today 9.6 ms' is a ratio of {GOAL_MS / 9.6:.2f}x)")
    return met


def throughput_table() -> None:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    from lite_tools import zoo
    from lite_tools.config import resolve
    from lite_tools.parity import check
    from lite_tools.reference import synthetic_images

    images = [(f"img{i}", img) for i, img in enumerate(synthetic_images(IMAGES, seed=99))]
    print(f"\nlite-tools parity on {IMAGES} synthetic images (96..720 px)")
    print(f"{'model':22s} {'images/s':>9s} {'preprocess':>11s} {'reference':>10s} {'lite':>9s} {'lite/ref':>9s}"
          "  verdict")
    for name in ("PPLCNet_x1_0", "SSD_MobileNetV1_300"):
        report = check.check(zoo.exported(name), resolve(preset=zoo.REGISTRY[name].preset), images)
        t = report.timings
        total = t["preprocess"] + t["reference"] + t["lite"]
        print(f"{name:22s} {IMAGES / total:9.1f} {t['preprocess'] / IMAGES * 1e3:9.1f}ms "
              f"{t['reference'] / IMAGES * 1e3:8.1f}ms {t['lite'] / IMAGES * 1e3:7.1f}ms "
              f"{t['lite'] / t['reference']:8.2f}x"
              f"  {'PASS' if report.ok else 'FAIL'}")
    print("(per-image times; images/s counts the three measured stages, not the one-off opt and engine start-up)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preprocess-only", action="store_true", help="skip the parity throughput table")
    args = parser.parse_args()
    met = preprocess_table()
    if not args.preprocess_only:
        throughput_table()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
