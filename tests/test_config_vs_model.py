"""The config against the model, before any engine runs (issue 10's wrong verdicts, probe
../shared/probes/reliability-2026-12-01.md): a config that does not fit the model is one `lite-tools: error:`
line, exit 2, naming both sides, in parity, android and deploy. Each test is named after its probe case and fails
on 35d746f, where these runs printed PASS / READY or wrote a project."""

from __future__ import annotations

import pytest

from conftest import refused, run_cli, tree_digest

PNG_FREE = ("--random", "2")



@pytest.mark.parametrize("model, preset, needles", [
    ("SSD_MobileNetV1_300", "imagenet-cls", ("classify config", "not one [N, C] score tensor")),
    ("PPLCNet_x0_25", "ssd-mobilenet-300", ("not a PaddleDetection detector's",)),
    ("SSD_MobileNetV1_300_ppdet", "pulc-person-exists", ("binary config", "not one [N, C]")),
    ("PPLCNet_x0_25", "pulc-person-exists", ("preset pulc-person-exists is for a 2-class PULC model",
                                             "outputs 1000 values")),
])
def test_C27_wrong_task_is_refused_before_parity(zoo_dir, model, preset, needles):
    refused(run_cli("parity", zoo_dir(model), "--preset", preset, *PNG_FREE), *needles)


def test_C26_config_input_size_must_be_the_models(zoo_dir, tmp_path):
    cfg = tmp_path / "size320.yaml"
    cfg.write_text("PreProcess:\n  transform_ops:\n  - ResizeImage: {size: 320}\n  - NormalizeImage: {}\n"
                   "  - ToCHWImage: null\nPostProcess:\n  Topk: {topk: 5}\n")
    refused(run_cli("parity", zoo_dir("PPLCNet_x0_25"), "--config", cfg, *PNG_FREE),
              "gives a 320x320 input", "takes 224x224")


@pytest.mark.parametrize("field, needle", [
    ("resize_short: -256", "needs size or a positive resize_short"),
    ("resize_short: abc", "ResizeImage.resize_short must be an integer"),
])
def test_C5_negative_or_bad_resize_is_refused_everywhere(zoo_dir, tmp_path, field, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("PreProcess:\n  transform_ops:\n  - ResizeImage: {%s}\n  - CropImage: {size: 224}\n"
                   "  - NormalizeImage: {}\n  - ToCHWImage: null\nPostProcess:\n  Topk: {topk: 5}\n" % field)
    for command in (("config", "show"), ("parity", zoo_dir("PPLCNet_x0_25"), *PNG_FREE),
                    ("android", zoo_dir("PPLCNet_x0_25"), "--out", tmp_path / "a")):
        refused(run_cli(*command, "--config", cfg), needle)
    assert not (tmp_path / "a").exists()


def test_C6_negative_crop_is_refused(zoo_dir, tmp_path):
    cfg = tmp_path / "crop.yaml"
    cfg.write_text("PreProcess:\n  transform_ops:\n  - ResizeImage: {resize_short: 256}\n  - CropImage: {size: -224}\n"
                   "  - NormalizeImage: {}\n  - ToCHWImage: null\nPostProcess:\n  Topk: {topk: 5}\n")
    refused(run_cli("parity", zoo_dir("PPLCNet_x0_25"), "--config", cfg, *PNG_FREE), "CropImage.size must be")


def test_C17_missing_class_id_map_file_is_an_error(tmp_path):
    cfg = tmp_path / "missing_labels.yaml"
    cfg.write_text("PreProcess:\n  transform_ops:\n  - ResizeImage: {resize_short: 256}\n  - CropImage: {size: 224}\n"
                   "  - NormalizeImage: {}\n  - ToCHWImage: null\nPostProcess:\n"
                   "  Topk: {topk: 5, class_id_map_file: nowhere/labels.txt}\n")
    refused(run_cli("config", "show", "--config", cfg, cwd=tmp_path), "not found (tried", "--no-labels")


def test_C28_deploy_of_a_binary_preset_on_1000_classes_names_both_sides(zoo_dir, tmp_path):
    model = zoo_dir("PPLCNet_x0_25")
    before = tree_digest(model)
    refused(run_cli("deploy", model, "--preset", "pulc-person-exists", "--out", tmp_path / "d"),
              "pulc-person-exists", "1000")
    assert not (tmp_path / "d").exists() and tree_digest(model) == before


def test_label_count_must_match_the_classes(zoo_dir, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\nbird\n")
    refused(run_cli("parity", zoo_dir("PPLCNet_x0_25"), "--preset", "imagenet-cls", "--labels", names, *PNG_FREE),
              "names 3 classes", "outputs 1000 values")
