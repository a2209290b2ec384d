"""`lite-tools shitu deploy`: a PP-ShiTu system (mainbody detector, recogniser, gallery) to verified app projects.

1. resolve: the system config (PaddleClas's inference_general.yaml and siblings, or --det/--rec with PaddleClas's
   published settings), each model's path as found (printed), the gallery bound to the rec model (its params and
   ARM .nb sha256), each DeployConfig checked against its model (the detector must have NMS in its graph: that is
   what PaddleClas's DetPredictor reads), the embedding width against the gallery's.
2. opt both models: ARM (what ships) and x86 (what is verified).
3. per-stage gates on the query images (--images, default the bundled samples), each named in the verdict:
   - detector: lite_tools.parity.check on the detector (Paddle Lite x86 against Paddle Inference: raw outputs and
     boxes matched one-to-one);
   - recogniser: every crop the reference pipeline takes, embedded by Lite and by Paddle Inference: cosine >=
     EMBEDDING_COSINE;
   - search: for each crop's feature, the Python index search, faiss IndexFlatIP over the same vectors and the
     Java EmbeddingSearcher (inside ShituPipeline on the JVM) give the same top-1 label and the same top-k ids up
     to ties (faiss; Java and Python must be identical);
   - end to end, per image: the pipeline on the Lite engines against the pipeline on Paddle Inference (same labels,
     boxes within BOX_PX), and com.litetools.core.ShituPipeline on the JVM against the Python reference.
4. projects (the two-model app templates, lite_tools.codegen.shitu_app) with the gallery in the assets.
5. with --apk, the Android project's signed APK (lite_tools.apk.placement); report.html / report.json; everything
   is staged and becomes OUT at once (lite_tools.outputs).
A failed gate stops before any project reaches OUT (exit 1) unless --force.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from .. import opt, outputs, provenance
from ..apk import placement as apk_placement
from ..config import read_config_file
from ..config import for_model
from ..errors import BadInput
from ..model import files, program as programs
from ..progress import Progress
from ..staging import folder as locked_folder
from . import pipeline
from .system_config import SystemConfig, defaults_for, read_system_config

EMBEDDING_COSINE = 0.999
BOX_PX = 1
SEARCH_TIE = 1e-5  # faiss and our index sum in different orders: scores this close count as tied


@dataclasses.dataclass
class ShituDeployResult:
    ok: bool
    out: str
    reason: str
    system: dict
    models: dict  # "detector" / "recogniser" -> {"dir", "found_by", "manifest"}
    gallery: dict
    gates: dict  # name -> {"ok": bool, "detail": ..., "failures": [...]}
    images: list  # per query: name, size, and each stage's result
    projects: dict
    artifacts: dict
    stages: dict
    forced: bool = False
    apk: dict | None = None  # with apk=: lite_tools.apk.build.ApkBuild.to_json()

    def to_json(self) -> dict:
        return {"format": "lite-tools-shitu-deploy/1", **dataclasses.asdict(self)}

def resolve_system(config=None, det=None, rec=None) -> tuple:
    """(SystemConfig, det_dir, rec_dir, {"detector": how found, "recogniser": how found})."""
    if config is None and (det is None or rec is None):
        raise BadInput("give --config SYSTEM.yaml (PaddleClas's inference_general.yaml or a sibling), or both --det "
                       "DIR and --rec DIR")
    found = {}
    if config is not None:
        system = read_system_config(config)
        if system.detector is None and det is not None:
            raise BadInput(f"{config}: has no detector (Global.det_inference_model_dir is empty), so --det has no "
                           "DetPreProcess to run with")
        if det is not None:
            det_dir, found["detector"] = Path(det), "--det"
        elif system.detector is not None:
            det_dir = system.locate(system.det_model_dir, "Global.det_inference_model_dir")
            found["detector"] = f"Global.det_inference_model_dir {system.det_model_dir!r}"
        else:  # PaddleClas would recognise the whole image only; the app is built around the mainbody detector
            raise BadInput(f"{system.source}: has no detector (Global.det_inference_model_dir is empty); lite-tools "
                           "shitu deploy needs the mainbody detector")
        if rec is not None:
            rec_dir, found["recogniser"] = Path(rec), "--rec"
        else:
            rec_dir = system.locate(system.rec_model_dir, "Global.rec_inference_model_dir")
            found["recogniser"] = f"Global.rec_inference_model_dir {system.rec_model_dir!r}"
        return system, det_dir, rec_dir, found
    det_dir, rec_dir = Path(det), Path(rec)
    det_cfg = read_config_file(_beside(det_dir, ("infer_cfg.yml", "infer_cfg.json", "inference.yml"), "--det"))
    rec_cfg = read_config_file(_beside(rec_dir, ("inference.yml",), "--rec"))
    return defaults_for(det_cfg, rec_cfg), det_dir, rec_dir, {"detector": "--det", "recogniser": "--rec"}

def _beside(model_dir: Path, names: tuple, option: str) -> Path:
    files.stat_of(model_dir, "directory")
    for name in names:
        if (model_dir / name).is_file():
            return model_dir / name
    raise BadInput(f"{model_dir}: has no {' or '.join(names)} beside the model ({option}): give --config "
                   "SYSTEM.yaml, whose DetPreProcess / RecPreProcess say how to feed it")

def with_upstream(system: SystemConfig, upstream_cpu=None, upstream_threads=None, upstream_l2=None) -> SystemConfig:
    """`system` with both models' resizes reproducing that upstream machine's cv2.resize (config.with_upstream)."""
    from .. import config as configs

    def moved(cfg):
        return cfg if cfg is None else configs.with_upstream(cfg, upstream_cpu, upstream_threads, upstream_l2,
                                                             said=configs.UPSTREAM_OPTIONS)
    return dataclasses.replace(system, detector=moved(system.detector), recogniser=moved(system.recogniser))


def _settled(config, model_dir: Path, role: str):
    mf = files.locate(model_dir)
    program = programs.load_program(mf.model_file)
    settled = for_model.settle(config, [(t.name, t.shape) for t in program.outputs], str(mf.model_file),
                               inputs=[(t.name, t.shape) for t in program.inputs])
    if role == "detector" and settled.det_form != "nms":
        raise BadInput(f"{mf.model_file}: the detector's outputs are {settled.det_form or 'not'} NMS rows; PP-ShiTu "
                       "(PaddleClas's DetPredictor, and this app) reads [N, 6] rows: export it with NMS in the graph")
    return settled, [(t.name, list(t.shape)) for t in program.outputs]

def _same_up_to_ties(a: list, b: list, tie: float = SEARCH_TIE) -> bool:
    """Two ranked [(id, score)] lists agree when the scores match rank by rank and every id that differs sits in a
    run of tied scores."""
    if len(a) != len(b):
        return False
    for r, ((ia, sa), (ib, sb)) in enumerate(zip(a, b)):
        if abs(sa - sb) > tie:
            return False
        if ia != ib:
            near = [i for i, s in b if abs(s - sa) <= tie]
            if ia not in near and abs(a[-1][1] - sa) > tie:
                return False
    return [i for i, s in a if s > a[-1][1] + tie] == [i for i, s in b if s > b[-1][1] + tie]

def _cosine(x: np.ndarray, y: np.ndarray) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / denom) if denom > 0 else float("nan")

def _worst_cosine(worst: float, cos: float) -> float:
    """The lower of two cosines, NaN the lowest (min() would keep 1.0 over a NaN cosine)."""
    return worst if worst != worst or cos >= worst else cos

def deploy(system: SystemConfig, det_dir, rec_dir, gallery_dir, out, images_dir=None, kinds=("android",),
           force: bool = False, app_name: str = "LiteTools ShiTu", package: str = "com.litetools.shitu",
           found: dict | None = None, progress: Progress | None = None, inputs=(), det_lite_export=None,
           rec_lite_export=None, apk=None) -> ShituDeployResult:
    """det_lite_export / rec_lite_export: build the Lite side from another export (a re-export, or in tests a
    perturbed one the gates must catch). apk: as lite_tools.deploy.deploy's."""
    from ..deploy import SAMPLES, _said_as, check_app_request, load_images
    from ..engines import IsolatedLiteEngine, PaddleInferenceEngine
    from ..parity import check as parity_check
    from . import gallery as galleries
    from . import javacheck

    progress = progress or Progress(quiet=True)
    check_app_request(kinds, app_name, package)
    if system.detector is None or det_dir is None:
        raise BadInput(f"{system.source}: has no detector; lite-tools shitu deploy needs the mainbody detector")
    det_dir, rec_dir, gallery_dir, out = Path(det_dir), Path(rec_dir), Path(gallery_dir), Path(out)
    outputs.check_destination(out, force, (det_dir, rec_dir, gallery_dir, images_dir or SAMPLES, *inputs))
    placement = apk_placement.plan(apk, out, kinds, force)
    g = galleries.load(gallery_dir)
    galleries.require_params(g, rec_dir)  # quick refusal before any optimiser runs
    det_cfg, det_outputs = _settled(system.detector, det_dir, "detector")
    rec_cfg, rec_outputs = _settled(system.recogniser, rec_dir, "recogniser")
    galleries.require_machine(g, rec_cfg, "search it")
    galleries.require_preprocess(g, rec_cfg, "search it")
    width = rec_outputs[0][1][-1]
    if width > 0 and width != g.dim:
        raise BadInput(f"{gallery_dir}: holds {g.dim}-d vectors, {rec_dir} outputs {width}-d features")
    if system.search.embedding_size and system.search.embedding_size != g.dim:
        raise BadInput(f"{system.source}: IndexProcess.embedding_size {system.search.embedding_size} but "
                       f"{gallery_dir} holds {g.dim}-d vectors")
    images, skipped = load_images(images_dir, det_cfg)
    for _, why in skipped:
        progress.note(f"skipped {why}")
    if not images:
        raise BadInput(f"{images_dir}: no readable images to check")

    gates, reason = {}, ""
    with locked_folder(outputs.parent_of(out), ".lite-tools-shitu-") as tmp, _said_as(Path(tmp) / "out", out):
        staging = Path(tmp) / "out"
        staging.mkdir()
        artifacts = {}
        with progress.stage("opt"):
            manifests = {}
            for role, model, lite_export in (("det", det_dir, det_lite_export), ("rec", rec_dir, rec_lite_export)):
                manifests[role] = opt.optimize(model, staging / "opt", opt.OptOptions(targets=("arm",), name=role),
                                               progress=progress)
                lite_files = files.locate(lite_export or model)
                opt.optimize(lite_files.model_file.parent, Path(tmp) / "x86", opt.OptOptions(targets=("x86",), name=role),
                             model_file=lite_files.model_file, param_file=lite_files.param_file)
                artifacts[f"{role} ARM model"] = f"opt/{role}.arm.nb"
            binding = galleries.bind(rec_dir, Path(tmp) / "bind")
            galleries.require_model(g, binding)
            shipped = manifests["rec"]["targets"]["arm"]["sha256"]
            if shipped != g.nb_sha256:  # the app's GalleryStore / EmbeddingSearcher.requireModel would refuse it
                raise BadInput(f"{gallery_dir}: is bound to the ARM .nb {g.nb_sha256}, but this run's rec .nb is "
                               f"{shipped}: rebuild the gallery with this lite-tools")

        with progress.stage("detector"):
            det_parity = parity_check.check(det_dir, det_cfg, images, skipped=skipped, progress=progress,
                                            lite_model=Path(tmp) / "x86" / "det.x86.nb", localise=False)
            gates["detector"] = {"ok": det_parity.ok, "failures": list(det_parity.failures[:5]),
                                 "detail": {"images": len(det_parity.images),
                                            "worst_abs": max((c.worst_abs for c in det_parity.images), default=0.0)}}

        det_mf, rec_mf = files.locate(det_dir), files.locate(rec_dir)
        ref_det = pipeline.Detector(det_cfg, PaddleInferenceEngine(det_mf.model_file, det_mf.param_file))
        ref_rec = pipeline.Recogniser(rec_cfg, PaddleInferenceEngine(rec_mf.model_file, rec_mf.param_file))
        search = pipeline.GallerySearcher(g.float32)
        with progress.stage("reference"):
            recorded = [javacheck.record(name, rgb, system, ref_det, ref_rec, search) for name, rgb in images]

        lite_det = IsolatedLiteEngine(Path(tmp) / "x86" / "det.x86.nb", log_dir=tmp)
        lite_rec = IsolatedLiteEngine(Path(tmp) / "x86" / "rec.x86.nb", log_dir=tmp)
        try:
            with progress.stage("recogniser"):
                embed_lite = pipeline.Recogniser(rec_cfg, lite_rec)
                per_image, failures, worst = [], [], 1.0
                for (name, rgb), rec in zip(images, recorded):
                    crops = []
                    for window, feature in rec.features.items():
                        x0, y0, x1, y1 = window
                        cos = _cosine(feature, embed_lite(np.ascontiguousarray(rgb[y0:y1, x0:x1])))
                        worst = _worst_cosine(worst, cos)
                        crops.append({"window": list(window), "cosine": cos})
                        if not cos >= EMBEDDING_COSINE:
                            failures.append(f"{name}: crop {list(window)} cosine {cos:.6f} < {EMBEDDING_COSINE}")
                    per_image.append(crops)
                gates["recogniser"] = {"ok": not failures, "failures": failures[:5],
                                       "detail": {"worst_cosine": worst, "crops": sum(map(len, per_image))}}
            with progress.stage("search"):
                gates["search"] = _search_gate(g, recorded, system.search.return_k)
            with progress.stage("end to end"):
                lite_runs = [pipeline.run(rgb, system, pipeline.Detector(det_cfg, lite_det),
                                          pipeline.Recogniser(rec_cfg, lite_rec), search) for _, rgb in images]
                gates["end to end"] = _end_to_end_gate(recorded, lite_runs)
        finally:
            lite_det.close()
            lite_rec.close()
        projects = {"rendered": [], "note": ""}
        engine_gates_ok = all(gate["ok"] for gate in gates.values())
        if engine_gates_ok or force:
            with progress.stage("projects"):
                projects = _render_projects(staging, kinds, system, det_cfg, rec_cfg, manifests, g, app_name,
                                            package, (det_dir, rec_dir))
        with progress.stage("java core"):
            # the core as it ships when a project was rendered (else the template's, which the projects copy)
            rendered = [staging / kind for kind in projects["rendered"]]
            core = next(rendered[0].rglob("com/litetools/core")) if rendered else javacheck.CORE
            java = javacheck.check(system, g.file("float32"), recorded, core_dir=core)
            gates["java core"] = {"ok": java.ok, "failures": list(java.mismatches[:5]), "detail": java.to_json()}

        failed = [name for name, gate in gates.items() if not gate["ok"]]
        if failed:
            reason = "; ".join(f"{name} gate failed: {gates[name]['failures'][0] if gates[name]['failures'] else ''}"
                               for name in failed)
        if reason and not force:
            for path in rendered:
                shutil.rmtree(path)
            projects = {"rendered": [], "note": "projects not written: a gate failed (--force writes them anyway)"}
        artifacts.update({f"{kind} project": kind for kind in projects["rendered"]})
        built, built_at = apk_placement.stage(placement, staging, Path(tmp), out, artifacts, progress)
        images_json = _images_json(images, recorded, lite_runs, per_image, det_parity)
        result = ShituDeployResult(
            ok=not reason, out=str(out), reason=reason, system=system.to_json(),
            models={"detector": {"dir": str(det_dir), "found_by": (found or {}).get("detector", ""),
                                 "manifest": manifests["det"], "outputs": det_outputs,
                                 "weights": provenance.record(det_dir)},
                    "recogniser": {"dir": str(rec_dir), "found_by": (found or {}).get("recogniser", ""),
                                   "manifest": manifests["rec"], "outputs": rec_outputs,
                                   "weights": provenance.record(rec_dir)}},
            gallery={"dir": str(gallery_dir), "count": g.count, "dim": g.dim, "labels": _label_counts(g.labels),
                     "params_sha256": g.params_sha256, "nb_sha256": g.nb_sha256,
                     "origin": g.manifest.get("origin", "")},
            gates=gates, images=images_json, projects=projects, artifacts=artifacts,
            stages=dict(progress.timings), forced=bool(reason) and force, apk=built)
        from .report import write_report

        write_report(result, staging)
        result.artifacts["report"] = "report.html"
        from ..jsonio import dumps

        (staging / "report.json").write_text(dumps(result.to_json(), indent=2, default=str))
        outputs.install(staging, out, "shitu deploy")
        apk_placement.finish(placement, built_at)
    return result

