"""`lite-tools inspect`: what is in a Paddle export or a `.nb`, and will this Paddle Lite take it."""

from __future__ import annotations

from pathlib import Path


def inspect_path(path, model_file=None, param_file=None) -> dict:
    if path and Path(path).suffix == ".nb":
        return inspect_nb(Path(path))
    return inspect_model(path, model_file, param_file)


def inspect_nb(path: Path) -> dict:
    """Header, layout and target of a `.nb`, read without loading it in Lite (which aborts on a bad one)."""
    from . import lite_runner
    from .model import nb

    layout = nb.read_layout(path)  # a truncated file is a BadInput here, not "fine"
    header = layout.header
    ours = lite_runner.lite_version()
    info = {"kind": "nb", "path": str(path), "bytes": layout.size, **header.to_json(),
            "built_for": nb.built_for(path), "params": layout.params,
            "runtime_needed": f"Paddle Lite {header.opt_version} (Java/C++ library of the same version)",
            "local_lite_version": ours, "version_match": header.opt_version == ours}
    warnings = []
    if not info["version_match"]:
        warnings.append(f"made by opt {header.opt_version} but this machine's Paddle Lite is {ours}: "
                        "a runtime of another version gives empty results or crashes; re-run opt with the "
                        "version your app ships")
    if layout.trailing_bytes:
        warnings.append(f"{layout.trailing_bytes:,} bytes follow its last parameter, which opt never writes "
                        "(two files joined, or a bad copy?)")
    if warnings:
        info["warning"] = "; ".join(warnings)
    return info


def inspect_model(path, model_file=None, param_file=None) -> dict:
    from . import opt
    from .model import files, program as programs

    mf = files.locate(path, model_file, param_file)
    program = programs.load_program(mf.model_file)
    params = programs.check_params(program, mf.param_file)
    support = {}
    for target in opt.TARGETS:
        missing = opt.unsupported_ops(program.op_types(), [target]).get(target, [])
        support[target] = {"supported": not missing, "missing_ops": missing}
    from .model import compat
    return {"kind": "model", "model_file": str(mf.model_file), "param_file": str(mf.param_file),
            "inputs": [t.to_json() for t in program.inputs], "outputs": [t.to_json() for t in program.outputs],
            "ops": program.op_histogram(), "params": params, "support": support,
            "compat_fixes_needed": compat.apply_all(program)}


def render(info: dict) -> str:
    if info["kind"] == "nb":
        lines = [f"{info['path']}: Paddle Lite naive-buffer model, {info['bytes']:,} bytes",
                 f"  made by opt {info['opt_version']} (format {info['format_version']})"
                 + (f", built for {info['built_for']}" if info.get("built_for") else "")
                 + (f", {info['params']} parameter tensors" if info.get("params") is not None else ""),
                 f"  needs     {info['runtime_needed']}",
                 f"  this machine's Paddle Lite: {info['local_lite_version']}"]
        if "warning" in info:
            lines.append(f"  WARNING: {info['warning']}")
        return "\n".join(lines)
    lines = [f"{info['model_file']}"]
    for t in info["inputs"]:
        lines.append(f"  input  {t['name']} {t['shape']} {t['dtype']}")
    for t in info["outputs"]:
        lines.append(f"  output {t['name']} {t['shape']} {t['dtype']}")
    lines.append(f"  parameters: {info['params']['count']} tensors, {info['params']['numel']:,} values, "
                 f"{info['params']['bytes']:,} bytes")
    lines.append("  ops: " + ", ".join(f"{k}×{v}" for k, v in info["ops"].items()))
    for target, s in info["support"].items():
        lines.append(f"  {target:6s} " + ("supported" if s["supported"] else
                                          "UNSUPPORTED: " + ", ".join(s["missing_ops"])))
    if info["compat_fixes_needed"]:
        lines.append(f"  compat: {len(info['compat_fixes_needed'])} op(s) lack XShape (opt patches a staged copy)")
    return "\n".join(lines)
