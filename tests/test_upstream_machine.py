"""The upstream machine a deploy reproduces (DeployConfig.upstream_cv2: --upstream-cpu, --upstream-threads,
--upstream-l2): PaddleDetection's own preprocessing run by the PaddleClas wheel's det_preprocess.py in a child
process set up as that machine (IPP's AVX2 code, its AVX-512 code, no IPP; OpenCV's thread count) against the
reference configured the same way, bit for bit; the generated Java core and its Preprocessor following the setting;
galleries recording it; `doctor` naming this machine's; the options' bad values refused in one line."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lite_tools import batch, javacheck
from lite_tools.codegen import project as codegen
from lite_tools.config import DeployConfig, Interp, Resize, ResizeMode, Task, UpstreamCv2, resolve, with_upstream
from lite_tools.errors import BadInput
from lite_tools.reference.preprocess import preprocess, reproduces
from conftest import REPO, refused, run_cli
from shared_projects import PACKAGE
from test_cv2_resize import stripes_calibrated

CORE = "app/src/main/java/com/litetools/core"

_UPSTREAM_CHILD = r"""
import sys
import numpy as np
cpu, threads = sys.argv[3], int(sys.argv[4])
import cv2
sys.path.insert(0, sys.argv[5])
from upstream import Upstream

cv2.setNumThreads(threads)
cv2.ipp.setUseIPP(cpu != "none")
wheel = Upstream(sys.argv[6])
data = np.load(sys.argv[1])
th, tw = data["target"].tolist()
ops = [wheel.det.DetResize(target_size=[th, tw], keep_ratio=bool(data["keep_ratio"]), interp=cv2.INTER_CUBIC),
       wheel.det.DetNormalizeImage(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], is_scale=True),
       wheel.det.DetPermute()]
out = {"version": np.array(cv2.ipp.getIppVersion()), "ipp": np.array(cv2.ipp.useIPP()),
       "threads": np.array(cv2.getNumThreads())}
for key in data.files:
    if key.startswith("img"):
        img = data[key]
        h, w = img.shape[:2]
        info = {"scale_factor": np.array([1.0, 1.0], np.float32), "im_shape": np.array([h, w], np.float32),
                "input_shape": [3, th, tw]}
        out["out" + key[3:]], info = wheel.det.det_preprocess(img.copy(), info, ops)
        out["factor" + key[3:]] = info["scale_factor"]
