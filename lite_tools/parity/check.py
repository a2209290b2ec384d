"""`parity.check`: run Paddle Inference and Paddle Lite x86 on the same images and say whether they agree,
on raw tensors and on what the app shows; when they do not, say where (preprocessing or the first op).

Two pipelines can be compared: the reference config (what the export was trained with) and a deploy config (what
the app will use, default the same). Faults in the deploy config's preprocessing show up as input differences,
which are diagnosed by name before any op is blamed.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import opt, staging
from ..config import DeployConfig, Task, for_model
from ..engines import IsolatedLiteEngine, RememberingEngine
from ..errors import BadInput
from ..model import files, nb, program as programs
from ..reference import model_inputs, postprocess, preprocess
from ..reference.preprocess import reproduces
from ..reference.postprocess import as_probabilities
from . import matching, metrics


@dataclasses.dataclass(frozen=True)
class Tolerance:
    # fp32 kernels on both sides differ only in summation order: observed <= 2e-5 on probabilities/boxes
    # (zoo models); 1e-4 + 1e-3 * max|ref| leaves 5x margin and still catches a single perturbed weight.
    atol: float = 1e-4
    rtol: float = 1e-3


@dataclasses.dataclass(frozen=True)
class OutputComparison:
    name: str
    ref_shape: tuple
    lite_shape: tuple
    max_abs: float | None
    max_rel: float | None
    cosine: float | None
    nan: bool
    ok: bool
    gated: bool  # False for detection outputs, whose order and count are compared by box matching instead


@dataclasses.dataclass(frozen=True)
class ImageComparison:
    image: str
    outputs: tuple
    task_ok: bool
    task_detail: str
    reference: tuple
    lite: tuple
    input_max_abs: float

    @property
    def ok(self) -> bool:
        return self.task_ok and all(o.ok for o in self.outputs)

    @property
    def worst_abs(self) -> float:
        return max((o.max_abs for o in self.outputs if o.max_abs is not None), default=0.0)


@dataclasses.dataclass(frozen=True)
class ParityReport:
    ok: bool
    model: str
    lite_model: str
    config_source: str
    task: str
    tolerance: Tolerance
    images: tuple
    skipped: tuple  # (image, reason)
    failures: tuple  # one line each
    diagnosis: tuple  # named preprocessing differences between the reference and deploy configs
    localisation: dict | None
    quant_estimate: dict | None
    timings: dict
    summary: dict = dataclasses.field(default_factory=dict)  # e.g. top-1/top-k agreement rates
    fp16_estimate: dict | None = None  # --fp16: every tensor rounded to fp16 in Paddle (parity.fp16)
    resize_reproduces: str = ""  # the upstream resize (library, version) the reference's preprocessing matches
    # Paddle Inference's outputs on the images, for a later stage that feeds it the same tensors (not in report.json)
    reference: RememberingEngine | None = dataclasses.field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        def plain(v):
            if dataclasses.is_dataclass(v):
                d = {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
                if isinstance(v, ImageComparison):
                    d["ok"] = v.ok
                return d
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, (np.floating, np.integer)):
                return v.item()
            return v
        fields = plain(dataclasses.replace(self, reference=None))
        del fields["reference"]
        return {"format": "lite-tools-parity/1", **fields}


def config_differences(reference: DeployConfig, deploy: DeployConfig) -> list:
    """Name every preprocessing field where the deploy config departs from the reference."""
    names = []
    for field in ("resize", "crop", "scale", "mean", "std", "channel_order", "layout", "box_format"):
        a, b = getattr(reference, field), getattr(deploy, field)
        if a != b:
            label = {"channel_order": "channel order (RGB/BGR)", "resize": "resize", "crop": "crop / input size"}
            names.append(f"{label.get(field, field)}: reference {_show(a)}, deploy {_show(b)}")
    return names


def _show(v) -> str:
    if dataclasses.is_dataclass(v):
        return "{" + ", ".join(f"{f.name}={_show(getattr(v, f.name))}" for f in dataclasses.fields(v)
                               if getattr(v, f.name) not in (0, False, "")) + "}"
    return getattr(v, "value", None) or str(v)


def _tensor_diagnosis(ref_in: np.ndarray, dep_in: np.ndarray) -> str:
    if ref_in.shape != dep_in.shape:
        return f"input size differs: reference {list(ref_in.shape)}, deploy {list(dep_in.shape)}"
    # Normalisation is affine per channel, so correlation finds a channel swap whatever mean/std were applied.
    ref_ch, dep_ch = ref_in[0].reshape(3, -1), dep_in[0].reshape(3, -1)
    corr = np.corrcoef(np.concatenate([ref_ch, dep_ch]))[:3, 3:]
    if np.all(np.diag(corr[:, ::-1]) > 0.999) and not np.all(np.diag(corr) > 0.999):
        return "input channels are reversed: RGB/BGR swapped"
    if np.all(np.diag(corr) > 0.999999):
        return (f"input tensors differ by an affine map per channel (max {metrics.max_abs(ref_in, dep_in):.4g}): "
                "scale/mean/std differ")
    return f"input tensors differ by up to {metrics.max_abs(ref_in, dep_in):.4g}: resize or crop differs"


def _compare_outputs(names, refs, lites, task: Task, tol: Tolerance, det_form: str = "nms") -> tuple:
    """Raw outputs against the tolerance; NMS rows are not gated (their order and count vary: boxes are matched
    instead), PicoDet's raw heads and decoded boxes are fixed-shape tensors and are gated."""
    comps = []
    for i, (r, o) in enumerate(zip(refs, lites)):
        name = names[i] if i < len(names) else f"output{i}"
        nan = bool(np.isnan(r).any() or np.isnan(o).any())
        detection = task in (Task.SSD, Task.PICODET) and det_form not in ("raw", "decoded")
        if r.shape != o.shape:
            comps.append(OutputComparison(name, r.shape, o.shape, None, None, None, nan, detection and not nan,
                                          not detection))
            continue
        values = {metric: fn(r, o) for metric, fn in metrics.METRICS.items()}
        comps.append(OutputComparison(name, r.shape, o.shape, **values, nan=nan,
                                      ok=not nan and (detection or metrics.within(r, o, tol.atol, tol.rtol)),
                                      gated=not detection))
    return tuple(comps)


