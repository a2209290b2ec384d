"""The real optimizer, for arm and x86, on every zoo model; the x86 result must compute what Paddle does."""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest

from lite_tools import cache, opt, zoo
from lite_tools.cache import sha256_file
from lite_tools.engines import LiteEngine, PaddleInferenceEngine
from lite_tools.model import files, nb, program as programs
from conftest import run_cli

# fp32 Lite x86 against Paddle Inference: both run the same fp32 kernels up to summation order, so errors
# stay near float32 rounding of the logits; 1e-4 absolute on probabilities is ~100x what we observe.
ATOL = 1e-4
# Detection rows: box decoding passes offsets through exp(), amplifying summation-order differences in the loc
# head; observed 3.7e-4 in normalised coordinates (0.1 px at 300 px). Parity gates detectors on IoU matching.
DETECTION_ATOL = 1e-3
DETECTION_RTOL = 1e-3


@pytest.mark.parametrize("name", zoo.CHECKED)  # B1-B6 of PP-HGNetV2 are exempt: zoo.ZooEntry.exempt
def test_opt_arm_and_x86_on_zoo_model(name, zoo_dir, tmp_path):
    export = zoo_dir(name)
    before = {p.name: sha256_file(p) for p in export.iterdir()}
    manifest = opt.optimize(export, tmp_path, opt.OptOptions(targets=("arm", "x86"), name=name, use_cache=False))

    # The manifest says what was produced, and it is true.
    on_disk = json.loads((tmp_path / f"{name}.manifest.json").read_text())
    assert on_disk == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{name}.arm.nb", f"{name}.x86.nb", f"{name}.manifest.json"])
    for target in ("arm", "x86"):
        info = manifest["targets"][target]
        path = tmp_path / info["file"]
        assert info["sha256"] == sha256_file(path)
        assert info["bytes"] == path.stat().st_size
        assert nb.read_header(path).opt_version == info["opt_version"] == "v2.13-rc"
        assert info["cached"] is False
    mf = files.locate(export)
    assert manifest["model"]["model_sha256"] == sha256_file(mf.model_file)
    assert manifest["model"]["params_sha256"] == sha256_file(mf.param_file)
    program = programs.load_program(mf.model_file)
    assert manifest["ops"] == program.op_histogram()
    assert [t["name"] for t in manifest["inputs"]] == [zoo.REGISTRY[name].input_name, *zoo.REGISTRY[name].extra_inputs]
    # Paddle >= 2.5 exports lack XShape on flatten (every backbone has one): the pass must have fired.
    assert any(f["op"] == "flatten_contiguous_range" or f["op"] == "transpose2" for f in manifest["compat_fixes"])
    # ...on a staged copy: the user's export is untouched.
    assert {p.name: sha256_file(p) for p in export.iterdir()} == before

    # The x86 model computes what Paddle Inference computes on the original export.
    entry = zoo.REGISTRY[name]
    x = np.random.RandomState(7).uniform(-2, 2, (1, *entry.input_shape)).astype(np.float32)
    if name.startswith("picodet"):  # BatchNorm statistics of photos (zoo/photos.py), so a photo, not noise: on
        # uniform noise its activations run ~100x the calibrated scale, logits reach hundreds and the stride-8 level
        # (biased by -80) saturates to 1; Lite then differs by 3e-2 there, and no photo comes near that
        from lite_tools.reference import preprocess, synthetic_images
        x = preprocess(synthetic_images(1, seed=21)[0], zoo.config_for(name)).tensor
    extra = {"im_shape": np.array([[300, 300]], np.float32), "scale_factor": np.array([[0.5, 0.75]], np.float32)}
    inputs = [x] + [extra[n] for n in entry.extra_inputs]
    reference = PaddleInferenceEngine(mf.model_file, mf.param_file).run(inputs)
    lite = LiteEngine(tmp_path / f"{name}.x86.nb").run(inputs)
    assert len(reference) == len(lite)
    for ref, out in zip(reference, lite):
        assert ref.shape == out.shape
        assert np.isfinite(out).all()
        if entry.kind == "detector":  # pixel outputs carry the same relative error (max 8.6e-4 seen) scaled up
            np.testing.assert_allclose(out, ref, atol=DETECTION_ATOL, rtol=DETECTION_RTOL)
        else:
            np.testing.assert_allclose(out, ref, atol=ATOL, rtol=0)


