"""Benchmark: `lite-tools parity` throughput on 32 images for PPLCNet_x1_0 and SSD-MobileNetV1-300, split into
preprocessing (our numpy reference), reference inference (Paddle Inference, CPU fp32, 1 thread, no IR passes)
and Lite inference (Paddle Lite x86, MobileConfig), measured side by side in one run, plus the Lite/Paddle ratio."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
IMAGES = 32


def main() -> int:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    from lite_tools import zoo
    from lite_tools.config import resolve
    from lite_tools.parity import check
    from lite_tools.reference import synthetic_images

    images = [(f"img{i}", img) for i, img in enumerate(synthetic_images(IMAGES, seed=99))]
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
