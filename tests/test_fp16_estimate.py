"""The fp16 estimate (lite_tools/parity/fp16.py): its rounding against numpy on a one-conv program, its size on
PP-LCNet against what an ARMv8.2 fp16 device measured, overflow detection on the untrained SSD, underflow reporting
against numpy's own float16 cast on PicoDet and PP-LCNet, and the gate it puts on `deploy --fp16`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lite_tools import zoo
from lite_tools.config import resolve
from lite_tools.model import files, program as programs
from lite_tools.parity import check as parity
from lite_tools.parity import fp16
from lite_tools.parity.quant_estimate import write_estimated_params
from conftest import run_cli

# A one-conv program (2 -> 3 channels, 3x3, no bias) + relu, saved as an inference export by a child Python (static
# mode must not leak into this process, where the zoo builds its models in dygraph).
ONE_CONV = """
import sys, numpy as np, paddle
paddle.enable_static()
main, startup = paddle.static.Program(), paddle.static.Program()
with paddle.static.program_guard(main, startup):
    x = paddle.static.data("x", [1, 2, 6, 6], "float32")
    y = paddle.nn.functional.relu(paddle.static.nn.conv2d(x, 3, 3, bias_attr=False,
                                                          param_attr=paddle.ParamAttr(name="w")))
exe = paddle.static.Executor(paddle.CPUPlace())
exe.run(startup)
paddle.static.global_scope().find_var("w").get_tensor().set(np.load(sys.argv[2]), paddle.CPUPlace())
paddle.static.save_inference_model(sys.argv[1] + "/inference", [x], [y], exe, program=main)
"""


@pytest.fixture(scope="module")
def one_conv(tmp_path_factory):
    """(export dir, fp32 weights [3, 2, 3, 3], positive so a large constant input overflows by a known amount)."""
    d = tmp_path_factory.mktemp("one-conv")
    w = np.random.default_rng(5).uniform(0.5, 1.5, (3, 2, 3, 3)).astype(np.float32)
    np.save(d / "w.npy", w)
    subprocess.run([sys.executable, "-c", ONE_CONV, str(d), str(d / "w.npy")], check=True, capture_output=True)
    return d, w


def _estimate_raw(model_dir, arrays, tmp_path):
    """fp16.run_isolated on raw input tensors, weights rounded as parity rounds them."""
    mf = files.locate(model_dir)
    rounded = tmp_path / "rounded.pdiparams"
    write_estimated_params(programs.load_program(mf.model_file), mf.param_file, rounded, None, True)
    return fp16.run_isolated(mf.model_file, mf.param_file, rounded, [[a] for a in arrays], tmp_path)


def _half(a) -> np.ndarray:
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float64)

# Every fp32 tensor of an inference program that an op reads (op outputs and the feeds), computed by plain Paddle
# static execution of the unmodified program: the independent side of the underflow test. argv: model, params,
# feeds (.npz), output (.npz: names, then the arrays in that order).
FP32_TENSORS = """
import sys, numpy as np, paddle
from pathlib import Path
paddle.enable_static()
exe = paddle.static.Executor(paddle.CPUPlace())
program = paddle.static.deserialize_program(Path(sys.argv[1]).read_bytes())
paddle.static.deserialize_persistables(program, Path(sys.argv[2]).read_bytes(), exe)
block = program.global_block()
read = {n for op in block.ops for n in op.input_arg_names}
feed = dict(np.load(sys.argv[3]))
names = sorted({n for op in block.ops if op.type not in ("feed", "fetch") for n in op.output_arg_names
                if n in read and not block.var(n).persistable and block.var(n).dtype == paddle.float32
                and block.var(n).type == paddle.framework.core.VarDesc.VarType.LOD_TENSOR})
