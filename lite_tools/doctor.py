"""`lite-tools doctor`: is this machine able to make and check Paddle Lite models?"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile

from . import cache, staging
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


def run_checks() -> list:
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
    checks.append(_java("java"))
    checks.append(_java("javac"))
    return checks


def render(checks: list) -> str:
    return "\n".join(f"{'FAIL' if not c.ok else 'warn' if c.warn else 'ok  '} {c.name:12s} {c.detail}"
                     for c in checks)
