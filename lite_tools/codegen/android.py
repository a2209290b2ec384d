"""The Android project: a Gradle project for Android Studio, every computed value from the DeployConfig and the
opt manifest (see project.generate for the flow)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .. import provenance
from ..config import DeployConfig, Task, for_model, write_json
from ..errors import BadInput
from ..reference.preprocess import follows_paddledet
from . import ANDROID_TEMPLATE, ci, render_tree

PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
JAVA_KEYWORDS = {"abstract", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue",
                 "default", "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "goto",
                 "if", "implements", "import", "instanceof", "int", "interface", "long", "native", "new", "package",
                 "private", "protected", "public", "return", "short", "static", "super", "switch", "synchronized",
                 "this", "throw", "throws", "transient", "try", "void", "volatile", "while", "true", "false", "null"}
SUPPORTED_TASKS = (Task.CLASSIFY, Task.BINARY, Task.MULTILABEL, Task.SSD, Task.PICODET, Task.EMBEDDING)
MODEL_ASSET = "model.nb"
LITE_ARCHIVE_BASE = "https://github.com/PaddlePaddle/Paddle-Lite/releases/download"
# c++_static: the JNI library carries its C++ runtime (c++_shared needs libc++_shared.so, not in the archive);
# with_extra: PP-LCNet's hard_swish ARM kernels are extra. Paddle Lite's v2.8-v2.12 naming, unconfirmed for v2.13-rc.
LITE_ARCHIVE = "inference_lite_lib.android.{arch}.clang.c++_static.with_extra.with_cv.tar.gz"
LITE_ARCHIVES = {"arm64-v8a": LITE_ARCHIVE.format(arch="armv8"), "armeabi-v7a": LITE_ARCHIVE.format(arch="armv7")}


def check_package(package: str) -> str:
    if not PACKAGE_RE.match(package) or any(p in JAVA_KEYWORDS for p in package.split(".")):
        raise BadInput(f"--package {package!r} is not a Java package name (e.g. com.example.detector)")
    return package


def check_model_matches_config(manifest: dict, config: DeployConfig) -> tuple:
    """(width, height) of the network input. The config against the model is config.for_model's (context_for runs
    it); what is left is the template's own limits: a supported task and a fixed input size."""
    if config.task not in SUPPORTED_TASKS:
        raise BadInput(f"{config.source}: task {config.task.value} has no Android template yet "
                       f"(supported: {', '.join(t.value for t in SUPPORTED_TASKS)})")
    if config.input_size is None:
        raise BadInput(f"{config.source}: variable input sizes are not supported by the Android template yet")
    return config.input_size


def context_for(config: DeployConfig, manifest: dict, app_name: str, package: str, weights_notice: str = "") -> dict:
    """weights_notice: lite_tools.provenance.app_notice of the app's models ("": the app says nothing of its
    weights); the screen shows it above the results and the result text starts with APP_RESULT_PREFIX."""
    tensors = {kind: [(t["name"], t["shape"]) for t in manifest[kind]] for kind in ("inputs", "outputs")}
    config = for_model.settle(config, tensors["outputs"], manifest["model"]["model_file"], inputs=tensors["inputs"])
    width, height = check_model_matches_config(manifest, config)
    crop = config.crop or (0, 0)
    return {"config": config, "manifest": manifest, "app_name": app_name, "package": package,
            "package_path": package.replace(".", "/"), "model_asset": MODEL_ASSET,
            "lite_version": manifest["targets"]["arm"]["opt_version"], "lite_archive_base": LITE_ARCHIVE_BASE,
            "lite_archives": LITE_ARCHIVES,
            "input_names": [t["name"] for t in manifest["inputs"]], "input_width": width, "input_height": height,
            "crop_width": crop[0], "crop_height": crop[1], "picodet": picodet_constants(config),
            "paddledet_arithmetic": follows_paddledet(config), "upstream_cpu_constant": UPSTREAM_CONSTANTS[
                config.upstream_cv2.cpu], **weights_context(weights_notice), **ci.context()}


# config.upstream_cv2.cpu -> the Java core's Preprocessor.UPSTREAM_* constant
UPSTREAM_CONSTANTS = {"avx2": "UPSTREAM_AVX2", "avx512": "UPSTREAM_AVX512", "none": "UPSTREAM_NO_IPP"}


def weights_context(notice: str) -> dict:
    """The templates' values for the untrained-weights notice (both "" when there is nothing to say)."""
    return {"weights_notice": notice, "weights_result_prefix": provenance.APP_RESULT_PREFIX if notice else ""}


def picodet_constants(config: DeployConfig) -> dict:
    """The host NMS values DeployConstants gives PicoDetPostprocessor (reference.picodet.host_nms); for other
    tasks and forms, upstream's defaults with no strides (unused)."""
    from ..reference import picodet

    if config.task == Task.PICODET and config.det_form in ("raw", "decoded"):
        nms = picodet.host_nms(config)
    else:
        nms = picodet.HostNms(strides=(), nms_threshold=0.5)
    return {"strides": list(nms.strides), "score_threshold": nms.score_threshold, "nms_threshold": nms.nms_threshold,
            "nms_top_k": nms.nms_top_k, "keep_top_k": nms.keep_top_k, "candidates": nms.candidates}


def write_project(out: Path, context: dict, nb_file: Path, config: DeployConfig, manifest: dict) -> None:
    """Render the Android template into `out` (a fresh directory) and add the assets."""
    render_tree(ANDROID_TEMPLATE, out, context)
    write_assets(out / "app" / "src" / "main" / "assets", nb_file, config, manifest)


def write_assets(assets: Path, nb_file: Path, config: DeployConfig, manifest: dict) -> None:
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(nb_file, assets / MODEL_ASSET)
    (assets / "labels.txt").write_text("".join(f"{label}\n" for label in config.labels), encoding="utf-8")
    write_json(config, assets / "deploy_config.json")
    (assets / "lite_manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False))
