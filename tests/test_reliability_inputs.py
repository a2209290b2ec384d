"""Regression tests for the reliability probe (../shared/probes/reliability-2026-12-01.md), named after its case ids:
model folders and files that are not what they seem (two exports, a symlink loop, a FIFO, a directory, no read
permission) and `.nb` files that are truncated, not files, or built for another target. Each runs the real CLI on
a real zoo export and must end in one `lite-tools: error:` line with exit 2, never a traceback or a hang."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import refused, run_cli, tree_digest

PRESET = ("--preset", "pulc-person-exists")
NOCAP = ("capsh", "--drop=cap_dac_override,cap_dac_read_search", "--")
GUARD = 120  # seconds: a run that blocks on a FIFO fails the test instead of hanging the suite



def cli(*args, env=None, timeout=GUARD):
    """The CLI as a user runs it, with a timeout well below run_cli's (the FIFO cases used to block)."""
    return subprocess.run([sys.executable, "-m", "lite_tools", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=timeout)


def nocap_cli(*args):
    """The CLI without the two capabilities that let root read a chmod 000 file: a stand-in for a normal user."""
    command = shlex.join([sys.executable, "-m", "lite_tools", *map(str, args)])
    return subprocess.run([*NOCAP, "-c", command], capture_output=True, text=True, timeout=GUARD)


@pytest.fixture(scope="module")
def nocap(tmp_path_factory):
    """Skip unless capsh can drop the capabilities, so that chmod 000 really stops this root process."""
    probe = tmp_path_factory.mktemp("nocap") / "secret"
    probe.write_text("x")
    probe.chmod(0)
    if shutil.which("capsh") is None:
        pytest.skip("capsh is not installed: cannot stand in for a non-root user")
    proc = subprocess.run([*NOCAP, "-c", f"cat {shlex.quote(str(probe))}"], capture_output=True, text=True)
    if proc.returncode == 0:
        pytest.skip("capsh could not drop cap_dac_override/cap_dac_read_search: chmod 000 does not stop reads")


@pytest.fixture
def model(zoo_dir, tmp_path):
    """A private copy of PULC_person_exists, to alter."""
    path = tmp_path / "m"
    shutil.copytree(zoo_dir("PULC_person_exists"), path)
    return path


@pytest.fixture(scope="module")
def built(zoo_dir, tmp_path_factory):
    """m.arm.nb, m.x86.nb and m.manifest.json of PULC_person_exists (a cache hit after the first run).

    The files may be hard links into opt's cache: tests read them and write altered copies, never change them.
    """
    out = tmp_path_factory.mktemp("built")
    proc = run_cli("opt", zoo_dir("PULC_person_exists"), "--target", "arm,x86", "--out", out, "--name", "m")
    assert proc.returncode == 0, proc.stderr
    return out


def _model_with(model, kind: str):
    """Replace inference.pdmodel with a symlink loop, a FIFO or a directory; return its path."""
    target = model / "inference.pdmodel"
    target.unlink()
    if kind == "loop":
        target.symlink_to("inference.pdmodel")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    return target


MESSAGES = {"loop": "is a symbolic link loop", "fifo": "is a FIFO, not a file", "dir": "is a directory, not a file"}
MISLEADING = ("has inference.pdiparams but not inference.pdmodel", "no such file")


def _folder_command(command: str, model, out):
    if command == "opt":
        return ("opt", model, "--target", "arm", "--out", out)
    if command == "inspect":
        return ("inspect", model)
    if command == "parity":
        return ("parity", model, *PRESET, "--random", "1")
    return (command, model, *PRESET, "--out", out)  # android, flutter, deploy


@pytest.mark.parametrize("command", ["opt", "inspect", "parity", "android", "flutter", "deploy"])
def test_O8_both_pairs_is_refused(model, tmp_path, command):
    """A folder with inference.* and model.* used to be resolved to inference.* without a word (exit 0)."""
    shutil.copyfile(model / "inference.pdmodel", model / "model.pdmodel")
    shutil.copyfile(model / "inference.pdiparams", model / "model.pdiparams")
    before = tree_digest(model)
    out = tmp_path / "out"
    line = refused(cli(*_folder_command(command, model, out)), "holds two exports")
    assert "inference.pdmodel + inference.pdiparams" in line and "model.pdmodel + model.pdiparams" in line
    assert "--model-file" in line and "--param-file" in line
    assert not out.exists()
    assert tree_digest(model) == before


def test_O9_symlink_loop(model, tmp_path):
    """A symlink loop named inference.pdmodel was "has inference.pdiparams but not inference.pdmodel"."""
    bad = _model_with(model, "loop")
    for args in (("opt", model, "--target", "arm", "--out", tmp_path / "out"), ("inspect", model)):
        line = refused(cli(*args), f"{bad}: {MESSAGES['loop']}")
        assert not any(m in line for m in MISLEADING), line
    assert not (tmp_path / "out").exists()


def test_O10_fifo_model(model, tmp_path):
    """A FIFO named inference.pdmodel: the same misleading line; it must be named, and never opened (it blocks)."""
    bad = _model_with(model, "fifo")
    for args in (("opt", model, "--target", "arm", "--out", tmp_path / "out"), ("inspect", model),
                 ("parity", model, *PRESET, "--random", "1")):
        line = refused(cli(*args), f"{bad}: {MESSAGES['fifo']}")
        assert not any(m in line for m in MISLEADING), line
    assert not (tmp_path / "out").exists()


def test_O11_directory_model(model, tmp_path):
    """A directory named inference.pdmodel: the same misleading line."""
    bad = _model_with(model, "dir")
    line = refused(cli("opt", model, "--target", "arm", "--out", tmp_path / "out"), f"{bad}: {MESSAGES['dir']}")
    assert not any(m in line for m in MISLEADING), line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["fifo", "loop"])
