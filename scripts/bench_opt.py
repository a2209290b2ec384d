"""Benchmark: `lite-tools opt` against calling Paddle Lite's `paddle_lite_opt` directly, side by side in one run.

For PPLCNet_x1_0 and SSD-MobileNetV1-300 (zoo exports), target arm (the unpatched exports crash the direct x86
optimizer, so arm is the only target where the direct tool is a fair baseline). Median of 9 rounds, each running
all three once:
  direct  paddle_lite_opt --model_file .. --param_file .. --valid_targets arm --optimize_out ..
  cold    lite-tools opt MODEL --target arm --no-cache   (validation, compat pass, child optimizer, manifest)
  cached  lite-tools opt MODEL --target arm              (same bytes and options: served from the cache)
  copy    cache.get_copy of the cached .nb, in this process: the part of `cached` that is the copy into OUT
Goals: cold <= 1.10x direct; cached <= 0.40x direct (see CACHED_GOAL_REASON).
"""

from __future__ import annotations

import functools
import json
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
RUNS = 9  # the machine is noisy: 5 rounds gave medians from 0.94x to 1.24x for the same code
GOALS = {"cold": 1.10, "cached": 0.40}
CACHED_GOAL_REASON = ("a hit is an interpreter start, imports, a few stats and one copy of the .nb into OUT (by the "
                      "kernel; an entry changed since it was recorded is hashed while copying). Copies, not the hard "
                      "links that made 0.28-0.34x: a link let `cp other.nb a/M.arm.nb` rewrite every other output "
                      "and the cache entry. The `copy` column is what they add")


def timed(cmd) -> float:
    """Seconds a command line takes, or a function (the in-process copy)."""
    start = time.perf_counter()
    if callable(cmd):
        cmd()
        return time.perf_counter() - start
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


def hit_copies(out: Path, tmp: str) -> list:
    """One function per round: the copy a cache hit makes (cache.get_copy) of the entry behind `out`'s .nb, timed
    among the command lines, so that it sees the same load (and the same dirty pages) as they do."""
    from lite_tools import cache

    manifest = json.loads(next(out.glob("*.manifest.json")).read_text())
    digest = manifest["targets"]["arm"]["sha256"]
    key = next(p.stem for p in (cache.root() / "opt").glob("*.json")
               if json.loads(p.read_text()).get("sha256") == digest)

    def copy(dest: Path):
        if not cache.get_copy("opt", key, ".nb", dest):
            raise SystemExit(f"bench: the cache entry {key} went away")
    return [functools.partial(copy, Path(tmp) / f"copy{i}.nb") for i in range(RUNS)]


def main() -> int:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    from lite_tools import zoo

    met = {goal: True for goal in GOALS}
    print(f"{'model':22s} {'direct':>9s} {'cold':>9s} {'cached':>9s} {'cold/direct':>12s} {'cached/direct':>14s} "
          f"{'copy (of cached)':>22s} {'python -c pass':>19s}")
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
                         "copy": hit_copies(Path(f"{tmp}/warm"), tmp),
                         "python": [[sys.executable, "-c", "pass"]] * RUNS})
        ratios = {"cold": m["cold"] / m["direct"], "cached": m["cached"] / m["direct"]}
        for goal in GOALS:
            met[goal] &= ratios[goal] <= GOALS[goal]
        print(f"{name:22s} {m['direct']:8.3f}s {m['cold']:8.3f}s {m['cached']:8.3f}s {ratios['cold']:11.2f}x "
              f"{ratios['cached']:13.3f}x {m['copy'] * 1000:7.1f} ms ({m['copy'] / m['cached']:5.1%}, "
              f"{m['copy'] / m['direct']:.3f}x) {m['python']:8.3f}s ({m['python'] / m['direct']:.3f}x)")
    print("goals: " + ", ".join(f"{goal} <= {GOALS[goal]}x {'met' if met[goal] else 'NOT met'}" for goal in GOALS))
    print(f"cached goal {GOALS['cached']}x: {CACHED_GOAL_REASON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