np.savez(sys.argv[2], **out)
"""


@functools.lru_cache(maxsize=None)
def host_ipp() -> str:
    """cv2.ipp.getIppVersion() where IPP picks its own code (no OPENCV_IPP): names the code, "(k0)" or "(l9)"."""
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IPP"}
    proc = subprocess.run([sys.executable, "-c", "import cv2; print(cv2.ipp.getIppVersion())"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def paddledetection_on(machine: UpstreamCv2, images: list, target: tuple, keep_ratio: bool, wheel_dir,
                       tmp_path) -> dict:
    """The wheel's DetResize (cubic) + DetNormalizeImage + DetPermute on `images` in a child process set up as
    `machine`: OPENCV_IPP=avx2 for avx2 (IPP's AVX2 code on any x86-64 CPU), unset for avx512 (IPP's own choice:
    the test skips unless that is k0), IPP off for none; cv2.setNumThreads(machine.threads)."""
    if machine.cpu == "avx512" and "(k0)" not in host_ipp():
        pytest.skip(f"IPP dispatches {host_ipp()} here, not its AVX-512 code (k0)")
    np.savez(tmp_path / "in.npz", target=np.array(target), keep_ratio=np.array(keep_ratio),
             **{f"img{i}": img for i, img in enumerate(images)})
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IPP"}
    if machine.cpu == "avx2":
        env["OPENCV_IPP"] = "avx2"
    proc = subprocess.run([sys.executable, "-c", _UPSTREAM_CHILD, str(tmp_path / "in.npz"), str(tmp_path / "out.npz"),
                           machine.cpu, str(machine.threads), str(REPO / "tests"), str(wheel_dir)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = dict(np.load(tmp_path / "out.npz"))
    assert int(out["threads"]) == machine.threads and bool(out["ipp"]) == machine.ipp
    version = str(out["version"])
    if machine.cpu == "avx512" and "(k0)" not in version:
        pytest.skip(f"IPP dispatches {version} here, not its AVX-512 code (k0)")
    if machine.cpu == "avx2":
        assert "(l9)" in version, version
    return out


def _detector(keep_ratio: bool) -> DeployConfig:
    th, tw = (608, 800) if keep_ratio else (320, 320)
    return DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=tw, height=th, keep_ratio=keep_ratio,
                                                         interp=Interp.BICUBIC), crop=None, scale=1.0 / 255.0,
                        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), source="test detector")


MACHINES = [("avx2", 8), ("avx512", 1), ("avx512", 8), ("none", 1)]


@pytest.fixture(scope="module")
def photos(sample_photos):
    return [img for _, img in sample_photos[::3]]


@pytest.fixture(scope="module")
def default_tensors(photos):
    """{keep_ratio: [the reference's tensor of each photo on the default machine (AVX2, one thread)]}."""
    return {keep: [preprocess(img, _detector(keep)).tensor for img in photos] for keep in (True, False)}


@pytest.mark.parametrize("cpu,threads", MACHINES, ids=[f"{c}-{t}" for c, t in MACHINES])
def test_whole_tensor_is_paddledetections_on_that_machine(paddleclas_wheel, photos, default_tensors, tmp_path, cpu,
                                                          threads):
    """Keep-ratio 608x800 (IPP's warpAffine: CPU code and thread stripes) and 320x320 (IPP's resize: CPU code):
    PaddleDetection's tensor and scale_factor on that machine equal the reference's with upstream_cv2 set to it,
    bit for bit; and on some photo the machine changes the tensor (the default, AVX2 at one thread, differs), so the
    setting is not decorative. Stripes follow the L2 size IPP reads: checked where it reads none (AMD)."""
    if threads > 1:
        stripes_calibrated()
    machine = UpstreamCv2(cpu, threads)
    changed = 0
    for keep_ratio in (True, False):
        base = _detector(keep_ratio)
        cfg = with_upstream(base, cpu, threads)
        theirs = paddledetection_on(machine, photos, (base.resize.height, base.resize.width), keep_ratio,
                                    paddleclas_wheel, tmp_path)
        for i, img in enumerate(photos):
            pre = preprocess(img, cfg)
            assert np.array_equal(pre.tensor[0], theirs[f"out{i}"]), (cpu, threads, keep_ratio, i)
            assert np.array_equal(np.float32(pre.det_factors), theirs[f"factor{i}"])
            changed += not np.array_equal(default_tensors[keep_ratio][i], pre.tensor)
    assert changed, f"{cpu} at {threads} threads gave the default machine's tensors on every photo"


def test_config_carries_the_machine_through_json_and_the_cli(tmp_path):
    """`config export --upstream-*` writes the machine into our JSON, which reads back as the same config; the
    report's resize line names it (and says so only where the config's resize depends on it)."""
    out = tmp_path / "cfg.json"
    proc = run_cli("config", "export", "--preset", "picodet-s-320-coco", "--upstream-cpu", "avx512",
                   "--upstream-threads", "8", "--upstream-l2", "1048576", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["upstream_cv2"] == {"cpu": "avx512", "threads": 8, "l2_cache": 1048576}
    back = resolve(config=str(out))
    assert back.upstream_cv2 == UpstreamCv2("avx512", 8, 1048576)
    assert back == with_upstream(resolve(preset="picodet-s-320-coco"), "avx512", 8, 1048576)
    said = reproduces(back)  # a 320x320 stretch: IPP's resize, whose result depends on the CPU code only
    assert "AVX-512" in said and "thread" not in said and "L2" not in said
    default = resolve(preset="picodet-s-320-coco")
    assert default.upstream_cv2 == UpstreamCv2() and "AVX2" in reproduces(default)
    # one L2 default and one CPU list: the config's, the reference's and the app's constants agree
    from lite_tools.codegen.android import UPSTREAM_CONSTANTS
    from lite_tools.config.model import DEFAULT_L2_CACHE, UPSTREAM_CPUS
    from lite_tools.reference import ipp_warp

    assert DEFAULT_L2_CACHE == ipp_warp.L2_CACHE and set(UPSTREAM_CONSTANTS) == set(UPSTREAM_CPUS)
    assert "every machine" in reproduces(resolve(preset="imagenet-cls"))  # bilinear: nothing machine-specific
    warp = reproduces(with_upstream(_detector(True), "avx2", 4, 1048576))  # keep_ratio: IPP's warpAffine
    assert "thread count" in warp and "4 OpenCV threads" in warp and "1048576 bytes" in warp
    assert "thread" not in reproduces(with_upstream(_detector(True), "none", 4))  # no IPP, no warpAffine
    assert "thread count" not in reproduces(with_upstream(_detector(False), "avx2", 4))
    # the default machine is left out of the JSON (older lite-tools read it), and such a file reads as it
    assert "upstream_cv2" not in default.to_json()
    old = tmp_path / "old.json"
    old.write_text(json.dumps(default.to_json()))
    assert resolve(config=str(old)).upstream_cv2 == UpstreamCv2()


@pytest.mark.parametrize("args,words", [
    (("--upstream-cpu", "sse42"), "SSE4.2"),
    (("--upstream-cpu", "AVX2"), "not one of avx2, avx512, none"),
    (("--upstream-threads", "0"), "1 to 25"),
    (("--upstream-threads", "26"), "not deterministic"),
    (("--upstream-l2", "-1"), "L2"),
])
def test_bad_machine_is_one_line(args, words, tmp_path):
    """A machine lite-tools does not model is refused: exit 2, one line naming the options, nothing written."""
    out = tmp_path / "cfg.json"
    proc = run_cli("config", "export", "--preset", "picodet-s-320-coco", *args, "--out", str(out))
    assert proc.returncode == 2 and words in proc.stderr and "--upstream" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_machine_names_the_one_option_at_fault(tmp_path):
    """Re-probe 2026-12-03: every --upstream-* error named all three options, `--upstream-l2 2147483648` was "must
    be a whole number of bytes" (which it is) without the limit, an Arabic-Indic digit was taken as 3, and a JSON
    config's bad machine showed Python's "(ValueError: ...)"."""
    for args, option, words in ((("--upstream-threads", "0"), "--upstream-threads", "1 to 25"),
                                (("--upstream-l2", str(2**31)), "--upstream-l2", f"0 (none reported) to {2**31 - 1}"),
                                (("--upstream-cpu", "sse42"), "--upstream-cpu", "is not one of"),
                                (("--upstream-threads", "\u0663"), "--upstream-threads", "invalid whole number"),
                                (("--upstream-l2", "1_000"), "--upstream-l2", "invalid whole number")):
        proc = run_cli("config", "show", "--preset", "picodet-s-320-coco", *args)
        line = refused(proc, words)
        assert line.startswith(f"lite-tools: error: {option}: ") and "/--upstream" not in line, line
    data = resolve(preset="picodet-s-320-coco").to_json()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**data, "upstream_cv2": {"threads": 0}}))
    with pytest.raises(BadInput) as e:
        resolve(config=str(path))
    assert "ValueError" not in str(e.value) and "1 to 25" in str(e.value) and str(path) in str(e.value)


