"""Benchmark: the app's gallery search (the Java EmbeddingSearcher over a memory-mapped lite-tools index, one
thread) on 10k and 100k items of 512-d, float32 and int8, with faiss IndexFlatIP (one thread, one query at a time,
as the app searches) beside it, measured in one run. Goals (issue 11): <= 1 ms per query at 10k and <= 10 ms at
100k (int8); int8 recall@1 >= 0.99 of float32's.

The gallery is clustered (one centre per product, 10 noisy photos each, unit vectors). Two query sets:
"perturbed" (a gallery item plus noise of norm 0.3: another photo of a known product, the app's case) and
"random" (unit vectors near nothing: the worst case for int8, whose near-ties then decide). recall@1 is the share of
queries whose int8 top-1 id is float32's. The Java side is JIT-warmed (one untimed pass over the queries).

    .venv/bin/python scripts/bench_search.py [--sizes 10000,100000] [--queries 200] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORE = REPO / "android_template/app/src/main/java/com/litetools/core"
DIM = 512
GOALS = {10_000: 1.0, 100_000: 10.0}  # int8 ms per query


def gallery(n: int, rng) -> np.ndarray:
    centres = rng.standard_normal((max(1, n // 10), DIM)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def java_search(classes: Path, index_file: Path, queries_file: Path, k: int, out: Path) -> tuple:
    subprocess.run(["java", "-XX:ActiveProcessorCount=1", "-cp", str(classes), "SearchBench", str(index_file),
                    str(queries_file), str(k), "1", str(out)], check=True)
    lines = out.read_text().splitlines()
    median, p90, mean = map(float, lines[0].split()[1:])
    return {"median_ms": median, "p90_ms": p90, "mean_ms": mean}, [list(map(int, ln.split())) for ln in lines[1:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import faiss

    from lite_tools.shitu import index

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        classes = tmp / "classes"
        sources = [CORE / "EmbeddingSearcher.java", REPO / "scripts/java/SearchBench.java"]
        subprocess.run(["javac", "--release", "8", "-d", str(classes), *map(str, sources)], check=True)
        for n in [int(s) for s in args.sizes.split(",")]:
            x = gallery(n, rng)
            ids = np.arange(n, dtype=np.int64)
            picks = rng.integers(0, n, args.queries)
            sets = {"perturbed": unit(x[picks] + rng.standard_normal((args.queries, DIM)).astype(np.float32)
                                      * (0.3 / np.sqrt(DIM))),
                    "random": unit(rng.standard_normal((args.queries, DIM)).astype(np.float32))}
            files = {}
            for element in ("float32", "int8"):
                files[element] = tmp / f"{n}.{element}.index"
                index.write(files[element], element, x, ids, ["p"] * n, [""] * n, "00" * 32, "00" * 32)
            flat = faiss.IndexFlatIP(DIM)
            flat.add(x)
            row = {"items": n, "dim": DIM, "index_bytes": {e: f.stat().st_size for e, f in files.items()}}
            for name, queries in sets.items():
                qfile = tmp / f"{n}.{name}.queries"
                qfile.write_bytes(struct.pack(">ii", *queries.shape) + queries.astype(">f4").tobytes())
                timing, top = {}, {}
                for element, f in files.items():
                    timing[element], top[element] = java_search(classes, f, qfile, args.k, tmp / "out.txt")
                flat.search(queries[:5], args.k)  # warm
                times = []
                for q in queries:
                    t0 = time.perf_counter()
                    _, found = flat.search(q[None], args.k)
                    times.append((time.perf_counter() - t0) * 1e3)
                    top.setdefault("faiss", []).append([int(i) for i in found[0]])
                timing["faiss_flat_ip"] = {"median_ms": statistics.median(times),
                                           "p90_ms": sorted(times)[int(len(times) * 0.9)],
                                           "mean_ms": statistics.fmean(times)}
                same = sum(a[0] == b[0] for a, b in zip(top["int8"], top["float32"]))
                row[name] = {"timing": timing, "int8_recall_at_1": same / len(queries),
                             "float32_top1_equals_faiss": sum(a[0] == b[0] for a, b in zip(top["float32"],
                                                                                              top["faiss"]))
                             / len(queries)}
            results.append(row)
            for f in files.values():
                f.unlink()
    print(f"{'items':>7} {'queries':>9} {'java f32 ms':>12} {'java int8 ms':>13} {'faiss ms':>9} "
          f"{'int8 recall@1':>14} {'f32==faiss':>10}  int8 goal")
    for row in results:
        for name in ("perturbed", "random"):
            r = row[name]
            t = r["timing"]
            goal = GOALS.get(row["items"])
            verdict = "" if goal is None or name != "perturbed" else (
                f"{'met' if t['int8']['median_ms'] <= goal else 'MISSED'} (<= {goal:g} ms)")
            print(f"{row['items']:>7} {name:>9} {t['float32']['median_ms']:>12.2f} {t['int8']['median_ms']:>13.2f} "
                  f"{t['faiss_flat_ip']['median_ms']:>9.2f} {r['int8_recall_at_1']:>14.3f} "
                  f"{r['float32_top1_equals_faiss']:>10.3f}  {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