arrays = exe.run(program, feed=feed, fetch_list=names)
np.savez(sys.argv[4], np.array(names + sorted(feed)), *arrays, *[feed[k] for k in sorted(feed)])
"""


def test_one_conv_estimate_is_numpy_fp16_rounding(one_conv, tmp_path):
    """By hand: input and weights rounded to fp16, the conv summed in float64, stored to fp32 then fp16 (what the
    cast after the conv does), relu. The estimate must equal it up to one fp16 step (fp32 summation order can
    move a sum across a rounding boundary), exactly on nearly every element, and differ from fp32."""
    d, w = one_conv
    x = np.random.default_rng(6).normal(0, 3, (1, 2, 6, 6)).astype(np.float32)
    ((ref, est, over),) = _estimate_raw(d, [x], tmp_path)
    xh, wh = _half(x)[0], _half(w)
    conv = np.array([[[np.sum(wh[o] * xh[:, i:i + 3, j:j + 3]) for j in range(4)] for i in range(4)]
                     for o in range(3)])
    by_hand = np.maximum(_half(conv.astype(np.float32)), 0)[None]
    step = np.spacing(np.abs(by_hand).astype(np.float16)).astype(np.float64)
    assert est[0].shape == by_hand.shape == ref[0].shape
    assert np.all(np.abs(est[0] - by_hand) <= step)
    assert np.mean(est[0] == by_hand) >= 0.95
    fp32 = np.maximum(np.array([[[np.sum(w[o].astype(np.float64) * x[0][:, i:i + 3, j:j + 3]) for j in range(4)]
                                 for i in range(4)] for o in range(3)]), 0)[None]
    assert np.allclose(ref[0], fp32, rtol=1e-5, atol=1e-5)  # the reference side really is fp32
    assert 0 < np.abs(est[0] - ref[0]).max() < 0.05 * np.abs(ref[0]).max()
    assert over == []


def test_one_conv_overflow_names_the_conv_and_its_value(one_conv, tmp_path):
    """A constant input of 5000: each conv output is 5000 * sum(fp16 weights of that filter) > 65504, so the
    conv overflows first (with that exact value) and the relu and output after it carry inf."""
    d, w = one_conv
    x = np.full((1, 2, 6, 6), 5000, np.float32)
    ((_, est, over),) = _estimate_raw(d, [x], tmp_path)
    expected = 5000 * _half(w).sum(axis=(1, 2, 3)).max()
    assert expected > fp16.FP16_MAX
    assert over[0][0] == "conv2d" and over[0][2] == pytest.approx(expected, rel=1e-6)
    assert all(p == float("inf") for _, _, p in over[1:]) and {"relu"} <= {op for op, _, _ in over}
    assert np.isinf(est[0]).all()


def test_pplcnet_estimate_on_noise_is_plausible_beside_the_device(zoo_dir, tmp_path):
    """U(-2, 2) noise, seed 0, fed as the tensor: the ARMv8.2 device differed from fp32 by 0.064 with the top-2
    classes (0.508 / 0.490) swapped. The estimate must move the output by more than rounding the fp32 output to
    fp16 alone would (activations matter) and stay within the device's order of magnitude. It does not swap the
    top-2 (scripts/bench_fp16.py shows the gap): fp16 accumulation, which it does not model, is the rest."""
    x = np.random.default_rng(0).uniform(-2, 2, (1, 3, 224, 224)).astype(np.float32)
    ((ref, est, over),) = _estimate_raw(zoo_dir("PPLCNet_x1_0"), [x], tmp_path)
    p, q = ref[0][0], est[0][0]
    diff = np.abs(p.astype(np.float64) - q).max()
    output_rounding_only = np.abs(_half(p) - p).max()
    assert 4 * output_rounding_only < diff < 0.1
    top = np.argsort(-p)[:2]
    assert abs(p[top[0]] - 0.508) < 1e-3 and abs(p[top[1]] - 0.490) < 1e-3  # the device's input, as measured
    assert over == []


def test_ssd_overflow_detection_untrained_weights(zoo_dir, tmp_path):
    """Overflow detection (untrained weights): on a solid green image the zoo's untrained SSD decodes boxes of
    ~1e15 in fp32 (box_coder's exp). fp32 parity holds; the fp16 estimate names box_coder as the first overflow
    and `deploy --fp16` is NOT READY saying so. No claim is made about trained SSDs."""
    green = np.zeros((300, 300, 3), np.uint8)
    green[..., 1] = 255
    model, cfg = zoo_dir("SSD_MobileNetV1_300"), zoo.config_for("SSD_MobileNetV1_300")
    assert parity.check(model, cfg, [("green", green)], localise=False).ok  # fp32: nothing to see
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(green).save(images / "green.png")
    out = tmp_path / "out"
    proc = run_cli("deploy", model, "--preset", "ssd-mobilenet-300", "--images", images, "--out", out, "--fp16")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT READY" in proc.stdout and "box_coder" in proc.stdout
    page = (out / "parity" / "parity.html").read_text()
    assert "fp16 estimate (an estimate, not a device measurement)" in page and "box_coder_0.tmp_0" in page
    data = json.loads((out / "parity" / "parity.json").read_text())
    first = [o for o in data["fp16_estimate"]["overflows"] if o["first"]]
    assert [o["op"] for o in first] == ["box_coder"] and first[0]["max_abs"] > 1e12
    assert not data["ok"] and "box_coder" in data["failures"][0] and "overflows fp16" in data["failures"][0]
    summary = (out / "report.html").read_text()  # deploy's own report says it too
    assert "fp16 estimate (an estimate, not a device measurement" in summary and "box_coder" in summary


def _numpy_underflows(model_dir, feed: dict, tmp_path) -> dict:
    """{var: (nonzero, subnormal, zero, smallest nonzero |x| among them)} of the fp32 tensors that lose values in
    numpy's float16 cast (round to nearest even): subnormal = nonzero fp16 below its smallest normal."""
    mf = files.locate(model_dir)
    np.savez(tmp_path / "feed.npz", **feed)
    subprocess.run([sys.executable, "-c", FP32_TENSORS, str(mf.model_file), str(mf.param_file),
                    str(tmp_path / "feed.npz"), str(tmp_path / "fp32.npz")], check=True, capture_output=True)
    data = np.load(tmp_path / "fp32.npz")
    names = list(data["arr_0"])
    out = {}
    for k, name in enumerate(names):
        a = data[f"arr_{k + 1}"]
        h = a.astype(np.float16)
        zero = (a != 0) & (h == 0)
        sub = (h != 0) & (np.abs(h) < np.finfo(np.float16).tiny)
        if zero.any() or sub.any():
            out[name] = (int(np.count_nonzero(a)), int(sub.sum()), int(zero.sum()),
                         float(np.abs(a[zero | sub]).min()))
    assert len(names) > 50  # the whole program, not a handful of tensors
    return out


@pytest.mark.parametrize("name", ["picodet_s_320_coco_lcnet", "PPLCNet_x1_0"])
def test_underflow_report_is_numpy_float16(zoo_dir, sample_photos, name, tmp_path):
    """On grace_hopper.jpg, every tensor the estimate reports as underflowing (and only those) has exactly the
    counts numpy's float16 cast of the plain fp32 program's tensor gives. PicoDet's ~1e-9 background scores flush
    to 0 and PP-LCNet's 1000-class softmax mostly does: reported as information in the report's fp16 section, and
    not a failure of its own."""
    from lite_tools.parity.report import fp16_section
    from lite_tools.reference import model_inputs, preprocess

    model, cfg = zoo_dir(name), zoo.config_for(name)
    mf = files.locate(model)
    program = programs.load_program(mf.model_file)
    img = dict(sample_photos)["matplotlib/grace_hopper.jpg"]
    f = fp16.estimate(mf, program, cfg, [("grace_hopper", img)], None, tmp_path)
    feed = dict(zip([t.name for t in program.inputs], model_inputs(preprocess(img, cfg),
                                                                   [t.name for t in program.inputs])))
    want = _numpy_underflows(model, feed, tmp_path)
    got = {u["var"]: (u["nonzero"], u["subnormal"], u["zero"], u["min_abs"]) for u in f["underflows"]}
    assert got == want
    # failures come from overflows and task disagreement only (PicoDet's boxes do move here), never from underflow
    assert len(f["failures"]) == sum(o["first"] for o in f["overflows"]) + (f["task_agreement"] < 1)
    flushed = {u["var"]: u for u in f["underflows"] if u["zero"]}
    if name.startswith("picodet"):
        scores = [u for u in flushed.values() if u["min_abs"] < 1e-8]
        assert scores and max(u["zero_fraction"] for u in scores) > 0.5
    else:
        assert flushed["softmax_0.tmp_0"]["zero_fraction"] > 0.5
    page = fp16_section(f)
    top = f["underflows"][0]
    assert "Values that underflow fp16 (information)" in page and "does not make --fp16 NOT READY" in page
    assert f"<td>{top['var']}</td><td>{top['subnormal_fraction']:.2%}</td><td>{top['zero_fraction']:.2%}</td>" in page


def test_clean_classifier_stays_ready_with_both_sections_in_the_report(zoo_dir, tmp_path):
    """PULC person-exists on the bundled samples, --quant int8 --fp16: no overflow, the same decisions, so deploy
    is READY; its parity report carries the fp16 estimate (saying it is one) and the quantisation limits."""
    from lite_tools import deploy

    out = tmp_path / "out"
    result = deploy.deploy(zoo_dir("PULC_person_exists"), resolve(preset="pulc-person-exists"), out, quant="int8",
                           fp16=True)
    assert result.ok, result.reason
    f = result.parity["fp16_estimate"]
    assert f["overflows"] == [] and f["task_agreement"] == 1.0 and f["images"] == 6 and f["quant"] == "int8"
    assert f["outputs"][0]["compared"] == 6 and 0 < f["max_abs_vs_fp32"] < 1  # probabilities, moved but the same
    assert "fp16 accumulation inside kernels" in f["not_modelled"]
    page = (out / "parity" / "parity.html").read_text()
    assert "Weight quantisation estimate (--quant int8)" in page and "Limits: an estimate of the stored weights" in page
    assert "fp16 estimate (an estimate, not a device measurement)" in page and "No tensor overflows fp16." in page
    # the upstream resize the preprocessing reproduces is recorded, with its version
    assert "cv2.resize bilinear of opencv-python 4.6.0.66" in page
    assert json.loads((out / "parity" / "parity.json").read_text())["resize_reproduces"].startswith("cv2.resize")


def test_a_paddle_failure_in_the_estimate_is_one_error_line(one_conv, tmp_path):
    """A program Paddle cannot parse: it fails (or aborts natively) in the estimate's child; we get one
    ToolFailure line naming the estimate, and this process lives on."""
    from lite_tools.errors import ToolFailure

    d, _ = one_conv
    mf = files.locate(d)
    broken = tmp_path / "broken.pdmodel"
    broken.write_bytes(mf.model_file.read_bytes()[:60])
    with pytest.raises(ToolFailure, match="fp16") as caught:
        fp16.run_isolated(broken, mf.param_file, mf.param_file, [[np.zeros((1, 2, 6, 6), np.float32)]], tmp_path)
    assert "\n" not in str(caught.value)
