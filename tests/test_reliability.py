"""Regression tests for the reliability probe (../shared/probes/reliability-2026-12-01.md), named after its case ids:
output folders never swallow inputs (A7, D1, B7, D2) and a dead batch worker costs only its own row (B8).
Each runs the real CLI on a real zoo export; the refusals fail before opt runs, so they are fast."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from lite_tools.outputs import MARKER
from conftest import REPO, refused, run_cli, tree_digest

PRESET = ("--preset", "pulc-person-exists")



@pytest.fixture
def model(zoo_dir, tmp_path):
    """A private copy of PULC_person_exists (opt's cache is keyed by bytes, so it stays a cache hit)."""
    path = tmp_path / "m"
    shutil.copytree(zoo_dir("PULC_person_exists"), path)
    return path


@pytest.mark.parametrize("kind", ["android", "flutter"])
def test_A7_force_out_is_the_model_folder(model, kind):
    """`android|flutter M --out M --force` used to delete inference.pdmodel/.pdiparams and say 'written'."""
    before = tree_digest(model)
    refused(run_cli(kind, model, *PRESET, "--out", model, "--force"), "is the input")
    assert tree_digest(model) == before


def test_A6_out_inside_the_model_folder_still_works(model):
    """Writing beside an input deletes nothing, so it stays allowed (and `opt --out` into the export too)."""
    before = tree_digest(model)
    proc = run_cli("android", model, *PRESET, "--out", model / "app")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("opt", model, "--target", "arm", "--out", model)
    assert proc.returncode == 0, proc.stderr
    after = tree_digest(model)
    assert {k: after[k] for k in before} == before
    marker = json.loads((model / "app" / MARKER).read_text())
    assert "app/src/main/assets/model.nb" in marker["files"] and MARKER not in marker["files"]
    assert sorted(marker["files"]) == sorted(k[len("app/"):] for k in after if k.startswith("app/")
                                             and k != f"app/{MARKER}")


def test_D1_force_keeps_inputs(model, tmp_path):
    """`deploy proj/model --images proj/photos --out proj --force` deleted the model, the photos and NOTES.txt and
    said READY. OUT equal to or above any input (model, images, config, labels; through a symlink too) is refused."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.move(str(model), proj / "model")
    shutil.copytree(REPO / "lite_tools" / "samples", proj / "photos")
    (proj / "NOTES.txt").write_text("mine")
    (proj / "cfg").mkdir()
    shutil.copy(REPO / "lite_tools" / "samples" / "grey.png", proj / "cfg" / "unused.png")
    config = proj / "cfg" / "person.json"
    assert run_cli("config", "export", *PRESET, "--out", config).returncode == 0
    (proj / "labels.txt").write_text("0 nobody\n1 someone\n")
    (tmp_path / "link").symlink_to(proj)
    before = tree_digest(proj)
    model_dir = proj / "model"
    for args, needle in [
            ((model_dir, *PRESET, "--images", proj / "photos", "--out", proj, "--force"), "contains the input"),
            ((model_dir, *PRESET, "--out", proj / "photos", "--images", proj / "photos", "--force"), "is the input"),
            ((model_dir, "--config", config, "--out", proj / "cfg", "--force"), "contains the input"),
            ((model_dir, *PRESET, "--labels", proj / "labels.txt", "--out", proj, "--force"), "contains the input"),
            ((tmp_path / "link" / "model", *PRESET, "--out", proj, "--force"), "contains the input"),
            ((model_dir, *PRESET, "--out", tmp_path / "link" / "model" / ".."), "contains the input")]:
        refused(run_cli("deploy", *args), needle)
        assert tree_digest(proj) == before
    refused(run_cli("android", model_dir, *PRESET, "--labels", proj / "labels.txt", "--out", proj, "--force"),
            "contains the input")
    assert tree_digest(proj) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "proj"]  # no staging folder left


def test_D1_a_folder_without_marker_is_never_replaced(model, tmp_path):
    """Only folders we made carry the marker; any other non-empty OUT is refused, --force or not."""
    out = tmp_path / "theirs"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "work.txt").write_text("mine")
    before = tree_digest(out)
    for force in ([], ["--force"]):
        line = refused(run_cli("deploy", model, *PRESET, "--out", out, *force), "is not a lite-tools output")
        assert "remove it yourself" in line
        refused(run_cli("flutter", model, *PRESET, "--out", out, *force), "is not a lite-tools output")
        assert tree_digest(out) == before


def test_D1_force_deletes_only_what_the_marker_lists(model, tmp_path):
    """Replacing our own output keeps what the user added to it, removes what an older run wrote and this one does
    not, and refuses (deleting nothing) when a path it would write holds a file the marker does not list."""
    out = tmp_path / "app"
    assert run_cli("android", model, *PRESET, "--out", out).returncode == 0
    marker = json.loads((out / MARKER).read_text())
    assert run_cli("android", model, *PRESET, "--out", out, "--force").returncode == 0
    assert sorted(tree_digest(out)) == sorted(marker["files"] + [MARKER])
    marker = json.loads((out / MARKER).read_text())  # its stamps describe the files now in OUT
    (out / "notes.txt").write_text("mine")
    (out / "app" / "mine.java").write_text("mine")
    (out / "app" / "stale.txt").write_text("an older run wrote this")
    (out / MARKER).write_text(json.dumps({**marker, "files": marker["files"] + ["app/stale.txt"]}))
    proc = run_cli("android", model, *PRESET, "--out", out, "--force")
    assert proc.returncode == 0, proc.stderr
    assert (out / "notes.txt").read_text() == "mine" and (out / "app" / "mine.java").read_text() == "mine"
    assert not (out / "app" / "stale.txt").exists() and (out / "app/src/main/assets/model.nb").is_file()
    assert json.loads((out / MARKER).read_text())["files"] == marker["files"]

    (out / "app" / "build.gradle").write_text("the user's own build file")
    listed = json.loads((out / MARKER).read_text())
    listed["files"].remove("app/build.gradle")
    (out / MARKER).write_text(json.dumps(listed))
    before = tree_digest(out)
    refused(run_cli("android", model, *PRESET, "--out", out, "--force"), "was not written by lite-tools")
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app", "m"]


def test_D2_force_onto_symlink(model, tmp_path):
    """`--force --out LINK` was an rmtree traceback after all the work, leaving a staging folder. Refused at once:
    we never replace a link nor delete through one (the target, even one of ours, is untouched)."""
    real = tmp_path / "real"
    assert run_cli("android", model, *PRESET, "--out", real).returncode == 0
    (tmp_path / "link").symlink_to(real)
    before = tree_digest(real)
    refused(run_cli("deploy", model, *PRESET, "--out", tmp_path / "link", "--force"), "is a symbolic link")
    refused(run_cli("android", model, *PRESET, "--out", tmp_path / "link", "--force"), "is a symbolic link")
    assert tree_digest(real) == before and os.path.islink(tmp_path / "link")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "m", "real"]


def test_B7_batch_out_dot_keeps_model(model, tmp_path):
    """`out: .` beside `person/` deleted person/inference.* with no flag at all. Every entry's OUT/NAME is checked
    against every entry's inputs and the batch file before any model runs."""
    b = tmp_path / "b"
    b.mkdir()
    shutil.move(str(model), b / "person")
    shutil.copytree(b / "person", b / "helmet")
    batch = b / "batch.yaml"
    cases = [("out: .\nmodels:\n  - {model: person, preset: pulc-person-exists}\n", "is the input", 0),
             ("out: .\nmodels:\n  - {model: person, preset: pulc-person-exists, name: helmet}\n"
              "  - {model: helmet, preset: pulc-person-exists, name: other}\n", "is the input", 0),
             ("out: ..\nmodels:\n  - {model: person, preset: pulc-person-exists, name: b}\n", f"contains the input {batch}", 0),
             ("out: runs\nmodels:\n  - {model: helmet, preset: pulc-person-exists}\n"
              "  - {model: person, preset: pulc-person-exists}\n", "is not a lite-tools output", 1)]
    (b / "runs" / "person").mkdir(parents=True)
    (b / "runs" / "person" / "mine.txt").write_text("mine")
    for text, needle, index in cases:
        batch.write_text(text)
        before = tree_digest(tmp_path)
        line = refused(run_cli("deploy", "--batch", batch), needle)
        assert f"models[{index}]" in line
        assert tree_digest(tmp_path) == before
        assert sorted(p.name for p in b.iterdir()) == ["batch.yaml", "helmet", "person", "runs"]
        assert sorted(p.name for p in (b / "runs").iterdir()) == ["person"]  # refused before any model ran


def test_B8_dead_worker_is_a_failed_row(zoo_dir, tmp_path):
    """A SIGKILLed worker (what the OOM killer sends) was a BrokenProcessPool traceback, no summary, and the later
    models never ran. Now its row is FAILED with the signal, the others run (-j 1: after it died), and the table
    prints. The kill is the test-only hook LITE_TOOLS_TEST_DIE_AT, at the start of that model's job."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "inference.pdmodel").write_bytes(b"not a program")
    (broken / "inference.pdiparams").write_bytes(b"")
    person = zoo_dir("PULC_person_exists")
    batch = tmp_path / "three.yaml"
    batch.write_text(f"out: results\nmodels:\n"
                     f"  - {{model: {person}, preset: pulc-person-exists, name: victim}}\n"
                     f"  - {{model: {person}, preset: pulc-person-exists, name: person}}\n"
                     f"  - {{model: broken, preset: imagenet-cls}}\n")
    proc = run_cli("deploy", "--batch", batch, "-j", "1", env={"LITE_TOOLS_TEST_DIE_AT": "victim"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("1/3 READY")
    rows = {ln.split()[0]: ln for ln in lines[1:-1] if ln.strip()}
    assert rows["victim"].split()[1] == "FAILED" and "worker died (SIGKILL)" in rows["victim"]
    assert rows["person"].split()[1] == "READY" and "ERROR" in rows["broken"]
    assert (tmp_path / "results/person/report.html").is_file() and not (tmp_path / "results/victim").exists()