def test_unpatched_export_crashes_x86_optimizer_in_child_only(small_model, tmp_path):
    """Why the compat pass exists: without it Lite 2.13's x86 optimizer segfaults. The crash stays in the
    child; we get a one-line error with the signal, the model and the target, and no output."""
    out = tmp_path / "out"
    with pytest.raises(Exception) as err:
        opt.optimize(small_model, out, opt.OptOptions(targets=("x86",), use_cache=False, compat=False))
    message = str(err.value)
    assert "SIGSEGV" in message and "x86" in message and str(small_model) in message
    assert "\n" not in message
    assert not out.exists()


def test_opencl_target_writes_its_own_nb(small_model, tmp_path):
    manifest = opt.optimize(small_model, tmp_path, opt.OptOptions(targets=("opencl",), name="m", use_cache=False))
    assert manifest["targets"]["opencl"]["places"] == "opencl,arm"
    assert (tmp_path / "m.opencl.nb").is_file()


def test_quantised_and_fp16_models_are_smaller_and_recorded(small_model, tmp_path):
    fp32 = opt.optimize(small_model, tmp_path / "fp32", opt.OptOptions(targets=("arm",), name="m"))
    int8 = opt.optimize(small_model, tmp_path / "int8", opt.OptOptions(targets=("arm",), name="m", quant="int8"))
    int16 = opt.optimize(small_model, tmp_path / "int16", opt.OptOptions(targets=("arm",), name="m", quant="int16"))
    fp16 = opt.optimize(small_model, tmp_path / "fp16", opt.OptOptions(targets=("arm",), name="m", fp16=True))
    size = {k: m["targets"]["arm"]["bytes"] for k, m in
            {"fp32": fp32, "int8": int8, "int16": int16, "fp16": fp16}.items()}
    # Weight-only quantisation stores 1 or 2 bytes per weight instead of 4.
    assert size["int8"] < 0.45 * size["fp32"]
    assert size["int16"] < 0.7 * size["fp32"]
    # fp16 keeps fp32 weight storage in Lite 2.13's .nb but selects fp16 kernels with fp32<->fp16 casts.
    fp16_bytes = (tmp_path / "fp16" / "m.arm.nb").read_bytes()
    assert b"calib/fp32_to_fp16" in fp16_bytes and b"fp16" not in (tmp_path / "fp32" / "m.arm.nb").read_bytes()
    assert int8["options"]["quant"] == "int8" and fp16["options"]["fp16"] is True
    assert len({m["targets"]["arm"]["sha256"] for m in (fp32, int8, int16, fp16)}) == 4


def test_cache_reuses_identical_inputs_and_options(small_model, tmp_path):
    """Same bytes and options: the cached .nb, byte-identical to a fresh run (opt's header is normalised)."""
    first = opt.optimize(small_model, tmp_path / "a", opt.OptOptions(targets=("x86",), name="m", use_cache=False))
    second = opt.optimize(small_model, tmp_path / "b", opt.OptOptions(targets=("x86",), name="m"))
    third = opt.optimize(small_model, tmp_path / "c", opt.OptOptions(targets=("x86",), name="m", use_cache=False))
    assert second["targets"]["x86"]["cached"] is True
    assert third["targets"]["x86"]["cached"] is False
    assert first["targets"]["x86"]["sha256"] == second["targets"]["x86"]["sha256"] == third["targets"]["x86"]["sha256"]
    other = opt.optimize(small_model, tmp_path / "d", opt.OptOptions(targets=("x86",), name="m", quant="int16"))
    assert other["targets"]["x86"]["sha256"] != first["targets"]["x86"]["sha256"]


