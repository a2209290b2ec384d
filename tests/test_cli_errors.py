"""Every bad input: one line on stderr, exit != 0, no traceback, no partial output, inputs byte-identical."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from lite_tools.errors import ToolFailure
from lite_tools.model import files, program as programs
from lite_tools.opt_child import OptChild
from conftest import run_cli, tree_digest


def assert_clean_failure(proc, out_dir: Path, *needles, code=2):
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("lite-tools: error: ")]
    assert proc.returncode == code, proc.stderr
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    assert all(ln.startswith("opt ") for ln in lines[:-1]), proc.stderr  # only progress lines before it
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert not out_dir.exists() or not any(out_dir.iterdir()), list(out_dir.iterdir())


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def opt_cli(model, out, *extra):
    return run_cli("opt", model, "--target", "arm,x86", "--out", out, "--no-cache", *extra)


def test_missing_dir(tmp_path):
    proc = opt_cli(tmp_path / "nope", tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", "nope", "no such directory")


def test_empty_dir(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = opt_cli(tmp_path / "empty", tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", "empty", "is empty")


@pytest.mark.parametrize("keep", ["inference.pdmodel", "inference.pdiparams"])
def test_only_one_of_the_two_files(small_model, tmp_path, keep):
    model = tmp_path / "model"
    model.mkdir()
    shutil.copyfile(small_model / keep, model / keep)
    before = tree_digest(model)
    proc = opt_cli(model, tmp_path / "out")
    missing = "inference.pdiparams" if keep == "inference.pdmodel" else "inference.pdmodel"
    assert_clean_failure(proc, tmp_path / "out", str(model), missing)
    assert tree_digest(model) == before


@pytest.mark.parametrize("damage, needle", [
    ("truncate_model", "truncated"),
    ("random_model", "not a Paddle program"),
    ("truncate_params", "truncated .pdiparams"),
])
def test_damaged_files(small_model, tmp_path, damage, needle):
    model = copy_model(small_model, tmp_path / "model")
    target = model / ("inference.pdiparams" if damage == "truncate_params" else "inference.pdmodel")
    data = target.read_bytes()
    if damage.startswith("truncate"):
        target.write_bytes(data[: len(data) * 2 // 3])
    else:
        target.write_bytes(os.urandom(len(data)))
    before = tree_digest(model)
    proc = opt_cli(model, tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", str(target.name), needle)
    assert tree_digest(model) == before


def test_mismatched_model_and_params(zoo_dir, small_model, tmp_path):
    model = copy_model(small_model, tmp_path / "model")
    shutil.copyfile(zoo_dir("PULC_person_exists") / "inference.pdiparams", model / "inference.pdiparams")
    before = tree_digest(model)
    proc = opt_cli(model, tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", "inference.pdiparams", "different exports")
    assert tree_digest(model) == before


def test_pir_json_export(small_model, tmp_path):
    model = tmp_path / "pir"
    model.mkdir()
    (model / "inference.json").write_text('{"base_code": {"magic": "pir", "version": 1}, "program": {}}')
    shutil.copyfile(small_model / "inference.pdiparams", model / "inference.pdiparams")
    proc = opt_cli(model, tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", "inference.json", "PIR", "FLAGS_enable_pir_api=0")
    proc = run_cli("opt", "--model-file", model / "inference.json", "--param-file", model / "inference.pdiparams",
                   "--target", "arm", "--out", tmp_path / "out2")
    assert_clean_failure(proc, tmp_path / "out2", "PIR")


def test_unwritable_out_dir(small_model, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = opt_cli(small_model, blocker / "out")
    assert_clean_failure(proc, blocker / "out", "cannot write")
    proc = opt_cli(small_model, blocker)
    assert_clean_failure(proc, tmp_path / "never", "not a directory")
    assert blocker.read_text() == "not a directory"


def test_paths_with_spaces_and_non_ascii(small_model, tmp_path):
    model = copy_model(small_model, tmp_path / "my models" / "模型 ñ")
    out = tmp_path / "out dir" / "输出"
    before = tree_digest(model)
    proc = opt_cli(model, out, "--name", "person model")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "person model.arm.nb", "person model.manifest.json", "person model.x86.nb"]
    assert tree_digest(model) == before


def _with_op_renamed(small_model, dst: Path, old: str, new: str) -> Path:
    model = copy_model(small_model, dst)
    program = programs.load_program(model / "inference.pdmodel")
    for op in program.block.ops:
        if op.type == old:
            op.type = new
    (model / "inference.pdmodel").write_bytes(program.serialize())
    return model


def test_unsupported_op_is_named(small_model, tmp_path):
    from lite_tools import lite_runner

    # An op Paddle has and Lite 2.13 lacks, verified against Lite's own table rather than assumed.
    assert "kron" not in lite_runner.supported_ops("arm") | lite_runner.supported_ops("x86")
    model = _with_op_renamed(small_model, tmp_path / "model", "hard_swish", "kron")
    before = tree_digest(model)
    proc = opt_cli(model, tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", "kron", "arm:", "x86:", "no kernel")
    assert tree_digest(model) == before


def test_training_op_gets_a_checkpoint_hint(small_model, tmp_path):
    model = _with_op_renamed(small_model, tmp_path / "model", "hard_swish", "adam")
    proc = opt_cli(model, tmp_path / "out")
    assert_clean_failure(proc, tmp_path / "out", "adam", "training checkpoint", "export_model.py")


def test_child_crash_becomes_one_line(small_model, tmp_path):
    model = copy_model(small_model, tmp_path / "model")
    before = tree_digest(model)
    proc = run_cli("opt", model, "--target", "x86", "--out", tmp_path / "out", "--no-cache", "--no-compat")
    assert_clean_failure(proc, tmp_path / "out", "SIGSEGV", "target x86", str(model))
    assert tree_digest(model) == before


def test_crash_while_another_target_runs_leaves_nothing(small_model, tmp_path):
    """Targets run in parallel children: x86 crashes while arm may still be writing; nothing may be left."""
    proc = run_cli("opt", small_model, "--target", "x86,arm", "--out", tmp_path / "out", "--no-cache", "--no-compat")
    assert_clean_failure(proc, tmp_path / "out", "SIGSEGV", "target x86")


def test_optimizer_past_its_deadline_is_stopped(small_model, tmp_path):
    mf = files.locate(small_model)
    with OptChild() as child:
        child.send({"action": "opt", "model_file": str(mf.model_file), "param_file": str(mf.param_file),
                    "optimize_out": str(tmp_path / "m"), "places": "arm"})
        with pytest.raises(ToolFailure, match="did not finish within"):
            child.result(timeout=0.005)
        assert child.returncode == -signal.SIGKILL


def test_existing_out_dir_keeps_its_files_on_failure(small_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = run_cli("opt", small_model, "--target", "x86", "--out", out, "--no-cache", "--no-compat")
    assert proc.returncode == 2
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("args, needle", [
    (["--target", "x86", "--fp16"], "ARM only"),
    (["--target", "arm,mips"], "unknown target 'mips'"),
    (["--target", "arm,arm"], "listed twice"),
])
def test_option_conflicts(small_model, tmp_path, args, needle):
    proc = run_cli("opt", small_model, "--out", tmp_path / "out", *args)
    assert_clean_failure(proc, tmp_path / "out", needle)


def test_help_does_not_import_paddle():
    import subprocess
    import sys

    code = ("import sys; from lite_tools import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('paddle' in sys.modules, 'paddlelite' in sys.modules, 'paddlelite.lite' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "False False False"


def _processes_mentioning(text: str) -> list:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(proc.name)
        except OSError:
            pass
    return found


def test_no_optimizer_child_outlives_the_cli(small_model, tmp_path):
    """`opt` forks its optimizer child before parsing anything: whether it is used, served from the cache, or
    the command fails or only prints help, the child (which carries the CLI's arguments) must be gone."""
    out = tmp_path / "out-marker"
    runs = [("--no-cache",), (), ("--help",), ("--quant", "int3")]
    for extra in runs:
        proc = run_cli("opt", small_model, "--target", "arm", "--out", out, *extra)
        assert proc.returncode == (2 if "--quant" in extra else 0), proc.stderr
        assert _processes_mentioning(str(out)) == []
