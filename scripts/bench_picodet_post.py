"""Benchmark: the Java core's PicoDet post-processing (PicoDetPostprocessor: raw-head decoding, the host NMS of
PaddleDetection's PicoDetPostProcess, scaling to source pixels) on real raw-head outputs of the zoo's 320 COCO
and 640 mainbody models, one thread, JIT-warmed (200 runs per frame), median and p90 of N timed runs per frame;
the Python reference (numpy) beside it. Outputs come from Paddle Inference on generated photo-like images.

    .venv/bin/python scripts/bench_picodet_post.py [--rounds 200] [--images 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORE = REPO / "android_template/app/src/main/java/com/litetools/core"
MODELS = ("picodet_s_320_coco_lcnet_raw", "picodet_lcnet_x2_5_640_mainbody_raw")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--images", type=int, default=3)
    args = parser.parse_args()

    from lite_tools import javacheck, zoo
    from lite_tools.config.for_model import settle
    from lite_tools.engines import PaddleInferenceEngine
    from lite_tools.model import files, program as programs
    from lite_tools.reference import model_inputs, picodet, postprocess, preprocess, synthetic_images

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        classes_dir = Path(tmp) / "classes"
        sources = sorted(p for p in CORE.glob("*.java")) + [REPO / "scripts/java/PicoDetBench.java"]
        subprocess.run(["javac", "--release", "8", "-d", str(classes_dir), *map(str, sources)], check=True)
        for name in MODELS:
            model = zoo.exported(name)
            mf = files.locate(model)
            program = programs.load_program(mf.model_file)
            config = settle(zoo.config_for(name), [(t.name, t.shape) for t in program.outputs], name)
            engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
            params = picodet.host_nms(config)
            jobs, python_ms = [], []
            for i, (_, rgb) in enumerate((f"img{i}", img) for i, img in
                                         enumerate(synthetic_images(args.images, seed=5))):
                pre = preprocess(rgb, config)
                outputs = engine.run(model_inputs(pre, engine.input_names))
                path = Path(tmp) / f"{name}-{i}.bin"
                javacheck.write_outputs(path, pre.source_size, outputs)
                jobs.append(str(path))
                times = []
                for _ in range(max(5, args.rounds // 20)):
                    t0 = time.perf_counter()
                    postprocess(outputs, config, pre)
                    times.append((time.perf_counter() - t0) * 1e3)
                python_ms.append(statistics.median(times))
            w, h = config.input_size
            proc = subprocess.run(["java", "-XX:ActiveProcessorCount=1", "-cp", str(classes_dir), "PicoDetBench",
                                   config.det_form, ",".join(map(str, params.strides)), str(w), str(h),
                                   str(len(config.labels)), repr(params.nms_threshold), str(args.rounds), *jobs],
                                  capture_output=True, text=True, check=True)
            for line, py in zip(proc.stdout.splitlines(), python_ms):
                _, boxes, median, p90, kept = line.split("\t")
                anchors = sum(r * c for _, r, c in picodet.level_cells((h, w), params.strides))
                rows.append((name, f"{w}x{h}", anchors, len(config.labels), int(kept), int(boxes), float(median),
                             float(p90), py))
    head = ("model", "input", "anchors", "classes", "NMS rows", "shown", "Java median ms", "Java p90 ms",
            "numpy ms")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]:.3f} | {r[7]:.3f} | {r[8]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