def test_bad_machine_in_json_and_batch_files(tmp_path):
    data = resolve(preset="picodet-s-320-coco").to_json()
    for bad, words in (({"cpu": "y8"}, "is not one of"), ({"threads": 2.5}, "integer"),
                       ({"threads": 30}, "1 to 25"), ({"cores": 2}, "cpu, threads and l2_cache")):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps({**data, "upstream_cv2": bad}))
        with pytest.raises(BadInput, match=words) as e:
            resolve(config=str(path))
        assert str(path) in str(e.value)
    assert "upstream_threads must be a whole number" in batch.type_problem({"upstream_threads": "8"})
    assert "upstream_cpu must be a non-empty string" in batch.type_problem({"upstream_cpu": 2})
    assert batch.type_problem({"upstream_cpu": "avx512", "upstream_threads": 4, "upstream_l2": 0}) == ""
    # out of range: said before the model's job starts, under the file's key
    assert batch.type_problem({"upstream_threads": 30}).startswith("upstream_threads: ")
    assert batch.type_problem({"upstream_cpu": "sse42", "upstream_l2": 0}).startswith("upstream_cpu: ")
    assert batch.type_problem({"upstream_cpu": "avx2", "upstream_l2": 2**31}).startswith("upstream_l2: ")
    assert batch.job_config({"preset": "picodet-s-320-coco", "upstream_cpu": "avx512", "upstream_threads": 4,
                             "upstream_l2": 524288}).upstream_cv2 == UpstreamCv2("avx512", 4, 524288)
    proc = run_cli("deploy", "--batch", str(tmp_path / "none.yaml"), "--upstream-cpu", "avx512")
    assert proc.returncode == 2 and "batch file" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_threads_and_l2_reach_the_reference_and_the_java_core(android_jar, sample_photos, tmp_path):
    """The thread count and the L2 size a keep_ratio cubic config names change the reference's tensor (IPP's
    warpAffine stripes: with more L2 fewer threads share the work), and the Java core's Preprocessor built with
    the same machine equals the reference at tolerance 0 for each: its UPSTREAM_*, threads and L2 arguments reach
    the resampler in the right places."""
    from javatools import build_harness

    core = REPO / "android_template/app/src/main/java/com/litetools/core"
    classpath = build_harness(sorted(core.glob("*.java")), REPO / "tests/java/PreprocessorMachineHarness.java",
                              tmp_path / "classes", android_jar)
    codes = {"avx2": 0, "avx512": 1, "none": 2}
    machines = [("avx2", 1, 0), ("avx2", 8, 0), ("avx2", 8, 4 << 20), ("avx512", 8, 0), ("none", 8, 0)]
    base = _detector(True)
    differs = set()
    for name, img in sample_photos[1:20:6]:
        h, w = img.shape[:2]
        px = img.astype(np.uint32)
        alpha = (np.arange(h * w, dtype=np.uint32).reshape(h, w) * 37) % 256  # which the Preprocessor must ignore
        argb = alpha << 24 | px[:, :, 0] << 16 | px[:, :, 1] << 8 | px[:, :, 2]
        (tmp_path / "in.argb").write_bytes(argb.astype(">u4").tobytes())
        tensors = {}
        for cpu, threads, l2 in machines:
            ref = preprocess(img, with_upstream(base, cpu, threads, l2)).tensor[0]
            proc = subprocess.run(["java", "-cp", classpath, "PreprocessorMachineHarness", str(tmp_path / "in.argb"),
                                   str(w), str(h), str(codes[cpu]), str(threads), str(l2 or 262144),
                                   str(tmp_path / "out.f32")], capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr
            raw = (tmp_path / "out.f32").read_bytes()
            th, tw = np.frombuffer(raw[:8], ">i4")
            java = np.frombuffer(raw[8:], ">f4").reshape(3, th, tw)
            assert java.shape == ref.shape and np.array_equal(java, ref), (name, cpu, threads, l2)
            tensors[(cpu, threads, l2)] = ref
        for key, t in tensors.items():
            if not np.array_equal(t, tensors[("avx2", 1, 0)]):
                differs.add(key)
    # each setting moved some photo's tensor (the L2 one against 8 threads at 256 KiB), so each check can fail
    assert {("avx2", 8, 0), ("none", 8, 0)} <= differs, differs
    assert any(not np.array_equal(preprocess(img, with_upstream(base, "avx2", 8, 0)).tensor,
                                  preprocess(img, with_upstream(base, "avx2", 8, 4 << 20)).tensor)
               for _, img in sample_photos[1:20:6]), "the L2 size never changed the stripes"


def test_java_core_follows_the_upstream_cpu(preset_projects, sample_photos, tmp_path):
    """An app generated with --upstream-cpu avx512 computes IPP's AVX-512 sums (Preprocessor.UPSTREAM_AVX512): the
    Java check against the reference at k0 holds at tolerance 0, and the default project (AVX2) fails it on the
    same photos, where the two codes differ; with none, OpenCV's own cubic (no IPP)."""
    default_project, default_cfg, model = preset_projects["picodet-s-320-coco"]
    photos = [(name, img) for name, img in sample_photos[:12]]
    for cpu in ("avx512", "none"):
        cfg = with_upstream(default_cfg, cpu)
        moved = [name for name, img in photos
                 if not np.array_equal(preprocess(img, cfg).tensor, preprocess(img, default_cfg).tensor)]
        assert moved, f"{cpu}: no photo where the machine changes the tensor"
        out = tmp_path / cpu
        codegen.generate("android", model, cfg, out, app_name=f"Test {cpu}", package=PACKAGE)
        constant = {"avx512": "UPSTREAM_AVX512", "none": "UPSTREAM_NO_IPP"}[cpu]
        assert f"Preprocessor.{constant}, 1, 262144" in (out / CORE / "DeployConstants.java").read_text()
        chosen = [(n, img) for n, img in photos if n in moved[:2]]
        result = javacheck.check(out / CORE, cfg, model, chosen)
        assert result.ok and result.max_input_abs == 0.0, result.mismatches
        assert not javacheck.check(default_project / CORE, cfg, model, chosen).ok
        assert (out / "app/src/main/assets").is_dir()
        assert json.loads((out / "app/src/main/assets/deploy_config.json").read_text())["upstream_cv2"]["cpu"] == cpu


def test_shitu_deploy_moves_both_models_to_the_machine():
    """`shitu deploy --upstream-*` sets the machine on the detector's and the recogniser's configs alike (the
    mainbody detector's 640x640 cubic resize depends on the CPU code); a system without detector keeps none."""
    import dataclasses

    from lite_tools import zoo
    from lite_tools.shitu import deploy as shitu_deploy, system_config
    from shared_projects import DET, REC

    system = system_config.defaults_for(zoo.config_for(DET), zoo.config_for(REC))
    moved = shitu_deploy.with_upstream(system, "avx512", 4)
    assert moved.detector.upstream_cv2 == moved.recogniser.upstream_cv2 == UpstreamCv2("avx512", 4)
    assert "AVX-512" in reproduces(moved.detector)
    assert shitu_deploy.with_upstream(system) == system
    alone = shitu_deploy.with_upstream(dataclasses.replace(system, detector=None), "none")
    assert alone.detector is None and alone.recogniser.upstream_cv2.cpu == "none"
    with pytest.raises(BadInput, match="--upstream"):
        shitu_deploy.with_upstream(system, upstream_threads=0)
    proc = run_cli("shitu", "deploy", "--help")
    assert "--upstream-cpu" in proc.stdout and "--upstream-threads" in proc.stdout


def test_doctor_names_this_machine_as_upstream_options():
    """`doctor` says which upstream machine a PaddleClas/PaddleDetection process here would be, as the options that
    reproduce it: IPP's code as this environment's OPENCV_IPP leaves it, IPP off, OpenCV's default thread count;
    an IPP code lite-tools does not model (SSE4.2) is a warning, not a suggestion."""
    from lite_tools import doctor

    probe = subprocess.run([sys.executable, "-c", "import cv2; print(cv2.getNumThreads())"], capture_output=True,
                           text=True, timeout=120)
    threads = int(probe.stdout)
    proc = run_cli("doctor")
    line = next(ln for ln in proc.stdout.splitlines() if " opencv " in ln)
    if threads <= 25:
        assert f"--upstream-cpu avx2 --upstream-threads {threads}" in line, line
    else:
        assert line.startswith("warn") and "--upstream-cpu avx2;" in line and "setNumThreads(25)" in line, line
    many = doctor.opencv_here(env=dict(os.environ, OPENCV_FOR_THREADS_NUM="32"))
    assert many.warn and "32 OpenCV threads" in many.detail and "--upstream-cpu avx2;" in many.detail
    assert "--upstream-threads 32" not in many.detail
    for value, cpu in (("avx2", "avx2"), ("disabled", "none")):
        check = doctor.opencv_here(env=dict(os.environ, OPENCV_IPP=value))
        assert check.ok and not check.warn and f"--upstream-cpu {cpu} " in check.detail, check
    y8 = doctor.opencv_here(env=dict(os.environ, OPENCV_IPP="sse42"))
    assert y8.warn and "SSE4.2 (y8)" in y8.detail and "not modelled" in y8.detail and "--upstream" not in y8.detail


def test_gallery_records_its_machine_and_refuses_mixing_machines(zoo_dir, tmp_path):
    """`gallery build --upstream-cpu avx512` records the machine in gallery.json; `gallery add` with the rec config
    at another machine is refused (exit 2, one line, the gallery untouched) where that config's resize depends on
    the machine (cubic), and allowed at the same machine. A bilinear rec config (the same pixels on every machine)
    records it too but never refuses."""
    import shitu_data
    from lite_tools import zoo
    from lite_tools.shitu import gallery
    from shared_projects import REC

    data = shitu_data.make(tmp_path / "data", queries=1)
    rec_dir = zoo_dir(REC)
    bilinear = zoo.config_for(REC)
    cubic = bilinear.replace(resize=dataclasses.replace(bilinear.resize, interp=Interp.BICUBIC))
    cfg = tmp_path / "rec_cubic.json"
    cfg.write_text(json.dumps(cubic.to_json()))
    out = tmp_path / "g"
    proc = run_cli("gallery", "build", data.image_root, "--rec", rec_dir, "--config", cfg, "--upstream-cpu", "avx512",
                   "--out", out)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / gallery.MANIFEST).read_text())
    assert manifest[gallery.MACHINE] == {"cpu": "avx512", "threads": 1, "l2_cache": 0}
    before = (out / gallery.MANIFEST).read_bytes()
    proc = run_cli("gallery", "add", out, data.image_root, "--rec", rec_dir, "--config", cfg)
    assert proc.returncode == 2 and "same --upstream" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and (out / gallery.MANIFEST).read_bytes() == before
    proc = run_cli("gallery", "add", out, data.image_root, "--rec", rec_dir, "--config", cfg, "--upstream-cpu",
                   "avx512")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / gallery.MANIFEST).read_text())[gallery.MACHINE]["cpu"] == "avx512"
    # the zoo's own bilinear rec config: the machine changes nothing, so nothing is refused
    assert bilinear.resize.interp == Interp.BILINEAR
    gallery.require_machine(gallery.load(out), bilinear, "search it")
    with pytest.raises(BadInput, match="same --upstream"):
        gallery.require_machine(gallery.load(out), cubic, "search it")
    # Re-probe 2026-12-03: the same machine but the bilinear rec config was added silently (the machine check
    # skips a config that does not depend on it), and shitu deploy said READY on the mixed gallery. The rec
    # preprocessing is recorded and compared too: refused, one line naming the field, the gallery untouched.
    assert manifest[gallery.PREPROCESS]["resize"]["interp"] == "bicubic"
    bilinear_cfg = tmp_path / "rec_bilinear.json"
    bilinear_cfg.write_text(json.dumps(bilinear.to_json()))
    before = (out / gallery.MANIFEST).read_bytes()
    proc = run_cli("gallery", "add", out, data.image_root, "--rec", rec_dir, "--config", bilinear_cfg,
                   "--upstream-cpu", "avx512")
    refused(proc, "another rec preprocessing", "differing: resize;", "bicubic", "bilinear")
    assert (out / gallery.MANIFEST).read_bytes() == before
    kept = gallery.load(out)
    assert kept.manifest[gallery.PREPROCESS] == manifest[gallery.PREPROCESS], "an add carries the record"
    gallery.require_preprocess(kept, cubic, "search it")  # the config it was built with
    with pytest.raises(BadInput, match="another rec preprocessing"):
        gallery.require_preprocess(kept, bilinear, "search it")


