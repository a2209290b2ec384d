"""Shared fixtures. Zoo exports and Lite's op tables are cached on disk under build/test-cache, so each is
built once per machine and shared by pytest-xdist workers (writes are atomic renames)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

# IPP picks its code by CPU: AVX-512 hosts run its k0 code, whose INTER_CUBIC is 1 level off the AVX2 (l9) code
# that cv2_resize steps 6-7 reproduce on some pixels. Pinned before any cv2 import (here and in every child the
# tests start), so each host compares against the same upstream arithmetic (scripts/measure_resize.py measures k0).
os.environ["OPENCV_IPP"] = "avx2"
# numpy 1.26 sorts float32/float64 argsorts with x86-simd-sort on AVX-512 CPUs (another order of tied scores than
# the introsort pipeline.numpy_argsort and the Java core reproduce, which other CPUs run); switched off the same
# way, before numpy is imported. Features this CPU lacks are ignored (numpy 1.26.4's dispatch list).
os.environ["NPY_DISABLE_CPU_FEATURES"] = ("AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL "
                                          "AVX512_ICL")

import numpy as np  # noqa: E402 (after the CPU pins above)
import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("LITE_TOOLS_CACHE", str(REPO / "build" / "test-cache"))


def run_cli(*args, cwd=None, env=None):
    """Run `python -m lite_tools ARGS` as a user would; return the CompletedProcess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "lite_tools", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=900)


