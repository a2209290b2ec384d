"""Where a deploy's APK goes (`deploy --apk`, `shitu deploy --apk`), by lite_tools.outputs' rules.

Why: built after OUT was installed, the APK was in neither OUT's marker nor report.json, and a failed build left an
OUT without it. Now it is built before OUT is installed, so a failed build leaves OUT as it was:
- inside OUT (the default OUT/android/app/build/outputs/apk/debug/app-debug.apk, or a FILE the user names in OUT):
  built in the staging folder, so OUT's marker, report.json and report.html's artifacts list it;
- a FILE outside OUT: built in the private folder beside the staging one, moved to FILE once OUT is installed;
  report.json records its absolute path, size and sha256. lite-tools cannot mark a lone file as its own, so a FILE
  that exists is replaced only with --force and only when it is the APK OUT's report.json says was written there,
  unchanged (same sha256): never a file of the user's.
The user's Paddle Lite files (app/libs/PaddlePredictor.jar, app/src/main/jniLibs) stay where the user put them, in
OUT/android (never copied into the staging project, whose marker would claim them); the build reads them there, and
they are checked before any work starts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from . import build
from .. import cache, outputs
from ..errors import BadInput

PROJECT = "android"  # the Android project's folder in OUT


@dataclasses.dataclass(frozen=True)
class Placement:
    target: Path  # where the APK ends up (as the user named it; absolute when outside OUT)
    in_out: str | None  # its path inside OUT, None when outside
    project: str = PROJECT  # the Android project's folder inside OUT ("" for `lite-tools android`: OUT itself)


def plan(apk, out, kinds, replace: bool, project: str = PROJECT) -> Placement | None:
    """Refuse, before any work, an `--apk` that cannot be met (lite_tools.apk.build.check_request's rules, a FILE
    that is not ours to replace, bad Paddle Lite files in OUT/android); apk: None (no APK), "" (the default) or FILE.
    project: where the Android project is in OUT ("" when OUT is the project, as `lite-tools android` writes it)."""
    if apk is None:
        return None
    out = Path(out)
    real_out = Path(os.path.realpath(out))
    real = Path(os.path.realpath(apk)) if apk else None
    inside = not apk or real_out in real.parents
    build.check_request("" if inside else apk, kinds)  # a path inside OUT is checked in staging
    if apk and real == real_out:
        raise BadInput(f"cannot write the APK to {apk}: it is OUT itself")
    if inside:
        rel = (PurePosixPath(project) / build.APK_IN_PROJECT.as_posix() if not apk
               else PurePosixPath(real.relative_to(real_out).as_posix()))
        if str(rel) == outputs.MARKER:
            raise BadInput(f"cannot write the APK to {apk}: lite-tools' marker file goes there")
        placement = Placement(target=Path(apk) if apk else out / rel, in_out=str(rel), project=project)
        if os.path.lexists(out / rel) and str(rel) not in (outputs.read_marker(out) or ()):
            raise BadInput(f"{placement.target}: exists and was not written by lite-tools (OUT's marker does not "
                           "list it): remove it yourself or choose another --apk path")
    else:
        placement = Placement(target=Path(os.path.abspath(apk)), in_out=None, project=project)
        if os.path.lexists(placement.target) and not (replace and _ours(out, placement.target)):
            raise BadInput(f"{placement.target}: exists, and {out}/report.json does not record it as the APK an "
                           "earlier deploy wrote there, unchanged: lite-tools never overwrites a file it did not "
                           "write; remove it yourself or choose another --apk path")
    user_project = out / project
    if (user_project / build.PADDLE_JAR).exists():
        build.check_jar(user_project / build.PADDLE_JAR)
    build.native_libs(user_project / build.JNI_LIBS)
    return placement


def _ours(out: Path, target: Path) -> bool:
    """True when OUT's report.json (a file OUT's marker lists) records `target` as its APK, with its sha256 now."""
    if "report.json" not in (outputs.read_marker(out) or ()) or target.is_symlink() or not target.is_file():
        return False
    try:
        recorded = json.loads((out / "report.json").read_text(encoding="utf-8")).get("apk") or {}
    except (OSError, ValueError, AttributeError):
        return False
    return (isinstance(recorded, dict) and recorded.get("in_out") is None and recorded.get("path") == str(target)
            and recorded.get("sha256") == cache.sha256_file(target))


def stage(placement: Placement | None, staging: Path, private: Path, out: Path, artifacts: dict, progress) -> tuple:
    """A deploy's "apk" stage, when an APK was asked for and the Android project is staged: (report.json's "apk"
    entry, the file built), else (None, None). An APK inside OUT joins `artifacts`."""
    if placement is None or f"{PROJECT} project" not in artifacts:
        return None, None
    with progress.stage("apk"):
        entry, built_at = build_staged(placement, staging, private, out, progress=progress)
    if placement.in_out is not None:
        artifacts[f"{PROJECT} APK"] = placement.in_out
    return entry, built_at


def build_staged(placement: Placement, staging: Path, private: Path, out: Path, progress=None) -> tuple:
    """Build staging/android's APK where OUT will have it (inside OUT) or in `private` (outside OUT).
    Returns (report.json's "apk" entry, naming where the APK will be, the file built)."""
    if placement.in_out is not None:
        built_at = staging / placement.in_out
        if os.path.lexists(built_at):
            raise BadInput(f"cannot write the APK to {placement.target}: lite-tools writes another file there")
    else:
        built_at = Path(tempfile.mkdtemp(prefix="apk-", dir=private)) / placement.target.name
    user_project = Path(out) / placement.project
    result = build.build(staging / placement.project, built_at, paddle_root=user_project if user_project.is_dir() else None,
                         progress=progress)
    return {**result.to_json(), "path": str(placement.target), "in_out": placement.in_out}, built_at


def finish(placement: Placement | None, built_at: Path | None) -> None:
    """After OUT is installed: move an APK built for a FILE outside OUT there, all at once (a rename in its folder)."""
    if placement is None or built_at is None or placement.in_out is not None:
        return
    target = placement.target
    try:
        fd, part = tempfile.mkstemp(prefix=".lite-tools-apk-", dir=target.parent)
        os.close(fd)
        try:
            shutil.copyfile(built_at, part)
            os.replace(part, target)
        finally:
            if os.path.lexists(part):
                os.unlink(part)
    except OSError as e:
        raise BadInput(f"cannot write the APK to {target}: {e.strerror or e} (OUT is written)") from None
