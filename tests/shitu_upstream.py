"""PaddleClas 2.6.0's own PP-ShiTu code, run from its unpacked wheel in a child process (tests start it with
`python tests/shitu_upstream.py PACKAGE_DIR JOB.json OUT_DIR`): the other side of lite-tools' PP-ShiTu tests.

The wheel is loaded as tests/upstream.py loads it (stub parent packages, its `paddleclas/__init__.py` never runs);
`tqdm` (build_gallery's progress bar, not installed here) is a pass-through stand-in, and Paddle's version reads
2.5.2 while PaddleClas builds its predictors (see paddle_version_for_paddleclas). Nothing of PaddleClas's
arithmetic is replaced: its GalleryBuilder builds the faiss index, its SystemPredictor (DetPredictor,
RecPredictor, Paddle Inference, faiss) predicts. Recording only observes: the inputs DetPredictor.preprocess
returns, the rows parse_det_results receives, each crop RecPredictor gets and the tensor its last operator
produces, each search result.

JOB.json: {"config": YAML, "overrides": ["Global.x=y", ...] (PaddleClas's -o), "images": [paths],
"select": [{"rows": [[6 floats]], "max_det_results": n, "threshold": t}], "nms": [{"boxes": [[4 ints]],
"scores": [floats], "threshold": t}]}. OUT_DIR gets result.json and stages.npz.
"""

from __future__ import annotations

import contextlib
import json
import sys
import types
from pathlib import Path

import numpy as np


def load(package_dir: Path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import upstream  # tests/upstream.py

    upstream._load(package_dir)
    if "tqdm" not in sys.modules:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            stand_in = types.ModuleType("tqdm", "pass-through stand-in for build_gallery's progress bar")
            stand_in.tqdm = lambda iterable, *a, **k: iterable
            sys.modules["tqdm"] = stand_in
    import importlib

    return (importlib.import_module("paddleclas.deploy.utils.config"),
            importlib.import_module("paddleclas.deploy.python.predict_system"),
            importlib.import_module("paddleclas.deploy.python.predict_det"),
            importlib.import_module("paddleclas.deploy.python.build_gallery"))


def selections(predict_det, cases: list) -> list:
    """DetPredictor.parse_det_results on given rows (the method reads only config['Global']['max_det_results'])."""
    out = []
    for case in cases:
        det = object.__new__(predict_det.DetPredictor)
        det.config = {"Global": {"max_det_results": case["max_det_results"]}}
        rows = np.array(case["rows"], dtype=np.float32).reshape(-1, 6)
        picked = det.parse_det_results(rows, case["threshold"], ["foreground"] * 1000)
        out.append([[r["class_id"], float(r["score"]), [float(v) for v in r["bbox"]]] for r in picked])
    return out


def suppressions(predict_system, cases: list) -> list:
    """SystemPredictor.nms_to_rec_results (it reads nothing of self): the indices it keeps, in order."""
    out = []
    for case in cases:
        results = [{"bbox": list(box), "rec_scores": np.float32(score), "index": i}
                   for i, (box, score) in enumerate(zip(case["boxes"], case["scores"]))]
        kept = predict_system.SystemPredictor.nms_to_rec_results(None, results, case["threshold"])
        out.append([r["index"] for r in kept])
    return out


@contextlib.contextmanager
def paddle_version_for_paddleclas():
    """PaddleClas 2.6.0's Predictor calls Config(model_dir, "inference") on Paddle >= 2.6, a form only Paddle 3
    reads (2.6.2 takes the folder for the program file and fails with std::bad_alloc); its other branch,
    Config(model_file, params_file), loads the same files. While its predictors are built, Paddle says 2.5.2."""
    import paddle

    real = paddle.__version__
    paddle.__version__ = "2.5.2"
    try:
        yield
    finally:
        paddle.__version__ = real


def predict(config_mod, predict_system, build_gallery, job: dict, stages: dict) -> list:
    import cv2

    config = config_mod.get_config(job["config"], overrides=job.get("overrides") or [], show=False)
    with paddle_version_for_paddleclas():
        build_gallery.GalleryBuilder(config)
        system = predict_system.SystemPredictor(config)
    record = {}

    det_preprocess = system.det_predictor.preprocess

    def preprocess(img):
        inputs = det_preprocess(img)
        record["det_inputs"] = {k: np.array(v) for k, v in inputs.items()}
        return inputs
    system.det_predictor.preprocess = preprocess

    parse = system.det_predictor.parse_det_results

    def parse_det_results(pred, threshold, label_list):
        record["det_rows"] = np.array(pred)
        return parse(pred, threshold, label_list)
    system.det_predictor.parse_det_results = parse_det_results

    tensors = []

    class Recorder:
        def __call__(self, img):
            tensors.append(np.array(img))
            return img
    system.rec_predictor.preprocess_ops.append(Recorder())

    rec_predict = system.rec_predictor.predict
    crops = []

    def rec(images, feature_normalize=True):
        crops.append(list(np.asarray(images).shape))
        features = rec_predict(images, feature_normalize)
        record.setdefault("features", []).append(np.array(features))
        return features
    system.rec_predictor.predict = rec

    searcher = system.Searcher

    class Search:
        def search(self, x, k):
            scores, ids = searcher.search(x, k)
            record.setdefault("search", []).append((scores.tolist(), ids.tolist()))
            return scores, ids
    system.Searcher = Search()

    results = []
    for i, path in enumerate(job["images"]):
        record.clear()
        tensors.clear()
        crops.clear()
        img = cv2.imread(path)[:, :, ::-1]
        try:
            output, error = system.predict(img), None
        except Exception as e:  # upstream's own failure on this image (e.g. cv2 on an empty crop): reported
            output, error = [], f"{type(e).__name__}: {e}".strip().splitlines()[-1]
        for name, value in record.get("det_inputs", {}).items():
            stages[f"det_in_{i}_{name}"] = value
        if "det_rows" in record:
            stages[f"det_rows_{i}"] = record["det_rows"]
        for j, (tensor, feature) in enumerate(zip(tensors, record.get("features", []))):
            stages[f"rec_in_{i}_{j}"] = tensor
            stages[f"rec_out_{i}_{j}"] = feature
        if error:
            results.append({"image": path, "error": error, "crops": list(crops), "search": record.get("search", [])})
            continue
        results.append({"image": path, "crops": list(crops), "search": record.get("search", []),
                        "output": [{"bbox": [int(v) for v in o["bbox"]], "rec_docs": str(o["rec_docs"]),
                                    "rec_scores": float(o["rec_scores"])} for o in output]})
    return results


def main(package_dir: str, job_file: str, out_dir: str) -> None:
    job = json.loads(Path(job_file).read_text())
    config_mod, predict_system, predict_det, build_gallery = load(Path(package_dir))
    result = {"select": selections(predict_det, job.get("select", [])),
              "nms": suppressions(predict_system, job.get("nms", []))}
    stages = {}
    if job.get("images"):
        result["predict"] = predict(config_mod, predict_system, build_gallery, job, stages)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "stages.npz", **stages)
    (out / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])
