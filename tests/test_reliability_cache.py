"""Regression tests for the cache rows of the reliability probe (../shared/probes/reliability-2026-12-01.md), named
after its case ids: outputs are copies that alias neither each other nor the cache (O39), an entry is served only
as the bytes its record names (O38), a cache that cannot be written only costs time, with one warning (O40-O42,
O45, X3), and a full disk on a cache hit is one line (O26). Real CLI on a real zoo export, each test with a private
cache; the read-only places and the full disk are real mounts inside `unshare -m`."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lite_tools.cache import sha256_file
from conftest import refused, run_cli


@pytest.fixture
def model(zoo_dir, tmp_path):
    """A private copy of PULC_person_exists, named `m` (outputs m.arm.nb, m.manifest.json)."""
    path = tmp_path / "m"
    shutil.copytree(zoo_dir("PULC_person_exists"), path)
    return path


@pytest.fixture
def cache_dir(tmp_path):
    """A private, empty cache but for Paddle Lite's version and op tables (asking Lite again takes seconds)."""
    path = tmp_path / "cache"
    path.mkdir()
    shared = Path(os.environ["LITE_TOOLS_CACHE"])
    for kind in ("lite_version", "supported_ops"):
        if (shared / kind).is_dir():
            shutil.copytree(shared / kind, path / kind)
    return path


def opt(model, out, cache, *extra):
    return run_cli("opt", model, "--target", "arm", "--out", out, *extra, env={"LITE_TOOLS_CACHE": str(cache)})


def written(out: Path) -> dict:
    """OUT's manifest, after checking that the .nb it names is there and has the digest it records."""
    manifest = json.loads((out / "m.manifest.json").read_text())
    assert sha256_file(out / "m.arm.nb") == manifest["targets"]["arm"]["sha256"]
    return manifest


def warned_once(proc) -> str:
    """Exit 0 with exactly one cache warning, no error and no traceback; the warning line."""
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("lite-tools: warning: cache ")]
    assert len(warnings) == 1 and warnings[0].endswith("; running without it"), proc.stderr
    assert "error" not in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    return warnings[0]


def in_mount_ns(setup: str, *args, env=None, after: str = "") -> subprocess.CompletedProcess:
    """`python -m lite_tools ARGS` after the shell lines `setup` (mounts), in a private mount namespace: the mounts
    vanish with it, so `after` (run inside) records what the test needs to see in them."""
    probe = subprocess.run(["unshare", "-m", "bash", "-c", 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d"; '
                            'rc=$?; umount "$d" 2>/dev/null; rmdir "$d"; exit $rc'], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m or mount is not permitted here ({probe.stderr.strip()}): no private mounts")
    cli = shlex.join([sys.executable, "-m", "lite_tools", *map(str, args)])
    script = f"set -e\n{setup}\nset +e\n{cli}\nrc=$?\n{after}\nexit $rc\n"
    return subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, **(env or {})))


def read_only(path: Path) -> str:
    q = shlex.quote(str(path))
    return f"mount --bind {q} {q}\nmount -o remount,bind,ro {q}"


