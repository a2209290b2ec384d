"""Multi-label and attribute post-processing against PaddleClas 2.6's own classes (deploy/python/postprocess.py,
loaded by path from the unpacked wheel): on seeded random scores with exact ties and values exactly at the
thresholds (where `>` and `>=`, float32 and float64 part ways), with the thresholds the wheel's configs ship."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from lite_tools.config import DeployConfig, Resize, ResizeMode, Task
from lite_tools.reference.postprocess import binary, multilabel
from score_rows import boundary_rows as score_rows

WIDTH = {"PersonAttribute": 26, "VehicleAttribute": 19, "TableAttribute": 6, "MultiLabelThreshOutput": 33}
WHEEL_CONFIGS = {"PersonAttribute": "PULC/person_attribute/inference_person_attribute.yaml",
                 "VehicleAttribute": "PULC/vehicle_attribute/inference_vehicle_attribute.yaml",
                 "TableAttribute": "PULC/table_attribute/inference_table_attribute.yaml",
                 "MultiLabelThreshOutput": "inference_cls_multilabel.yaml"}
# Beyond the shipped values: thresholds whose float32 rounding goes down (0.7) or up (0.3, 0.6), and distinct
# TableAttribute thresholds, without which its number_threshold slip would be invisible.
OTHER_PARAMS = {"PersonAttribute": {"threshold": 0.7, "glasses_threshold": 0.6, "hold_threshold": 0.3},
                "VehicleAttribute": {"color_threshold": 0.7, "type_threshold": 0.3},
                "TableAttribute": {"source_threshold": 0.3, "number_threshold": 0.7, "color_threshold": 0.6,
                                   "clarity_threshold": 0.5, "obstruction_threshold": 0.2, "angle_threshold": 0.9},
                "MultiLabelThreshOutput": {"threshold": 0.7}}


@pytest.fixture(scope="module")
def upstream(paddleclas_wheel):
    """PaddleClas's deploy/python/postprocess.py as a module (it imports paddle and numpy, both installed);
    paddleclas_wheel (tests/conftest.py) is the cached unpack of scripts/fetch_paddleclas.sh."""
    spec = importlib.util.spec_from_file_location("paddleclas_deploy_postprocess",
                                                  paddleclas_wheel / "deploy" / "python" / "postprocess.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wheel_params(wheel: Path, postprocess: str) -> dict:
    data = yaml.safe_load((wheel / "deploy" / "configs" / WHEEL_CONFIGS[postprocess]).read_text())
    return dict(data["PostProcess"][postprocess])


def config(postprocess: str, params: dict, labels=()) -> DeployConfig:
    named = {k: float(v) for k, v in params.items() if k.endswith("threshold")}
    return DeployConfig(task=Task.MULTILABEL, resize=Resize(ResizeMode.FIXED, width=192, height=256), crop=None,
                        scale=1 / 255, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), labels=tuple(labels),
                        threshold=named.get("threshold", 0.5) if postprocess == "MultiLabelThreshOutput" else 0.5,
                        postprocess=postprocess,
                        post_params=() if postprocess == "MultiLabelThreshOutput" else tuple(sorted(named.items())),
                        source=f"test {postprocess}")


def parameter_sets(wheel, postprocess):
    return [("wheel", wheel_params(wheel, postprocess)), ("other", OTHER_PARAMS[postprocess])]


@pytest.mark.parametrize("postprocess", ["PersonAttribute", "TableAttribute"])
def test_person_and_table_attributes_match_paddleclas(upstream, paddleclas_wheel, postprocess):
    for seed, (_, params) in enumerate(parameter_sets(paddleclas_wheel, postprocess)):
        named = {k: v for k, v in params.items() if k.endswith("threshold")}
        theirs = getattr(upstream, postprocess)(**named)
        cfg = config(postprocess, named)
        rows = score_rows(WIDTH[postprocess], named.values(), seed)
        for row, expect in zip(rows, theirs(rows)):
            (ours,) = multilabel(row, cfg)
            assert ours.text == ours.decisions == tuple(expect["attributes"]), (row.tolist(), named)
            assert ours.output == tuple(expect["output"]), (row.tolist(), named)
            assert ours.class_ids == () and ours.scores == tuple(row.tolist())


def test_vehicle_attribute_matches_paddleclas(upstream, paddleclas_wheel):
    for seed, (_, params) in enumerate(parameter_sets(paddleclas_wheel, "VehicleAttribute")):
        theirs = upstream.VehicleAttribute(**params)
        cfg = config("VehicleAttribute", params)
        rows = score_rows(19, params.values(), seed + 10)
        unknown = 0
        for row, expect in zip(rows, theirs(rows)):
            (ours,) = multilabel(row, cfg)
            assert ours.text == (expect["attributes"],), row.tolist()
            # The same words with the probabilities taken out, derived from upstream's string.
            words = re.sub(r"\((\w+), prob: [^)]*\)", r"\1", expect["attributes"]).split(", ")
            assert ours.decisions == tuple(words), row.tolist()
            assert ours.output == tuple(expect["output"]), row.tolist()
            unknown += "unknown" in expect["attributes"]
        assert 0 < unknown < len(rows)  # both branches of each word were exercised


@pytest.mark.parametrize("with_labels", [True, False])
def test_multilabel_thresh_output_matches_paddleclas(upstream, paddleclas_wheel, with_labels):
    """Decisions are the label names (the id as text without a class map); output[i] = score >= threshold."""
    label_file = paddleclas_wheel / "ppcls" / "utils" / "NUS-WIDE-SCENE_label_list.txt"
    labels = [line.partition(" ")[2] for line in label_file.read_text().splitlines()] if with_labels else []
    for seed, (_, params) in enumerate(parameter_sets(paddleclas_wheel, "MultiLabelThreshOutput")):
        t = params["threshold"]
        theirs = upstream.MultiLabelThreshOutput(t, str(label_file) if with_labels else None, " ")
        cfg = config("MultiLabelThreshOutput", params, labels)
        rows = score_rows(33, [t], seed + 20)
        for row, expect in zip(rows, theirs(rows)):
            (ours,) = multilabel(row, cfg)
            assert ours.class_ids == tuple(expect["class_ids"]) and ours.text == tuple(expect["label_names"])
            assert ours.decisions == (tuple(expect["label_names"]) if with_labels
                                      else tuple(str(i) for i in expect["class_ids"]))
            assert ours.output == tuple(int(i in expect["class_ids"]) for i in range(33))


def test_float32_thresholds_part_ways_as_upstream(upstream):
    """The documented precision quirk, on one row: a score of float32(0.7) passes MultiLabelThreshOutput's
    float32 `>=` 0.7 but not PersonAttribute's float64 `>` 0.7; float32(0.3) passes `>` 0.3 in float64."""
    row = np.full(26, 0.1, np.float32)
    row[0], row[1] = np.float32(0.7), np.float32(0.3)
    (ml,) = multilabel(row, config("MultiLabelThreshOutput", {"threshold": 0.7}))
    assert ml.class_ids == (0,) and upstream.MultiLabelThreshOutput(0.7)(row[None])[0]["class_ids"] == [0]
    (person,) = multilabel(row, config("PersonAttribute", {"threshold": 0.7, "glasses_threshold": 0.3}))
    assert "Hat: False" in person.decisions and "Glasses: True" in person.decisions
    assert person.output[:2] == (1, 1)  # the vector compares index 0 against the hard-coded 0.5