def _gap_exceeds(p: np.ndarray, a: int, b: int, tol: Tolerance) -> bool:
    """Whether classes a and b are further apart than the tolerance (else their order may flip legitimately)."""
    return abs(p[a] - p[b]) > tol.atol + tol.rtol * float(np.max(np.abs(p)))


EMBEDDING_COSINE_MIN = 0.999  # a vector search ranks neighbours by cosine; 0.999 keeps rankings stable


def _task_compare(config: DeployConfig, ref_res: list, lite_res: list, ref_out, lite_out, tol: Tolerance) -> tuple:
    if config.task == Task.EMBEDDING:
        cos = metrics.cosine(ref_out[0], lite_out[0]) if ref_out[0].shape == lite_out[0].shape else 0.0
        ok = cos >= EMBEDDING_COSINE_MIN
        return ok, f"embedding cosine {cos:.6f} ({'>=' if ok else '<'} {EMBEDDING_COSINE_MIN})"
    if config.task == Task.CLASSIFY:
        p = as_probabilities(ref_out[0][0])
        r_ids, l_ids = [c.class_id for c in ref_res], [c.class_id for c in lite_res]
        if r_ids[0] != l_ids[0] and _gap_exceeds(p, r_ids[0], l_ids[0], tol):
            return False, f"top-1 differs: reference {r_ids[0]}, lite {l_ids[0]}"
        diff = set(r_ids) ^ set(l_ids)
        if any(_gap_exceeds(p, i, r_ids[-1], tol) for i in diff):
            return False, f"top-{config.topk} differs: reference {r_ids}, lite {l_ids}"
        return True, "top-1 and top-k agree" if r_ids == l_ids else "agree up to ties within tolerance"
    if config.task == Task.BINARY:
        ref, lite = ref_res[0], lite_res[0]
        p = as_probabilities(ref_out[0][0])
        if p.size == 2:
            near = abs(float(p[1]) - config.threshold) <= tol.atol + tol.rtol
        else:  # ThreshOutput's multi-class branch: top-1 against the threshold, or a near tie at the top
            top = sorted(range(p.size), key=lambda i: -p[i])[:2]
            near = (abs(float(p[top[0]]) - config.threshold) <= tol.atol + tol.rtol
                    or (len(top) > 1 and not _gap_exceeds(p, top[0], top[1], tol)))
        if ref.class_id != lite.class_id and not near:
            return False, (f"decision differs at threshold {config.threshold}: reference {ref.label or ref.class_id}, "
                           f"lite {lite.label or lite.class_id}")
        return True, f"same decision ({ref.label or ref.class_id})"
    if config.task == Task.MULTILABEL:
        return multilabel_compare(ref_res[0], lite_res[0])
    match = matching.match_boxes(list(ref_res), list(lite_res), config.score_threshold)
    if not match.ok:
        parts = []
        if match.missing:
            parts.append(f"{len(match.missing)} missing (e.g. {_box_text(match.missing[0])})")
        if match.extra:
            parts.append(f"{len(match.extra)} extra (e.g. {_box_text(match.extra[0])})")
        return False, f"boxes differ: {len(match.matched)} matched, " + ", ".join(parts)
    return True, f"{len(match.matched)} boxes matched" + (
        f", {len(match.borderline)} at the score threshold" if match.borderline else "")


