"""`lite-tools deploy --apk` and `lite-tools shitu deploy --apk` through the real CLI: the APK is built before OUT is
installed, so it is in OUT's marker, in report.json (path, size, sha256) and in report.html's artifacts, and it
verifies and reads back (tests/apk_readback.py). A request that cannot be met is refused before any work and leaves
OUT as it was; an APK path outside OUT never overwrites a file lite-tools did not write (lite_tools.apk.placement).
One deploy per command, on one image, with models the session fixtures built."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from apk_readback import assert_reads_back
from conftest import refused, run_cli, tree_digest
from lite_tools import outputs
from lite_tools.apk import build, placement
from lite_tools.errors import BadInput
from lite_tools.report_text import size_text
from shared_projects import DET, PACKAGE, REC, SHITU_PACKAGE

APK_REL = "android/app/build/outputs/apk/debug/app-debug.apk"


def _one_image(tmp_path: Path, source: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    return folder


def _sha256(path: Path) -> str:
    """The shipped .nb in OUT, which the APK's asset must equal byte for byte."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_leftovers(parent: Path) -> None:
    """Neither a staging folder beside OUT nor a half-written APK anywhere below `parent`."""
    assert not [p for p in parent.iterdir() if p.name.startswith(".lite-tools-")]
    assert not [p for p in parent.rglob(".lite-tools-apk-*")]


def _assert_apk_in_out(apk_tools, proc, out: Path, package: str, nb_sha256: dict) -> dict:
    """The APK at its default place in OUT: built, listed by the marker (with the stamp of the file there), by
    report.json and by report.html's artifacts with its size, apksigner-verified again and read back."""
    assert proc.returncode == 0, proc.stdout + proc.stderr
    apk = out / APK_REL
    assert "apksigner verified" in proc.stdout and str(apk) in proc.stdout
    data = apk.read_bytes()
    marker = json.loads((out / outputs.MARKER).read_text())
    assert APK_REL in marker["files"] and marker["stamps"][APK_REL][0] == len(data)
    report = json.loads((out / "report.json").read_text())
    entry = report["apk"]
    assert entry["path"] == str(apk) and entry["in_out"] == APK_REL and entry["package"] == package
    assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert report["artifacts"]["android APK"] == APK_REL and "apk" in report["stages"]
    assert _row_naming(out / "report.html", APK_REL, size_text(entry["bytes"])), \
        "report.html lists no APK row with its size"
    apk_tools.run([*apk_tools.apksigner, "verify", apk], "apksigner verify")  # the file in OUT, not the build's
    assert_reads_back(apk_tools, _as_build(entry, apk), out / "android", nb_sha256)
    _no_leftovers(out.parent)
    return report


def _row_naming(page: Path, path: str, size: str) -> bool:
    """Whether report.html's artifacts table has a row with `path` (as code) and `size`."""
    rows = re.findall(r"<tr>(?:(?!</tr>).)*</tr>", page.read_text(encoding="utf-8"), re.S)
    return any(f"<code>{path}</code>" in row and size in row for row in rows)


def _as_build(entry: dict, apk: Path) -> build.ApkBuild:
    fields = {k: entry[k] for k in ("package", "min_sdk", "paddle_jar", "note", "seconds", "bytes", "sha256")}
    return build.ApkBuild(path=apk, native_libs=tuple(entry["native_libs"]), **fields)


def test_deploy_apk_is_part_of_out_and_a_bad_rerun_changes_nothing(small_model, apk_tools, apk_env, tmp_path):
    """Then the user places a corrupt PaddlePredictor.jar in OUT/android and runs again with --force: refused in one
    line before any work (the jar is read where the user put it), OUT byte for byte as it was."""
    out = tmp_path / "out"
    images = _one_image(tmp_path, Path(outputs.__file__).parent / "samples" / "landscape.jpg")
    args = ("deploy", small_model, "--preset", "imagenet-cls", "--package", PACKAGE, "--images", images,
            "--out", out, "--name", "m", "--apk")
    proc = run_cli(*args, env=apk_env)
    _assert_apk_in_out(apk_tools, proc, out, PACKAGE, {"model.nb": _sha256(out / "opt/m.arm.nb")})

    jar = out / "android" / build.PADDLE_JAR
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"PK\x03\x04 broken")
    before = tree_digest(out)
    refused(run_cli(*args, "--force", env=apk_env), f"{jar}: not a jar")
    assert tree_digest(out) == before
    _no_leftovers(tmp_path)


def test_shitu_deploy_apk_is_part_of_out(shitu_system, zoo_dir, apk_tools, apk_env, tmp_path):
    """The session's gallery and zoo pair; --det/--rec (each export's own config), its one generated query. ShiTu's
    report.html has the artifacts table too (before, its APK appeared only in report.json)."""
    root = shitu_system[-1]
    out = tmp_path / "out"
    proc = run_cli("shitu", "deploy", "--det", zoo_dir(DET), "--rec", zoo_dir(REC), "--gallery", root / "gallery",
                   "--images", root / "data" / "queries", "--package", SHITU_PACKAGE, "--out", out, "--apk",
                   env=apk_env)
    report = _assert_apk_in_out(apk_tools, proc, out, SHITU_PACKAGE, {"model.nb": _sha256(out / "opt/det.arm.nb"),
                                                                      "rec.nb": _sha256(out / "opt/rec.arm.nb")})
    assert report["ok"] and all(g["ok"] for g in report["gates"].values()), report["gates"]


