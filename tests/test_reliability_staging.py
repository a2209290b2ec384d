"""Regression tests for the reliability probe (../shared/probes/reliability-2026-12-01.md), named after its case ids:
interrupted runs leave no hidden folders (O46, D4), outputs are replaced all at once or not at all (O27), a full
disk is said as such (O25), and progress never contradicts itself (N2). Real CLI, real zoo export.

Kills are deterministic: the process is signalled once it prints the line of the test-only hook
LITE_TOOLS_TEST_STOP_AT=STAGE (lite_tools.staging), where it waits; code without the hook is signalled at the stage
line it already printed there instead, so these tests also run (and fail) against it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import refused, run_cli, tree_digest

PERSON = "PULC_person_exists"
RUNNING = "running Paddle Lite's optimizer"  # opt's stage line, printed while the optimizer children run


def hidden(folder, prefix="lite-tools-") -> list:
    """Our work/temp folders in `folder` (`.lite-tools-*` or `lite-tools-*`), not the output marker file."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.lstrip(".").startswith(prefix))


def start_until(args, stage: str, fallback: str, env=None):
    """Start `python -m lite_tools ARGS` in its own session; return it once stderr shows the hook's line for
    `stage` or the `fallback` stage line. Fails if the process ends first."""
    proc = subprocess.Popen([sys.executable, "-m", "lite_tools", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, LITE_TOOLS_TEST_STOP_AT=stage, **(env or {})))
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if f"test stop at {stage}" in line or fallback in line:
                return proc
        proc.wait()
        pytest.fail(f"exited {proc.returncode} before reaching {stage!r}:\n{''.join(seen)}")
    finally:
        watchdog.cancel()


def finish(proc, timeout=120) -> str:
    """The rest of `proc`'s stderr once it has ended."""
    _, err = proc.communicate(timeout=timeout)
    return err


def kill_group(proc) -> None:
    """SIGKILL `proc` and whatever it started (its optimizer children too), as a cancelled CI job is."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def group_gone(pgid: int, within: float = 10.0) -> bool:
    """True once no process of the group is left (orphans are reaped by init, so allow it a moment)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_O46_sigterm_leaves_no_staging(zoo_dir, tmp_path):
    """SIGTERM (CI cancel, `timeout`, `docker stop`) while the optimizer ran left OUT/.lite-tools-<hex>/ (45 MB with
    an SSD), and OUT itself, forever. Now SIGTERM ends the run cleanly: exit 143, OUT (which it created) and its
    work folder gone, no optimizer child left running."""
    out = tmp_path / "o"
    proc = start_until(("opt", zoo_dir(PERSON), "--target", "arm,x86", "--out", out, "--no-cache"), "opt",
                       RUNNING)
    try:
        os.kill(proc.pid, signal.SIGTERM)
        err = finish(proc)
        assert hidden(out) == [] and not out.exists(), err
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert "Traceback" not in err
        assert group_gone(proc.pid), "an optimizer child outlived the SIGTERMed run"
    finally:
        kill_group(proc)


