"""Regression tests for what a review of the reliability fixes found (the probe's guarantees, in places the probe
did not reach): files under /dev/shm are files, `--out .` works, a closed pipe during --help is quiet, an
unreadable OUT is one line, a filled read-only cache keeps serving, 16-bit images stay within the memory bound.
Real CLI on a real zoo export."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, refused, run_cli
from test_reliability_inputs import nocap, nocap_cli  # noqa: F401 (nocap is a fixture)

PRESET = ("--preset", "pulc-person-exists")


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm on this machine")
def test_a_file_under_dev_shm_is_written_like_any_other(tmp_path):
    """`config export --out /dev/shm/x.json` said "No such file or directory": every path under /dev/ was taken
    for a device and written in place. Only names of open files (/dev/stdout, /dev/fd/N) are."""
    target = f"/dev/shm/lite-tools-test-{os.getpid()}.json"
    try:
        proc = run_cli("config", "export", *PRESET, "--out", target)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(open(target).read())["task"] == "binary"
    finally:
        if os.path.exists(target):
            os.unlink(target)
    proc = run_cli("config", "export", *PRESET, "--out", "/dev/stdout")
    assert proc.returncode == 0 and json.loads(proc.stdout.split("\nwrote")[0])["task"] == "binary", proc.stdout


def test_out_dot_is_the_current_folder(zoo_dir, tmp_path):
    """`cd empty && lite-tools zoo export NAME --out .` put its staging folder inside OUT and then refused OUT
    as "not a lite-tools output"."""
    here = tmp_path / "empty"
    here.mkdir()
    proc = run_cli("zoo", "export", "PULC_person_exists", "--out", ".", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.iterdir()) == [".lite-tools-output.json", "inference.pdiparams",
                                                      "inference.pdmodel", "lite-tools-weights.json"]
    app = tmp_path / "app"
    app.mkdir()
    proc = run_cli("android", here, *PRESET, "--out", ".", "--force", cwd=app)  # an existing OUT needs --force
    assert proc.returncode == 0, proc.stderr
    assert (app / "app" / "src" / "main" / "assets" / "model.nb").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lite-tools")]


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("zoo", "--help")])
def test_a_closed_pipe_during_help_is_quiet(args):
    """`lite-tools --help | true` was a BrokenPipeError traceback, exit 1."""
    proc = subprocess.run(f"{sys.executable} -m lite_tools {' '.join(args)} | true; echo \"rc=${{PIPESTATUS[0]}}\"",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=REPO)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert proc.stdout.strip() in ("rc=0", "rc=141"), proc.stdout


def test_an_unreadable_out_is_one_line(nocap, zoo_dir, tmp_path):  # noqa: F811
    """`android M --out OUT --force` with OUT chmod 000 (as a non-root stand-in) was a PermissionError traceback."""
    out = tmp_path / "noread"
    out.mkdir()
    (out / "x").write_text("mine")
    out.chmod(0)
    try:
        refused(nocap_cli("android", zoo_dir("PULC_person_exists"), *PRESET, "--out", out, "--force"),
                f"{out}: cannot be listed")
    finally:
        out.chmod(0o755)
    assert (out / "x").read_text() == "mine"


def test_a_restored_read_only_cache_keeps_serving(zoo_dir, tmp_path):
    """A cache copied with `cp -r` (new inodes) and then made read-only: the first hit's attempt to record the new
    identity failed, which switched the cache off, and the next target ran the optimizer again."""
    from test_reliability_cache import in_mount_ns, read_only

    model, cache = zoo_dir("PULC_person_exists"), tmp_path / "cache"
    proc = run_cli("opt", model, "--target", "arm,x86", "--out", tmp_path / "fill", env={"LITE_TOOLS_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stderr
    restored = tmp_path / "restored"
    shutil.copytree(cache, restored)
    proc = in_mount_ns(read_only(restored), "opt", model, "--target", "arm,x86", "--out", tmp_path / "o",
                       env={"LITE_TOOLS_CACHE": str(restored)})
    assert proc.returncode == 0, proc.stderr
    assert "opt arm: cached" in proc.stderr and "opt x86: cached" in proc.stderr, proc.stderr
    assert "running Paddle Lite" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_listed_file_the_user_rewrote_is_never_replaced(tmp_path):
    """The marker listed paths only: a user's own inference.pdmodel copied over the one an earlier `zoo export`
    wrote was replaced by the next export without a word (a re-export needs no --force). The marker now records
    each file's size and mtime: a file that changed since is replaced only with --force."""
    out = tmp_path / "z"
    assert run_cli("zoo", "export", "PULC_person_exists", "--out", out).returncode == 0
    mine = b"my own model, not lite-tools'"
    (out / "inference.pdmodel").write_bytes(mine)
    refused(run_cli("zoo", "export", "PULC_person_exists", "--out", out),
            f"{out / 'inference.pdmodel'}: changed since lite-tools wrote it", "--force")
    assert (out / "inference.pdmodel").read_bytes() == mine
    assert run_cli("zoo", "export", "PULC_person_exists", "--out", out, "--force").returncode == 0  # asked for
    again = tmp_path / "z2"
    assert run_cli("zoo", "export", "PULC_person_exists", "--out", again).returncode == 0
    assert run_cli("zoo", "export", "PULC_person_exists", "--out", again).returncode == 0  # untouched: replaced