def refused(proc, *needles, code=2) -> str:
    """Exit `code` (2: bad input) with exactly one `lite-tools: error:` line saying every needle, no traceback."""
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("lite-tools: error:")]
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert len(errors) == 1, proc.stderr
    assert all(n in errors[0] for n in needles), errors[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    return errors[0]


def _rewrite_first_conv(model_dir: Path, change) -> None:
    """Replace the first conv2d filter of the export in `model_dir` by change(its float32 values)."""
    import numpy as np

    from lite_tools.model import files, program as programs

    mf = files.locate(model_dir)
    program = programs.load_program(mf.model_file)
    _, layout = programs.walk_params(program, mf.param_file)
    weight = next(a for op in program.block.ops if op.type == "conv2d"
                  for s in op.inputs if s.parameter == "Filter" for a in s.arguments)
    offset, numel, _ = layout[weight]
    data = bytearray(mf.param_file.read_bytes())
    values = np.frombuffer(bytes(data[offset:offset + numel * 4]), "<f4")
    data[offset:offset + numel * 4] = np.asarray(change(values), "<f4").tobytes()
    mf.param_file.write_bytes(bytes(data))


def poison_first_conv(model_dir: Path) -> None:
    """Write NaN over the first conv2d filter of the export in `model_dir` (a diverged training run)."""
    import numpy as np

    _rewrite_first_conv(model_dir, lambda values: np.full(values.size, np.nan, "<f4"))


def scale_first_conv(model_dir: Path, factor: float) -> None:
    """Scale the first conv2d filter of the export in `model_dir` by `factor` (a re-export gone wrong)."""
    import numpy as np

    _rewrite_first_conv(model_dir, lambda values: values * np.float32(factor))


def tree_digest(path: Path) -> dict:
    """{relative path: sha256} of every file below `path` (to prove inputs stay byte-identical)."""
    path = Path(path)
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def zoo_dir():
    """zoo_dir(name) -> the cached export directory of a zoo model."""
    from lite_tools import zoo

    return zoo.exported


@pytest.fixture(scope="session")
def preset_projects(tmp_path_factory, zoo_dir):
    """preset -> (Android project dir, DeployConfig, model dir), each generated once per session
    (tests/shared_projects.py)."""
    import shared_projects

    return shared_projects.make_preset_projects(tmp_path_factory.mktemp("android"), zoo_dir)


@pytest.fixture(scope="session")
def picodet_raw_project(tmp_path_factory, zoo_dir):
    """(Android project, settled DeployConfig, model dir) of the zoo's PicoDet-S exported with raw heads
    (picodet_s_320_coco_lcnet_raw, the picodet-s-320-coco preset): the PicoDetPostprocessor path no preset's model
    takes (theirs have NMS in the graph)."""
    import shared_projects
    from lite_tools.codegen import project
    from lite_tools.config import for_model, resolve
    from lite_tools.model import files, program as programs

    model, out = zoo_dir("picodet_s_320_coco_lcnet_raw"), tmp_path_factory.mktemp("picodet-raw") / "project"
    preset = resolve(preset="picodet-s-320-coco")
    project.generate("android", model, preset, out, app_name="Test raw", package=shared_projects.PACKAGE)
    model_file = files.locate(model).model_file
    program = programs.load_program(model_file)
    config = for_model.settle(preset, [(t.name, t.shape) for t in program.outputs], str(model_file),
                              inputs=[(t.name, t.shape) for t in program.inputs])
    assert config.det_form == "raw"
    return out, config, model


@pytest.fixture(scope="session")
def shitu_system(tmp_path_factory, zoo_dir):
    """The zoo's PP-ShiTu pair: (system config, gallery, ARM .nb per role, manifests, root)."""
    import shared_projects

    return shared_projects.make_shitu_system(tmp_path_factory.mktemp("shitu-app"), zoo_dir)


@pytest.fixture(scope="session")
def shitu_projects(shitu_system, zoo_dir):
    """The PP-ShiTu Android project and the Flutter host's android/, rendered from shitu_system once."""
    import shared_projects

    return shared_projects.make_shitu_projects(shitu_system, zoo_dir)


@pytest.fixture(scope="session")
def apk_tools():
    """The toolchain, fetched once into build/apk-tools by scripts/fetch_apk_tools.sh (what --apk fetches)."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_apk_tools.sh")], capture_output=True, text=True,
                          env=dict(os.environ, LITE_TOOLS_PYTHON=sys.executable))
    assert proc.returncode == 0, proc.stderr
    cache = Path(proc.stdout.strip().splitlines()[-1])
    from lite_tools.apk import toolchain

    return toolchain.ensure(cache)


@pytest.fixture(scope="session")
def apk_env(apk_tools):
    """The environment a CLI run needs to use the same cache."""
    return {"LITE_TOOLS_APK_CACHE": str(apk_tools.root.parent)}


@pytest.fixture(scope="session")
def small_model(zoo_dir):
    """The smallest zoo classifier: stands in for 'a user's export' in the error-path tests."""
    return zoo_dir("PPLCNet_x0_25")


@pytest.fixture(scope="session")
def android_jar():
    """API 23's android.jar, fetched once into build/android-sdk by scripts/fetch_android_jar.sh."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_android_jar.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def fetch_paddleclas() -> subprocess.CompletedProcess:
    """scripts/fetch_paddleclas.sh: PaddleClas 2.6.0's wheel, unpacked (not installed) under build/upstream."""
    return subprocess.run(["bash", str(REPO / "scripts" / "fetch_paddleclas.sh")], capture_output=True, text=True,
                          env=dict(os.environ, LITE_TOOLS_PYTHON=sys.executable))


@pytest.fixture(scope="session")
def paddleclas_wheel():
    """The unpacked wheel's `paddleclas` package dir: upstream's own deploy code and configs, for the corpus test."""
    proc = fetch_paddleclas()
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def sample_photos():
    """[(name, HxWx3 uint8 RGB)]: the 31 real photos shipped in matplotlib's, scikit-image's and scikit-learn's
    wheels (scripts/fetch_sample_photos.sh), decoded as PaddleClas does (cv2.imread, IMREAD_COLOR, BGR -> RGB)."""
    import cv2

    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_sample_photos.sh")], capture_output=True, text=True,
                          env=dict(os.environ, LITE_TOOLS_PYTHON=sys.executable))
    assert proc.returncode == 0, proc.stderr
    root = Path(proc.stdout.strip().splitlines()[-1])
    photos = []
    for line in (root / "SOURCES.txt").read_text().splitlines():
        name = line.split("\t")[0]
        bgr = cv2.imread(str(root / name), cv2.IMREAD_COLOR)
        assert bgr is not None, name
        photos.append((name, np.ascontiguousarray(bgr[:, :, ::-1])))
    return photos


@pytest.fixture(scope="session")
def groovy_parse(tmp_path_factory):
    """groovy_parse(*files): parse with Debian's Groovy (scripts/fetch_groovy.sh); return (ok, message)."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_groovy.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    classpath = proc.stdout.strip()
    classes = tmp_path_factory.mktemp("parse-groovy")
    build = subprocess.run(["javac", "-cp", classpath, "-d", str(classes),
                            str(REPO / "tests" / "java" / "ParseGroovy.java")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr

    def parse(*files):
        run = subprocess.run(["java", "-cp", f"{classpath}:{classes}", "ParseGroovy", *map(str, files)],
                             capture_output=True, text=True)
        return run.returncode == 0, (run.stderr or run.stdout).strip()
    return parse


@pytest.fixture(scope="session")
def dart_parse():
    """dart_parse(*files): tree-sitter's Dart grammar (scripts/fetch_dart_parser.sh); return (ok, message)."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_dart_parser.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, NODE_PATH=str(Path(proc.stdout.strip().splitlines()[-1]) / "node_modules"))

    def parse(*files):
        run = subprocess.run(["node", str(REPO / "tests" / "dart" / "parse_dart.js"), *map(str, files)],
                             capture_output=True, text=True, env=env)
        return run.returncode == 0, (run.stdout + run.stderr[-400:]).strip()
    return parse