def test_D4_sigkill_leftovers_are_swept_by_the_next_run(zoo_dir, tmp_path):
    """A SIGKILL during deploy's parity left `.lite-tools-deploy-*` beside OUT and `$TMPDIR/lite-tools-parity-*`
    (45 + 23 MB a kill), and nothing swept them. A SIGKILL cannot be handled, so the next run sweeps them: their
    lock is free once their owner is dead."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir)}
    args = ("deploy", zoo_dir(PERSON), "--preset", "pulc-person-exists", "--out", tmp_path / "d")
    proc = start_until(args, "parity", "parity: making the x86 model", env=env)
    kill_group(proc)
    finish(proc)
    assert proc.returncode == -signal.SIGKILL
    assert hidden(tmp_path, "lite-tools-deploy-") and hidden(tmpdir, "lite-tools-parity-")  # what a kill leaves
    again = run_cli(*args, env=env)
    assert again.returncode == 0 and "READY" in again.stdout, again.stdout + again.stderr
    assert hidden(tmp_path) == [] and hidden(tmpdir) == []


def test_D4_concurrent_run_staging_is_not_swept(zoo_dir, tmp_path):
    """The sweep must not break concurrent runs into the same OUT: a live run's work folder (its lock held)
    survives another run's sweep, and that live run then finishes correctly; only the SIGKILLed run's goes."""
    model, out = zoo_dir(PERSON), tmp_path / "o"
    cold = ("opt", model, "--target", "arm,x86", "--out", out, "--no-cache", "--name")
    dead = start_until(cold + ("dead",), "opt", RUNNING)
    kill_group(dead)
    finish(dead)
    killed = set(hidden(out))
    assert killed, "a SIGKILLed opt leaves its work folder"
    live = start_until(cold + ("live",), "opt", RUNNING)
    try:
        running = set(hidden(out)) - killed
        other = run_cli("opt", model, "--target", "arm", "--out", out, "--name", "other")
        assert other.returncode == 0, other.stderr
        assert set(hidden(out)) == running and running, "the dead run's folder is swept, the live run's kept"
        live.send_signal(signal.SIGUSR1)  # the hook's resume
        err = finish(live)
        assert live.returncode == 0, err
        assert hidden(out) == []
        assert {p.name for p in out.iterdir()} == {f"{n}.{s}" for n in ("live", "other") for s in
                                                   ("arm.nb", "manifest.json")} | {"live.x86.nb"}
    finally:
        kill_group(live)


def test_O27_failed_rename_keeps_the_old_set(zoo_dir, tmp_path):
    """When the second output could not be replaced (the old m.x86.nb immutable), `opt` ended in a PermissionError
    traceback with a mixed set: m.arm.nb new, m.x86.nb and the manifest old, the manifest contradicting the arm
    file. Now the old set stays intact and the error is one line, exit 2."""
    out = tmp_path / "o"
    first = run_cli("opt", zoo_dir(PERSON), "--target", "arm,x86", "--out", out, "--name", "m")
    assert first.returncode == 0, first.stderr
    before = tree_digest(out)
    locked = out / "m.x86.nb"
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", locked], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here (needs root and a file system with the immutable flag)")
    try:
        proc = run_cli("opt", zoo_dir("PPLCNet_x0_25"), "--target", "arm,x86", "--out", out, "--name", "m")
        line = refused(proc, "m.x86.nb")
        assert "cannot be replaced" in line
        assert tree_digest(out) == before
        assert hidden(out) == []
    finally:
        subprocess.run(["chattr", "-i", locked], capture_output=True)


def test_O25_disk_full_says_no_space(zoo_dir, tmp_path):
    """OUT on an 8 MB tmpfs (two 6.8 MB .nb files), cold: the one line carried Lite's misleading "Check failed:
    fwrite(...) ... Failed to read 77232bytes". Now it says "no space left on device" and names OUT."""
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("cannot make a mount namespace here (unshare -m needs root)")
    script = 'mount -t tmpfs -o size=8m tmpfs "$1" || exit 99; shift; exec "$@"'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", tiny, sys.executable, "-m", "lite_tools",
                           "opt", zoo_dir(PERSON), "--target", "arm,x86", "--out", tiny / "o", "--no-cache"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr.strip()}")
    line = refused(proc, "no space left on device")
    assert f"{tiny / 'o'}:" in line and "fwrite" not in line and "Failed to read" not in line


def test_N2_progress_never_says_running_then_cached(zoo_dir, tmp_path):
    """A copy of a cached export (same bytes, digests not remembered for its path) printed "opt arm: running
    Paddle Lite's optimizer" and then "opt arm: cached". "running" is now said only of a target that really runs."""
    model = zoo_dir(PERSON)
    assert run_cli("opt", model, "--target", "arm", "--out", tmp_path / "a").returncode == 0  # the cache holds it
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    proc = run_cli("opt", copy, "--target", "arm", "--out", tmp_path / "b")
    assert proc.returncode == 0, proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith("opt arm:")] == ["opt arm: cached"]


