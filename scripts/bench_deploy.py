"""Benchmark `lite-tools deploy`: wall time per stage for the two demo models (with `--apk`: the APK stage's goal is
<= 10 s warm per project, the toolchain already in its cache), then a batch of 8 models with -j 1 and -j 2 side by
side (the ratio is the speed-up of the process pool on this 2-core machine).

The batch uses 8 distinct zoo exports, so the opt cache cannot serve one model's result to another; each batch
run starts from an empty opt cache so both see the same cold work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
APK_GOAL_S = 10.0
BATCH = [("PPLCNet_x0_25", "imagenet-cls"), ("PPLCNet_x0_35", "imagenet-cls"), ("PPLCNet_x0_5", "imagenet-cls"),
         ("PPLCNet_x0_75", "imagenet-cls"), ("PPLCNet_x1_0", "imagenet-cls"), ("PULC_person_exists",
         "pulc-person-exists"), ("PULC_safety_helmet", "pulc-safety-helmet"), ("SSD_MobileNetV1_300",
         "ssd-mobilenet-300")]


def main() -> int:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    os.environ.setdefault("LITE_TOOLS_APK_CACHE", str(REPO / "build" / "apk-tools"))
    from lite_tools import zoo
    from lite_tools.apk import build as apk_build, toolchain
    from lite_tools.config import resolve
    from lite_tools.deploy import deploy
    from lite_tools.progress import Progress

    toolchain.ensure()  # fetched once (not timed): the goal is for the warm stage
    with tempfile.TemporaryDirectory() as tmp:
        print("per stage (s), demo models, warm opt cache:")
        stages = ("opt", "parity", "android", "flutter", "java core", "apk")
        print(f"{'model':22s}" + "".join(f"{s:>10s}" for s in stages) + f"{'total':>10s}")
        for model, preset in (("PULC_person_exists", "pulc-person-exists"), ("SSD_MobileNetV1_300",
                                                                             "ssd-mobilenet-300")):
            result = deploy(zoo.exported(model), resolve(preset=preset), Path(tmp) / model,
                            kinds=("android", "flutter"), name=model, progress=Progress(quiet=True), apk="")
            t = result.stages
            print(f"{model:22s}" + "".join(f"{t[s]:10.2f}" for s in stages) + f"{sum(t.values()):10.2f}")
            again = apk_build.build(Path(tmp) / model / "android").seconds
            verdict = "ok" if again <= APK_GOAL_S else "OVER"
            print(f"{'':22s}apk rebuilt warm: {again:.2f}s (goal <= {APK_GOAL_S:.0f} s: {verdict}; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")

        batch = Path(tmp) / "batch.yaml"
        batch.write_text("models:\n" + "".join(
            f"  - model: {zoo.exported(m)}\n    preset: {p}\n    name: {m}\n" for m, p in BATCH))
        walls = {}
        for jobs in (1, 2):
            shutil.rmtree(Path(os.environ["LITE_TOOLS_CACHE"]) / "opt", ignore_errors=True)
            shutil.rmtree(Path(tmp) / "batch-out", ignore_errors=True)
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "lite_tools", "deploy", "--batch", str(batch), "-j",
                                   str(jobs), "-q"], capture_output=True, text=True)
            walls[jobs] = time.perf_counter() - started
            last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()[-200:]
            print(f"batch of {len(BATCH)} with -j {jobs}: {walls[jobs]:.1f}s ({last})")
        print(f"-j 2 / -j 1 wall time: {walls[2] / walls[1]:.2f}x (speed-up {walls[1] / walls[2]:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