def test_doctor_python_must_be_a_python_interpreter(tmp_path, monkeypatch):
    """Re-probe 2026-12-03: `doctor --python` with an executable that printed text was a JSONDecodeError
    traceback, /bin/ls passed as "cv2 is not importable", a hung one hung doctor for good, and a bare `python3`
    on PATH was "not an executable file". Now each is one line and exit 2 (the hung one killed with what it
    started, a flood of output stopped at PROBE_OUTPUT_LIMIT), a name on PATH is looked up as a shell would,
    and an interpreter that dies importing cv2 is a warning about its cv2."""
    from lite_tools import doctor

    talker, silent = tmp_path / "talker", tmp_path / "silent"
    talker.write_text("#!/bin/sh\necho hello there\n")
    silent.write_text("#!/bin/sh\nexit 3\n")
    for script in (talker, silent):
        script.chmod(0o755)
    refused(run_cli("doctor", "--python", talker), f"--python {talker}", "not a Python interpreter", "hello there")
    refused(run_cli("doctor", "--python", silent), "not a Python interpreter", "exited 3")
    refused(run_cli("doctor", "--python", "/bin/ls"), "--python /bin/ls", "not a Python interpreter")
    refused(run_cli("doctor", "--python", tmp_path), "not an executable file")
    refused(run_cli("doctor", "--python", "no-such-python-here"), "not found on PATH")
    flood = tmp_path / "flood"
    flood.write_text("#!/bin/sh\nexec yes\n")
    flood.chmod(0o755)
    refused(run_cli("doctor", "--python", flood), f"more than {doctor.PROBE_OUTPUT_LIMIT} bytes of output")
    # an interpreter that starts (its first line said) but dies importing cv2, as SIGILL from a wheel built for a
    # newer CPU does: a warning about cv2 there, not "not a Python interpreter"
    dies = tmp_path / "dies"
    dies.write_text(f"#!/bin/sh\necho '{{\"probe\": \"{doctor.PROBE_FORMAT}\"}}'\nkill -ILL $$\n")
    dies.chmod(0o755)
    check = doctor.opencv_here(str(dies))
    assert check.warn and "importing cv2 ended it (SIGILL)" in check.detail, check
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "upstream-python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "upstream-python").chmod(0o755)
    proc = run_cli("doctor", "--python", "upstream-python", env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    line = next(ln for ln in proc.stdout.splitlines() if " opencv " in ln)
    assert "--upstream-cpu" in line and "lite-tools: error" not in proc.stderr, proc.stdout + proc.stderr
    hung = tmp_path / "hung"
    hung.write_text("#!/bin/sh\nsleep 317 &\nsleep 300\n")
    hung.chmod(0o755)
    monkeypatch.setattr(doctor, "PROBE_TIMEOUT", 2)
    with pytest.raises(BadInput, match="no answer within 2 s"):
        doctor.ask_python(str(hung))
    assert subprocess.run(["pgrep", "-f", "sleep 317"], capture_output=True).returncode == 1, \
        "what the hung interpreter started is killed too"
    # SIGTERM to doctor alone (the probe runs in its own session, out of reach of a signal to our group)
    hung.write_text("#!/bin/sh\nsleep 318\n")
    proc = subprocess.Popen([sys.executable, "-m", "lite_tools", "doctor", "--python", str(hung)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if subprocess.run(["pgrep", "-f", "sleep 318"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, (proc.returncode, err)
        assert subprocess.run(["pgrep", "-f", "sleep 318"], capture_output=True).returncode == 1, \
            "a SIGTERMed doctor leaves no probe behind"
    finally:
        proc.kill()
        subprocess.run(["pkill", "-f", "sleep 318"], capture_output=True)