def _label_counts(labels) -> dict:
    counts = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts

def _search_gate(g, recorded: list, k: int) -> dict:
    """Python index vs faiss IndexFlatIP (top-1 label, top-k ids up to ties); Java is compared in the java gate
    (ShituHarness prints every search's hits, which must equal Python's exactly)."""
    import faiss

    flat = faiss.IndexFlatIP(g.dim)
    flat.add(np.ascontiguousarray(g.float32.vectors, np.float32))
    failures, searched = [], 0
    for rec in recorded:
        for cand in rec.result.candidates:
            if cand.top is None:
                continue
            searched += 1
            feature = rec.features[tuple(cand.window)]
            scores, positions = flat.search(feature.reshape(1, -1), k)
            theirs = [(int(g.ids[p]), float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]
            ours = [(h.id, h.score) for h in cand.hits]
            top_label = g.labels[int(positions[0][0])]
            if top_label != cand.top.label and abs(theirs[0][1] - ours[0][1]) > SEARCH_TIE:
                failures.append(f"{rec.name}: crop {list(cand.window)} top-1 {cand.top.label!r} here, {top_label!r} "
                                "in faiss")
            elif not _same_up_to_ties(ours, theirs):
                failures.append(f"{rec.name}: crop {list(cand.window)} top-{k} {ours} here, {theirs} in faiss")
    return {"ok": not failures, "failures": failures[:5], "detail": {"searches": searched, "k": k}}

def _end_to_end_gate(recorded: list, lite_runs: list) -> dict:
    failures = []
    for rec, lite in zip(recorded, lite_runs):
        ref = [(r.label, r.box) for r in rec.result.recognitions]
        got = [(r.label, r.box) for r in lite.recognitions]
        same = len(ref) == len(got) and all(a[0] == b[0] and max(abs(u - v) for u, v in zip(a[1], b[1])) <= BOX_PX
                                            for a, b in zip(ref, got))
        if not same:
            failures.append(f"{rec.name}: {got} on Paddle Lite, {ref} on Paddle Inference")
    return {"ok": not failures, "failures": failures[:5], "detail": {"images": len(recorded), "box_px": BOX_PX}}

def _images_json(images, recorded, lite_runs, crops, det_parity) -> list:
    out = []
    for (name, rgb), rec, lite, cosines, comp in zip(images, recorded, lite_runs, crops, det_parity.images):
        def shown(result):
            return [{"box": list(r.box), "label": r.label, "score": r.score, "id": r.id} for r in result.recognitions]
        out.append({"name": name, "size": [int(rgb.shape[1]), int(rgb.shape[0])],
                    "detector_ok": comp.ok, "detections": [{"score": d.score, "box": list(d.box)}
                                                           for d in rec.result.detections],
                    "crops": [{"window": list(c.window), "top": c.top.label if c.top else None,
                               "score": c.top.score if c.top else None, "kept": c.kept} for c in rec.result.candidates],
                    "cosines": cosines, "reference": shown(rec.result), "lite": shown(lite),
                    "notes": list(rec.result.notes)})
    return out

def _render_projects(staging: Path, kinds, system, det_cfg, rec_cfg, manifests, g, app_name, package,
                     models) -> dict:
    """The two-model app projects (lite_tools.codegen.shitu_app), rendered into `staging`. models: (detector
    dir, recogniser dir), for the Android project's golden tests."""
    from ..codegen import shitu_app

    rendered = shitu_app.write_projects(staging, kinds, system=system, detector=det_cfg, recogniser=rec_cfg,
                                        det_nb=staging / "opt" / "det.arm.nb", rec_nb=staging / "opt" / "rec.arm.nb",
                                        manifests={"detector": manifests["det"], "recogniser": manifests["rec"]},
                                        gallery=g, app_name=app_name, package=package, det_model=models[0],
                                        rec_model=models[1])
    return {"rendered": list(rendered), "note": ""}
