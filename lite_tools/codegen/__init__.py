"""Rendering project templates: `*.jinja` files are rendered with StrictUndefined (a missing value is an error,
never an empty string), everything else is copied byte for byte, and path segments may hold `{{ ... }}`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# lite_tools/templates/{android,flutter} link to the top-level android_template/ and flutter_demo/ (the package
# data of wheels follows the links, so an installed lite-tools carries the same files).
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ANDROID_TEMPLATE = TEMPLATES / "android"
FLUTTER_TEMPLATE = TEMPLATES / "flutter"


def java_string(value) -> str:
    """A Java string literal (JSON's escapes are all valid Java escapes; non-ASCII becomes \\uXXXX)."""
    return json.dumps(str(value), ensure_ascii=True)


def java_double(value) -> str:
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        raise ValueError(f"{value} cannot be a Java double literal")
    return text


def environment():
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.filters["java_string"] = java_string
    env.filters["java_double"] = java_double
    env.filters["tojson"] = lambda v: json.dumps(v, ensure_ascii=False, allow_nan=False)
    return env


def render_tree(template_dir: Path, out_dir: Path, context: dict, only=None) -> list:
    """Render `template_dir` into `out_dir`; return the written paths (relative to out_dir). `only`: template
    paths (or folders) to take, for sharing files between templates."""
    env = environment()
    written = []
    for src in sorted(Path(template_dir).rglob("*")):
        if src.is_dir() or "__pycache__" in src.parts:
            continue
        rel = src.relative_to(template_dir)
        if only is not None and not any(str(rel) == o or str(rel).startswith(o.rstrip("/") + "/") for o in only):
            continue
        rel_out = Path(*[env.from_string(part).render(context) if "{{" in part else part for part in rel.parts])
        if rel_out.suffix == ".jinja":
            rel_out = rel_out.with_suffix("")
            text = env.from_string(src.read_text(encoding="utf-8")).render(context)
            dest = out_dir / rel_out
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        else:
            dest = out_dir / rel_out
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        written.append(rel_out)
    return written