def multilabel_compare(ref, lite) -> tuple:
    """Attributes: the app shows the decisions and PaddleClas returns the 0/1 vector: both must be identical (the
    raw scores are gated by the tolerance like any output). No slack at the thresholds, unlike binary."""
    if ref.decisions != lite.decisions:
        diff = [f"{a!r} vs {b!r}" for a, b in zip(ref.decisions, lite.decisions) if a != b]
        if len(ref.decisions) != len(lite.decisions):
            diff.append(f"{len(ref.decisions)} vs {len(lite.decisions)} decisions")
        return False, "decisions differ (reference vs lite): " + "; ".join(diff)
    if ref.output != lite.output:
        where = [i for i, (a, b) in enumerate(zip(ref.output, lite.output)) if a != b]
        return False, f"output vector differs at index {where}: reference {list(ref.output)}, lite {list(lite.output)}"
    return True, "same decisions: " + ("; ".join(ref.decisions) or "(none)")


def failure_lines(comparisons: list, tolerance: Tolerance) -> list:
    """One line per failing output and per failing task-level check."""
    lines = []
    for comp in comparisons:
        for o in comp.outputs:
            if o.ok:
                continue
            if o.nan:
                lines.append(f"{comp.image}: {o.name} has NaN (reference or lite)")
            elif o.max_abs is None:
                lines.append(f"{comp.image}: {o.name} shape {list(o.lite_shape)} != {list(o.ref_shape)}")
            else:
                lines.append(f"{comp.image}: {o.name} max_abs={o.max_abs:.3g} (atol {tolerance.atol}, "
                             f"rtol {tolerance.rtol})")
        if not comp.task_ok:
            lines.append(f"{comp.image}: {comp.task_detail}")
    return lines


def _explain(first_failure, config, deploy, mf, lite_files, lite_model, localise, tolerance, progress, timings):
    """(diagnosis, localisation, extra failure line): preprocessing differences are named first; otherwise both
    programs are bisected to the first op out of tolerance (impossible for a foreign .nb: say what it means)."""
    comp, ref_in, dep_in = first_failure  # every model input, in the model's order
    diagnosis = config_differences(config, deploy) if deploy is not config else []
    if comp.input_max_abs > 0:
        diagnosis.append(_tensor_diagnosis(ref_in[0], dep_in[0]))
        return diagnosis, {"stage": "preprocessing", "detail": diagnosis[-1]}, None
    if lite_model is not None:
        return diagnosis, None, (f"{lite_model} does not compute what {mf.model_file} computes: is it the "
                                 "conversion of this model (same export, same Paddle Lite version)?")
    if not localise:
        return diagnosis, None, None
    from .bisect import localise_first_divergence
    progress("parity: localising the first op that leaves tolerance")
    started = time.perf_counter()
    failing = [o.name for o in comp.outputs if o.gated and not o.ok]
    localisation = localise_first_divergence(mf, lite_files, ref_in, tolerance, failing[0] if failing else None)
    timings["localise"] = time.perf_counter() - started
    return diagnosis, localisation, None


def _box_text(b) -> str:
    return f"{b.label} {b.score:.3f} [{b.x0:.1f}, {b.y0:.1f}, {b.x1:.1f}, {b.y1:.1f}]"


