"""The PP-ShiTu pipeline (lite_tools/shitu/pipeline.py and com.litetools.core.ShituPipeline) against PaddleClas
2.6.0's own deploy/python/predict_system.py, run from the wheel in a child process (tests/shitu_upstream.py) with
Paddle Inference on the zoo's mainbody detector and PP-LCNetV2 ShiTu recogniser and its own faiss index built by its
own build_gallery code, on a generated gallery (tests/shitu_data.py: 4 labels x 5 images; the queries are perturbed
copies of gallery images).

Two comparisons, because PaddleClas's preprocessing rounds where ours does not (cv2 resizes to uint8; another issue
settles that), so a resized crop's tensor differs by up to ~0.75 grey level:
- stage by stage: upstream's own input tensors (recorded as DetPredictor and RecPredictor built them) go through
  Paddle Inference configured as upstream's, and everything after them is ours: selection, whole image,
  truncation, cropping (its shape checked against upstream's crop), L2 normalisation, search on upstream's own
  faiss index, NMS. Results must equal upstream's: same labels and boxes, scores within STAGE_SCORE_ATOL.
- end to end: our preprocessing, our gallery (a lite-tools index of our embeddings) and our search. The queries are
  640x640, where DetResize is an exact copy in both, so the detector sees the same tensor and the same crops are
  taken; the recognitions are not compared there (see that test: this zoo recogniser amplifies the rounding).
The JVM then runs ShituPipeline on what the reference saw, and edge cases (ties, thresholds hit exactly, boxes
outside the image, duplicate crops) go through upstream's own selection and NMS functions, ours and the JVM's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lite_tools.engines import PaddleInferenceEngine
from lite_tools.model import files
from lite_tools.reference import load_image
from lite_tools.shitu import index as gallery_index
from lite_tools.shitu import javacheck, pipeline
from lite_tools.shitu.system_config import read_system_config

import shitu_data

DET_MODEL = "picodet_lcnet_x2_5_640_mainbody"
REC_MODEL = "PPLCNetV2_base_ShiTu"
STAGE_SCORE_ATOL = 1e-6
UPSTREAM = Path(__file__).resolve().parent / "shitu_upstream.py"


def _engine(model_dir: Path, ir_optim: bool = False) -> PaddleInferenceEngine:
    mf = files.locate(model_dir)
    return PaddleInferenceEngine(mf.model_file, mf.param_file, ir_optim=ir_optim)


@pytest.fixture(scope="module")
def general(paddleclas_wheel):
    path = paddleclas_wheel / "deploy" / "configs" / "inference_general.yaml"
    return path, read_system_config(path)


@pytest.fixture(scope="module")
def models(zoo_dir):
    return zoo_dir(DET_MODEL), zoo_dir(REC_MODEL)


@pytest.fixture(scope="module")
def engines(models):
    det, rec = models
    return _engine(det), _engine(rec)


@pytest.fixture(scope="module")
def upstream_engines(models):
    """Paddle Inference configured as PaddleClas's Predictor configures it here (IR passes on, MKL-DNN off as the
    test's overrides say, one thread): the stage-by-stage comparison then runs the same kernels."""
    det, rec = models
    return _engine(det, ir_optim=True), _engine(rec, ir_optim=True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return shitu_data.make(tmp_path_factory.mktemp("shitu-data"), queries=4)


# Edge cases for the selection and the NMS, run through upstream's own functions.
SELECT_CASES = [
    {"rows": [[0, 0.3, 1, 2, 3, 4], [0, 0.9, 5, 6, 7, 8], [0, 0.3, 9, 9, 19, 19], [0, 0.1, 0, 0, 1, 1],
              [0, 0.2, 3, 3, 30, 30]], "max_det_results": 3, "threshold": 0.2},  # ties, a cut inside a tie
    {"rows": [[0, 0.2, 3, 3, 30, 30], [0, 0.19999999, 4, 4, 40, 40]], "max_det_results": 5,
     "threshold": 0.2},  # float32(0.2) > 0.2 in float64: kept; the float32 just below is dropped
    {"rows": [[0, 0.5 + i / 64, i, i, i + 20, i + 20] for i in range(20)], "max_det_results": 5,
     "threshold": 0.0},  # 20 rows (numpy's introsort), distinct scores
]
NMS_CASES = [
    {"boxes": [[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]], "scores": [0.5, 0.5, 0.7], "threshold": 0.05},
    {"boxes": [[0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9]], "scores": [0.6, 0.6, 0.6], "threshold": 0.5},
    {"boxes": [[0, 0, 9, 9], [0, 0, 9, 4]], "scores": [0.9, 0.8], "threshold": 0.5},  # IoU exactly 0.5: kept
    {"boxes": [[0, 0, 9, 9], [0, 0, 9, 4]], "scores": [0.9, 0.8], "threshold": 0.49},
    # IoU 25 / 175 against float32(1/7), and a box with x1 < x0 (a positive "area" of (-9)^2)
    {"boxes": [[0, 0, 9, 9], [5, 5, 14, 14], [100, 100, 90, 90]], "scores": [0.9, 0.8, 0.95], "threshold": 1 / 7},
]


@pytest.fixture(scope="module")
def upstream(paddleclas_wheel, general, models, engines, dataset, tmp_path_factory):
    """PaddleClas's GalleryBuilder + SystemPredictor on the queries, and its selection/NMS on the edge cases."""
    config_path, system = general
    width = engines[1].run([np.zeros((1, 3, 224, 224), np.float32)])[0].shape[-1]
    det, rec = models
    work = tmp_path_factory.mktemp("shitu-upstream")
    det_dir = work / "det"  # PaddleClas's Predictor opens inference.pdmodel / inference.pdiparams
    det_dir.mkdir()
    for suffix in ("pdmodel", "pdiparams"):
        os.symlink(files.locate(det).model_file.resolve() if suffix == "pdmodel"
                   else files.locate(det).param_file.resolve(), det_dir / f"inference.{suffix}")
    job = {"config": str(config_path),
           "overrides": [f"Global.det_inference_model_dir={det_dir}",
                         f"Global.rec_inference_model_dir={Path(rec).resolve()}",
                         "Global.use_gpu=False", "Global.enable_mkldnn=False", "Global.cpu_num_threads=1",
                         f"IndexProcess.image_root={dataset.image_root}", f"IndexProcess.index_dir={work / 'index'}",
                         f"IndexProcess.data_file={dataset.data_file}",
                         f"IndexProcess.embedding_size={width}"],  # the config's 512 for the ShiTu model
           "images": [str(p) for p in dataset.queries], "select": SELECT_CASES, "nms": NMS_CASES}
    (work / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, str(UPSTREAM), str(paddleclas_wheel), str(work / "job.json"),
                           str(work / "out")], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, GLOG_minloglevel="2"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((work / "out" / "result.json").read_text())
    stages = dict(np.load(work / "out" / "stages.npz"))
    return result, stages, work / "index"


def _faiss_searcher(index_dir: Path) -> pipeline.FaissSearcher:
    import faiss

    with open(index_dir / "id_map.pkl", "rb") as f:  # written by PaddleClas's build_gallery in this test
        id_map = pickle.load(f)
    return pipeline.FaissSearcher(faiss.read_index(str(index_dir / "vector.index")), id_map)


def _upstream_final(entry: dict) -> list:
    return [(tuple(o["bbox"]), o["rec_docs"], o["rec_scores"]) for o in entry["output"]]


def _ours_final(result: pipeline.ShituResult) -> list:
    return [(tuple(r.box), r.label, r.score) for r in result.recognitions]


def test_selection_and_nms_equal_paddleclas_functions(upstream):
    result, _, _ = upstream
    for case, theirs in zip(SELECT_CASES, result["select"]):
        ours, _ = pipeline.select_detections(np.array(case["rows"], np.float32), case["max_det_results"],
                                             case["threshold"])
        assert [[d.class_id, d.score, list(d.box)] for d in ours] == theirs, case
    for case, theirs in zip(NMS_CASES, result["nms"]):
        recs = [pipeline.Recognition(tuple(b), str(i), float(np.float32(s)), i)
                for i, (b, s) in enumerate(zip(case["boxes"], case["scores"]))]
        kept, _ = pipeline.rec_nms(recs, case["threshold"])
        assert [r.id for r in kept] == theirs, case
    # not vacuous: a tie split at the cut (the later row first), the float32 threshold edge, the top 5 of 20,
    # the later of tied recognitions kept, IoU equal to the threshold kept and above it suppressed
    assert [d[2] for d in result["select"][0]] == [[5.0, 6.0, 7.0, 8.0], [9.0, 9.0, 19.0, 19.0],
                                                   [1.0, 2.0, 3.0, 4.0]]
    assert len(result["select"][1]) == 1 and [d[2][0] for d in result["select"][2]] == [19, 18, 17, 16, 15]
    assert result["nms"][:4] == [[2, 1], [2], [0, 1], [0]]
    assert pipeline.select_detections(np.array([[-1.0]], np.float32), 5, 0.2) == ((), ())


def test_stage_by_stage_on_paddleclas_tensors_equals_predict_system(upstream, general, upstream_engines):
    """Upstream's own input tensors through Paddle Inference configured as upstream's, then our pipeline: the same
    crops, the same search results for each, the same final recognitions. Where upstream crashed (cv2 on the empty
    crop of a box outside the image), the crops before it are compared and the failing one is the one we skip."""
    result, stages, index_dir = upstream
    _, system = general
    det_engine, rec_engine = upstream_engines
    searcher = _faiss_searcher(index_dir)
    worst = {"rows": 0.0, "feature": 0.0, "score": 0.0}
    finals = crops_compared = 0
    for i, entry in enumerate(result["predict"]):
        rgb = load_image(entry["image"])
        rows = det_engine.run([stages[f"det_in_{i}_{name}"] for name in det_engine.input_names])[0]
        worst["rows"] = max(worst["rows"], float(np.abs(rows - stages[f"det_rows_{i}"]).max()))
        calls = []

        def embed(crop, i=i):
            j = len(calls)
            calls.append(list(crop.shape))
            assert list(crop.shape) == entry["crops"][j], (i, j, crop.shape, entry["crops"][j])
            feature = pipeline.l2_normalise(rec_engine.run([stages[f"rec_in_{i}_{j}"][None]])[0])
            worst["feature"] = max(worst["feature"], float(np.abs(feature - stages[f"rec_out_{i}_{j}"][0]).max()))
            return feature

        if "error" in entry:
            assert "!ssize.empty()" in entry["error"], entry
            crash = len(entry["crops"]) - 1
            selected, _ = pipeline.select_detections(rows, system.max_det_results, system.threshold)
            windows = [pipeline.crop_window(pipeline.truncate(d.box), rgb.shape[1], rgb.shape[0]) for d in selected]
            assert all(windows[:crash]) and not windows[crash], (windows, entry["crops"])
            tops = [searcher(embed(rgb[y0:y1, x0:x1]), system.search.return_k)[0] for x0, y0, x1, y1 in
                    windows[:crash]]
        else:
            ours = pipeline.run(rgb, system, lambda _rgb, rows=rows: rows, embed, searcher)
            assert len(calls) == len(entry["crops"]), (calls, entry["crops"])
            theirs = _upstream_final(entry)
            assert [(b, lb) for b, lb, _ in _ours_final(ours)] == [(b, lb) for b, lb, _ in theirs], (ours, theirs)
            for (_, _, s_ours), (_, _, s_theirs) in zip(_ours_final(ours), theirs):
                worst["score"] = max(worst["score"], abs(s_ours - s_theirs))
            tops = [c.top for c in ours.candidates if c.top]
            finals += 1
        for top, (scores, ids) in zip(tops, entry["search"]):
            assert top.id == ids[0][0], (entry["image"], top, ids)
            worst["score"] = max(worst["score"], abs(top.score - scores[0][0]))
        crops_compared += len(tops)
    assert worst["score"] <= STAGE_SCORE_ATOL, f"measured differences {worst}"
    assert finals >= 1 and crops_compared >= 8, (finals, crops_compared, "too little ran through upstream")


@pytest.fixture(scope="module")
def our_gallery(dataset, general, engines, models, tmp_path_factory):
    """The gallery embedded by our reference (our preprocessing), in a lite-tools index file."""
    _, system = general
    _, rec_engine = engines
    recogniser = pipeline.Recogniser(system.recogniser, rec_engine)
    vectors = np.stack([recogniser(load_image(dataset.image_root / rel)) for rel, _ in dataset.items])
    params = files.locate(models[1]).param_file.read_bytes()
    import hashlib

    path = tmp_path_factory.mktemp("shitu-gallery") / "gallery.f32.index"
    gallery_index.write(path, "float32", vectors, np.arange(len(dataset.items)),
                        [label for _, label in dataset.items], [rel for rel, _ in dataset.items],
                        hashlib.sha256(params).hexdigest(), "00" * 32)
    return path, gallery_index.read(path)


@pytest.fixture(scope="module")
def end_to_end(dataset, general, engines, our_gallery):
    """Our reference pipeline on the queries, recorded for the JVM."""
    _, system = general
    det_engine, rec_engine = engines
    detect = pipeline.Detector(system.detector, det_engine)
    embed = pipeline.Recogniser(system.recogniser, rec_engine)
    search = pipeline.GallerySearcher(our_gallery[1])
    return [javacheck.record(Path(p).name, load_image(p), system, detect, embed, search) for p in dataset.queries]


def test_end_to_end_with_our_preprocessing_takes_paddleclas_crops(upstream, end_to_end):
    """Our whole reference (our preprocessing, our gallery, our search) on the 640x640 queries: the detector sees
    the tensor PaddleClas feeds (DetResize is a copy), so the same boxes are kept and the same crops taken (to 1 px).
    The recognitions themselves are compared stage by stage above: this zoo recogniser's features move far under
    PaddleClas's uint8 rounding of the resized crop (cosine ~0.9 between the two preprocessings of one crop), so
    end to end they are not comparable here."""
    result, _, _ = upstream
    completed = 0
    for rec, entry in zip(end_to_end, result["predict"]):
        ours = [[w[3] - w[1], w[2] - w[0], 3] if w else None for w in (c.window for c in rec.result.candidates)]
        if "error" in entry:  # upstream crashed on the empty crop that we skip and say so
            assert any("lies outside" in n for n in rec.result.notes), rec.result.notes
            j = len(entry["crops"]) - 1
            assert not rec.result.candidates[j].window and all(
                max(abs(a - b) for a, b in zip(o, t)) <= 1 for o, t in zip(ours[:j], entry["crops"][:j])), \
                (ours, entry["crops"])
            continue
        completed += 1
        assert len(ours) == len(entry["crops"]) and all(  # 1 px: rows differ by ~0.05 px between Paddle Inference
            max(abs(a - b) for a, b in zip(o, t)) <= 1 for o, t in zip(ours, entry["crops"])), \
            (rec.name, ours, entry["crops"])  # with and without IR passes, and a box edge may truncate either way
        assert rec.result.candidates[-1].box == (0, 0, rec.width, rec.height)  # the whole image, last
    assert completed >= 1, "upstream ran no query to the end"


def test_java_pipeline_equals_the_reference(end_to_end, general, our_gallery, android_jar):
    _, system = general
    check = javacheck.check(system, our_gallery[0], end_to_end, android_jar=android_jar)
    assert check.ok, check.mismatches
    assert check.compiled_against == "android-23.jar" and check.images == len(end_to_end)
    # The check can fail: the JVM told to keep one detection fewer disagrees with the reference.
    fewer = dataclasses.replace(system, max_det_results=system.max_det_results - 1)
    broken = javacheck.check(fewer, our_gallery[0], end_to_end, android_jar=android_jar)
    assert not broken.ok and any("detections" in m for m in broken.mismatches), broken.mismatches


def _crop_features(crop: np.ndarray) -> np.ndarray:
    """A deterministic 12-d feature of a crop (mean colour of its four quadrants), L2-normalised: enough to give
    the JVM and the reference the same, crop-dependent scores, ties included."""
    h, w = crop.shape[:2]
    quads = [crop[:max(h // 2, 1), :max(w // 2, 1)], crop[:max(h // 2, 1), w // 2:], crop[h // 2:, :max(w // 2, 1)],
             crop[h // 2:, w // 2:]]
    return pipeline.l2_normalise(np.concatenate([q.reshape(-1, 3).mean(axis=0) - 120.0 for q in quads]))


def test_java_pipeline_on_edge_cases(general, android_jar, tmp_path):
    """Ties at the cut and in the NMS (duplicate boxes give identical crops and scores), a detection exactly at the
    threshold, boxes partly or wholly outside the image (Python's slice rules; an empty crop skipped), a score
    exactly at score_thres: the JVM against the reference."""
    _, system = general
    rng = np.random.RandomState(5)
    rgb = rng.randint(0, 256, (480, 640, 3)).astype(np.uint8)
    rows = np.array([[0, 0.9, 10, 10, 200, 200], [0, 0.9, 10, 10, 200, 200],  # a duplicate: tied crops
                     [0, 0.8, -3.7, 20, 60.9, 90], [0, 0.8, 600, 400, 700, 500],  # tie; clamped past the end
                     [0, 0.7, -50, -50, -10, -10],  # wholly outside: Python's slice of [-50:-10] is not empty
                     [0, 0.6, -700, 5, -650, 50],  # clamps to an empty crop: skipped
                     [0, np.float32(0.2), 1, 1, 30, 30], [0, 0.15, 5, 5, 50, 50]], np.float32)
    gallery_vectors = np.stack([_crop_features(rng.randint(0, 256, (40, 40, 3)).astype(np.uint8)) for _ in range(9)])
    path = tmp_path / "edge.f32.index"
    gallery_index.write(path, "float32", gallery_vectors, np.arange(100, 109), [f"l{i % 3}" for i in range(9)],
                        [f"p{i}" for i in range(9)], "11" * 32, "22" * 32)
    searcher = pipeline.GallerySearcher(gallery_index.read(path))
    loose = dataclasses.replace(system, max_det_results=7,
                                search=dataclasses.replace(system.search, score_thres=-1.0))
    dry = pipeline.run(rgb, loose, lambda img: rows, _crop_features, searcher)
    lowest = min(c.top.score for c in dry.candidates if c.top)  # score_thres hit exactly by one crop
    edge = dataclasses.replace(loose, search=dataclasses.replace(loose.search, score_thres=lowest))
    recorded = javacheck.record("edge", rgb, edge, lambda img: rows, _crop_features, searcher)
    result = recorded.result
    assert [d.box for d in result.detections] == [tuple(map(float, rows[i, 2:])) for i in (1, 0, 3, 2, 4, 5, 6)]
    assert [c.window for c in result.candidates] == [(10, 10, 200, 200), (10, 10, 200, 200), (600, 400, 640, 480),
                                                     (), (590, 430, 630, 470), (), (1, 1, 30, 30), (0, 0, 640, 480)]
    assert all(c.kept for c in result.candidates if c.top) and sum(1 for n in result.notes if "lies outside" in n) == 2
    assert len(result.recognitions) < 6, "the duplicate and overlapping boxes were suppressed"
    check = javacheck.check(edge, path, [recorded], android_jar=android_jar)
    assert check.ok, check.mismatches


def test_upstream_order_is_numpy_argsort_in_python_and_java(android_jar):
    """PaddleClas orders detections and recognitions with numpy's default argsort; ties (a saturated sigmoid gives
    many exact 1.0 scores among up to 100 NMS rows) fall by its introsort, which the reference and ShituPipeline
    reproduce: both against np.argsort on tie-heavy arrays of every size up to 300, NaN included."""
    rng = np.random.default_rng(7)
    arrays = []
    for n in list(range(1, 41)) + [64, 100, 101, 300]:
        for kind in range(4):
            if kind == 0:
                a = rng.integers(0, 3, n).astype(np.float32)
            elif kind == 1:
                a = rng.random(n).astype(np.float32)
            elif kind == 2:
                a = np.where(rng.random(n) < 0.3, 1.0, rng.integers(0, 5, n) / 4).astype(np.float32)
            else:
                a = rng.integers(0, 4, n).astype(np.float32)
                a[rng.random(n) < 0.2] = np.nan
            arrays.append(a)
    arrays += [np.ones(100, np.float32), np.arange(100, dtype=np.float32)[::-1].copy()]
    want = [list(np.argsort(a)) for a in arrays]
    from numpy.core._multiarray_umath import __cpu_features__ as cpu

    assert [pipeline.numpy_argsort(a) for a in arrays] == want, (
        "numpy's argsort here is not the introsort reproduced" + (
            ": this CPU has AVX512_SKX, where numpy 1.26 runs x86-simd-sort's argsort (another tie order, so "
            "PaddleClas's here too)" if cpu.get("AVX512_SKX") else ""))
    assert javacheck.java_argsort(arrays, android_jar=android_jar) == want
    stable = [list(np.argsort(a, kind="stable")) for a in arrays]
    assert sum(w != s for w, s in zip(want, stable)) > 20, "the arrays hold ties numpy's introsort reorders"


def test_shitu_pipeline_java_is_dexable_at_api_23(android_jar, tmp_path):
    from javatools import assert_dexable, javac

    javac([javacheck.CORE / "ShituPipeline.java"], tmp_path, android_jar)
    assert sorted(p.name for p in tmp_path.rglob("ShituPipeline*.class"))
    assert_dexable(tmp_path)
