"""The PP-ShiTu system config reader (lite_tools/shitu/system_config.py) against PaddleClas 2.6.0's own reading of
the same files: its parse_config for the values SystemPredictor reads, its create_operators for DetPreProcess
(det_preprocess.py's operators) and RecPreProcess (preprocess.py's), on every PP-ShiTu config of the wheel and of
../shared/corpus; then every refusal by name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from lite_tools.config import read_config_file
from lite_tools.errors import BadInput
from lite_tools.shitu.system_config import read_system_config

from upstream import Upstream, plain

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SHITU_KEYS = ("DetPreProcess", "RecPreProcess", "IndexProcess")


def _shitu_files(root: Path) -> list:
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and any(k in data for k in SHITU_KEYS):
            found.append(path)
    return found


@pytest.fixture(scope="module")
def upstream(paddleclas_wheel):
    return Upstream(paddleclas_wheel)


@pytest.fixture(scope="module")
def shitu_configs(paddleclas_wheel):
    wheel = _shitu_files(paddleclas_wheel / "deploy" / "configs")
    corpus = _shitu_files(CORPUS) if CORPUS.is_dir() else []
    return wheel, corpus


def _upstream_det(up: Upstream, ops: list) -> dict:
    """DeployConfig fields from the wheel's Det* operators."""
    built = up.pre.create_operators(ops)
    fields = {"layout": "NHWC", "scale": np.float32(1.0), "mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}
    for op in built:
        kind = type(op).__name__
        if kind == "DetResize":
            height, width = op.target_size
            fields["resize"] = {"mode": "fixed", "width": int(width), "height": int(height),
                                "keep_ratio": bool(op.keep_ratio), "antialias": False,
                                "interp": up.cv2_interp[op.interp]}
        elif kind == "DetNormalizeImage":
            fields.update(scale=np.float32(1 / 255.0) if op.is_scale else np.float32(1.0),
                          mean=tuple(float(v) for v in op.mean), std=tuple(float(v) for v in op.std))
        elif kind == "DetPermute":
            fields["layout"] = "NCHW"
        elif kind == "DetPadStride":
            fields["pad_stride"] = int(op.coarsest_stride)
    return fields


def _upstream_rec(up: Upstream, ops: list) -> dict:
    fields = {"layout": "NHWC", "crop": None}
    for op in up.pre.create_operators(ops):
        kind = type(op).__name__
        if kind == "ResizeImage":
            fields["resize"] = up._cls_resize(op)
        elif kind == "CropImage":
            fields["crop"] = tuple(int(v) for v in op.size)
        elif kind == "NormalizeImage":
            fields.update(scale=op.scale, mean=tuple(op.mean.ravel()), std=tuple(op.std.ravel()))
        elif kind == "ToCHWImage":
            fields["layout"] = "NCHW"
    return fields


def _differences(cfg, want: dict) -> list:
    from upstream import _same, _show

    return [f"{k}: {_show(v, plain(cfg, k))}" for k, v in want.items() if not _same(v, plain(cfg, k))]


def test_every_shitu_config_reads_as_paddleclas_reads_it(upstream, shitu_configs):
    wheel, corpus = shitu_configs
    # The wheel ships 7 system configs (general, drink, product, logo, vehicle, cartoon, evaluation_general), the
    # binary one, and the detection-only / recognition-only inference_det.yaml / inference_rec.yaml. The corpus has
    # none today (its PaddleClas files are classifier exports); any it gains are held to the same reading.
    names = sorted(p.name for p in wheel)
    assert {"inference_general.yaml", "inference_drink.yaml", "inference_product.yaml", "inference_logo.yaml",
            "inference_vehicle.yaml", "inference_cartoon.yaml", "inference_general_binary.yaml",
            "evaluation_general.yaml", "inference_det.yaml", "inference_rec.yaml"} <= set(names)
    read, refused = [], []
    for path in wheel + corpus:
        raw = upstream._parse_config(path)  # PaddleClas's parse_config: what SystemPredictor indexes into
        if "IndexProcess" not in raw:
            with pytest.raises(BadInput, match="PP-ShiTu (detection|recognition)-only config"):
                read_system_config(path)
            refused.append(path.name)
            continue
        if raw["IndexProcess"].get("dist_type") == "hamming":
            with pytest.raises(BadInput, match="binary retrieval.*hamming / Binarize"):
                read_system_config(path)
            refused.append(path.name)
            continue
        cfg = read_system_config(path)
        g, index = raw["Global"], raw["IndexProcess"]
        assert cfg.det_model_dir == g["det_inference_model_dir"] and cfg.rec_model_dir == g["rec_inference_model_dir"]
        assert (cfg.threshold, cfg.max_det_results, cfg.rec_nms_threshold) == \
            (g["threshold"], g["max_det_results"], g["rec_nms_thresold"]), path
        assert cfg.det_labels == tuple(g["label_list"]) and cfg.image_shape == tuple(g["image_shape"])
        s = cfg.search
        assert (s.return_k, s.score_thres, s.dist_type, s.index_dir, s.image_root, s.data_file, s.delimiter,
                s.index_method, s.embedding_size) == (index["return_k"], index["score_thres"], index["dist_type"],
                                                      index["index_dir"], index["image_root"], index["data_file"],
                                                      index["delimiter"], index["index_method"],
                                                      index["embedding_size"]), path
        det = _differences(cfg.detector, _upstream_det(upstream, raw["DetPreProcess"]["transform_ops"]))
        rec = _differences(cfg.recogniser, _upstream_rec(upstream, raw["RecPreProcess"]["transform_ops"]))
        assert not det and not rec, f"{path}: detector {det}, recogniser {rec}"
        assert (cfg.detector.task.value, cfg.detector.det_form, cfg.detector.box_format) == ("picodet", "nms",
                                                                                             "pixels")
        assert cfg.recogniser.task.value == "embedding" and cfg.recogniser.postprocess == "NormalizeFeatures"
        read.append(path.name)
    assert len(read) == 7 and len(refused) == 3, (read, refused)


def _write(tmp_path: Path, text: str, name: str = "system.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def general(paddleclas_wheel) -> str:
    return (paddleclas_wheel / "deploy" / "configs" / "inference_general.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("old, new, needles", [
    ('dist_type: "IP"', 'dist_type: "L2"', ("IndexProcess.dist_type 'L2' is not supported",
                                            "distance is >= score_thres")),
    ('dist_type: "IP"', 'dist_type: "hamming"', ("binary retrieval", "hamming / Binarize")),
    ("RecPostProcess: null", "RecPostProcess: {main_indicator: Binarize, Binarize: {method: round}}",
     ("binary retrieval", "Binarize")),
    ("RecPostProcess: null", "RecPostProcess: {Topk: {topk: 5}}", ("unknown RecPostProcess op(s) Topk",)),
    ("  max_det_results: 5", "  max_det_results: 5\n  colour: red", ("unknown Global field(s) colour",)),
    ("  rec_nms_thresold: 0.05", "  rec_nms_threshold: 0.05", ("Global.rec_nms_threshold", "(sic)")),
    ("  rec_nms_thresold: 0.05", "", ("Global.rec_nms_thresold is missing",)),
    ("  score_thres: 0.5", "", ("IndexProcess.score_thres is missing",)),
    ("  return_k: 5", "  return_k: 0", ("IndexProcess.return_k must be at least 1",)),
    ("  threshold: 0.2", "  threshold: 1.5", ("Global.threshold must be a number in [0, 1]",)),
    ("    - DetPermute: {}", "    - DetPermute: {}\n    - DetFlip: {}", ("unknown transform op 'DetFlip'",)),
    ("        interp: 2", "        interp: 7", ("DetResize.interp 7 is not an OpenCV interpolation flag",)),
    ("        keep_ratio: false", "        keep_ratio: false\n        max_size: 1000",
     ("DetResize has unknown field(s) max_size",)),
    ("    - DetPermute: {}", "", ("no DetPermute",)),
    ("    - DetPermute: {}", "    - DetPermute: {}\n    - DetPadStride: {stride: 100}",
     ("DetPadStride 100 would pad",)),
    ("DetPostProcess: {}", "DetPostProcess: {keep_top_k: 10}", ("DetPostProcess", "never reads it")),
    ('index_method: "HNSW32"', 'index_method: "IVF100,PQ16"', ("index_method 'IVF100,PQ16' is not one of",)),
    ("  embedding_size: 512", "  embedding_size: 512\n  nprobe: 8", ("IndexProcess has unknown field(s) nprobe",)),
    ("        interpolation: bilinear", "        interpolation: random", ("interpolation 'random'",)),
    ("IndexProcess:", "Extra: {}\nIndexProcess:", ("unknown section(s) Extra",)),
])
def test_system_config_refusals_name_the_problem(tmp_path, general, old, new, needles):
    assert old in general
    path = _write(tmp_path, general.replace(old, new, 1))
    with pytest.raises(BadInput) as err:
        read_system_config(path)
    message = str(err.value)
    assert message.startswith(str(path)) and all(n in message for n in needles), message


def test_no_detector_recognises_the_whole_image(tmp_path, general):
    text = general.replace('det_inference_model_dir: "./models/picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer"',
                           'det_inference_model_dir: ""')
    cfg = read_system_config(_write(tmp_path, text))
    assert cfg.detector is None and cfg.det_model_dir == ""
    assert any("no detector, the whole image" in n for n in cfg.notes)


def test_values_paddleclas_literal_evals_read_the_same(tmp_path, general):
    """PaddleClas's parse_config literal_evals strings ('0.2'); the reader takes the same numbers."""
    cfg = read_system_config(_write(tmp_path, general.replace("threshold: 0.2", "threshold: '0.2'")))
    assert cfg.threshold == 0.2


def test_single_model_commands_refuse_a_system_config_and_point_to_shitu_deploy(paddleclas_wheel):
    configs = paddleclas_wheel / "deploy" / "configs"
    with pytest.raises(BadInput, match=r"a PP-ShiTu system config .* `lite-tools shitu deploy --config FILE`"):
        read_config_file(configs / "inference_general.yaml")
    with pytest.raises(BadInput, match=r"a PP-ShiTu recognition-only config .* `lite-tools shitu deploy`"):
        read_config_file(configs / "inference_rec.yaml")
    with pytest.raises(BadInput, match="binary retrieval"):
        read_config_file(configs / "inference_general_binary.yaml")


def test_a_single_model_config_is_not_a_system_config(paddleclas_wheel):
    with pytest.raises(BadInput, match="not a PP-ShiTu system config .* `lite-tools deploy`"):
        read_system_config(paddleclas_wheel / "deploy" / "configs" / "inference_cls.yaml")


def test_paths_resolve_from_the_working_directory_then_the_deploy_layout(tmp_path, general, monkeypatch):
    """The config issue's rule (config/labels.py): the working directory first, then PaddleClas's deploy/ layout."""
    repo = tmp_path / "PaddleClas"
    (repo / "ppcls").mkdir(parents=True)
    (repo / "deploy" / "configs").mkdir(parents=True)
    (repo / "deploy" / "models" / "picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer").mkdir(parents=True)
    path = _write(repo / "deploy" / "configs", general, "inference_general.yaml")
    cfg = read_system_config(path)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "models" / "picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    found = cfg.locate(cfg.det_model_dir, "Global.det_inference_model_dir")
    assert found == repo / "deploy" / "models" / "picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer"
    monkeypatch.chdir(elsewhere)  # PaddleClas's own rule wins when it finds something
    found = cfg.locate(cfg.det_model_dir, "Global.det_inference_model_dir")
    assert found == elsewhere / "models" / "picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer"
    with pytest.raises(BadInput) as err:
        cfg.locate(cfg.rec_model_dir, "Global.rec_inference_model_dir")
    message = str(err.value)
    assert "general_PPLCNetV2_base_pretrained_v1.0_infer" in message and "no such folder" in message
    assert str(elsewhere / "models") in message and str(repo / "deploy" / "models") in message, message
    assert os.getcwd() == str(elsewhere)
