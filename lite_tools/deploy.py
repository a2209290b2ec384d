"""`lite-tools deploy`: one command from an export to verified app projects.

opt (ARM ships, x86 is verified) -> parity on images (the `lite-tools parity` gate) -> projects rendered into a
staging folder -> the Java core run on the JVM against the Python reference -> with --apk, the signed APK (in the
staging folder too: lite_tools.apk.placement) -> report.html; the staging folder becomes OUT only at the end. A
parity or Java-core failure stops before any project reaches OUT (unless --force) and the report says why; a failed
APK build leaves OUT as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import shutil
from pathlib import Path

from . import javacheck, opt, outputs, provenance
from .apk import placement as apk_placement
from .codegen import android, project
from .config import DeployConfig
from .errors import BadInput, LiteToolsError
from .progress import Progress
from .staging import folder as locked_folder

SAMPLES = Path(__file__).parent / "samples"
KINDS = ("android", "flutter")


@dataclasses.dataclass
class DeployResult:
    ok: bool
    out: str
    name: str
    reason: str  # why it is not ok ("" when ok)
    stages: dict  # stage -> seconds
    manifest: dict
    parity: dict | None
    java: dict | None
    artifacts: dict  # what -> path inside OUT
    forced: bool = False
    verify_target: dict | None = None  # the x86 model parity ran on (manifest entry)
    apk: dict | None = None  # with apk=: lite_tools.apk.build.ApkBuild.to_json()
    weights: dict | None = None  # lite_tools.provenance.record(model): None when the export records nothing

    def to_json(self) -> dict:
        return {"format": "lite-tools-deploy/1", **dataclasses.asdict(self)}


def load_images(directory, config=None) -> tuple:
    """([(name, rgb)], [(name, reason)]) from a folder (the bundled samples if None), as reference.load_folder
    (which with `config` also skips an image that resizes to nothing)."""
    from .reference.images import load_folder

    return load_folder(directory or SAMPLES, config)


@contextlib.contextmanager
def _said_as(staging: Path, out: Path):
    """Errors name OUT, not the hidden staging folder the work happens in (a full disk is OUT's problem)."""
    try:
        yield
    except LiteToolsError as e:
        if str(staging) not in str(e):
            raise
        raise type(e)(str(e).replace(str(staging), str(out))) from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise opt.no_space(out) from None
        raise


def check_app_request(kinds, app_name: str, package: str) -> None:
    """The project kinds, app name and Java package a deploy was asked for: refused before any work starts."""
    android.check_package(package)
    project.check_app_name(app_name)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise BadInput(f"unknown project kind(s) {unknown}; choose from {', '.join(KINDS)}")


def deploy(model, config: DeployConfig, out, images_dir=None, quant=None, fp16: bool = False, kinds=("android",),
           force: bool = False, app_name: str = "LiteTools Demo", package: str = "com.litetools.demo",
           name: str | None = None, progress: Progress | None = None, replace_out: bool = False,
           inputs=(), apk=None) -> DeployResult:
    """force: replace OUT and write the projects even when a check fails; replace_out: only replace OUT.
    apk: also build the Android project's signed debug APK ("": where Gradle puts it; a path), before OUT is
    installed (lite_tools.apk.placement).
    inputs: the user's other input paths (config, labels, batch file): OUT must not be or contain any of them, nor
    `model` or `images_dir` (lite_tools.outputs has the rule)."""
    from .parity import check as parity_check
    from .parity import report as parity_report

    progress = progress or Progress(quiet=True)
    check_app_request(kinds, app_name, package)
    out = Path(out)
    outputs.check_destination(out, force or replace_out, (model, images_dir or SAMPLES, *inputs))
    placement = apk_placement.plan(apk, out, kinds, force or replace_out)
    name = name or Path(model).resolve().name
    # locked (lite_tools.staging): SIGTERM removes it, and the next run sweeps one a SIGKILL left beside OUT
    with locked_folder(outputs.parent_of(out), ".lite-tools-deploy-") as tmp, _said_as(Path(tmp) / "out", out):
        staging = Path(tmp) / "out"
        staging.mkdir()
        artifacts, reason = {}, ""
        with progress.stage("opt"):
            options = opt.OptOptions(targets=("arm",), quant=quant, fp16=fp16, name=name)
            manifest = opt.optimize(model, staging / "opt", options, progress=progress)
            # x86 is what we verify: fp32 (Lite 2.13rc0 x86 returns NaN for weight-quantised models)
            verify = opt.optimize(model, staging / "opt" / "x86", opt.OptOptions(targets=("x86",), name=name),
                                  progress=progress)
            artifacts.update({"arm model": f"opt/{name}.arm.nb", "manifest": f"opt/{name}.manifest.json",
                              "x86 model": f"opt/x86/{name}.x86.nb"})
        with progress.stage("parity"):
            images, skipped = load_images(images_dir, config)
            for _, why in skipped:  # on the console too, as `lite-tools parity` says them (not only in report.html)
                progress.note(f"skipped {why}")
            result = parity_check.check(model, config, images, quant=quant, fp16=fp16, skipped=skipped,
                                        progress=progress)
            parity_report.write(result, staging / "parity")
            artifacts["parity report"] = "parity/parity.html"
            parity = result.to_json()
            if not result.ok:
                reason = "parity failed: " + "; ".join(result.failures[:3])
        java = None
        if not reason or force:
            rendered = {}
            for kind in kinds:
                with progress.stage(kind):
                    project.stage(kind, staging / kind, config, manifest, staging / "opt" / f"{name}.arm.nb",
                                  app_name, package, model)
                    rendered[kind] = staging / kind
            with progress.stage("java core"):
                first = rendered[kinds[0]]
                core = next(first.rglob("com/litetools/core"))
                check = javacheck.check(core, config, model, images, reference=result.reference)
                java = check.to_json()
                if not check.ok:
                    reason = reason or ("the Java core does not match the Python reference: "
                                        + "; ".join(check.mismatches[:3]))
            if reason and not force:
                for path in rendered.values():
                    shutil.rmtree(path)
            else:
                artifacts.update({f"{kind} project": kind for kind in rendered})
        built, built_at = apk_placement.stage(placement, staging, Path(tmp), out, artifacts, progress)
        deploy_result = DeployResult(ok=not reason, out=str(out), name=name, reason=reason,
                                     stages=dict(progress.timings), manifest=manifest, parity=parity, java=java,
                                     artifacts=artifacts, forced=bool(reason) and force,
                                     verify_target=verify["targets"]["x86"], weights=provenance.record(model),
                                     apk=built)
        from .deploy_report import write_report
        write_report(deploy_result, staging, images)  # the report draws each engine's result on them
        deploy_result.artifacts["report"] = "report.html"
        from .jsonio import dumps  # NaN (a model that outputs NaN) as null: report.json stays JSON
        (staging / "report.json").write_text(dumps(deploy_result.to_json(), indent=2, default=str))
        outputs.install(staging, out, "deploy")
        apk_placement.finish(placement, built_at)
    return deploy_result