def _result_json(results: list) -> tuple:
    return tuple(dataclasses.asdict(r) for r in results)


def _compare_images(images, config, deploy, ref_engine, lite_engine, out_names, tolerance, lite_model, mf,
                    lite_output_hook, timings) -> tuple:
    """Run both engines on every image; return ([ImageComparison], the first failure or None)."""
    if lite_model is not None and (len(lite_engine.input_names) != len(ref_engine.input_names)
                               or len(lite_engine.output_names) != len(ref_engine.output_names)):
        raise BadInput(f"{lite_model}: has {len(lite_engine.input_names)} input(s) and "
                       f"{len(lite_engine.output_names)} output(s), {mf.model_file} has "
                       f"{len(ref_engine.input_names)} and {len(ref_engine.output_names)}: not its conversion")
    comparisons, first_failure = [], None
    for name, rgb in images:
        t0 = time.perf_counter()
        pre_ref = preprocess(rgb, config)
        pre_dep = preprocess(rgb, deploy) if deploy is not config else pre_ref
        t1 = time.perf_counter()
        ref_in, dep_in = model_inputs(pre_ref, ref_engine.input_names), model_inputs(pre_dep, ref_engine.input_names)
        ref_out = ref_engine.run(ref_in)
        t2 = time.perf_counter()
        lite_out = lite_engine.run(dep_in)
        t3 = time.perf_counter()
        if lite_output_hook:
            lite_out = lite_output_hook(lite_out)
        timings["preprocess"] += t1 - t0
        timings["reference"] += t2 - t1
        timings["lite"] += t3 - t2
        outs = _compare_outputs(out_names, ref_out, lite_out, config.task, tolerance, config.det_form)
        ref_res, lite_res = postprocess(ref_out, config, pre_ref), postprocess(lite_out, deploy, pre_dep)
        if any(o.nan for o in outs):
            task_ok, detail = False, "NaN in " + ", ".join(o.name for o in outs if o.nan)
        else:
            task_ok, detail = _task_compare(config, ref_res, lite_res, ref_out, lite_out, tolerance)
        same_shape = pre_ref.tensor.shape == pre_dep.tensor.shape
        input_diff = metrics.max_abs(pre_ref.tensor, pre_dep.tensor) if same_shape else float("inf")
        comp = ImageComparison(name, outs, task_ok, detail, _result_json(ref_res), _result_json(lite_res),
                               input_diff)
        comparisons.append(comp)
        if not comp.ok and first_failure is None:
            first_failure = (comp, ref_in, dep_in)
    return comparisons, first_failure


_BUILD_NAMES = {"arm": "ARM", "opencl": "OpenCL"}


def _given_lite_model(path) -> Path:
    """The --lite-model .nb, refused in one line before any temp folder or Lite worker exists: a folder, or a
    FIFO (an open would wait for a writer forever), a bad header, a truncated file (Lite would abort on it), or
    the build for another target, which x86 Lite would run into garbage that reads as "not the conversion of
    this model". Damage inside the sections is left to Lite, whose abort the worker turns into one line."""
    nb_path = Path(path)
    nb.read_layout(nb_path)
    target = nb.built_for(nb_path)
    if target not in (None, "x86"):
        raise BadInput(f"{nb_path}: this is the {_BUILD_NAMES[target]} build of the model; parity on x86 needs "
                       "the x86 .nb (opt --target x86)")
    return nb_path


