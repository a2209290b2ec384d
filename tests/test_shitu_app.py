"""The two-model PP-ShiTu projects (lite_tools.codegen.shitu_app): every Java file of the Android project and of the
Flutter demo's host compiled against API 23 with the Paddle Lite / Flutter declarations and dexable at minSdk 23;
the assets are the bytes the x86 gates checked (the detector's and recogniser's ARM .nb, the gallery's float32
index); the rendered constants are the system config's and the gallery's, and the Java core accepts the shipped
index under them (a gallery of another model is refused by the same code)."""

from __future__ import annotations

import hashlib
import re
import subprocess

import pytest

from lite_tools import opt, zoo
from lite_tools.codegen import shitu_app
from lite_tools.errors import BadInput
from javatools import app_sources, assert_dexable, compile_stubs, javac, write_r_class
from shared_projects import DET, REC, SHITU_PACKAGE as PACKAGE
CORE = "app/src/main/java/com/litetools/core"


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def system(shitu_system):
    """(system config, gallery, ARM .nb of each, manifests, root) for the zoo's pair (conftest's, shared)."""
    return shitu_system


@pytest.fixture(scope="module")
def projects(shitu_projects):
    return shitu_projects


def _constant(java: str, name: str) -> str:
    found = re.search(rf"public static final \w+(?:\[\])? {name} = (.*?);", java, re.S)
    assert found, name
    return found.group(1).strip()


@pytest.fixture(scope="module")
def stubs(android_jar, tmp_path_factory):
    return compile_stubs(android_jar, tmp_path_factory.mktemp("stubs"))


@pytest.mark.parametrize("kind", ["android", "flutter"])
def test_projects_compile_against_api_23_without_lambdas(projects, android_jar, stubs, tmp_path, kind):
    project = projects[kind]
    sources = app_sources(project)
    if kind == "android":
        sources.append(write_r_class(project, PACKAGE, tmp_path / "gen"))
    javac(sources, tmp_path / "classes", android_jar, classpath=[stubs])
    assert_dexable(tmp_path / "classes")
    names = {p.name for p in sources}
    assert {"ShituPredictor.java", "ShituConstants.java", "RecConstants.java", "DeployConstants.java",
            "ShituPipeline.java", "EmbeddingSearcher.java", "GalleryStore.java", "MainActivity.java"} <= names
    screen = next(p for p in sources if p.name == "MainActivity.java").read_text()
    assert "ShituPredictor" in screen  # the two-model screen, not the single-model one
    assert not list(project.rglob("com/baidu"))  # the compile-only stubs never reach a project


@pytest.mark.parametrize("kind", ["android", "flutter"])
def test_assets_are_what_the_gates_checked(projects, system, kind):
    sysc, g, nbs, manifests, _ = system
    assets = projects[kind] / "app/src/main/assets"
    assert (assets / "model.nb").read_bytes() == nbs["detector"].read_bytes()
    assert (assets / "rec.nb").read_bytes() == nbs["recogniser"].read_bytes()
    index = g.file("float32")
    assert (assets / index.name).read_bytes() == index.read_bytes()
    gradle = (projects[kind] / "app/build.gradle").read_text()
    assert re.search(r"noCompress 'nb', 'index'", gradle)  # the index is memory-mapped: stored uncompressed
    core = projects[kind] / CORE
    shitu = (core / "ShituConstants.java").read_text()
    assert _constant(shitu, "GALLERY_ASSET") == f'"{index.name}"'
    assert _constant(shitu, "REC_NB_SHA256") == f'"{_sha256(assets / "rec.nb")}"'
    rec_params = zoo.exported(REC) / "inference.pdiparams"
    assert _constant(shitu, "REC_PARAMS_SHA256") == f'"{_sha256(rec_params)}"'
    assert int(_constant(shitu, "MAX_DET_RESULTS")) == sysc.max_det_results
    assert float(_constant(shitu, "THRESHOLD")) == sysc.threshold
    assert int(_constant(shitu, "RETURN_K")) == sysc.search.return_k
    assert float(_constant(shitu, "SCORE_THRES")) == sysc.search.score_thres
    assert float(_constant(shitu, "REC_NMS_THRESHOLD")) == sysc.rec_nms_threshold
    assert int(_constant(shitu, "EMBEDDING_DIM")) == g.dim
    rec = (core / "RecConstants.java").read_text()
    assert "public final class RecConstants" in rec and _constant(rec, "TASK") == '"embedding"'
    assert _constant(rec, "MODEL_ASSET") == '"rec.nb"'
    det = (core / "DeployConstants.java").read_text()
    assert _constant(det, "TASK") == '"picodet"' and _constant(det, "MODEL_ASSET") == '"model.nb"'
    assert _constant(det, "LITE_VERSION") == _constant(rec, "LITE_VERSION") == \
        f'"{manifests["recogniser"]["targets"]["arm"]["opt_version"]}"'


