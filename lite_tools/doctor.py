"""`lite-tools doctor`: is this machine able to make and check Paddle Lite models?"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from . import cache, staging
from .errors import BadInput
from .lite_runner import package_versions


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warn: bool = False  # works, but worse than it should (an unusable cache only costs time): not a failure


def _java(tool: str) -> Check:
    path = shutil.which(tool)
    if not path:
        return Check(tool, False, "not found on PATH (needed to verify the generated Java code)")
    proc = subprocess.run([tool, "-version"], capture_output=True, text=True)
    text = (proc.stderr + proc.stdout).strip().splitlines()
    return Check(tool, proc.returncode == 0, text[0] if text else path)


# What a Python process on this machine runs for cv2.resize: version, IPP on, IPP's code, OpenCV's threads. The
# first line, flushed before cv2 is imported, tells a Python interpreter from whatever else an executable prints,
# and a cv2 whose import kills the interpreter (SIGILL from a wheel built for a newer CPU) from no Python at all.
PROBE_FORMAT = "lite-tools-python/1"
PROBE_TIMEOUT = 60  # seconds: importing cv2 takes under one
PROBE_OUTPUT_LIMIT = 1 << 16  # bytes: an executable that floods its output is stopped there, not buffered
_CV2_PROBE = f"""import json, sys
print(json.dumps({{"probe": "{PROBE_FORMAT}"}}), flush=True)
try:
    import cv2
    found = [cv2.__version__, bool(cv2.ipp.useIPP()), cv2.ipp.getIppVersion(), cv2.getNumThreads()]
except Exception:
    found = None
print(json.dumps({{"cv2": found}}), flush=True)
"""
_IPP_CODES = {"(l9)": "avx2", "(k0)": "avx512"}


def cpu_vendor() -> str:
    """/proc/cpuinfo's vendor_id ("AuthenticAMD", "GenuineIntel"; "" where there is none): whether IPP reports an
    L2 size, which OpenCV's warpAffine stripes follow."""
    cpuinfo = "/proc/cpuinfo"
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("vendor_id")), "")
    except OSError:
        return ""


