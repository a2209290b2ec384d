"""Plain-text summaries printed by the CLI from the structured results."""

from __future__ import annotations

from pathlib import Path


def size_text(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def opt_summary(manifest: dict, out_dir) -> str:
    lines = [f"{manifest['name']}: {sum(manifest['ops'].values())} ops, "
             f"{manifest['params']['numel']:,} parameters ({size_text(manifest['params']['bytes'])})"]
    for t in manifest["inputs"]:
        lines.append(f"  input  {t['name']} {t['shape']} {t['dtype']}")
    for t in manifest["outputs"]:
        lines.append(f"  output {t['name']} {t['shape']} {t['dtype']}")
    if manifest["compat_fixes"]:
        ops = sorted({f["op"] for f in manifest["compat_fixes"]})
        lines.append(f"  compat: restored XShape on {len(manifest['compat_fixes'])} op(s) ({', '.join(ops)})")
    for target, info in manifest["targets"].items():
        state = "cached" if info["cached"] else f"{info['seconds']:.1f}s"
        lines.append(f"  {target:6s} {Path(out_dir) / info['file']} ({size_text(info['bytes'])}, opt "
                     f"{info['opt_version']}, {state})")
    lines.append(f"  manifest {Path(out_dir) / (manifest['name'] + '.manifest.json')}")
    return "\n".join(lines)
