"""The PP-ShiTu app (Android project and Flutter demo): two models and a gallery, from the single-model templates.

One copy of the single-model code: the Android template is rendered as for the detector (DeployConstants, the
Java core, Predictor's model loading and input feeding, ImageLoader, the Paddle Lite fetch script, the build), its
DeployConstants template a second time as RecConstants for the recogniser, and then the ShiTu overlay
(android_template_shitu/: ShituPredictor, ShituConstants, a MainActivity with "add to gallery", its layout)
replaces the single-model screen. The Flutter demo takes its Dart UI as it is (it draws boxes with labels) and
the overlay's host MainActivity (flutter_demo_shitu/).

Assets: model.nb (the detector) and rec.nb, each with its deploy config and opt manifest, and the gallery's
float32 index, stored uncompressed (build.gradle's noCompress 'index') so the app memory-maps it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import provenance
from ..config import DeployConfig, write_json
from ..errors import BadInput
from ..jsonio import dumps
from . import (ANDROID_TEMPLATE, FLUTTER_TEMPLATE, TEMPLATES, android, environment, flutter, golden, project,
               render_tree)

SHITU_ANDROID_TEMPLATE = TEMPLATES / "android_shitu"
SHITU_FLUTTER_TEMPLATE = TEMPLATES / "flutter_shitu"
CONSTANTS_TEMPLATE = "app/src/main/java/com/litetools/core/DeployConstants.java.jinja"
REC_ASSET = "rec.nb"
GALLERY_ELEMENT = "float32"  # exact scores: what the x86 gates compared


def _contexts(system, detector: DeployConfig, recogniser: DeployConfig, manifests: dict, gallery, app_name: str,
              package: str, weights_notice: str = "") -> tuple:
    """(detector context, recogniser context, shitu values): each model's config settled against its manifest.
    weights_notice: lite_tools.provenance.app_notice of the two models, which the one screen shows."""
    det = android.context_for(detector, manifests["detector"], app_name, package, weights_notice=weights_notice)
    if det["config"].det_form != "nms":
        raise BadInput(f"{detector.source}: the PP-ShiTu app runs a mainbody detector with NMS in its graph (as "
                       f"PaddleClas's DetPredictor reads it); this one has {det['config'].det_form} outputs")
    rec = android.context_for(recogniser, manifests["recogniser"], app_name, package, weights_notice=weights_notice)
    rec = {**rec, "model_asset": REC_ASSET, "constants_class": "RecConstants"}
    search = system.search
    shitu = {"source": system.source or "--det/--rec", "max_det_results": system.max_det_results,
             "threshold": system.threshold, "return_k": search.return_k, "score_thres": search.score_thres,
             "rec_nms_threshold": system.rec_nms_threshold, "gallery_asset": gallery.file(GALLERY_ELEMENT).name,
             "params_sha256": gallery.params_sha256, "nb_sha256": gallery.nb_sha256, "dim": gallery.dim}
    return det, rec, shitu


def _render_rec_constants(template_root: Path, out: Path, rec_context: dict) -> None:
    """The DeployConstants template once more, as RecConstants, with the recogniser's values."""
    text = (template_root / CONSTANTS_TEMPLATE).read_text(encoding="utf-8")
    dest = out / "app/src/main/java/com/litetools/core/RecConstants.java"
    dest.write_text(environment().from_string(text).render(rec_context), encoding="utf-8")


def _assets(assets: Path, det_nb: Path, rec_nb: Path, detector: DeployConfig, recogniser: DeployConfig,
            manifests: dict, gallery) -> None:
    android.write_assets(assets, det_nb, detector, manifests["detector"])
    shutil.copyfile(rec_nb, assets / REC_ASSET)
    write_json(recogniser, assets / "rec_deploy_config.json")
    (assets / "rec_lite_manifest.json").write_text(dumps(manifests["recogniser"], indent=2))
    index_file = gallery.file(GALLERY_ELEMENT)
    shutil.copyfile(index_file, assets / index_file.name)
    (assets / "gallery.json").write_text(dumps(gallery.manifest, indent=2))


def _android(out: Path, det: dict, rec: dict, shitu: dict, det_nb, rec_nb, detector, recogniser, manifests,
             gallery) -> None:
    render_tree(ANDROID_TEMPLATE, out, det)  # the overlay's MainActivity replaces the single-model screen
    _render_rec_constants(ANDROID_TEMPLATE, out, rec)
    render_tree(SHITU_ANDROID_TEMPLATE, out, {**det, "rec": rec, "shitu": shitu})
    _assets(out / "app/src/main/assets", det_nb, rec_nb, detector, recogniser, manifests, gallery)


def _flutter(out: Path, det: dict, rec: dict, shitu: dict, det_nb, rec_nb, detector, recogniser, manifests,
             gallery) -> None:
    context = {**det, "channel": flutter.CHANNEL, "dart_package": flutter.dart_package(det["app_name"])}
    render_tree(FLUTTER_TEMPLATE, out, context)
    host = out / "android"
    render_tree(ANDROID_TEMPLATE, host, context, only=flutter.SHARED_FROM_ANDROID)
    _render_rec_constants(ANDROID_TEMPLATE, host, rec)
    overlay = {**context, "rec": rec, "shitu": shitu}
    render_tree(SHITU_ANDROID_TEMPLATE, host, overlay, only=[
        "app/src/main/java/com/litetools/core", "app/src/main/java/{{ package_path }}/ShituPredictor.java.jinja"])
    render_tree(SHITU_FLUTTER_TEMPLATE, out, overlay)  # the host's MainActivity, over the single-model one
    _assets(host / "app/src/main/assets", det_nb, rec_nb, detector, recogniser, manifests, gallery)
    (out / "assets").mkdir(exist_ok=True)
    write_json(detector, out / "assets" / "deploy_config.json")
    write_json(recogniser, out / "assets" / "rec_deploy_config.json")


WRITERS = {"android": _android, "flutter": _flutter}


def write_projects(staging: Path, kinds, *, system, detector: DeployConfig, recogniser: DeployConfig, det_nb: Path,
                   rec_nb: Path, manifests: dict, gallery, app_name: str, package: str, det_model=None,
                   rec_model=None) -> list:
    """Render each of `kinds` into staging/KIND; return the kinds rendered. manifests: {"detector": opt
    manifest, "recogniser": opt manifest}; gallery: a lite_tools.shitu.gallery.Gallery bound to the recogniser.
    det_model, rec_model: the exports, which the Android project's golden tests (lite_tools.codegen.golden) get
    their reference outputs from; without them the project's tests say their data is missing. Their recorded
    weights (lite_tools.provenance) decide whether the app says its results are not predictions."""
    android.check_package(package)
    project.check_app_name(app_name)
    notice = provenance.app_notice(provenance.record(det_model), provenance.record(rec_model))
    det, rec, shitu = _contexts(system, detector, recogniser, manifests, gallery, app_name, package, notice)
    rendered = []
    for kind in kinds:
        if kind not in WRITERS:
            raise BadInput(f"unknown project kind {kind!r}; choose from {', '.join(WRITERS)}")
        WRITERS[kind](Path(staging) / kind, det, rec, shitu, Path(det_nb), Path(rec_nb), detector, recogniser,
                      manifests, gallery)
        if kind == "android" and det_model is not None and rec_model is not None:
            golden.write_shitu(Path(staging) / kind, system, det["config"], rec["config"], det_model, rec_model,
                               gallery)
        rendered.append(kind)
    return rendered
