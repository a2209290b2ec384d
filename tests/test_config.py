"""Config readers on hand-written fixtures in the real PaddleClas / PaddleDetection formats, presets, and the
one-line errors for bad configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lite_tools.config import (ChannelOrder, DeployConfig, Interp, PRESETS, ResizeMode, Task, read_config_file,
                               resolve)
from lite_tools.errors import BadInput
from conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "configs"


def test_paddleclas_pulc_threshold_config():
    """An old hand-written PULC config that stretches to 224x224 (today's PULC configs crop: see the presets)."""
    cfg = read_config_file(FIXTURES / "inference_person_exists.yaml")
    assert cfg.task == Task.BINARY and cfg.labels == ("nobody", "someone") and cfg.threshold == 0.5
    assert cfg.resize.mode == ResizeMode.FIXED and (cfg.resize.width, cfg.resize.height) == (224, 224)
    assert cfg.crop is None and cfg.scale == pytest.approx(0.00392157)
    assert cfg.channel_order == ChannelOrder.RGB and cfg.input_size == (224, 224)


def test_paddleclas_topk_config_with_label_file():
    cfg = read_config_file(FIXTURES / "inference_cls.yaml", labels=FIXTURES / "labels.txt")
    assert cfg.task == Task.CLASSIFY and cfg.topk == 5
    assert cfg.resize.mode == ResizeMode.SHORT and cfg.resize.short == 256 and cfg.crop == (224, 224)
    assert cfg.scale == 1.0 / 255.0  # the string '1.0/255.0' PaddleClas writes
    assert cfg.labels == ("tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark")
    assert cfg.resize.interp == Interp.BILINEAR and not cfg.resize.antialias


def test_paddleclas_pil_bicubic_matches_the_hgnetv2_preset():
    cfg = read_config_file(FIXTURES / "inference_hgnetv2.yaml")
    preset = PRESETS["pphgnetv2-cls"]()
    assert cfg.replace(source=preset.source) == preset


def test_paddledetection_ssd_infer_cfg_matches_the_preset_preprocessing():
    cfg = read_config_file(FIXTURES / "ssd_infer_cfg.yml")
    assert cfg.task == Task.SSD and len(cfg.labels) == 20 and cfg.labels[0] == "aeroplane"
    assert cfg.score_threshold == 0.5 and cfg.scale == 1.0 and cfg.std == (127.502231,) * 3
    preset = PRESETS["ssd-mobilenet-300"]()
    for field in ("resize", "crop", "scale", "mean", "std", "channel_order"):
        assert getattr(cfg, field) == getattr(preset, field), field


@pytest.mark.parametrize("name, needle", [
    ("bad_unknown_op.yaml", "unknown transform op 'GridMask'"),
    ("bad_unknown_field.yaml", "ResizeImage has unknown field(s) keep_aspect"),
    ("bad_det_arch.yml", "arch YOLO (PP-YOLO / PP-YOLOE / YOLOv3) is not supported; supported: SSD, PicoDet"),
    ("bad_det_step.yml", "Preprocess type 'Mosaic' is not supported"),
    ("bad_syntax.yaml", "is not valid YAML"),
    ("bad_mean.yaml", "NormalizeImage.mean needs 3 values"),
    ("does_not_exist.yaml", "no such file"),
])
def test_bad_configs_are_named_errors(name, needle):
    with pytest.raises(BadInput) as err:
        read_config_file(FIXTURES / name)
    assert needle in str(err.value) and name in str(err.value) and "\n" not in str(err.value)


def test_every_preset_round_trips_through_json(tmp_path):
    for name in PRESETS:
        cfg = resolve(preset=name)
        assert DeployConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg


def test_published_operating_points():
    assert resolve(preset="pulc-person-exists").threshold == 0.5
    assert resolve(preset="pulc-person-exists-fpr1e-3").threshold == 0.9794
    assert resolve(preset="pulc-safety-helmet").labels == ("wearing_helmet", "unwearing_helmet")
    assert resolve(preset="pulc-safety-helmet-fpr1e-4").threshold == 0.9167
    assert resolve(preset="pulc-person-exists", threshold=0.7).threshold == 0.7


def test_config_cli_show_and_export(tmp_path):
    proc = run_cli("config", "show", "--config", FIXTURES / "inference_person_exists.yaml")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["task"] == "binary" and shown["labels"] == ["nobody", "someone"]
    proc = run_cli("config", "export", "--preset", "ssd-mobilenet-300", "--out", tmp_path / "ssd.json")
    assert proc.returncode == 0, proc.stderr
    assert read_config_file(tmp_path / "ssd.json") == resolve(preset="ssd-mobilenet-300")
    proc = run_cli("config", "show", "--preset", "nope")
    assert proc.returncode == 2 and "unknown preset 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("config", "show", "--config", FIXTURES / "bad_unknown_op.yaml")
    assert proc.returncode == 2 and "GridMask" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# --- Where PaddleClas finds class_id_map_file, and --labels / --no-labels -----------------------------------------

REPO_LAYOUT = FIXTURES / "paddleclas_repo"
TINY = ("tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark")


def test_deploy_config_finds_its_labels_as_if_run_from_deploy(tmp_path, monkeypatch):
    """`../ppcls/utils/...` is relative to deploy/ (where PaddleClas runs); found from any working directory."""
    monkeypatch.chdir(tmp_path)
    cfg = read_config_file(REPO_LAYOUT / "deploy" / "configs" / "inference_tiny.yaml")
    assert cfg.labels == TINY
    assert cfg.origin("labels").endswith(str(REPO_LAYOUT / "deploy" / ".." / "ppcls" / "utils" / "tiny_label_list.txt"))
    assert cfg.topk == 1  # PaddleClas's Topk default, not ours


def test_the_working_directory_wins_as_in_paddleclas(tmp_path, monkeypatch):
    """PaddleClas opens the path as written: a file of that name under the working directory is the one used."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "ppcls" / "utils").mkdir(parents=True)
    (tmp_path / "ppcls" / "utils" / "tiny_label_list.txt").write_text("0 a\n1 b\n")
    monkeypatch.chdir(tmp_path / "deploy")
    cfg = read_config_file(REPO_LAYOUT / "deploy" / "configs" / "inference_tiny.yaml")
    assert cfg.labels == ("a", "b")


def test_training_config_reads_its_infer_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = read_config_file(REPO_LAYOUT / "ppcls" / "configs" / "ImageNet" / "PPLCNet" / "PPLCNet_x1_0.yaml")
    assert cfg.task == Task.CLASSIFY and cfg.topk == 5 and cfg.labels == TINY
    assert cfg.resize.mode == ResizeMode.SHORT and cfg.resize.short == 256 and cfg.crop == (224, 224)
    assert cfg.scale == 1.0 / 255.0 and cfg.channel_order == ChannelOrder.RGB
    assert "Infer.transforms" in cfg.origin("resize")


def test_missing_label_file_is_an_error_listing_every_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg_path = tmp_path / "inference.yaml"
    cfg_path.write_text((REPO_LAYOUT / "deploy" / "configs" / "inference_tiny.yaml").read_text())
    with pytest.raises(BadInput) as err:
        read_config_file(cfg_path)
    message = str(err.value)
    assert "not found (tried" in message and str(tmp_path / ".." / "ppcls") in message and "--no-labels" in message
    assert read_config_file(cfg_path, no_labels=True).labels == ()
    assert read_config_file(cfg_path, labels=FIXTURES / "labels.txt").labels == TINY
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\n")
    assert read_config_file(cfg_path, labels=names).labels == ("cat", "dog")
    with pytest.raises(BadInput, match="not both"):
        read_config_file(cfg_path, labels=names, no_labels=True)


def test_labels_options_on_the_cli(tmp_path):
    cfg_path = tmp_path / "inference.yaml"
    cfg_path.write_text((REPO_LAYOUT / "deploy" / "configs" / "inference_tiny.yaml").read_text())
    proc = run_cli("config", "show", "--config", cfg_path, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not found (tried" in proc.stderr
    proc = run_cli("config", "show", "--config", cfg_path, "--no-labels", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["labels"] == []
    proc = run_cli("config", "show", "--config", REPO_LAYOUT / "deploy" / "configs" / "inference_tiny.yaml",
                   cwd=tmp_path)
    assert proc.returncode == 0 and "config: labels from" in proc.stderr and "tiny_label_list.txt" in proc.stderr
    assert "SavePreLabel ignored" in proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["labels"] == list(TINY) and "class_id_map_file" in shown["origins"]["labels"]
    assert shown["origins"]["topk"] == "PaddleClas default (1)"
    proc = run_cli("config", "show", "--preset", "pulc-person-exists", "--labels", tmp_path / "none.txt")
    assert proc.returncode == 2 and "no such label file" in proc.stderr


def test_label_map_is_split_on_its_delimiter_and_keyed_by_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "map.txt").write_text("2\tthird one\r\n0\tfirst  one\n1\tsecond\n")
    cfg_path = tmp_path / "inference.yaml"
    text = (REPO_LAYOUT / "deploy" / "configs" / "inference_tiny.yaml").read_text()
    cfg_path.write_text(text.replace('class_id_map_file: "../ppcls/utils/tiny_label_list.txt"',
                                     'class_id_map_file: map.txt\n    delimiter: "\\t"\n    topk: 2'))
    cfg = read_config_file(cfg_path)
    assert cfg.labels == ("first  one", "second", "third one") and cfg.topk == 2
    (tmp_path / "map.txt").write_text("0 a\n\n1 b\n")
    cfg_path.write_text(text.replace("../ppcls/utils/tiny_label_list.txt", "map.txt"))
    with pytest.raises(BadInput, match="line 2 '' is not 'ID NAME'"):
        read_config_file(cfg_path)


# --- PaddleClas's exported inference.yml ---------------------------------------------------------------------------

EXPORTED = """
Global:
  model_name: PP-LCNet_x1_0_doc_ori
Hpi:
  backend_configs: {paddle_infer: {trt_dynamic_shapes: {x: [[1, 3, 224, 224]]}}}
PreProcess:
  transform_ops:
  - ResizeImage: {resize_short: 256}
  - CropImage: {size: 224}
  - NormalizeImage: {channel_num: 3, mean: [0.485, 0.456, 0.406], order: '', scale: 0.00392156862745098,
                     std: [0.229, 0.224, 0.225]}
  - ToCHWImage: null
PostProcess:
"""


def _exported(tmp_path, post: str) -> Path:
    path = tmp_path / "inference.yml"
    path.write_text(EXPORTED + post)
    return path


def test_exported_topk_uses_label_list_and_records_model_name(tmp_path):
    cfg = read_config_file(_exported(tmp_path, "  Topk:\n    topk: 2\n    label_list: ['0', '90', '180', '270']\n"))
    assert cfg.labels == ("0", "90", "180", "270") and cfg.topk == 2 and cfg.model_name == "PP-LCNet_x1_0_doc_ori"
    assert any("Hpi" in note and "ignored" in note for note in cfg.notes)
    assert cfg.scale == 0.00392156862745098 and cfg.crop == (224, 224)


def test_exported_thresh_output_labels_must_agree(tmp_path):
    cfg = read_config_file(_exported(tmp_path, "  ThreshOutput:\n    threshold: 0.9\n    label_0: nobody\n"
                                               "    label_1: someone\n    label_list: [nobody, someone]\n"))
    assert cfg.task == Task.BINARY and cfg.threshold == 0.9 and cfg.labels == ("nobody", "someone")
    with pytest.raises(BadInput, match="disagree with label_list"):
        read_config_file(_exported(tmp_path, "  ThreshOutput:\n    label_0: nobody\n    label_1: someone\n"
                                             "    label_list: [someone, nobody]\n"))
    cfg = read_config_file(_exported(tmp_path, "  ThreshOutput:\n    label_0: a\n    label_1: b\n"))
    assert cfg.threshold == 0.0  # PaddleClas's ThreshOutput default


@pytest.mark.parametrize("post, needle", [
    ("  Topk:\n    topk: 0\n", "Topk.topk must be at least 1"),
    ("  Topk:\n    topk: 2.5\n", "Topk.topk must be an integer"),
    ("  ThreshOutput:\n    threshold: .nan\n", "ThreshOutput.threshold is not a finite number"),
    ("  ThreshOutput:\n    threshold: 5\n", "threshold must be a number in [0, 1]"),
    ("  Topk: {}\n  ThreshOutput: {}\n", "no main_indicator: which one is the result?"),
    ("  ScoreOutput: {decimal_places: 2}\n", "ScoreOutput (a regression score"),
    ("  Topk: {topk: 1, label_lists: []}\n", "Topk has unknown field(s) label_lists"),
])
def test_bad_postprocess_values_are_named(tmp_path, post, needle):
    with pytest.raises(BadInput) as err:
        read_config_file(_exported(tmp_path, post))
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_resize_interpolations_outside_the_supported_list_are_refused(tmp_path):
    base = EXPORTED.replace("{resize_short: 256}", "{resize_short: 256, interpolation: %s, backend: %s}")
    for interp, backend, needle in (("random", "cv2", "picks a method per image"),
                                    ("hamming", "cv2", "not a cv2 method PaddleClas knows"),
                                    ("area", "pil", "not a pil method PaddleClas knows"),
                                    ("bilinear", "skimage", "not cv2 or pil")):
        path = tmp_path / "inference.yml"
        path.write_text(base % (interp, backend) + "  Topk: {topk: 1}\n")
        with pytest.raises(BadInput, match=needle):
            read_config_file(path)


# --- PaddleDetection -------------------------------------------------------------------------------------------------

def _det(tmp_path, body: str, name="infer_cfg.yml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


PICODET = """mode: paddle
draw_threshold: 0.5
metric: COCO
use_dynamic_shape: false
arch: %s
min_subgraph_size: 3
Preprocess:
- interp: 2
  keep_ratio: false
  target_size: [320, 320]
  type: Resize
%s- type: Permute
label_list: [person, car]
NMS: {keep_top_k: 100, name: MultiClassNMS, nms_threshold: 0.6, nms_top_k: 1000, score_threshold: 0.025}
fpn_stride: [8, 16, 32, 64]
"""
NORMALIZE = "- is_scale: true\n  mean: [0.485, 0.456, 0.406]\n  std: [0.229, 0.224, 0.225]\n  type: NormalizeImage\n"


def test_picodet_forms_and_export_time_values(tmp_path):
    cfg = read_config_file(_det(tmp_path, PICODET % ("GFL", NORMALIZE)))
    assert cfg.task == Task.PICODET and cfg.det_form == "" and cfg.box_format == "pixels"
    assert dict(cfg.export_nms)["nms_threshold"] == 0.6 and cfg.fpn_stride == (8, 16, 32, 64)
    assert "export-time" in cfg.origin("export_nms")
    assert read_config_file(_det(tmp_path, PICODET % ("PicoDet", NORMALIZE))).det_form == "raw"
    fused = read_config_file(_det(tmp_path, PICODET % ("GFL", "")))
    assert (fused.scale, fused.mean, fused.std) == (1.0, (0.0,) * 3, (1.0,) * 3)
    assert "fuse_normalize" in fused.origin("mean")


def test_paddledetection_json_reads_like_its_yaml(tmp_path):
    import yaml

    data = yaml.safe_load(PICODET % ("GFL", NORMALIZE))
    from_json = read_config_file(_det(tmp_path, json.dumps(data), "infer_cfg.json"))
    from_yaml = read_config_file(_det(tmp_path, PICODET % ("GFL", NORMALIZE)))
    assert from_json.replace(source="x") == from_yaml.replace(source="x")


def test_paddledetection_defaults_and_pad_stride(tmp_path):
    body = PICODET % ("GFL", NORMALIZE)
    cfg = read_config_file(_det(tmp_path, body.replace("  keep_ratio: false\n", "")))
    assert cfg.resize.keep_ratio is True  # PaddleDetection's Resize default
    cfg = read_config_file(_det(tmp_path, body.replace("- type: Permute\n", "- type: Permute\n- stride: 32\n"
                                                                            "  type: PadStride\n")))
    assert cfg.pad_stride == 32 and any("no-op" in n for n in cfg.notes)
    with pytest.raises(BadInput, match="PadStride 32 would pad"):
        read_config_file(_det(tmp_path, body.replace("keep_ratio: false", "keep_ratio: true").replace(
            "- type: Permute\n", "- type: Permute\n- stride: 32\n  type: PadStride\n")))
    cfg = read_config_file(_det(tmp_path, body.replace("  target_size: [320, 320]\n", "  target_size: 320\n")))
    assert (cfg.resize.width, cfg.resize.height) == (320, 320)


@pytest.mark.parametrize("shapes, form", [
    ([[-1, 6], [-1]], "nms"),
    ([[1, 2125, 4], [1, 80, 2125]], "decoded"),
    ([[1, 1600, 80], [1, 400, 80], [1, 1600, 32], [1, 400, 32]], "raw"),
    ([[1, 1000]], ""),
])
def test_detector_output_form_is_decided_from_the_model(shapes, form):
    from lite_tools.config.for_model import output_form, settle

    assert output_form(shapes) == form
    cfg = resolve(preset="ssd-mobilenet-300").replace(task=Task.PICODET, det_form="")
    outputs = [(f"out{i}", s) for i, s in enumerate(shapes)]
    if form == "nms":
        assert settle(cfg, outputs, "m").det_form == "nms"
    elif form:  # decoded on the host for PicoDet (tests/test_picodet_decode.py), refused by name for SSD
        from lite_tools.config import Resize, ResizeMode
        pico = cfg.replace(resize=Resize(ResizeMode.FIXED, width=320, height=320), box_format="pixels",
                           labels=tuple(f"c{i}" for i in range(80)), export_nms=(("nms_threshold", 0.6),),
                           fpn_stride=(8, 16, 32, 64) if form == "decoded" else (8, 16))
        assert settle(pico, outputs, "m").det_form == form
        with pytest.raises(BadInput, match="only PicoDet's raw or decoded outputs are decoded"):
            settle(cfg.replace(task=Task.SSD), outputs, "m")
    else:
        with pytest.raises(BadInput, match="not a PaddleDetection detector"):
            settle(cfg, outputs, "m")
    if form == "decoded":
        with pytest.raises(BadInput, match="describes raw PicoDet heads"):
            settle(cfg.replace(det_form="raw"), outputs, "m")


@pytest.mark.parametrize("body, needle", [
    ("use_python_inference: false\nmode: fluid\narch: SSD\nPreprocess: []\n", "PaddleDetection 1.x export"),
    ("arch: GFL\nPreprocess: []\n", "GFL detector, not PicoDet"),
    ("arch: DETR\nPreprocess: []\n", "arch DETR (DETR / RT-DETR) is not supported; supported: SSD, PicoDet"),
    ("PreProcess:\n  transform_ops:\n  - DetResizeForTest: null\nPostProcess: {name: DBPostProcess}\n",
     "a PaddleOCR config"),
    ("Global: {}\nDetPreProcess: {}\nRecPreProcess: {}\nIndexProcess: {dist_type: IP}\n", "a PP-ShiTu system config"),
    ("Global: {}\nRecPreProcess: {}\nRecPostProcess: {main_indicator: Binarize, Binarize: {method: round}}\n"
     "IndexProcess: {dist_type: hamming}\n", "binary retrieval config (dist_type: hamming / Binarize)"),
])
def test_unsupported_families_are_refused_by_name(tmp_path, body, needle):
    with pytest.raises(BadInput) as err:
        read_config_file(_det(tmp_path, body, "config.yml"))
    assert needle in str(err.value)


# --- Presets equal the upstream files they name ------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.mark.parametrize("name", sorted(__import__("lite_tools.config.presets", fromlist=["x"]).PRESET_SOURCES))
def test_presets_equal_the_upstream_config_they_name(name, paddleclas_wheel):
    """Every field but the names (presets carry no 1000 ImageNet names) equals upstream's file read by us; the
    corpus test checks our reading of those files against PaddleClas's own operators."""
    from lite_tools.config.presets import PRESET_SOURCES

    where, rel = PRESET_SOURCES[name]
    base = paddleclas_wheel if where == "wheel" else CORPUS
    if not base.is_dir():
        pytest.skip(f"{base} is not here (the shared corpus sits beside the repository)")
    upstream = read_config_file(base / rel, no_labels=True)
    preset = resolve(preset=name)
    if not preset.labels:
        upstream = upstream.replace(labels=())
    from lite_tools.config.presets import PRESET_OWN_LABELS  # names the upstream file could not carry
    if name in PRESET_OWN_LABELS:
        assert len(upstream.labels) == 80 and preset.labels == PRESET_OWN_LABELS[name]
        upstream = upstream.replace(labels=PRESET_OWN_LABELS[name])
    assert preset.replace(source="") == upstream.replace(source="")
    if name.startswith("pulc-") and preset.task == Task.BINARY:
        for variant in PRESETS:
            if variant.startswith(name + "-fpr"):
                assert resolve(preset=variant).replace(threshold=preset.threshold, source="") == preset.replace(
                    source="")
