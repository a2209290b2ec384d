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
    cfg = read_config_file(FIXTURES / "inference_person_exists.yaml")
    assert cfg.task == Task.BINARY and cfg.labels == ("nobody", "someone") and cfg.threshold == 0.5
    assert cfg.resize.mode == ResizeMode.FIXED and (cfg.resize.width, cfg.resize.height) == (224, 224)
    assert cfg.crop is None and cfg.scale == pytest.approx(0.00392157)
    assert cfg.channel_order == ChannelOrder.RGB and cfg.input_size == (224, 224)


def test_paddleclas_topk_config_with_label_file():
    cfg = read_config_file(FIXTURES / "inference_cls.yaml")
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
    ("bad_unknown_op.yaml", "unknown PreProcess op 'GridMask'"),
    ("bad_unknown_field.yaml", "ResizeImage has unknown field(s) keep_aspect"),
    ("bad_det_arch.yml", "arch 'YOLO' is not supported"),
    ("bad_det_step.yml", "unknown Preprocess type 'Mosaic'"),
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