def test_cache_serves_the_same_bytes_under_a_new_path(small_model, tmp_path):
    """Content-addressed: a fresh copy of an export (digests not remembered yet) is still served from the cache."""
    first = opt.optimize(small_model, tmp_path / "a", opt.OptOptions(targets=("arm",), name="m"))
    copy = tmp_path / "copy"
    shutil.copytree(small_model, copy)
    second = opt.optimize(copy, tmp_path / "b", opt.OptOptions(targets=("arm",), name="m"))
    assert second["targets"]["arm"]["cached"] is True
    digest = second["targets"]["arm"]["sha256"]
    assert digest == first["targets"]["arm"]["sha256"] == sha256_file(tmp_path / "b/m.arm.nb")


def test_output_edited_in_place_leaves_the_cache_entry_alone(small_model, tmp_path):
    """Outputs are copies of cache entries, not links: editing one in place changes neither the entry nor the
    next output served from it."""
    first = opt.optimize(small_model, tmp_path / "a", opt.OptOptions(targets=("arm",), name="m"))
    served = opt.optimize(small_model, tmp_path / "b", opt.OptOptions(targets=("arm",), name="m"))
    assert served["targets"]["arm"]["cached"] is True
    with open(tmp_path / "b/m.arm.nb", "r+b") as f:  # edit in place, same size
        f.seek(100)
        f.write(b"\xff" * 16)
    again = opt.optimize(small_model, tmp_path / "c", opt.OptOptions(targets=("arm",), name="m"))
    assert again["targets"]["arm"]["cached"] is True
    assert sha256_file(tmp_path / "c/m.arm.nb") == first["targets"]["arm"]["sha256"]


def test_remembered_digest_is_not_fooled_by_an_in_place_edit(small_model, tmp_path, monkeypatch):
    """A params file rewritten in place with its size and mtime restored is hashed again (its ctime moved)."""
    monkeypatch.setattr(cache, "STILL_NS", 0)  # remember digests of files written just now
    model = tmp_path / "model"
    shutil.copytree(small_model, model)
    first = opt.optimize(model, tmp_path / "a", opt.OptOptions(targets=("arm",), name="m"))
    assert cache.remembered_sha256(model / "inference.pdiparams") == first["model"]["params_sha256"]
    params = model / "inference.pdiparams"
    st = params.stat()
    data = bytearray(params.read_bytes())
    data[-4:] = b"\x00\x00\x80\x3f"  # the last float becomes 1.0
    time.sleep(0.01)
    params.write_bytes(bytes(data))
    os.utime(params, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = opt.optimize(model, tmp_path / "b", opt.OptOptions(targets=("arm",), name="m"))
    assert second["model"]["params_sha256"] == sha256_file(params) != first["model"]["params_sha256"]
    assert second["targets"]["arm"]["sha256"] != first["targets"]["arm"]["sha256"]  # the new weights, not the old


def test_cli_opt_reports_what_it_wrote(small_model, tmp_path):
    """The command line path (forked child, exit without teardown): its summary reaches a pipe intact and
    matches the manifest and the files."""
    proc = run_cli("opt", small_model, "--target", "arm", "--out", tmp_path / "out", "--name", "m", "--no-cache",
                   env={"PYTHONUNBUFFERED": ""})  # a pipe buffers stdout, as for any user
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out" / "m.manifest.json").read_text())
    assert manifest["targets"]["arm"]["sha256"] == sha256_file(tmp_path / "out" / "m.arm.nb")
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].strip() == f"manifest {tmp_path / 'out' / 'm.manifest.json'}"
    assert any(line.split()[:2] == ["arm", str(tmp_path / "out" / "m.arm.nb")] for line in lines)
    assert proc.stderr.splitlines() == ["opt arm: running Paddle Lite's optimizer"]
