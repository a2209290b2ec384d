"""The Flutter demo: Dart UI from flutter_demo/, and an Android host made of the Android template's own Java
core, Predictor, ImageLoader and Paddle Lite fetch script (one copy of that code, rendered into both projects)."""

from __future__ import annotations

from pathlib import Path

from ..config import DeployConfig, write_json
from . import ANDROID_TEMPLATE, FLUTTER_TEMPLATE, render_tree
from .android import write_assets

# The MethodChannel contract, defined once and rendered into lib/channel_contract.dart and ChannelContract.java.
CHANNEL = {
    "name": "lite_tools/predictor",
    "method_run": "run",
    "arg_path": "path",
    "key_image_width": "imageWidth",
    "key_image_height": "imageHeight",
    "key_classes": "classes",
    "key_boxes": "boxes",
    "key_attributes": "attributes",  # multilabel: [{label: decision, score: its per-class score or null}]
    "key_label": "label",
    "key_score": "score",
    "key_x0": "x0",
    "key_y0": "y0",
    "key_x1": "x1",
    "key_y1": "y1",
    "key_timings": "timingsMs",
}
SHARED_FROM_ANDROID = [
    "app/src/main/java/com/litetools/core",
    "app/src/main/java/{{ package_path }}/Predictor.java.jinja",
    "app/src/main/java/{{ package_path }}/ImageLoader.java.jinja",
    "app/paddle_lite.gradle",
    "app/proguard-rules.pro",
    "gradle.properties.jinja",
    "buildSrc",  # PaddleLitePin, which paddle_lite.gradle uses
]


def dart_package(app_name: str) -> str:
    name = "".join(c if c.isalnum() else "_" for c in app_name.lower()).strip("_")
    name = "_".join(part for part in name.split("_") if part) or "lite_tools_demo"
    return name if name[0].isalpha() else f"app_{name}"


def write_project(out: Path, context: dict, nb_file: Path, config: DeployConfig, manifest: dict) -> None:
    context = {**context, "channel": CHANNEL, "dart_package": dart_package(context["app_name"])}
    render_tree(FLUTTER_TEMPLATE, out, context)
    render_tree(ANDROID_TEMPLATE, out / "android", context, only=SHARED_FROM_ANDROID)
    write_assets(out / "android" / "app" / "src" / "main" / "assets", nb_file, config, manifest)
    (out / "assets").mkdir(exist_ok=True)
    write_json(config, out / "assets" / "deploy_config.json")
    (out / "assets" / "labels.txt").write_text("".join(f"{label}\n" for label in config.labels), encoding="utf-8")
