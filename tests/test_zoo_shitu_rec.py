"""PPLCNetV2_base_ShiTu as PaddleClas exports its RecModel: raw 512-d features (no softmax), the inference.yml its
dump_infer_config writes (NormalizeFeatures: task embedding), Lite x86 computing what Paddle Inference computes,
and deterministic features that still retrieve: a perturbed copy of a generated photo is nearest its source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lite_tools import opt, zoo
from lite_tools.config import Task
from lite_tools.engines import IsolatedLiteEngine, PaddleInferenceEngine
from lite_tools.model import files, program as programs
from lite_tools.reference import preprocess, synthetic_images

NAME = "PPLCNetV2_base_ShiTu"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DUMPED = CORPUS / "paddleclas/dump_infer_config/GeneralRecognitionV2__GeneralRecognitionV2_PPLCNetV2_base/inference.yml"


@pytest.fixture(scope="module")
def rec(zoo_dir):
    mf = files.locate(zoo_dir(NAME))
    return mf, PaddleInferenceEngine(mf.model_file, mf.param_file), zoo.config_for(NAME)


def test_inference_yml_is_what_paddleclas_writes(zoo_dir):
    ours = (zoo_dir(NAME) / "inference.yml").read_text()
    if not DUMPED.is_file():
        pytest.skip(f"{DUMPED} is not here (the shared corpus sits beside the repository)")
    assert ours == DUMPED.read_text()
    cfg = zoo.config_for(NAME)
    assert cfg.task == Task.EMBEDDING and cfg.postprocess == "NormalizeFeatures"
    assert (cfg.resize.width, cfg.resize.height) == (224, 224) and cfg.scale == 1.0 / 255.0


def test_names_follow_paddleclas():
    net = zoo.REGISTRY[NAME].build()
    keys = set(net.state_dict())
    assert {"backbone.stem.0.conv.weight", "backbone.stages.2.0.se.conv1.bias", "backbone.last_conv.bias",
            "backbone.stages.3.0.dw_conv_list.2.bn._mean", "neck.feat_bn._variance"} <= keys
    assert not any(k.startswith(("backbone.fc", "head.")) for k in keys)  # stop_after(flatten); IdentityHead
    assert net.backbone.stages[3][0].stride == 1 and net.backbone.stages[3][1].use_shortcut


def test_export_outputs_raw_features(rec):
    mf, engine, cfg = rec
    ops = [t for t in programs.load_program(mf.model_file).op_types() if t not in ("feed", "fetch")]
    # the BNNeck's batch_norm is the last compute op (jit.save's output `scale` follows): no softmax appended
    assert "softmax" not in ops and [t for t in ops if t != "scale"][-1] == "batch_norm"
    assert engine.input_names == ["x"]
    x = np.concatenate([preprocess(img, cfg).tensor for img in synthetic_images(2, seed=3)])
    (features,) = engine.run([x])
    assert features.shape == (2, 512) and np.linalg.norm(features, axis=1).min() > 1.5  # not normalised


def test_lite_x86_computes_what_paddle_inference_computes(rec, zoo_dir, tmp_path):
    mf, engine, cfg = rec
    opt.optimize(zoo_dir(NAME), tmp_path, opt.OptOptions(targets=("x86",), name="m", use_cache=False))
    x = preprocess(synthetic_images(1, seed=4)[0], cfg).tensor
    (reference,) = engine.run([x])
    with IsolatedLiteEngine(tmp_path / "m.x86.nb") as lite:
        (out,) = lite.run([x])
    cosine = float(out[0] @ reference[0] / np.linalg.norm(out[0]) / np.linalg.norm(reference[0]))
    assert cosine > 0.99999
    np.testing.assert_allclose(out, reference, atol=1e-3, rtol=1e-3)


def perturbed(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """A photo of the same thing: resampled (stretched to 640x640), brightness x0.97..1.03, offset +-3 grey
    levels, pixel noise sigma 2."""
    from lite_tools.config.model import Interp
    from lite_tools.reference.resize import resize

    big = resize(img, 640, 640, Interp.BILINEAR, False)
    big = big * rng.uniform(0.97, 1.03) + rng.uniform(-3, 3) + rng.normal(0, 2, big.shape)
    return np.clip(np.rint(big), 0, 255).astype(np.uint8)


def _embed(engine, cfg, images):
    feats = np.concatenate([engine.run([preprocess(img, cfg).tensor])[0] for img in images]).astype(np.float64)
    return feats / np.linalg.norm(feats, axis=1, keepdims=True)


def test_perturbed_copies_are_nearest_their_source(rec):
    """20 generated photos in 4 labels; each queried by a perturbed copy: top-1 (cosine) is its source, with a
    margin over the best other photo; one grey level of noise keeps cosine >= 0.99 (what gallery imports gate)."""
    _, engine, cfg = rec
    gallery = synthetic_images(20, seed=5)
    labels = [i % 4 for i in range(20)]
    rng = np.random.RandomState(6)
    g = _embed(engine, cfg, gallery)
    q = _embed(engine, cfg, [perturbed(img, rng) for img in gallery])
    s = q @ g.T
    assert (s.argmax(axis=1) == np.arange(20)).all(), s.argmax(axis=1)
    assert [labels[i] for i in s.argmax(axis=1)] == labels
    others = np.where(np.eye(20, dtype=bool), -np.inf, s).max(axis=1)
    assert (np.diag(s) - others).min() > 0.005
    noisy = _embed(engine, cfg, [np.clip(img + rng.normal(0, 1, img.shape), 0, 255).astype(np.uint8)
                                 for img in gallery[:5]])
    assert (np.sum(noisy * g[:5], axis=1) >= 0.99).all()