CHECK = """
import com.litetools.core.EmbeddingSearcher;
import com.litetools.core.ShituConstants;

import java.io.File;

public final class ShippedGalleryCheck {
    public static void main(String[] args) throws Exception {
        EmbeddingSearcher s = EmbeddingSearcher.map(new File(args[0]));
        s.verify();
        s.requireModel(ShituConstants.REC_PARAMS_SHA256, ShituConstants.REC_NB_SHA256);
        float[] q = s.vector(Integer.parseInt(args[1]));
        for (EmbeddingSearcher.Hit h : s.search(q, 3)) {
            System.out.println(h.id + "\\t" + h.label);
        }
    }
}
"""


def test_the_shipped_gallery_opens_under_the_rendered_constants(projects, system, android_jar, tmp_path):
    """The app's own code (ShituPredictor does these three calls) accepts the shipped index with the rendered
    sha256s and finds an entry's own vector first; the same code with another model's sha256 refuses it."""
    _, g, _, _, _ = system
    core = projects["android"] / CORE
    (tmp_path / "ShippedGalleryCheck.java").write_text(CHECK)
    javac(sorted(core.glob("*.java")) + [tmp_path / "ShippedGalleryCheck.java"], tmp_path / "classes", android_jar)
    index = projects["android"] / "app/src/main/assets" / g.file("float32").name
    position = g.count // 2
    run = subprocess.run(["java", "-cp", str(tmp_path / "classes"), "ShippedGalleryCheck", str(index),
                          str(position)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0].split("\t")
    assert int(first[0]) == int(g.ids[position]) and first[1] == g.labels[position]
    # Another rec model's app: the same check refuses the index, naming both models.
    shitu = (core / "ShituConstants.java").read_text()
    other = shitu.replace(g.nb_sha256, "0" * 64)
    assert other != shitu
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "ShituConstants.java").write_text(other)
    sources = [p for p in sorted(core.glob("*.java")) if p.name != "ShituConstants.java"]
    javac(sources + [tmp_path / "other" / "ShituConstants.java", tmp_path / "ShippedGalleryCheck.java"],
          tmp_path / "other-classes", android_jar)
    run = subprocess.run(["java", "-cp", str(tmp_path / "other-classes"), "ShippedGalleryCheck", str(index), "0"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and g.nb_sha256 in run.stderr and "0" * 64 in run.stderr, run.stderr


def test_a_detector_without_nms_in_its_graph_is_refused(system, zoo_dir, tmp_path):
    sysc, g, nbs, manifests, root = system
    raw = zoo_dir(f"{DET}_raw")
    raw_manifest = opt.optimize(raw, root / "opt" / "raw", opt.OptOptions(targets=("arm",), name="raw"))
    with pytest.raises(BadInput, match="NMS in its graph"):
        shitu_app.write_projects(tmp_path, ("android",), system=sysc, detector=zoo.config_for(f"{DET}_raw"),
                                 recogniser=sysc.recogniser, det_nb=root / "opt" / "raw" / "raw.arm.nb",
                                 rec_nb=nbs["recogniser"], manifests={**manifests, "detector": raw_manifest},
                                 gallery=g, app_name="x", package=PACKAGE)
    assert not list(tmp_path.iterdir())

