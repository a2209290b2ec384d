"""Benchmark: `lite-tools opt` against calling Paddle Lite's `paddle_lite_opt` directly, side by side in one run.

For PPLCNet_x1_0 and SSD-MobileNetV1-300 (zoo exports), target arm (the unpatched exports crash the direct x86
optimizer, so arm is the only target where the direct tool is a fair baseline). Median of 5 rounds, each running
all three once:
  direct  paddle_lite_opt --model_file .. --param_file .. --valid_targets arm --optimize_out ..
  cold    lite-tools opt MODEL --target arm --no-cache   (validation, compat pass, child optimizer, manifest)
  cached  lite-tools opt MODEL --target arm              (same bytes and options: served from the cache)
Goals: cold <= 1.15x direct, cached <= 0.05x direct.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
RUNS = 5
GOALS = {"cold": 1.15, "cached": 0.05}


def timed(cmd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, cmd[:3]))} failed: {proc.stderr.strip()[-300:]}")
    return elapsed


def medians(commands: dict) -> dict:
    """{label: [command of each round]} -> {label: median seconds}. Each round runs every label once, so drift in
    the machine's load spreads over all of them instead of biasing whichever ran last."""
    times = {label: [] for label in commands}
    for i in range(RUNS):
        for label, per_round in commands.items():
            times[label].append(timed(per_round[i]))
    return {label: statistics.median(t) for label, t in times.items()}


def main() -> int:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    from lite_tools import zoo

    met = {goal: True for goal in GOALS}
    print(f"{'model':22s} {'direct':>9s} {'cold':>9s} {'cached':>9s} {'cold/direct':>12s} {'cached/direct':>14s} "
          f"{'python -c pass':>15s}")
    for name in ("PPLCNet_x1_0", "SSD_MobileNetV1_300"):
        export = zoo.exported(name)
        stem = zoo.REGISTRY[name].file_stem
        with tempfile.TemporaryDirectory() as tmp:
            direct_cmd = [BIN / "paddle_lite_opt", "--model_file", export / f"{stem}.pdmodel",
                          "--param_file", export / f"{stem}.pdiparams", "--valid_targets", "arm",
                          "--optimize_out_type", "naive_buffer", "--optimize_out"]
            ours = [BIN / "lite-tools", "opt", export, "--target", "arm", "-q", "--out"]
            timed(ours + [f"{tmp}/warm"])  # fills the cache for the cached runs
            m = medians({"direct": [direct_cmd + [f"{tmp}/direct{i}"] for i in range(RUNS)],
                         "cold": [ours + [f"{tmp}/cold{i}", "--no-cache"] for i in range(RUNS)],
                         "cached": [ours + [f"{tmp}/cached{i}"] for i in range(RUNS)],
                         # the floor under any Python command line here: the interpreter starting and stopping
                         "python": [[sys.executable, "-c", "pass"]] * RUNS})
        ratios = {"cold": m["cold"] / m["direct"], "cached": m["cached"] / m["direct"]}
        for goal in GOALS:
            met[goal] &= ratios[goal] <= GOALS[goal]
        print(f"{name:22s} {m['direct']:8.3f}s {m['cold']:8.3f}s {m['cached']:8.3f}s {ratios['cold']:11.2f}x "
              f"{ratios['cached']:13.3f}x {m['python']:8.3f}s ({m['python'] / m['direct']:.3f}x)")
    print("goals: " + ", ".join(f"{goal} <= {GOALS[goal]}x {'met' if met[goal] else 'NOT met'}" for goal in GOALS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