def test_O39_outputs_are_not_hard_links(model, cache_dir, tmp_path):
    """Two outputs and the cache entry were one inode: `cp other.nb a/m.arm.nb` rewrote b's output and the cache."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert opt(model, a, cache_dir).returncode == 0
    served = opt(model, b, cache_dir)
    assert served.returncode == 0 and "opt arm: cached" in served.stderr, served.stderr
    (entry,) = (cache_dir / "opt").glob("*.nb")
    files = [a / "m.arm.nb", b / "m.arm.nb", entry]
    assert [f.stat().st_nlink for f in files] == [1, 1, 1]
    assert len({f.stat().st_ino for f in files}) == 3
    original = written(b)["targets"]["arm"]["sha256"]
    shutil.copyfile(model / "inference.pdmodel", a / "m.arm.nb")  # what `cp` does: rewrite the file in place
    assert sha256_file(b / "m.arm.nb") == sha256_file(entry) == original
    again = opt(model, tmp_path / "c", cache_dir)
    assert again.returncode == 0 and "opt arm: cached" in again.stderr, again.stderr
    assert written(tmp_path / "c")["targets"]["arm"]["sha256"] == original


def test_O38_entry_corrupted_with_size_and_mtime_kept(model, cache_dir, tmp_path):
    """An entry rewritten in place with its size and mtime restored (`dd` then `touch -m -d @old`) was served, and
    the manifest recorded the digest of the bytes it used to have. Its ctime moved: it is re-hashed and dropped."""
    first = opt(model, tmp_path / "a", cache_dir)
    assert first.returncode == 0, first.stderr
    good = written(tmp_path / "a")["targets"]["arm"]["sha256"]
    (entry,) = (cache_dir / "opt").glob("*.nb")
    st = entry.stat()
    with open(entry, "r+b") as f:
        f.seek(st.st_size // 2)
        f.write(b"\xff" * 64)
    os.utime(entry, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (entry.stat().st_size, entry.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    proc = opt(model, tmp_path / "b", cache_dir)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    manifest = written(tmp_path / "b")
    assert manifest["targets"]["arm"]["sha256"] == good and manifest["targets"]["arm"]["cached"] is False
    assert sha256_file(entry) == good  # rebuilt and entered again


def test_O40_cache_is_dev_null(model, tmp_path):
    """LITE_TOOLS_CACHE=/dev/null was a NotADirectoryError traceback."""
    proc = run_cli("opt", model, "--target", "arm", "--out", tmp_path / "o", env={"LITE_TOOLS_CACHE": "/dev/null"})
    assert "/dev/null" in warned_once(proc)
    written(tmp_path / "o")


def test_O40_zoo_export_with_cache_dev_null(tmp_path):
    """`zoo export` keeps its exports in the cache: without one it builds in a temp folder (removed at exit)."""
    proc = run_cli("zoo", "export", "PPLCNet_x0_25", "--out", tmp_path / "z", env={"LITE_TOOLS_CACHE": "/dev/null"})
    assert "/dev/null" in warned_once(proc)
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == [".lite-tools-output.json", "inference.pdiparams",
                                                                   "inference.pdmodel", "lite-tools-weights.json"]


def test_O41_cache_on_an_empty_read_only_mount(model, tmp_path):
    """A cache folder on a read-only mount was an `OSError: Read-only file system` traceback."""
    ro = tmp_path / "rocache"
    ro.mkdir()
    proc = in_mount_ns(read_only(ro), "opt", model, "--target", "arm", "--out", tmp_path / "o",
                       env={"LITE_TOOLS_CACHE": str(ro)})
    assert "Read-only file system" in warned_once(proc)
    written(tmp_path / "o")
    assert not any(ro.iterdir())


@pytest.mark.parametrize("extra", [("--no-cache",), ()], ids=["no-cache", "plain"])
def test_O42_filled_read_only_cache_never_blames_the_model(model, cache_dir, tmp_path, extra):
    """A filled cache on a read-only mount: `--no-cache` said `inference.pdmodel: cannot read (Read-only file
    system)`, a plain run gave a traceback. Now both work; `--no-cache` must write (the facts), so it warns once."""
    assert opt(model, tmp_path / "fill", cache_dir).returncode == 0
    proc = in_mount_ns(read_only(cache_dir), "opt", model, "--target", "arm", "--out", tmp_path / "o", *extra,
                       env={"LITE_TOOLS_CACHE": str(cache_dir)})
    assert proc.returncode == 0, proc.stderr
    assert "inference.pd" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("lite-tools: warning: cache ")]
    assert len(warnings) == (1 if extra else len(warnings[:1])), proc.stderr  # a plain run may not need to write
    assert written(tmp_path / "o")["targets"]["arm"]["sha256"] == written(tmp_path / "fill")["targets"]["arm"][
        "sha256"]


def test_O45_read_only_home_without_lite_tools_cache(model, tmp_path):
    """HOME on a read-only mount and no LITE_TOOLS_CACHE: a 40-line chained traceback."""
    home = tmp_path / "home"
    home.mkdir()
    setup = f"{read_only(home)}\nunset LITE_TOOLS_CACHE\nexport HOME={shlex.quote(str(home))}"
    proc = in_mount_ns(setup, "opt", model, "--target", "arm", "--out", tmp_path / "o")
    assert str(home / ".cache" / "lite-tools") in warned_once(proc)
    written(tmp_path / "o")


@pytest.mark.parametrize("place", ["cache", "home"])
def test_X3_doctor_with_a_read_only_cache(tmp_path, place):
    """`doctor` said `FAIL lite canary ... Read-only file system`: the cache gets its own warning line, and the
    canary still runs (in a temp cache). The same with a read-only HOME holding the default cache."""
    ro = tmp_path / "ro"
    ro.mkdir()
    setup = read_only(ro) + ("\nexport LITE_TOOLS_CACHE=" if place == "cache" else "\nunset LITE_TOOLS_CACHE"
                             "\nexport HOME=") + shlex.quote(str(ro))
    proc = in_mount_ns(setup, "doctor")
    lines = proc.stdout.splitlines()
    cache_lines = [ln for ln in lines if ln.split()[1:2] == ["cache"]]
    assert len(cache_lines) == 1 and cache_lines[0].startswith("warn "), proc.stdout
    assert "Read-only file system" in cache_lines[0] and "slower" in cache_lines[0]
    assert any(ln.startswith("ok   lite canary") for ln in lines), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command, existing", [("opt", False), ("opt", True), ("deploy", False)],
                         ids=["opt-new-out", "opt-existing-out", "deploy"])
def test_O26_disk_full_on_a_cache_hit(model, cache_dir, tmp_path, command, existing):
    """OUT on an 8 MB tmpfs with 4 MB free, the 6.8 MB .nb served from the cache: a `shutil.copyfile` traceback.
    Now one line naming OUT (for `deploy` too, whose work happens in a hidden folder beside OUT), exit 2, and
    OUT as it was (gone if this run created it)."""
    assert opt(model, tmp_path / "fill", cache_dir).returncode == 0
    tiny, left = tmp_path / "tiny", tmp_path / "left.txt"
    tiny.mkdir()
    out = tiny / "o"
    q = shlex.quote
    setup = (f"mount -t tmpfs -o size=8m tmpfs {q(str(tiny))}\n"
             f"head -c 4M /dev/zero > {q(str(tiny / 'filler'))}\n"
             + (f"mkdir {q(str(out))} && echo mine > {q(str(out / 'keep'))}" if existing else ""))
    after = f"(cd {q(str(tiny))} && find . | sort) > {q(str(left))}"
    args = ("--target", "arm") if command == "opt" else ("--preset", "pulc-person-exists")
    proc = in_mount_ns(setup, command, model, *args, "--out", out, env={"LITE_TOOLS_CACHE": str(cache_dir)},
                       after=after)
    line = refused(proc, "no space left on device")
    assert line.startswith(f"lite-tools: error: {out}"), line
    assert ".lite-tools" not in line, line
    expected = [".", "./filler"] + (["./o", "./o/keep"] if existing else [])
    assert left.read_text().split() == expected
