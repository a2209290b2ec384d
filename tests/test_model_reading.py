"""Reading programs, params, .nb headers, and the XShape compat pass, against files Paddle really wrote."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lite_tools import opt
from lite_tools.errors import BadInput
from lite_tools.model import compat, files, nb, program as programs
from conftest import run_cli


def test_program_facts_match_paddle_inference(small_model):
    from lite_tools.engines import PaddleInferenceEngine

    mf = files.locate(small_model)
    program = programs.load_program(mf.model_file)
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    assert [t.name for t in program.inputs] == engine.input_names
    assert [t.name for t in program.outputs] == engine.output_names
    assert program.inputs[0].shape == (-1, 3, 224, 224) and program.inputs[0].dtype == "float32"


def test_params_walk_counts_what_paddle_saved(small_model):
    import paddle

    mf = files.locate(small_model)
    program = programs.load_program(mf.model_file)
    stats = programs.check_params(program, mf.param_file)
    layer = paddle.jit.load(str(mf.model_file.with_suffix("")))
    numel = sum(int(np.prod(p.shape)) for p in layer.parameters()) + sum(
        int(np.prod(b.shape)) for b in layer.buffers())
    assert stats["numel"] == numel
    assert stats["bytes"] == mf.param_file.stat().st_size


def test_params_with_extra_bytes_are_refused(small_model, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(small_model, model)
    with open(model / "inference.pdiparams", "ab") as f:
        f.write(b"\0" * 64)
    program = programs.load_program(model / "inference.pdmodel")
    with pytest.raises(BadInput, match="64 bytes more"):
        programs.check_params(program, model / "inference.pdiparams")


def test_paddledetection_layout_is_found(zoo_dir):
    mf = files.locate(zoo_dir("SSD_MobileNetV1_300"))
    assert mf.model_file.name == "model.pdmodel" and mf.param_file.name == "model.pdiparams"


def test_xshape_pass_restores_what_older_paddle_declared(small_model):
    program = programs.load_program(files.locate(small_model).model_file)
    flatten = [op for op in program.block.ops if op.type == "flatten_contiguous_range"]
    assert flatten and not any(o.parameter == "XShape" and o.arguments for op in flatten for o in op.outputs)
    fixes = compat.apply_all(program)
    assert {f["op"] for f in fixes} == {"flatten_contiguous_range"}
    for op in flatten:
        (xshape,) = [o.arguments[0] for o in op.outputs if o.parameter == "XShape"]
        x_dims = list(program.var(next(i.arguments[0] for i in op.inputs if i.parameter == "X"))
                      .type.lod_tensor.tensor.dims)
        assert list(program.var(xshape).type.lod_tensor.tensor.dims) == [0] + x_dims
    assert compat.apply_all(program) == []  # idempotent


def _nb_with_version(src, dst, version: bytes):
    data = bytearray(src.read_bytes())
    data[2:18] = version.ljust(16, b"\0")
    dst.write_bytes(bytes(data))


def test_nb_header_and_version_skew_warning(small_model, tmp_path):
    manifest = opt.optimize(small_model, tmp_path, opt.OptOptions(targets=("arm",), name="m"))
    header = nb.read_header(tmp_path / "m.arm.nb")
    assert header.opt_version == manifest["targets"]["arm"]["opt_version"] == "v2.13-rc"
    proc = run_cli("inspect", tmp_path / "m.arm.nb", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["version_match"] is True and "warning" not in info

    _nb_with_version(tmp_path / "m.arm.nb", tmp_path / "old.nb", b"v2.12")
    proc = run_cli("inspect", tmp_path / "old.nb")
    assert proc.returncode == 0
    assert "made by opt v2.12" in proc.stdout and "WARNING" in proc.stdout and "v2.13-rc" in proc.stdout


def test_nb_that_is_not_a_lite_model(tmp_path):
    (tmp_path / "x.nb").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    proc = run_cli("inspect", tmp_path / "x.nb")
    assert proc.returncode == 2 and "not a Paddle Lite naive-buffer model" in proc.stderr


def test_inspect_model_reports_support_and_needed_fixes(zoo_dir):
    proc = run_cli("inspect", zoo_dir("SSD_MobileNetV1_300"), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert {"prior_box", "box_coder", "multiclass_nms3"} <= set(info["ops"])
    assert all(s["supported"] for s in info["support"].values())
    assert info["compat_fixes_needed"]
    assert info["params"]["count"] > 0 and info["outputs"][0]["shape"] == [-1, 6]


def test_doctor_passes_here_with_a_real_canary():
    proc = run_cli("doctor")
    assert proc.returncode == 0, proc.stdout
    canary = next(ln for ln in proc.stdout.splitlines() if "lite canary" in ln)
    assert canary.startswith("ok") and "max_abs=0.0" in canary