def start_until_work_folder(args, stage: str, tmpdir, prefix: str, env):
    """Start `python -m lite_tools ARGS` in its own session with TMPDIR=`tmpdir`; return it once stderr shows the
    hook's line for `stage`, or (code without the hook) once `tmpdir/PREFIX*/jobs` exists: a work folder in use."""
    proc = subprocess.Popen([sys.executable, "-m", "lite_tools", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, LITE_TOOLS_TEST_STOP_AT=stage, TMPDIR=str(tmpdir), **env))
    seen = []
    reader = threading.Thread(target=lambda: [seen.append(line) for line in proc.stderr], daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if any(f"test stop at {stage}" in line for line in seen) or any(tmpdir.glob(f"{prefix}*/jobs")):
            return proc
        if proc.poll() is not None:
            reader.join(5)
            pytest.fail(f"exited {proc.returncode} before reaching {stage!r}:\n{''.join(seen)}")
        time.sleep(0.01)
    kill_group(proc)
    pytest.fail(f"never reached {stage!r}:\n{''.join(seen)}")


def test_D4_java_check_temp_is_swept_after_sigkill(zoo_dir, tmp_path):
    """deploy's Java-core check worked in a plain tempfile folder, `$TMPDIR/lite-tools-javacheck-*`, which a SIGKILL
    left forever (nothing sweeps a folder without our lock). It is a locked staging folder now: the next run in the
    same $TMPDIR sweeps what the killed run left, and goes on to READY."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    args = ("deploy", zoo_dir(PERSON), "--preset", "pulc-person-exists", "--out", tmp_path / "d")
    proc = start_until_work_folder(args, "javacheck", tmpdir, "lite-tools-javacheck-", {})
    kill_group(proc)
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL
    assert hidden(tmpdir, "lite-tools-javacheck-"), "a SIGKILL during the Java check leaves its work folder"
    again = run_cli(*args, env={"TMPDIR": str(tmpdir)})
    assert again.returncode == 0 and "READY" in again.stdout, again.stdout + again.stderr
    assert hidden(tmpdir) == [] and hidden(tmp_path) == []


def test_O46_sigterm_keeps_what_another_run_wrote_into_out(zoo_dir, tmp_path):
    """A run that created OUT and then failed or got SIGTERM removed OUT whole, with what a second run had
    finished there meanwhile (review of the O46 fix): only an empty OUT may go."""
    model, out = zoo_dir(PERSON), tmp_path / "shared"
    first = start_until(["opt", model, "--target", "arm", "--out", out, "--no-cache"], "opt", RUNNING)
    try:
        second = run_cli("opt", model, "--target", "x86", "--out", out, "--name", "other")
        assert second.returncode == 0, second.stderr
        first.send_signal(signal.SIGTERM)
        finish(first)
    finally:
        kill_group(first)
    assert first.returncode == 143
    assert (out / "other.x86.nb").is_file() and (out / "other.manifest.json").is_file()
    assert hidden(out) == []


def test_O27_sigterm_during_the_moves_waits_for_them(tmp_path):
    """move_all holds SIGTERM until every output is in place (or every old one is back): a SIGTERM between two
    renames left new and old files side by side. Real signal, real renames, in a child process."""
    code = f"""
import os, signal, sys
from pathlib import Path
from lite_tools import staging
staging.handle_sigterm()
root = Path({str(tmp_path)!r})
pairs = []
for name in ("a", "b", "c"):
    (root / ("new-" + name)).write_text("new")
    (root / name).write_text("old")
    pairs.append((root / ("new-" + name), root / name))
real_replace = os.replace
def replace_then_signal(src, dst):
    real_replace(src, dst)
    if Path(dst).name == "a":
        os.kill(os.getpid(), signal.SIGTERM)  # lands between the first and the second move
os.replace = replace_then_signal
try:
    staging.move_all(pairs, root / "backups")
finally:
    print(" ".join((root / n).read_text() for n in ("a", "b", "c")), flush=True)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 143, proc.stderr
    assert proc.stdout.split() == ["new", "new", "new"], proc.stdout + proc.stderr


def test_sigterm_after_paddle_is_loaded_cleans_up(zoo_dir, tmp_path):
    """Re-probe 2026-12-03: once Paddle Inference was imported (deploy's parity), a SIGTERM ran Paddle's own C
    handler ("FatalError: `Termination signal`", then death; once a deadlock in malloc) instead of ours, so
    `.lite-tools-deploy-*` beside OUT and the Java check's folder in $TMPDIR stayed. Now it is ours again after
    paddle's import: exit 143, no dump, nothing left."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    args = ("deploy", zoo_dir(PERSON), "--preset", "pulc-person-exists", "--out", tmp_path / "d")
    proc = start_until_work_folder(args, "javacheck", tmpdir, "lite-tools-javacheck-", {})
    try:
        assert hidden(tmp_path, "lite-tools-deploy-"), "deploy's work folder exists while the Java check runs"
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(120)
        err = "".join(proc.stderr.readlines()) if proc.stderr else ""
        assert proc.returncode == 128 + signal.SIGTERM, (proc.returncode, err)
        assert "Termination signal" not in err and "Traceback" not in err, err
        assert hidden(tmpdir) == [] and hidden(tmp_path) == [] and not (tmp_path / "d").exists()
    finally:
        kill_group(proc)


def test_sigterm_while_paddle_imports_waits_for_the_import(zoo_dir, tmp_path):
    """Re-probe 2026-12-03: a SIGTERM while paddle was being imported raised our SystemExit inside its pybind11
    init (two chained tracebacks ending in "ImportError: initialization failed", exit 1), or, once paddle's
    core.init_glog had installed its own C handler, ran that one in whichever thread took the signal (exit -15,
    the work folder left). SIGTERM is now only noted until the import is done, with our C handler back right
    after init_glog: the hook stops at the end of the import (Paddle's handler installed by then), and the run
    ends once it goes on: exit 143, no traceback, $TMPDIR left empty."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = start_until(("parity", zoo_dir(PERSON), "--preset", "pulc-person-exists", "--random", "1"),
                       "paddle-import", "no fallback: the hook must be reached", env={"TMPDIR": str(tmpdir)})
    try:
        os.kill(proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None, "SIGTERM is only noted while paddle imports"
        os.kill(proc.pid, signal.SIGUSR1)  # the hook's resume: the import goes on, then SIGTERM acts
        err = finish(proc)
        assert proc.returncode == 128 + signal.SIGTERM, (proc.returncode, err)
        assert "Traceback" not in err and "ImportError" not in err and "Termination signal" not in err, err
        assert hidden(tmpdir) == []
    finally:
        kill_group(proc)


_THREAD_IMPORT = r"""
import os, signal, sys, threading, time
from lite_tools import staging
staging.handle_sigterm()
worker = threading.Thread(target=lambda: __import__("paddle.inference"))
worker.start()
worker.join()
assert "paddle" in sys.modules
staging.handle_sigterm()  # what the next staging folder does: ours again, though paddle came in a thread
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(30)
"""


def test_sigterm_is_ours_again_after_paddle_is_imported_in_a_thread():
    """Only the main thread may set a signal handler, so paddle's first import in another thread cannot be
    wrapped (signal.signal there raised ValueError, and paddle was left half imported): it is let through and
    the next handle_sigterm() in the main thread puts ours back. Without that, Paddle's dump and death."""
    proc = subprocess.run([sys.executable, "-c", _THREAD_IMPORT], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, GLOG_minloglevel="2"))
    assert proc.returncode == 128 + signal.SIGTERM, (proc.returncode, proc.stderr[-2000:])
    assert "Termination signal" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