def test_an_apk_path_outside_out_never_overwrites_the_users_file(small_model, apk_env, tmp_path):
    """Refused before any work: nothing written, the user's file untouched."""
    theirs = tmp_path / "mine.apk"
    theirs.write_bytes(b"the user's own build")
    out = tmp_path / "out"
    proc = run_cli("deploy", small_model, "--preset", "imagenet-cls", "--out", out, "--apk", theirs, env=apk_env)
    refused(proc, f"{theirs}: exists", "never overwrites a file it did not write")
    assert theirs.read_bytes() == b"the user's own build" and not out.exists()


def _out_recording(tmp_path: Path, apk_entry: dict | None) -> Path:
    """An OUT as a deploy leaves it (installed by lite_tools.outputs, with its marker) whose report.json records
    `apk_entry`."""
    staging = tmp_path / "private" / "out"
    staging.mkdir(parents=True)
    (staging / "report.json").write_text(json.dumps({"apk": apk_entry}))
    out = tmp_path / "out"
    outputs.install(staging, out, "deploy")
    return out


def test_an_apk_outside_out_is_replaced_only_when_report_json_records_it_unchanged(tmp_path):
    """The rule behind --apk FILE outside OUT (lite_tools.apk.placement.plan), on OUTs written by lite_tools.outputs:
    the APK the previous deploy recorded (path and sha256) may be replaced with --force; the same file changed since,
    one recorded inside OUT, or any file without --force, may not."""
    apk = tmp_path / "dist" / "app.apk"
    apk.parent.mkdir()
    apk.write_bytes(b"an apk lite-tools wrote")
    recorded = {"path": str(apk), "in_out": None, "sha256": hashlib.sha256(apk.read_bytes()).hexdigest()}
    out = _out_recording(tmp_path, recorded)
    got = placement.plan(str(apk), out, ("android",), replace=True)
    assert got == placement.Placement(target=apk, in_out=None)
    with pytest.raises(BadInput, match="never overwrites"):
        placement.plan(str(apk), out, ("android",), replace=False)
    apk.write_bytes(b"an apk lite-tools wrote, then the user rebuilt it")
    with pytest.raises(BadInput, match="does not record it"):
        placement.plan(str(apk), out, ("android",), replace=True)
    shutil.rmtree(out)
    other = _out_recording(tmp_path, {**recorded, "sha256": hashlib.sha256(apk.read_bytes()).hexdigest(),
                                      "in_out": "android/app.apk"})
    with pytest.raises(BadInput, match="does not record it"):
        placement.plan(str(apk), other, ("android",), replace=True)


def test_an_apk_path_inside_out_is_built_in_staging(tmp_path):
    """A FILE inside OUT goes where OUT will have it (its path in OUT, for the marker); OUT itself, the marker's
    place and a file of the user's in OUT are refused."""
    out = tmp_path / "out"
    got = placement.plan(str(out / "dist" / "a.apk"), out, ("android",), replace=False)
    assert got == placement.Placement(target=out / "dist" / "a.apk", in_out="dist/a.apk")
    assert placement.plan("", out, ("android",), replace=False).in_out == APK_REL
    assert not out.exists()  # nothing created before the work
    for bad, needle in ((out, "it is OUT itself"), (out / outputs.MARKER, "marker")):
        with pytest.raises(BadInput, match=needle):
            placement.plan(str(bad), out, ("android",), replace=False)
    assert _out_recording(tmp_path, None) == out
    (out / "dist").mkdir()
    (out / "dist" / "a.apk").write_bytes(b"the user's")
    with pytest.raises(BadInput, match="was not written by lite-tools"):
        placement.plan(str(out / "dist" / "a.apk"), out, ("android",), replace=True)


def test_an_apk_outside_out_has_its_own_row_in_the_artifacts_table(tmp_path):
    """Not an artifact in OUT, so not linked relatively: its absolute path and the size report.json records."""
    from lite_tools.deploy_report import artifacts_table

    apk = tmp_path / "dist" / "app.apk"
    entry = {"path": str(apk), "in_out": None, "bytes": 3 * 1024 * 1024, "sha256": "0" * 64}
    page = tmp_path / "report.html"
    page.write_text(artifacts_table({"android project": "android"}, tmp_path, entry), encoding="utf-8")
    assert _row_naming(page, str(apk), size_text(entry["bytes"]))
    page.write_text(artifacts_table({"android project": "android"}, tmp_path, {**entry, "in_out": APK_REL}),
                    encoding="utf-8")
    assert not _row_naming(page, str(apk), size_text(entry["bytes"]))  # inside OUT: the artifacts' own row