def _thresh_config(threshold, default_label_index, names):
    return DeployConfig(task=Task.BINARY, resize=Resize(ResizeMode.FIXED, width=224, height=224), crop=None,
                        scale=1 / 255, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), labels=("0", "1"),
                        threshold=threshold, default_label_index=default_label_index,
                        multiclass_labels=tuple(names), source="test ThreshOutput")


@pytest.mark.parametrize("classes", [3, 4, 16, 17, 40])
def test_thresh_output_multiclass_branch_matches_paddleclas(upstream, tmp_path, classes):
    """Integer logits make exact ties common (softmax of equal logits is bitwise equal), including at the top,
    where numpy's argsort decides; rows of equal logits put the top exactly at the first threshold (strict >)."""
    rng = np.random.RandomState(classes)
    names = [f"name {i}" for i in range(classes)]
    label_file = tmp_path / "labels.txt"
    label_file.write_text("".join(f"{i} {n}\n" for i, n in enumerate(names)))
    logits = rng.randint(0, 3, (300, classes)).astype(np.float32)
    logits[:20] = 0.0
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    ties_at_top = 0
    at_top = float(np.float32(1.0 / classes))  # the rows of equal logits sit exactly at this threshold
    for threshold, default, with_names in ((at_top, 1, True), (0.5, classes - 1, False), (0.0, 0, True)):
        theirs = upstream.ThreshOutput(threshold, default, class_id_map_file=str(label_file) if with_names else None)
        cfg = _thresh_config(threshold, default, names if with_names else ())
        for row, expect in zip(probs, theirs(probs)):
            (ours,) = binary(row, cfg)
            assert (ours.class_id, ours.label) == (expect["class_ids"][0], expect["label_names"][0]), row.tolist()
            assert ours.score == float(expect["scores"][0])
            ties_at_top += int(np.sum(row == row.max()) > 1)
    assert ties_at_top > 50


def test_thresh_output_two_class_path_is_unchanged(upstream):
    rng = np.random.RandomState(3)
    rows = np.concatenate([rng.uniform(0, 1, 200), [0.5, np.nextafter(np.float32(0.5), np.float32(0))]])
    probs = np.stack([1 - rows, rows], axis=1).astype(np.float32)
    cfg = _thresh_config(0.5, 0, ())
    cfg = cfg.replace(labels=("nobody", "someone"))
    theirs = upstream.ThreshOutput(0.5, label_0="nobody", label_1="someone")
    for row, expect in zip(probs, theirs(probs)):
        (ours,) = binary(row, cfg)
        assert (ours.class_id, ours.label) == (expect["class_ids"][0], expect["label_names"][0])
        assert abs(ours.score - float(expect["scores"][0])) < 1e-7


@pytest.mark.parametrize("name", ["PULC_person_attribute", "PULC_vehicle_attribute"])
def test_zoo_attribute_models_through_postprocess_match_paddleclas(upstream, zoo_dir, name):
    """The whole reference path (preset, preprocessing, Paddle Inference, postprocess) against upstream's class
    fed the same real model outputs."""
    from lite_tools import zoo
    from lite_tools.engines import PaddleInferenceEngine
    from lite_tools.model import files
    from lite_tools.reference import postprocess, preprocess, synthetic_images

    cfg = zoo.config_for(name)
    theirs = getattr(upstream, cfg.postprocess)(**dict(cfg.post_params))
    mf = files.locate(zoo_dir(name))
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    for img in synthetic_images(4, seed=9):
        pre = preprocess(img, cfg)
        out = engine.run([pre.tensor])
        (ours,), (expect,) = postprocess(out, cfg, pre), theirs(out[0])
        text = (expect["attributes"],) if isinstance(expect["attributes"], str) else tuple(expect["attributes"])
        assert (ours.text, ours.output) == (text, tuple(expect["output"]))