def test_O12_model_file_fifo_or_loop(model, tmp_path, kind):
    """`--model-file` naming a FIFO or a symlink loop said "no such file", although the path exists."""
    bad = _model_with(model, kind)
    for command in ("opt", "inspect"):
        extra = ("--target", "arm", "--out", tmp_path / "out") if command == "opt" else ()
        line = refused(cli(command, "--model-file", bad, "--param-file", model / "inference.pdiparams", *extra),
                       f"{bad}: {MESSAGES[kind]}")
        assert "no such file" not in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["dir", "fifo", "loop"])
def test_I6_inspect_dir_or_fifo_nb(tmp_path, kind):
    """`inspect x.nb` on a directory, a FIFO or a symlink loop said "no such file"."""
    bad = tmp_path / "x.nb"
    if kind == "dir":
        bad.mkdir()
    elif kind == "fifo":
        os.mkfifo(bad)
    else:
        bad.symlink_to("x.nb")
    line = refused(cli("inspect", bad), f"{bad}: {MESSAGES[kind]}")
    assert "no such file" not in line


def refused_unreadable(nocap, model, tmp_path, command, name):
    """chmod 000 on model/`name`, then `command` as a non-root stand-in: one line, no OUT."""
    path = model / name
    path.chmod(0)
    try:
        out = tmp_path / "out"
        refused(nocap_cli(*_folder_command(command, model, out)), f"{path}: cannot read (permission denied)")
        assert not out.exists()
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("command", ["opt", "inspect", "parity", "deploy"])
def test_O14_unreadable_params(nocap, model, tmp_path, command):
    """chmod 000 params, run as a non-root stand-in: a PermissionError traceback with exit 1."""
    refused_unreadable(nocap, model, tmp_path, command, "inference.pdiparams")


@pytest.mark.parametrize("command", ["inspect", "opt"])
def test_O15_unreadable_model_inspect(nocap, model, tmp_path, command):
    """chmod 000 .pdmodel (non-root stand-in): a PermissionError traceback from read_bytes, exit 1."""
    refused_unreadable(nocap, model, tmp_path, command, "inference.pdmodel")


def test_I3_truncated_nb(built, tmp_path):
    """The first 5,000,000 bytes of a 6.8 MB .nb were "Paddle Lite naive-buffer model, 5,000,000 bytes" (exit 0);
    the layout in the file (program size, then each parameter's size) tells how long it must be."""
    data = (built / "m.x86.nb").read_bytes()
    assert len(data) > 5_000_000
    ok = cli("inspect", built / "m.x86.nb")
    assert ok.returncode == 0 and "truncated" not in ok.stdout + ok.stderr, ok.stderr
    for cut in (5_000_000, 60_000, 30):  # inside the parameters, inside the program, inside the header
        bad = tmp_path / f"cut{cut}.nb"
        bad.write_bytes(data[:cut])
        line = refused(cli("inspect", bad), "is truncated")
        assert f"{cut:,} bytes" in line, line


def test_P5_lite_model_folder(zoo_dir, tmp_path):
    """`--lite-model` naming a directory was an IsADirectoryError traceback."""
    (tmp_path / "tmp").mkdir()
    bad = tmp_path / "x.nb"
    bad.mkdir()
    proc = cli("parity", zoo_dir("PULC_person_exists"), *PRESET, "--random", "1", "--lite-model", bad,
               env={"TMPDIR": str(tmp_path / "tmp")})
    refused(proc, f"{bad}: is a directory, not a file")
    assert not list((tmp_path / "tmp").iterdir())


def test_P6_lite_model_fifo_no_hang(zoo_dir, tmp_path):
    """`--lite-model` naming a FIFO hung on the header read (and leaked a temp folder when killed)."""
    (tmp_path / "tmp").mkdir()
    bad = tmp_path / "x.nb"
    os.mkfifo(bad)
    proc = cli("parity", zoo_dir("PULC_person_exists"), *PRESET, "--random", "1", "--lite-model", bad,
               env={"TMPDIR": str(tmp_path / "tmp")}, timeout=60)
    refused(proc, f"{bad}: is a FIFO, not a file")
    assert not list((tmp_path / "tmp").iterdir())


def test_P7_arm_nb_as_lite_model(zoo_dir, built, tmp_path):
    """The ARM .nb given to x86 parity ran, then blamed the conversion (max_abs 7.9e34, "is it the conversion of
    this model?"). Its kernels say ARM, so it is refused first; a copy with no manifest beside it as well."""
    copy = tmp_path / "phone.nb"
    shutil.copyfile(built / "m.arm.nb", copy)
    for nb in (built / "m.arm.nb", copy):
        line = refused(cli("parity", zoo_dir("PULC_person_exists"), *PRESET, "--random", "1", "--lite-model", nb),
                       "this is the ARM build of the model; parity on x86 needs the x86 .nb (opt --target x86)")
        assert str(nb) in line
