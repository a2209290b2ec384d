"""`lite-tools deploy` end to end on zoo models, a model that fails parity, and the batch mode."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import poison_first_conv, run_cli
from lite_tools import provenance


def _report(out):
    return json.loads((out / "report.json").read_text())


@pytest.mark.parametrize("model, preset", [("PULC_safety_helmet", "pulc-safety-helmet"),
                                           ("SSD_MobileNetV1_300", "ssd-mobilenet-300"),
                                           ("SSD_MobileNetV1_300_ppdet", None),
                                           ("PPHGNetV2_B0", "pphgnetv2-cls")])
def test_deploy_end_to_end(zoo_dir, tmp_path, model, preset):
    out = tmp_path / "out"
    config = ["--preset", preset] if preset else ["--config", zoo_dir(model) / "infer_cfg.yml"]
    proc = run_cli("deploy", zoo_dir(model), *config, "--out", out, "--android", "--flutter", "--name", "m")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("m: READY")
    report = _report(out)
    assert report["ok"] is True and report["parity"]["ok"] is True and report["java"]["ok"] is True
    assert report["java"]["max_input_abs"] <= 1e-5 and report["java"]["images"] == 6
    assert set(report["stages"]) == {"opt", "parity", "android", "flutter", "java core"}
    for rel in report["artifacts"].values():
        assert (out / rel).exists(), rel
    assert (out / "opt/m.arm.nb").is_file() and (out / "opt/x86/m.x86.nb").is_file()
    assert (out / "android/app/src/main/assets/model.nb").read_bytes() == (out / "opt/m.arm.nb").read_bytes()
    page = (out / "report.html").read_text()
    assert "READY" in page and "<svg" in page and "sha256" in page
    # self-contained: inline JPEGs, anchors in the page, relative links to the artifacts beside it (all there)
    assert not any(ref in page for ref in ("<link", "url(", "<script"))
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert page.count("src=") + page.count("href=") == len(refs) and "data:image/jpeg;base64," in page
    assert all(r.startswith(("data:image/jpeg;base64,", "#")) or (out / r).exists() for r in refs)
    # Plain progress lines (not a TTY): one per stage start and end, each with its time.
    assert "parity: done in" in proc.stderr and "java core: done in" in proc.stderr


def test_deploy_stops_before_codegen_when_parity_fails(zoo_dir, tmp_path):
    """An export from a diverged training run: one conv filter holds NaN. Both real engines then output NaN,
    which the parity gate rejects, so no project may be written and the report must say why."""
    model = tmp_path / "model"
    shutil.copytree(zoo_dir("PULC_person_exists"), model)
    poison_first_conv(model)
    out = tmp_path / "out"
    proc = run_cli("deploy", model, "--preset", "pulc-person-exists", "--out", out, "--flutter")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT READY" in proc.stdout and "NaN" in proc.stdout
    report = _report(out)
    assert report["ok"] is False and report["parity"]["ok"] is False and report["java"] is None
    assert not (out / "android").exists() and not (out / "flutter").exists()
    assert (out / "opt").is_dir() and "NaN" in (out / "report.html").read_text()

    forced = tmp_path / "forced"
    proc = run_cli("deploy", model, "--preset", "pulc-person-exists", "--out", forced, "--force")
    assert proc.returncode == 1 and "WRITTEN ANYWAY" in proc.stdout
    assert (forced / "android/app/src/main/assets/model.nb").is_file()


def test_deploy_bad_inputs(zoo_dir, tmp_path):
    (tmp_path / "taken").mkdir()
    for args, needle in [(["--preset", "pulc-person-exists", "--out", tmp_path / "taken"], "--force"),
                         (["--preset", "nope", "--out", tmp_path / "a"], "unknown preset"),
                         (["--preset", "pulc-person-exists", "--out", tmp_path / "b", "--package", "x"], "--package"),
                         (["--preset", "pulc-person-exists", "--out", tmp_path / "c", "--images", tmp_path / "none"],
                          "no such directory")]:
        proc = run_cli("deploy", zoo_dir("PULC_person_exists"), *args)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_batch_runs_every_model_and_reports_each(zoo_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "inference.pdmodel").write_bytes(b"not a program")
    (broken / "inference.pdiparams").write_bytes(b"")
    batch = tmp_path / "batch.yaml"
    batch.write_text(f"""
