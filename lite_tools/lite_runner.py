"""What we ask of Paddle Lite's optimizer (its version, its supported-op tables, an optimisation) and how its
answers are judged. It runs only in child processes (opt_child): it calls abort() on unsupported ops, exit(1)
after a successful support check, and segfaults on some programs. We judge a run by what it prints and writes.
"""

from __future__ import annotations

import functools
import re
import signal
from pathlib import Path

from . import cache
from .errors import ToolFailure
from .opt_child import OptChild

TARGET_PLACES = {
    "arm": "arm",
    "x86": "x86",
    "opencl": "opencl,arm",  # OpenCL kernels need ARM fallbacks for the ops the GPU does not cover
}


def _run_child(job: dict, timeout: float) -> tuple:
    with OptChild() as child:
        return child.run(job, timeout)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@functools.lru_cache(maxsize=1)
def lite_version() -> str:
    """The version string Paddle Lite's opt writes into .nb headers (e.g. "v2.13-rc")."""
    hit = cache.get_json("lite_version", _package_version("paddlelite"))
    if hit:
        return hit["version"]
    returncode, output = _run_child({"action": "version"}, timeout=120)
    m = re.search(r"LITE_VERSION=(\S+)", output)
    if not m:
        raise ToolFailure(f"cannot read Paddle Lite's version ({describe_exit(returncode)})")
    cache.put_json("lite_version", _package_version("paddlelite"), {"version": m.group(1)})
    return m.group(1)


@functools.lru_cache(maxsize=None)
def _package_version(name: str) -> str:
    """The installed version, from the dist-info folder name (importlib.metadata costs ~6 ms a call)."""
    import importlib.util

    spec = importlib.util.find_spec(name if name != "paddlepaddle" else "paddle")
    if spec is None or not spec.submodule_search_locations:
        return "not installed"
    site = Path(list(spec.submodule_search_locations)[0]).parent
    found = sorted(site.glob(f"{name}-*.dist-info"))
    if not found:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"
    return found[-1].name[len(name) + 1:-len(".dist-info")]


def package_versions() -> dict:
    return {name: _package_version(name) for name in ("paddlelite", "paddlepaddle", "numpy")}


@functools.lru_cache(maxsize=None)
def supported_ops(target: str) -> frozenset:
    """Op types Paddle Lite has kernels for on `target`, from its own table (cached per Lite version)."""
    key = f"{_package_version('paddlelite')}-{target}"
    hit = cache.get_json("supported_ops", key)
    if hit:
        return frozenset(hit["ops"])
    returncode, output = _run_child({"action": "supported_ops", "places": TARGET_PLACES[target]}, timeout=300)
    ops = set()
    in_table = False
    for line in output.splitlines():
        words = line.split()
        if words[:1] == ["OP_name"]:
            in_table = True
            continue
        if in_table and len(words) >= 2 and "Y" in words[1:]:
            ops.add(words[0])
    if len(ops) < 50:
        raise ToolFailure(f"cannot read Paddle Lite's supported-op table for {target} "
                          f"({describe_exit(returncode)})")
    cache.put_json("supported_ops", key, {"ops": sorted(ops)})
    return frozenset(ops)


def start_opt(child: OptChild, model_file: Path, param_file: Path, target: str, out_stem: Path,
              quant: str | None, fp16: bool) -> None:
    """Hand `child` the job of optimizing into `out_stem`.nb; finish_opt() collects it."""
    child.send({"action": "opt", "model_file": str(model_file), "param_file": str(param_file),
                "optimize_out": str(out_stem), "places": TARGET_PLACES[target], "quant": quant, "fp16": fp16})


def finish_opt(child: OptChild, target: str, out_stem: Path, label: str) -> str:
    """Wait for `child`; return the optimizer's log. Raise ToolFailure with one line when it made no .nb."""
    returncode, log = child.result()
    nb = out_stem.with_name(out_stem.name + ".nb")
    ok = returncode == 0 and "LITE_TOOLS_OPT_DONE" in log and nb.is_file() and nb.stat().st_size > 0
    if not ok:
        if nb.exists():
            nb.unlink()
        detail = _last_error_line(log)
        raise ToolFailure(f"Paddle Lite's optimizer failed ({describe_exit(returncode)}) on {label} for target "
                          f"{target}" + (f": {detail}" if detail else ""))
    return log


def _last_error_line(log: str) -> str:
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"error|check failed|unsupported|fatal", ln, re.I):
            return ln[:300]
    return ""
