"""The zoo's architectures are the published ones: parameter counts from the papers/model cards (rounded as
published), PaddleClas parameter names, SSD's 1917 priors, and deterministic exports."""

from __future__ import annotations

import numpy as np
import pytest

from lite_tools import zoo
from lite_tools.cache import sha256_file

# Published parameter counts in millions (PP-LCNet paper Table; PaddleClas model cards).
PUBLISHED_MPARAMS = {
    "PPLCNet_x0_25": 1.5, "PPLCNet_x0_35": 1.6, "PPLCNet_x0_5": 1.9, "PPLCNet_x0_75": 2.4, "PPLCNet_x1_0": 3.0,
    "PPLCNet_x1_5": 4.5, "PPLCNet_x2_0": 6.5, "PPLCNet_x2_5": 9.0, "PPHGNetV2_B0": 6.0, "PPLCNetV2_base": 6.6,
}


@pytest.mark.parametrize("name, published", PUBLISHED_MPARAMS.items())
def test_parameter_count_matches_publication(name, published):
    net = zoo.REGISTRY[name].build()
    count = sum(int(np.prod(p.shape)) for p in net.parameters()) / 1e6
    assert round(count, 1) == published


def test_pplcnet_names_follow_paddleclas():
    keys = list(zoo.REGISTRY["PPLCNet_x1_0"].build().state_dict())
    stages = {k.split(".")[0] for k in keys}
    assert stages == {"conv1", "blocks2", "blocks3", "blocks4", "blocks5", "blocks6", "last_conv", "fc"}
    assert "blocks6.0.se.conv1.weight" in keys and "blocks5.0.se.conv1.weight" not in keys
    assert "blocks2.0.dw_conv.bn._variance" in keys and keys[-2:] == ["fc.weight", "fc.bias"]


def test_ssd_has_1917_priors_over_21_classes():
    import paddle

    net = zoo.REGISTRY["SSD_MobileNetV1_300"].build()
    net.eval()
    maps, loc, conf = net.head_outputs(paddle.zeros([1, 3, 300, 300]))
    assert [m.shape[2] for m in maps] == [19, 10, 5, 3, 2, 1]
    assert loc.shape == [1, 1917, 4] and conf.shape == [1, 1917, 21]


def test_exports_are_deterministic(tmp_path):
    """Two independent builds of the same zoo model produce identical weights."""
    zoo._build_and_save("PULC_safety_helmet", tmp_path)
    cached = zoo.exported("PULC_safety_helmet")
    assert sha256_file(tmp_path / "inference.pdiparams") == sha256_file(cached / "inference.pdiparams")


def test_pulc_models_are_two_class_softmax(zoo_dir):
    from lite_tools.engines import PaddleInferenceEngine
    from lite_tools.model import files

    mf = files.locate(zoo_dir("PULC_person_exists"))
    x = np.random.RandomState(0).normal(size=(2, 3, 224, 224)).astype(np.float32)
    (probs,) = PaddleInferenceEngine(mf.model_file, mf.param_file).run([x])
    assert probs.shape == (2, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(probs > 0)


def test_cli_zoo_export(tmp_path):
    from conftest import run_cli

    proc = run_cli("zoo", "export", "PULC_person_exists", "--out", tmp_path / "pulc")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "pulc").iterdir()) == [".lite-tools-output.json", "inference.pdiparams",
                                                                      "inference.pdmodel", "lite-tools-weights.json"]
    proc = run_cli("zoo", "export", "NoSuchNet", "--out", tmp_path / "x")
    assert proc.returncode == 2 and "unknown zoo model 'NoSuchNet'" in proc.stderr


@pytest.mark.parametrize("name", ["PULC_person_exists", "PULC_safety_helmet"])
def test_pulc_models_decide_both_ways_on_the_bundled_samples(name, zoo_dir):
    """Binary checks downstream (parity, the Java core) are only meaningful if both decisions occur: the seeds
    are chosen so that the bundled samples give both, with probabilities spread rather than saturated."""
    from lite_tools.config import resolve
    from lite_tools.deploy import load_images
    from lite_tools.engines import PaddleInferenceEngine
    from lite_tools.model import files
    from lite_tools.reference import preprocess

    mf = files.locate(zoo_dir(name))
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    cfg = resolve(preset=zoo.REGISTRY[name].preset)
    p1 = [float(engine.run([preprocess(img, cfg).tensor])[0][0, 1]) for _, img in load_images(None)[0]]
    assert any(p >= cfg.threshold for p in p1) and any(p < cfg.threshold for p in p1), p1


@pytest.mark.parametrize("name, outputs", [("PULC_person_attribute", 26), ("PULC_vehicle_attribute", 19)])
def test_attribute_models_end_in_a_sigmoid_and_decide_differently_per_image(name, outputs, zoo_dir):
    """Exported as PaddleClas exports a use_multilabel model (the sigmoid is the graph's last op), at the input size
    of its PULC deploy config; the biased head spreads scores over (0, 1) so that the attribute decisions differ
    between images: otherwise a parity or Java-core comparison of decisions would be vacuous."""
    from lite_tools.engines import PaddleInferenceEngine
    from lite_tools.model import files, program as programs
    from lite_tools.reference import postprocess, preprocess, synthetic_images

    mf = files.locate(zoo_dir(name))
    compute = [t for t in programs.load_program(mf.model_file).op_types() if t not in ("feed", "fetch", "scale")]
    assert compute[-1] == "sigmoid" and "softmax" not in compute
    cfg = zoo.config_for(name)
    assert zoo.REGISTRY[name].input_shape == (3, cfg.resize.height, cfg.resize.width)
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    scores, decisions = [], set()
    for img in synthetic_images(6, seed=5):
        pre = preprocess(img, cfg)
        out = engine.run([pre.tensor])
        assert out[0].shape == (1, outputs)
        scores.append(out[0][0])
        decisions.add(postprocess(out, cfg, pre)[0].decisions)
    scores = np.array(scores)
    assert len(decisions) >= 2, decisions
    assert 0 < scores.min() < 0.2 and 0.8 < scores.max() < 1  # spread, not saturated
    assert scores.std(axis=0).max() > 0.05  # some attribute moves with the image
