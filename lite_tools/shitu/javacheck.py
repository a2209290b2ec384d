"""The PP-ShiTu Java-core check: com.litetools.core.ShituPipeline on the JVM against lite_tools.shitu.pipeline on
the same inputs: the detector's real output, the features the reference computed for each crop it took, and the
same gallery index, searched by the Java EmbeddingSearcher there and by lite_tools.shitu.index here (the same
arithmetic; lite_tools/java/ShituHarness.java has the file layout). Selected detections, crop windows, labels and
ids must be identical, scores within SCORE_ATOL (they are computed the same way: any difference is a bug).
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import javacheck as core_check
from .. import staging
from ..errors import ToolFailure
from . import pipeline

HARNESS = Path(__file__).resolve().parent.parent / "java" / "ShituHarness.java"
CORE = Path(__file__).resolve().parent.parent.parent / "android_template" / "app" / "src" / "main" / "java" / \
    "com" / "litetools" / "core"
SCORE_ATOL = 1e-6


@dataclasses.dataclass(frozen=True)
class Recorded:
    """One image as the reference ran it: what the Java pipeline is given, and what it must reproduce."""
    name: str
    width: int
    height: int
    detector_output: np.ndarray | None  # the detector's first output (None: no detector)
    features: dict  # {crop window (x0, y0, x1, y1): the L2-normalised feature the reference used}
    result: pipeline.ShituResult


@dataclasses.dataclass(frozen=True)
class ShituJavaCheck:
    ok: bool
    images: int
    mismatches: tuple
    max_score_diff: float
    seconds: float
    compiled_against: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def record(name: str, rgb: np.ndarray, system, detect, embed, search) -> Recorded:
    """pipeline.run on one image, keeping the detector's output and each crop's feature for the JVM."""
    outputs, features = [], {}

    def detect_kept(image):
        out = np.asarray(detect(image), dtype=np.float32)
        outputs.append(out)
        return out

    def embed_kept(crop):
        feature = np.asarray(embed(crop), dtype=np.float32).reshape(-1)
        features[len(features)] = feature
        return feature

    result = pipeline.run(rgb, system, detect_kept if detect is not None else None, embed_kept, search)
    windows = [c.window for c in result.candidates if c.window]
    by_window = {}
    for window, index in zip(windows, range(len(features))):
        by_window[tuple(window)] = features[index]
    h, w = rgb.shape[:2]
    return Recorded(name, w, h, outputs[0] if outputs else None, by_window, result)


def write_job(path: Path, rec: Recorded, system) -> None:
    s = system.search
    parts = [struct.pack(">iiiiddd", rec.width, rec.height, system.max_det_results, s.return_k, system.threshold,
                         s.score_thres, system.rec_nms_threshold)]
    out = rec.detector_output
    if out is None:
        parts.append(struct.pack(">i", -1))
    else:
        parts.append(struct.pack(">i", out.ndim) + struct.pack(f">{out.ndim}q", *out.shape) +
                     np.ascontiguousarray(out, ">f4").tobytes())
    parts.append(struct.pack(">i", len(rec.features)))
    for window, feature in rec.features.items():
        parts.append(struct.pack(">iiiii", *window, feature.size) + np.ascontiguousarray(feature, ">f4").tobytes())
    path.write_bytes(b"".join(parts))


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def parse_result(text: str) -> dict:
    """result-N.txt -> {"error": str | None, "det": [...], "cand": [...], "rec": [...]}."""
    parsed = {"error": None, "det": [], "cand": [], "hits": [], "rec": []}
    for line in text.splitlines():
        kind, *f = line.split("\t")
        if kind == "error":
            parsed["error"] = _unescape(f[0])
        elif kind == "det":
            parsed["det"].append((int(f[0]), float(f[1]), tuple(float(v) for v in f[2:6])))
        elif kind == "cand":
            window = () if f[4] == "-" else tuple(int(v) for v in f[4].split(","))
            top = None if f[5] == "-" else (int(f[5]), float(f[6]), _unescape(f[7]))
            parsed["cand"].append((tuple(int(v) for v in f[:4]), window, top, f[8] == "1"))
        elif kind == "hits":
            parsed["hits"].append([(int(h.split(":")[0]), float(h.split(":")[1])) for h in f])
        elif kind == "rec":
            parsed["rec"].append((tuple(int(v) for v in f[:4]), _unescape(f[4]), float(f[5]), int(f[6])))
    return parsed


def compare(rec: Recorded, java: dict) -> tuple:
    """(mismatch lines, largest score difference) between the reference's result and the JVM's."""
    if java["error"]:
        return [f"{rec.name}: {java['error']}"], 0.0
    problems, worst = [], 0.0
    ref = rec.result
    want_det = [(d.class_id, d.score, tuple(float(v) for v in d.box)) for d in ref.detections]
    if want_det != java["det"]:
        problems.append(f"{rec.name}: detections {java['det']} in Java, {want_det} in Python")
    if len(ref.candidates) != len(java["cand"]):
        problems.append(f"{rec.name}: {len(java['cand'])} crops in Java, {len(ref.candidates)} in Python")
    for c, (box, window, top, kept) in zip(ref.candidates, java["cand"]):
        if tuple(c.box) != box or tuple(c.window) != window:
            problems.append(f"{rec.name}: crop {box} window {window} in Java, {c.box} window {c.window} in Python")
        elif (c.top is None) != (top is None) or (top and (top[0] != c.top.id or top[2] != c.top.label)):
            problems.append(f"{rec.name}: box {box} top hit {top} in Java, {c.top} in Python")
        elif top:
            worst = max(worst, abs(top[1] - c.top.score))
            if abs(top[1] - c.top.score) > SCORE_ATOL or kept != c.kept:
                problems.append(f"{rec.name}: box {box} score {top[1]!r} kept {kept} in Java, {c.top.score!r} "
                                f"kept {c.kept} in Python")
    searched = [c for c in ref.candidates if c.top is not None]
    if [[i for i, _ in hits] for hits in java["hits"]] != [[h.id for h in c.hits] for c in searched]:
        problems.append(f"{rec.name}: top-{len(searched[0].hits) if searched else 0} ids "
                        f"{[[i for i, _ in h] for h in java['hits']]} in Java, "
                        f"{[[h.id for h in c.hits] for c in searched]} in Python")
    else:
        for hits, c in zip(java["hits"], searched):
            for (_, score), h in zip(hits, c.hits):
                worst = max(worst, abs(score - h.score))
                if abs(score - h.score) > SCORE_ATOL:
                    problems.append(f"{rec.name}: gallery id {h.id} scores {score!r} in Java, {h.score!r} in Python")
    want = [(tuple(r.box), r.label, r.id) for r in ref.recognitions]
    got = [(box, label, i) for box, label, _, i in java["rec"]]
    if want != got:
        problems.append(f"{rec.name}: recognitions {got} in Java, {want} in Python")
    else:
        for r, (_, _, score, _) in zip(ref.recognitions, java["rec"]):
            worst = max(worst, abs(score - r.score))
            if abs(score - r.score) > SCORE_ATOL:
                problems.append(f"{rec.name}: {r.label} scores {score!r} in Java, {r.score!r} in Python")
    return problems, worst


def compile_pipeline(out_dir: Path, core_dir: Path = CORE, android_jar=core_check.FIND) -> str:
    """javac ShituPipeline.java, EmbeddingSearcher.java and the harness: Java 8 against API 23's android.jar when one
    is found (a Java API above minSdk 23 or a lambda fails here, as dexing would), else `--release 8`."""
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            raise ToolFailure(f"{tool} not found: the Java core cannot be verified; install a JDK (8 or newer)")
    android_jar = core_check.find_android_jar() if android_jar == core_check.FIND else android_jar
    if android_jar:
        mode = ["-source", "8", "-target", "8", "-bootclasspath", str(Path(android_jar).resolve())]
        against = core_check.AGAINST_ANDROID
    else:
        mode, against = ["--release", "8"], core_check.AGAINST_JAVA8
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [Path(core_dir).resolve() / name for name in ("ShituPipeline.java", "EmbeddingSearcher.java")]
    sources.append(HARNESS)
    core_check._run(["javac", *mode, "-Xlint:-options", "-encoding", "UTF-8", "-d", str(out_dir),
                     *map(str, sources)], f"compiling ShituPipeline against {against}", cwd=out_dir)
    return against


def check(system, gallery_index: Path, recorded: list, core_dir: Path = CORE, android_jar=core_check.FIND
          ) -> ShituJavaCheck:
    """Run the JVM on every recorded image over the gallery index file the reference searched, and compare."""
    started = time.perf_counter()
    with staging.folder(tempfile.gettempdir(), "lite-tools-shitu-java-") as tmp:
        jobs = Path(tmp) / "jobs"
        jobs.mkdir()
        shutil.copyfile(gallery_index, jobs / "gallery.index")
        for i, rec in enumerate(recorded):
            write_job(jobs / f"job-{i:04d}.bin", rec, system)
        against = compile_pipeline(Path(tmp) / "classes", core_dir, android_jar)
        core_check._run(["java", "-cp", str(Path(tmp) / "classes"), "ShituHarness", str(jobs)],
                        "running ShituPipeline")
        problems, worst = [], 0.0
        for i, rec in enumerate(recorded):
            found, diff = compare(rec, parse_result((jobs / f"result-{i:04d}.txt").read_text(encoding="utf-8")))
            problems += found
            worst = max(worst, diff)
    return ShituJavaCheck(not problems, len(recorded), tuple(problems), worst,
                          round(time.perf_counter() - started, 3), against)


def java_argsort(arrays: list, core_dir: Path = CORE, android_jar=core_check.FIND) -> list:
    """ShituPipeline.argsort on each array, on the JVM (to hold it to numpy's argsort)."""
    with staging.folder(tempfile.gettempdir(), "lite-tools-shitu-java-") as tmp:
        jobs = Path(tmp) / "jobs"
        jobs.mkdir()
        for i, values in enumerate(arrays):
            values = np.asarray(values, dtype=np.float64).reshape(-1)
            (jobs / f"sort-{i:05d}.bin").write_bytes(struct.pack(">i", values.size) + values.astype(">f8").tobytes())
        compile_pipeline(Path(tmp) / "classes", core_dir, android_jar)
        core_check._run(["java", "-cp", str(Path(tmp) / "classes"), "ShituHarness", str(jobs)], "running argsort")
        return [[int(x) for x in (jobs / f"sorted-{i:05d}.txt").read_text().split()] for i in range(len(arrays))]