def check(model, config: DeployConfig, images: list, *, tolerance: Tolerance = Tolerance(), quant=None, fp16=False,
          lite_model=None, lite_export=None, deploy_config: DeployConfig | None = None, skipped=(),
          localise: bool = True, lite_output_hook=None, progress=None) -> ParityReport:
    """images: [(name, HxWx3 uint8 RGB)]. lite_model: an existing x86 .nb to check instead of making one.
    lite_export: build the Lite side from this export instead of MODEL (to check a re-export).
    lite_output_hook(outputs) -> outputs: a test seam to inject faults into Lite's outputs."""
    progress = progress or (lambda m: None)
    timings = {"preprocess": 0.0, "reference": 0.0, "lite": 0.0}
    deploy = deploy_config or config
    mf = files.locate(model)
    given_nb = _given_lite_model(lite_model) if lite_model is not None else None
    program = programs.load_program(mf.model_file)
    programs.check_params(program, mf.param_file)
    out_names = [t.name for t in program.outputs]
    outputs = [(t.name, t.shape) for t in program.outputs]
    config = for_model.settle(config, outputs, str(mf.model_file), inputs=[(t.name, t.shape) for t in program.inputs])
    deploy = for_model.settle(deploy, outputs, str(mf.model_file)) if deploy_config else config
    if not images:
        raise BadInput("no readable images to check")
    with staging.folder(tempfile.gettempdir(), "lite-tools-parity-") as tmp:  # locked: a killed run's is swept
        staging.stop_at("parity")  # test-only: a kill lands while the temp folder exists
        started = time.perf_counter()
        lite_files = files.locate(lite_export) if lite_export else mf
        if lite_model is None:
            progress("parity: making the x86 model with lite-tools opt")
            # Weight-quantised x86 models give NaN on Lite 2.13rc0: the x86 check runs fp32 and the effect of
            # --quant/--fp16 is estimated in Paddle instead (see quant_estimate).
            opt.optimize(lite_files.model_file.parent, tmp, opt.OptOptions(targets=("x86",), name="parity"),
                         model_file=lite_files.model_file, param_file=lite_files.param_file)
            nb_path = Path(tmp) / "parity.x86.nb"
        else:
            nb_path = given_nb
        timings["opt"] = time.perf_counter() - started
        ref_engine = RememberingEngine(mf.model_file, mf.param_file)
        lite_engine = IsolatedLiteEngine(nb_path, log_dir=tmp)  # a corrupt .nb or bad input must not crash us
        try:
            comparisons, first_failure = _compare_images(images, config, deploy, ref_engine, lite_engine,
                                                         out_names, tolerance, lite_model, mf, lite_output_hook,
                                                         timings)
        finally:
            lite_engine.close()
        failures = failure_lines(comparisons, tolerance)
        diagnosis, localisation = [], None
        if first_failure is not None:
            diagnosis, localisation, note = _explain(first_failure, config, deploy, mf, lite_files, lite_model,
                                                     localise, tolerance, progress, timings)
            failures += [note] if note else []

        quant_estimate = fp16_estimate = None
        if quant:
            from .quant_effect import estimate
            progress("parity: estimating the effect of weight quantisation in Paddle")
            quant_estimate = estimate(mf, program, config, images, quant, fp16, Path(tmp))
        if fp16:  # an overflow or another task result on the estimate fails parity, as Lite x86 failing would
            from . import fp16 as fp16_effect
            progress("parity: estimating fp16 inference (every tensor rounded to fp16) in Paddle")
            fp16_estimate = fp16_effect.estimate(mf, program, config, images, quant, Path(tmp))
            failures += fp16_estimate["failures"]

    summary = {}
    if config.task == Task.CLASSIFY and comparisons:
        top1 = sum(c.reference[0]["class_id"] == c.lite[0]["class_id"] for c in comparisons)
        topk = sum([r["class_id"] for r in c.reference] == [r["class_id"] for r in c.lite] for c in comparisons)
        summary = {"top1_agreement": top1 / len(comparisons), "topk_agreement": topk / len(comparisons)}
    elif config.task == Task.BINARY and comparisons:
        same = sum(c.reference[0]["class_id"] == c.lite[0]["class_id"] for c in comparisons)
        summary = {"decision_agreement": same / len(comparisons)}
    elif config.task == Task.MULTILABEL and comparisons:
        same = sum(c.reference[0]["decisions"] == c.lite[0]["decisions"] for c in comparisons)
        vector = sum(c.reference[0]["output"] == c.lite[0]["output"] for c in comparisons)
        summary = {"decision_agreement": same / len(comparisons), "output_agreement": vector / len(comparisons)}
    return ParityReport(summary=summary, ok=not failures, model=str(mf.model_file.parent),
                        lite_model=str(lite_model or "made by opt"),
                        config_source=config.source, task=config.task.value, tolerance=tolerance,
                        resize_reproduces=reproduces(config),
                        images=tuple(comparisons), skipped=tuple(skipped), failures=tuple(failures),
                        diagnosis=tuple(diagnosis), localisation=localisation, quant_estimate=quant_estimate,
                        fp16_estimate=fp16_estimate, reference=ref_engine,
                        timings={k: round(v, 3) for k, v in timings.items()})
