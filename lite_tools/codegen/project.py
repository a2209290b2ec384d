"""Writing app projects: make the ARM .nb through opt (or reuse one), check it against the config, render into a
temp folder beside OUT, and move the finished project into place, so a failure leaves nothing half-written
(lite_tools.outputs: which OUT may be created or replaced, and how)."""

from __future__ import annotations

from pathlib import Path

from .. import opt, outputs, provenance
from ..apk import placement as apk_placement
from ..config import DeployConfig
from ..errors import BadInput
from ..staging import folder as locked_folder
from . import android, flutter, golden

WRITERS = {"android": android.write_project, "flutter": flutter.write_project}


def check_app_name(app_name: str) -> str:
    if not app_name.strip() or any(c in app_name for c in "<>&\"'\\$"):
        raise BadInput(f"--app-name {app_name!r}: use plain text without <>&\"'\\$")
    return app_name


def stage(kind: str, staging: Path, config: DeployConfig, manifest: dict, nb_file: Path, app_name: str,
          package: str, model) -> dict:
    """Render project `kind` into `staging`; return its template context. model: the export, which the Android
    project's golden tests get their reference outputs from (lite_tools.codegen.golden), and whose recorded
    weights (lite_tools.provenance) decide whether the app says its results are not predictions."""
    notice = provenance.app_notice(provenance.record(model))
    context = android.context_for(config, manifest, app_name, package, weights_notice=notice)
    WRITERS[kind](staging, context, nb_file, config, manifest)
    if kind == "android":
        golden.write_core(staging, context["config"], model)
    return context


def generate(kind: str, model, config: DeployConfig, out, app_name: str = "LiteTools Demo",
             package: str = "com.litetools.demo", force: bool = False, quant=None, fp16: bool = False,
             progress=None, inputs=(), apk=None) -> dict:
    """`lite-tools android|flutter`: opt for ARM, check, render, move into place; return a summary.
    inputs: the user's other input paths (config, labels), which OUT must not be or contain, as `model`.
    apk: also build the signed debug APK (lite_tools.apk.placement: None, "" for where Gradle puts it, or FILE); one
    inside OUT is built before OUT is installed, so OUT's marker lists it and a failed build leaves OUT as it was."""
    progress = progress or (lambda m: None)
    android.check_package(package)
    check_app_name(app_name)
    out = Path(out)
    outputs.check_destination(out, force, (model, *inputs))
    placement = apk_placement.plan(apk, out, (kind,), force, project="")
    built = built_at = None
    with locked_folder(outputs.parent_of(out), f".lite-tools-{kind}-") as tmp:  # locked: a killed run's is swept
        progress(f"{kind}: optimising for arm")
        manifest = opt.optimize(model, Path(tmp) / "opt",
                                opt.OptOptions(targets=("arm",), quant=quant, fp16=fp16, name="model"))
        progress(f"{kind}: rendering the project")
        context = stage(kind, Path(tmp) / "project", config, manifest, Path(tmp) / "opt" / "model.arm.nb", app_name,
                        package, model)
        if placement is not None:
            progress(f"{kind}: building the APK")
            built, built_at = apk_placement.build_staged(placement, Path(tmp) / "project", Path(tmp), out,
                                                         progress=progress)
        outputs.install(Path(tmp) / "project", out, kind)
    apk_placement.finish(placement, built_at)
    return {"apk": built, "out": str(out), "package": package, "lite_version": context["lite_version"],
            "input": [context["input_width"], context["input_height"]], "task": config.task.value}
