"""Benchmark: memory of `lite-tools parity` on images whose resize is huge (issue 10, item 4; probe case P19).

An 8 KB 4000x1 PNG under imagenet-cls's resize_short 256 asks for a 1,024,000 x 256 resized image; before resize
and crop were fused that took 18.8 GB and 52 s. For each image set this runs the real CLI
(`python -m lite_tools parity PPLCNet_x1_0 --preset imagenet-cls --images DIR`), samples the RSS of every process
of its tree from /proc every 50 ms, and prints the curve of the tree's total RSS over time, each process's peak
(VmHWM; at the end getrusage's ru_maxrss of all waited-for children), the wall time and PASS/FAIL against the goal:
every process of the tree under 1 GB max RSS. A normal photo is the comparison; a 48 KB 20000x20000 PNG beside it shows that decoding is bounded (it is
skipped on its header).
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GOAL_MB = 1024
MODEL, PRESET = "PPLCNet_x1_0", "imagenet-cls"
POINTS = 12  # rows of the printed curve


def _blank_png(path: Path, w: int, h: int) -> None:
    """A w x h 1-bit PNG of zeros, compressed as it is streamed (20000x20000 is 48 KB): a decompression bomb."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    comp = zlib.compressobj(9)
    row = b"\0" * (1 + (w + 7) // 8)
    data = b"".join([comp.compress(row * min(256, h - y)) for y in range(0, h, 256)] + [comp.flush()])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def _children() -> dict:
    """{ppid: [pid]} of every process visible in /proc."""
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree(root: int) -> list:
    kids, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(args: list) -> dict:
    """Run `args`, sampling its process tree; {seconds, code, curve [(t, tree MB)], peak per process MB, ...}."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    curve, hwm, names = [], {}, {}
    while proc.poll() is None:
        total = 0
        for pid in _tree(proc.pid):
            rss = _status_kb(pid, "VmRSS")
            total += rss
            hwm[pid] = max(hwm.get(pid, 0), _status_kb(pid, "VmHWM"), rss)
            if pid not in names:
                try:
                    names[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
                except OSError:
                    names[pid] = "?"
        curve.append((time.perf_counter() - started, total / 1024))
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "code": proc.returncode, "curve": curve, "stdout": out, "stderr": err,
            "per_process": {pid: kb / 1024 for pid, kb in hwm.items()}, "names": names}


def _print_curve(curve: list) -> None:
    if not curve:
        return
    peak = max(mb for _, mb in curve)
    step = max(1, len(curve) // POINTS)
    picked = curve[::step]
    if curve[-1] not in picked:
        picked.append(curve[-1])
    for t, mb in picked:
        bar = "#" * int(round(40 * mb / max(peak, 1)))
        print(f"    {t:6.2f}s {mb:8.1f} MB {bar}")


def main() -> int:
    os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "bench-cache"))
    import numpy as np
    from PIL import Image

    from lite_tools import zoo

    model = zoo.exported(MODEL)
    rng = np.random.RandomState(4)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        sets = {}
        for label, (w, h) in (("sliver 4000x1 PNG", (4000, 1)), ("sliver 1x4000 PNG", (1, 4000))):
            d = Path(tmp) / label.split()[1]
            d.mkdir()
            Image.fromarray(rng.randint(0, 256, (h, w, 3)).astype(np.uint8)).save(d / "sliver.png")
            sets[label] = d
        photo = Path(tmp) / "photo"
        photo.mkdir()
        (photo / "landscape.jpg").write_bytes((REPO / "lite_tools" / "samples" / "landscape.jpg").read_bytes())
        sets["photo (comparison)"] = photo
        bomb = Path(tmp) / "bomb"
        bomb.mkdir()
        (bomb / "landscape.jpg").write_bytes((photo / "landscape.jpg").read_bytes())
        _blank_png(bomb / "bomb.png", 20000, 20000)
        sets["photo + 20000x20000 PNG (skipped)"] = bomb
        # once, so that the x86 .nb is cached and every measured run does the same work
        subprocess.run([sys.executable, "-m", "lite_tools", "parity", str(model), "--preset", PRESET, "--images",
                        str(photo), "--quiet"], capture_output=True, check=False)
        print(f"lite-tools parity {MODEL} --preset {PRESET} (goal: every process of the tree under {GOAL_MB} MB "
              f"max RSS)")
        for label, folder in sets.items():
            r = measure([sys.executable, "-m", "lite_tools", "parity", str(model), "--preset", PRESET,
                         "--images", str(folder), "--quiet"])
            worst = max(r["per_process"].values(), default=0.0)
            verdict = "PASS" if r["code"] == 0 and worst < GOAL_MB else "FAIL"
            ok = ok and verdict == "PASS"
            first = (r["stdout"].strip().splitlines() or r["stderr"].strip().splitlines()[-1:] or [""])[0]
            print(f"\n{label}: exit {r['code']}, {r['seconds']:.1f} s, tree peak "
                  f"{max((mb for _, mb in r['curve']), default=0):.0f} MB, largest process {worst:.0f} MB "
                  f"-> {verdict}   [{first}]")
            for pid, mb in sorted(r["per_process"].items(), key=lambda kv: -kv[1]):
                print(f"    pid {pid:>7d} max RSS {mb:7.1f} MB  {r['names'].get(pid, '')}")
            print("    tree RSS over time:")
            _print_curve(r["curve"])
    # the largest process of all runs (the warm-up too) as the kernel counted it: the /proc samples cannot miss
    # a peak between two polls
    children_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ok = ok and children_max < GOAL_MB
    print(f"\ngetrusage(RUSAGE_CHILDREN).ru_maxrss: {children_max:.0f} MB (the largest process of all runs)")
    print(f"{'PASS' if ok else 'FAIL'}: every run under {GOAL_MB} MB per process "
          "(before the fusion, the 4000x1 PNG took 18.8 GB and 52 s; probe case P19)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