def ask_python(python: str, env=None):
    """What `python` runs for cv2.resize: [version, IPP on, IPP's code, threads]; None when it has no cv2; a
    string saying how it died when importing cv2 killed it. Asked in a child of its own session, killed with what
    it started after PROBE_TIMEOUT, past PROBE_OUTPUT_LIMIT bytes of output, or when we are interrupted. BadInput,
    one line, when it cannot run, hangs, or answers as no Python interpreter does (probe 2026-12-03: /bin/ls passed
    as "cv2 is not importable", a script printing text was a JSONDecodeError traceback, a hung one hung doctor)."""
    staging.handle_sigterm()  # SIGTERM becomes SystemExit, so the probe's session is killed below, not left
    try:
        proc = subprocess.Popen([python, "-c", _CV2_PROBE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    except OSError as e:
        raise BadInput(f"--python {python}: cannot run it ({e.strerror or e})") from None
    try:
        out, err, why = _read_capped(proc)
    except BaseException:  # Ctrl-C or SIGTERM here: the child is in its own session, so it is ours to stop
        _kill_group(proc)
        raise
    if why:
        _kill_group(proc)
        raise BadInput(f"--python {python}: {why}: not a Python interpreter that answers") from None
    returncode = proc.wait()
    lines = [_json_line(ln) for ln in out.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines or lines[0].get("probe") != PROBE_FORMAT:
        said = next((ln.strip() for ln in (err + out).decode("utf-8", "replace").splitlines() if ln.strip()), "")
        raise BadInput(f"--python {python}: not a Python interpreter (it exited {returncode}"
                       + (f" saying {said[:100]!r})" if said else " without a word)"))
    found = lines[1].get("cv2", False) if len(lines) > 1 else False
    if found is None or (isinstance(found, list) and len(found) == 4):
        return found
    from .lite_runner import describe_exit

    return f"importing cv2 ended it ({describe_exit(returncode)})"


def _json_line(line: bytes | str) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _read_capped(proc) -> tuple:
    """(stdout, stderr, why it was stopped or "") of `proc`, read until both pipes close."""
    import selectors
    import time

    chunks = {proc.stdout: [], proc.stderr: []}
    total, deadline = 0, time.monotonic() + PROBE_TIMEOUT
    with selectors.DefaultSelector() as sel:
        for pipe in chunks:
            sel.register(pipe, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return b"", b"", f"no answer within {PROBE_TIMEOUT} s"
            for key, _ in sel.select(left):
                data = os.read(key.fileobj.fileno(), 1 << 14)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                chunks[key.fileobj].append(data)
                total += len(data)
                if total > PROBE_OUTPUT_LIMIT:
                    return b"", b"", f"more than {PROBE_OUTPUT_LIMIT} bytes of output"
    return b"".join(chunks[proc.stdout]), b"".join(chunks[proc.stderr]), ""


def _kill_group(proc) -> None:
    """SIGKILL the probe's session (it and whatever it started) and close our ends of its pipes."""
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pipe in (proc.stdout, proc.stderr):
        pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


ASK = object()  # opencv_here / run_checks: no answer yet, ask the interpreter


def opencv_here(python: str = sys.executable, env=None, answer=ASK) -> Check:
    """Which upstream machine a PaddleClas or PaddleDetection process run by `python` would be here (this
    environment's OPENCV_IPP included), as the --upstream-* options that make the tensor its own; fine without cv2
    (lite-tools reproduces cv2 without it). Run in a child: cv2 is no dependency of lite-tools. `answer`: what
    ask_python already said of `python`."""
    found = ask_python(python, env) if answer is ASK else answer
    if isinstance(found, str):
        return Check("opencv", True, f"{python}: {found} (PaddleClas/PaddleDetection cannot run cv2 there either)",
                     warn=True)
    if found is None:
        return Check("opencv", True, f"cv2 is not importable by {python} (not needed: lite-tools reproduces "
                                     "cv2.resize without it; run doctor --python with the PaddleClas/PaddleDetection "
                                     "interpreter to get its --upstream-* options)")
    version, ipp, code, threads = found
    cpu = "none" if not ipp else next((name for tag, name in _IPP_CODES.items() if tag in code), None)
    if cpu is None:
        return Check("opencv", True, f"cv2 {version} runs {code}: that IPP code is not modelled (cubic resizes may "
                                     "differ by 1 level from lite-tools' tensor here)", warn=True)
    named = re.search(r"ippIP (.*?\(\w+\))", code)
    said = (f"cv2 {version}, {'IPP ' + (named.group(1) if named else code) if ipp else 'IPP off'}, {threads} "
            f"OpenCV thread{'s' if threads != 1 else ''}")
    warnings = []
    options = f"--upstream-cpu {cpu}"
    if threads > 25:
        warnings.append("above 25 threads OpenCV's own warpAffine (keep_ratio cubic configs) varies run to run: "
                        "give that process cv2.setNumThreads(25) or fewer and pass that number as --upstream-threads")
    else:
        options += f" --upstream-threads {threads}"
    if ipp and threads > 1 and cpu_vendor() == "GenuineIntel":
        warnings.append("on Intel CPUs IPP reads the L2 cache size, which lite-tools cannot see: keep_ratio cubic "
                        "configs at several threads need --upstream-l2 (unverified)")
    if version.split(".")[:2] != ["4", "6"]:
        warnings.append("lite-tools reproduces opencv-python 4.6.0.66 (PaddleClas 2.6.0's); other versions may "
                        "differ")
    return Check("opencv", True, f"{said}; as upstream here: {options}" + "".join(f"; {w}" for w in warnings),
                 warn=bool(warnings))


def run_checks(python: str = sys.executable, answer=ASK) -> list:
    """Every check; `answer`: what ask_python already said of `python`."""
    checks = []
    py_ok = (3, 8) <= sys.version_info[:2] <= (3, 10)
    checks.append(Check("python", py_ok, sys.version.split()[0] + ("" if py_ok else
                        " (paddlelite ships x86 wheels only for CPython 3.8-3.10)")))
    versions = package_versions()
    checks.append(Check("paddlelite", versions["paddlelite"] == "2.13rc0", versions["paddlelite"]))
    checks.append(Check("paddlepaddle", versions["paddlepaddle"] != "not installed", versions["paddlepaddle"]))
    np_ok = versions["numpy"] != "not installed" and int(versions["numpy"].split(".")[0]) < 2
    checks.append(Check("numpy", np_ok, versions["numpy"] + ("" if np_ok else
                        " (numpy 2 silently corrupts Paddle Lite tensors: pip install 'numpy<2')")))
    problem = cache.problem()
    if problem:
        checks.append(Check("cache", True, f"{problem}: unusable, runs will only be slower", warn=True))
    else:
        checks.append(Check("cache", True, str(cache.root())))
    with staging.folder(tempfile.gettempdir(), "lite-tools-doctor-") as spare:
        # the canary tests Paddle Lite, not the cache: with the cache unusable it builds its model in a temp one,
        # and a temp HOME (a read-only HOME would stop paddle.jit.save, which writes into ~/.cache/paddle)
        env = dict(os.environ, LITE_TOOLS_CACHE=str(spare), HOME=str(spare)) if problem else None
        proc = subprocess.run([sys.executable, "-m", "lite_tools.canary"], capture_output=True, text=True, env=env)
    m = re.search(r"CANARY (.*)", proc.stdout)
    if proc.returncode == 0 and m:
        checks.append(Check("lite canary", True, m.group(1)))
    else:
        from .lite_runner import describe_exit
        detail = m.group(1) if m else (proc.stderr.strip().splitlines() or ["no output"])[-1]
        checks.append(Check("lite canary", False, f"{describe_exit(proc.returncode)}: {detail}"))
    checks.append(opencv_here(python, answer=answer))
    checks.append(_java("java"))
    checks.append(_java("javac"))
    return checks


def render(checks: list) -> str:
    return "\n".join(f"{'FAIL' if not c.ok else 'warn' if c.warn else 'ok  '} {c.name:12s} {c.detail}"
                     for c in checks)