out: results
defaults: {{android: true}}
models:
  - model: {zoo_dir("PULC_person_exists")}
    preset: pulc-person-exists
    name: person
  - model: broken
    preset: imagenet-cls
  - model: {zoo_dir("PULC_safety_helmet")}
    preset: pulc-safety-helmet
    name: helmet
    flutter: true
""")
    proc = run_cli("deploy", "--batch", batch, "-j", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("2/3 READY")
    rows = {ln.split()[0]: ln for ln in lines[1:-1] if ln.strip()}
    assert "READY" in rows["person"] and "READY" in rows["helmet"]
    assert "ERROR" in rows["broken"] and "not a Paddle program" in rows["broken"]
    # the zoo's weights are untrained: the summary says so below each of their rows, not below the broken one's
    for name in ("person", "helmet", "broken"):
        below = lines[lines.index(rows[name]) + 1]
        said = below.strip() == f"weights: {provenance.UNTRAINED_NOTE}"
        assert said == (name != "broken"), (name, below)
    assert (tmp_path / "results/person/report.html").is_file()
    assert (tmp_path / "results/helmet/flutter/pubspec.yaml").is_file()
    assert not (tmp_path / "results/person/flutter").exists()


def test_batch_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  - model: x\n    preset: a\n    config: b\n")
    proc = run_cli("deploy", "--batch", bad)
    assert proc.returncode == 2 and "exactly one of preset or config" in proc.stderr
    bad.write_text("modles: []\n")
    proc = run_cli("deploy", "--batch", bad)
    assert proc.returncode == 2 and "unknown field(s) modles" in proc.stderr


class _Stream:
    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


@pytest.mark.parametrize("tty", [True, False])
def test_progress_live_on_a_terminal_plain_otherwise(tty):
    from lite_tools.progress import Progress

    stream = _Stream(tty)
    progress = Progress(stream=stream)
    with progress.stage("opt"):
        progress("opt: arm cached")
    assert set(progress.timings) == {"opt"} and progress.timings["opt"] >= 0
    if tty:
        assert stream.text.count("\r\033[K") == 3 and stream.text.endswith("\n")
        assert "opt: arm cached" in stream.text and "opt: opt:" not in stream.text
    else:
        assert "\r" not in stream.text
        assert stream.text.splitlines() == ["opt: running", "opt: arm cached", stream.text.splitlines()[-1]]
        assert stream.text.splitlines()[-1].startswith("opt: done in ")
    quiet = _Stream(tty)
    with Progress(quiet=True, stream=quiet).stage("x"):
        pass
    assert quiet.text == ""


def test_an_installed_wheel_carries_templates_samples_and_harness(zoo_dir, tmp_path):
    """Outside this checkout (a wheel unpacked on the path, run from elsewhere) android/flutter/deploy still work."""
    import subprocess
    import sys
    import zipfile

    from conftest import REPO

    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                            str(REPO)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-800:]
    (wheel,) = (tmp_path / "dist").glob("paddle_lite_tools-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "lite_tools/templates/android/app/src/main/java/com/litetools/core/Preprocessor.java").is_file()
    env = {"PYTHONPATH": str(site)}
    where = run_cli("config", "show", "--preset", "pulc-person-exists", cwd=tmp_path, env=env)
    assert where.returncode == 0
    out = tmp_path / "deployed"
    proc = run_cli("deploy", zoo_dir("PULC_person_exists"), "--preset", "pulc-person-exists", "--out", out,
                   "--flutter", "--android", "-q", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    probe = subprocess.run([sys.executable, "-c", "import lite_tools; print(lite_tools.__file__)"], cwd=tmp_path,
                           env={**__import__("os").environ, **env}, capture_output=True, text=True)
    assert probe.stdout.strip().startswith(str(site))  # the wheel's copy ran, not this checkout
    assert (out / "android/app/src/main/java/com/litetools/core/Preprocessor.java").is_file()
    assert (out / "flutter/lib/main.dart").is_file() and _report(out)["java"]["ok"] is True
