"""The generated project's build files, run here as far as they can be without Gradle: fetchPaddleLite's digest
rules (buildSrc's PaddleLitePin, run with Debian's Groovy on real archives and the generated gradle.properties),
the wrapper and unit-test wiring, the CI workflow (parsed, every action pinned to the SHA of lite_tools/codegen/ci.py,
its gate steps run with bash on the generated project), Predictor's load-failure messages (LoadFailure on the JVM
with a real NoClassDefFoundError and UnsatisfiedLinkError), and no bare `pip install lite-tools` anywhere."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_cli, scale_first_conv
from javatools import compile_stubs, javac
from lite_tools.codegen import ci
from lite_tools.codegen import project as codegen
from lite_tools.config import resolve

PACKAGE = "com.example.buildfiles"
PIN_CLASS = "buildSrc/src/main/groovy/PaddleLitePin.groovy"
ABI = "arm64-v8a"
PIN_DRIVER = r"""
// check ARCHIVE ABI URL PINNED PROPERTIES REQUIRE | download URL ARCHIVE ABI VERSION: PaddleLitePin's answer
// on stdout, or "REFUSED: message" and exit 3.
try {
    if (args[0] == 'check') {
        println PaddleLitePin.check(new File(args[1]), args[2], args[3], args[4], new File(args[5]),
                args[6].toBoolean())
    } else {
        PaddleLitePin.download(args[1], new File(args[2]), args[3], args[4])
        println 'downloaded'
    }
} catch (RuntimeException e) {
    if (e.getClass().name != 'PaddleLitePin$Refused') {
        throw e
    }
    println "REFUSED: ${e.message}"
    System.exit(3)
}
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory, zoo_dir):
    out = tmp_path_factory.mktemp("build-files") / "app"
    codegen.generate("android", zoo_dir("PULC_person_exists"), resolve(preset="pulc-person-exists"), out,
                     app_name="Build files", package=PACKAGE)
    return out


@pytest.fixture(scope="module")
def groovy(tmp_path_factory, generated):
    """groovy(*args): the generated PaddleLitePin compiled by Debian's groovyc (as Gradle compiles buildSrc/), run
    through the pin driver; (exit code, stdout)."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_groovy.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    classpath = proc.stdout.strip()
    work = tmp_path_factory.mktemp("pin-driver")
    build = subprocess.run(["java", "-cp", classpath, "org.codehaus.groovy.tools.FileSystemCompiler", "-d",
                            str(work / "classes"), str(generated / PIN_CLASS)], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    driver = work / "pin_driver.groovy"
    driver.write_text(PIN_DRIVER)

    def run(*args):
        done = subprocess.run(["java", "-cp", f"{classpath}:{work / 'classes'}", "groovy.ui.GroovyMain", str(driver),
                               *map(str, args)], capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 3), done.stdout + done.stderr
        return done.returncode, done.stdout.strip()
    return run


def make_archive(path: Path, payload: bytes) -> str:
    """A Paddle Lite-shaped .tar.gz (the two files fetchPaddleLite unpacks); its sha256 by hashlib."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("inference_lite_lib/java/so/libpaddle_lite_jni.so", payload),
                           ("inference_lite_lib/java/jar/PaddlePredictor.jar", b"PK\x05\x06" + bytes(18))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def properties(path: Path) -> dict:
    pairs = [ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln and not ln.startswith("#")]
    return {k.strip(): v.strip() for k, v in pairs}


def case(generated: Path, tmp_path: Path, payload: bytes) -> tuple:
    """(archive, its sha256, a copy of the generated gradle.properties, that copy's bytes) for one check."""
    archive = tmp_path / "a.tar.gz"
    digest = make_archive(archive, payload)
    props = tmp_path / "gradle.properties"
    shutil.copyfile(generated / "gradle.properties", props)
    return archive, digest, props, props.read_bytes()


def test_the_archives_are_the_c_static_ones_and_overridable(generated):
    props = properties(generated / "gradle.properties")
    base = "https://github.com/PaddlePaddle/Paddle-Lite/releases/download/v2.13-rc/inference_lite_lib.android"
    assert props["paddleLite.url.arm64-v8a"] == f"{base}.armv8.clang.c++_static.with_extra.with_cv.tar.gz"
    assert props["paddleLite.url.armeabi-v7a"] == f"{base}.armv7.clang.c++_static.with_extra.with_cv.tar.gz"
    assert "UNCONFIRMED" in (generated / "gradle.properties").read_text()
    assert "c++_shared" not in props["paddleLite.url.arm64-v8a"] + props["paddleLite.url.armeabi-v7a"]
    fetch = (generated / "app/paddle_lite.gradle").read_text()
    assert "project.property(\"paddleLite.url.${abi}\")" in fetch and "PaddleLitePin.check(" in fetch


def test_a_good_digest_passes(generated, groovy, tmp_path):
    archive, digest, props, before = case(generated, tmp_path, b"\x7fELF good")
    rc, out = groovy("check", archive, ABI, "https://example.invalid/a.tar.gz", digest.upper(), props, "false")
    assert rc == 0 and digest in out and "matches" in out, out
    assert archive.is_file() and props.read_bytes() == before


def test_a_bad_digest_refuses_and_deletes_the_archive(generated, groovy, tmp_path):
    archive, actual, props, before = case(generated, tmp_path, b"\x7fELF tampered")
    rc, out = groovy("check", archive, ABI, "https://example.invalid/a.tar.gz", "0" * 64, props, "false")
    assert rc == 3 and out.startswith("REFUSED:") and actual in out and "0" * 64 in out, out
    assert not archive.exists() and props.read_bytes() == before


def test_a_missing_pin_is_written_on_first_use_and_then_holds(generated, groovy, tmp_path):
    archive, digest, props, _ = case(generated, tmp_path, b"\x7fELF first")
    before = properties(props)
    assert before[f"paddleLite.sha256.{ABI}"] == ""
    rc, out = groovy("check", archive, ABI, "https://example.invalid/a.tar.gz", "", props, "false")
    assert rc == 0 and "TRUST ON FIRST USE" in out and "trusts the first download" in out and digest in out, out
    after = properties(props)
    assert after[f"paddleLite.sha256.{ABI}"] == digest
    assert {k: v for k, v in after.items() if k != f"paddleLite.sha256.{ABI}"} == \
        {k: v for k, v in before.items() if k != f"paddleLite.sha256.{ABI}"}
    assert len(props.read_text().splitlines()) == len((generated / "gradle.properties").read_text().splitlines())
    # the written pin now protects: another archive is refused
    other = tmp_path / "b.tar.gz"
    make_archive(other, b"\x7fELF second")
    rc, out = groovy("check", other, ABI, "https://example.invalid/b.tar.gz", after[f"paddleLite.sha256.{ABI}"],
                     props, "false")
    assert rc == 3 and not other.exists(), out


def test_a_key_absent_from_the_file_is_appended(groovy, tmp_path):
    archive = tmp_path / "a.tar.gz"
    digest = make_archive(archive, b"\x7fELF")
    props = tmp_path / "gradle.properties"
    props.write_text("paddleLite.version=v2.13-rc\n")
    rc, _ = groovy("check", archive, "armeabi-v7a", "u", "", props, "false")
    assert rc == 0 and props.read_text() == f"paddleLite.version=v2.13-rc\npaddleLite.sha256.armeabi-v7a={digest}\n"


def test_require_pin_refuses_trust_on_first_use(generated, groovy, tmp_path):
    archive, _, props, before = case(generated, tmp_path, b"\x7fELF ci")
    rc, out = groovy("check", archive, ABI, "u", "", props, "true")
    assert rc == 3 and "requirePin" in out and props.read_bytes() == before and not archive.exists(), out


def test_download_and_its_failure_message(groovy, tmp_path):
    source = tmp_path / "release.tar.gz"
    make_archive(source, b"\x7fELF release")
    archive = tmp_path / "build/paddle-lite/v2.13-rc-arm64-v8a.tar.gz"
    rc, out = groovy("download", source.as_uri(), archive, ABI, "v2.13-rc")
    assert rc == 0 and archive.read_bytes() == source.read_bytes(), out
    assert not list(archive.parent.glob("*.part"))
    missing = tmp_path / "build/missing.tar.gz"
    rc, out = groovy("download", (tmp_path / "no-such-asset.tar.gz").as_uri(), missing, ABI, "v2.13-rc")
    assert rc == 3 and "paddleLite.url.arm64-v8a" in out and "gradle.properties" in out, out
    assert "unconfirmed" in out and "releases/tag/v2.13-rc" in out
    assert not missing.exists() and not list(missing.parent.glob("*.part"))


def test_build_files_parse_and_wire_the_unit_tests(generated, groovy_parse):
    ok, message = groovy_parse(*sorted(generated.rglob("*.gradle")), generated / PIN_CLASS)
    assert ok, message
    app = (generated / "app/build.gradle").read_text()
    assert "testImplementation 'junit:junit:4.13.2'" in app
    wiring = re.search(r"findProperty\('liteTools\.skipCoreTests'\).*?dependsOn 'testDebugUnitTest'", app, re.S)
    assert wiring and "assembleDebug" in wiring.group(0)
    assert properties(generated / "gradle.properties")["liteTools.skipCoreTests"] == "false"
    readme = (generated / "README.md").read_text()
    assert "-PliteTools.skipCoreTests=true" in readme and "trusts its first download" in readme
    wrapper = properties(generated / "gradle/wrapper/gradle-wrapper.properties")
    assert wrapper["distributionUrl"] == r"https\://services.gradle.org/distributions/gradle-7.6.4-bin.zip"
    assert re.fullmatch(r"[0-9a-f]{64}", wrapper["distributionSha256Sum"])
    major, minor = map(int, ci.GRADLE_VERSION.split(".")[:2])
    assert (major, minor) >= (7, 5)  # AGP 7.4's minimum


def workflow(project: Path) -> dict:
    return yaml.safe_load((project / ".github/workflows/android.yml").read_text())


def step(flow: dict, name: str) -> dict:
    (found,) = [s for s in flow["jobs"]["apk"]["steps"] if s.get("name") == name]
    return found


def test_workflow_parses_and_pins_every_action(generated):
    flow = workflow(generated)
    steps = flow["jobs"]["apk"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert len(uses) == len(ci.ACTIONS)
    for ref in uses:
        name, sha = ref.split("@")
        assert name in ci.ACTIONS and sha == ci.ACTIONS[name].sha, ref
        assert re.fullmatch(r"[0-9a-f]{40}", sha)
    text = (generated / ".github/workflows/android.yml").read_text()
    for action in ci.ACTIONS.values():  # the tag stays readable beside the SHA
        assert f"{action.name}@{action.sha} # {action.tag}" in text
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert python[0]["with"]["python-version"] == "3.10"
    gradle = [s for s in steps if s.get("uses", "").startswith("gradle/actions/setup-gradle@")]
    assert gradle[0]["with"]["gradle-version"] == ci.GRADLE_VERSION
    runs = [s.get("run", "") for s in steps]
    assert any("lite-tools parity" in r for r in runs)
    assert any(r.startswith(f"gradle wrapper --gradle-version {ci.GRADLE_VERSION}") for r in runs)
    assert any("./gradlew" in r and "testDebugUnitTest assembleDebug" in r and "requirePin=true" in r for r in runs)
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload[0]["with"]["path"] == "app/build/outputs/apk/debug/app-debug.apk"


def test_every_action_in_the_table_has_a_sha_tag_and_source():
    for name, action in ci.ACTIONS.items():
        assert name == action.name and re.fullmatch(r"[0-9a-f]{40}", action.sha)
        assert re.fullmatch(r"v\d+\.\d+\.\d+", action.tag) and action.source


def run_step(flow: dict, name: str, cwd: Path, env=None) -> subprocess.CompletedProcess:
    """Run a workflow step's script as the runner does (bash -e), in cwd with the job's env."""
    full = {**os.environ, **{k: str(v) for k, v in flow["jobs"]["apk"]["env"].items()}, **(env or {})}
    return subprocess.run(["bash", "-e", "-c", step(flow, name)["run"]], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=900)


def test_workflow_fails_without_pinned_archives(generated, tmp_path):
    flow = workflow(generated)
    name = "Paddle Lite archives are pinned in gradle.properties"
    shutil.copyfile(generated / "gradle.properties", tmp_path / "gradle.properties")
    unpinned = run_step(flow, name, tmp_path)
    assert unpinned.returncode == 1 and "paddleLite.sha256.arm64-v8a has no pinned sha256" in unpinned.stdout
    text = (tmp_path / "gradle.properties").read_text()
    half = text.replace("paddleLite.sha256.arm64-v8a=\n", f"paddleLite.sha256.arm64-v8a={'a' * 64}\n")
    (tmp_path / "gradle.properties").write_text(half)
    assert "armeabi-v7a has no pinned" in run_step(flow, name, tmp_path).stdout
    (tmp_path / "gradle.properties").write_text(
        half.replace("paddleLite.sha256.armeabi-v7a=\n", f"paddleLite.sha256.armeabi-v7a={'b' * 64}\n"))
    assert run_step(flow, name, tmp_path).returncode == 0


def test_workflow_fails_until_lite_tools_is_pinned(generated, tmp_path):
    flow = workflow(generated)
    assert flow["jobs"]["apk"]["env"]["LITE_TOOLS_INSTALL"] == ci.CI_INSTALL_UNSET
    unset = run_step(flow, "lite-tools to install is pinned", tmp_path)
    assert unset.returncode == 1 and "LITE_TOOLS_INSTALL is not set" in unset.stdout
    spec = "git+https://github.com/example/lite-tools@" + "0123456789" * 4
    assert run_step(flow, "lite-tools to install is pinned", tmp_path, {"LITE_TOOLS_INSTALL": spec}).returncode == 0
    rendered = ci.context(spec)["ci"]["install"]
    assert rendered == spec
    for bad in ("lite-tools", "paddle-lite-tools", "git+https://github.com/example/lite-tools@main", 'x".whl'):
        with pytest.raises(Exception, match=ci.CI_INSTALL_ENV):
            ci.context(bad)


def test_ci_install_is_a_generation_option(zoo_dir, tmp_path):
    spec = "https://example.org/dist/paddle_lite_tools-0.1.0-py3-none-any.whl"
    out = tmp_path / "app"
    proc = run_cli("android", zoo_dir("PULC_person_exists"), "--preset", "pulc-person-exists", "--out", out,
                   env={ci.CI_INSTALL_ENV: spec})
    assert proc.returncode == 0, proc.stderr
    assert workflow(out)["jobs"]["apk"]["env"]["LITE_TOOLS_INSTALL"] == spec
    bad = run_cli("android", zoo_dir("PULC_person_exists"), "--preset", "pulc-person-exists", "--out",
                  tmp_path / "bad", env={ci.CI_INSTALL_ENV: "lite-tools"})
    assert bad.returncode == 2 and ci.CI_INSTALL_ENV in bad.stderr and not (tmp_path / "bad").exists()


def test_workflow_parity_gate_runs_on_the_export_and_refuses_another(generated, zoo_dir, tmp_path):
    flow = workflow(generated)
    work = tmp_path / "checkout"
    shutil.copytree(generated, work)
    export = work / "paddle_export"
    shutil.copytree(zoo_dir("PULC_person_exists"), export)
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    passed = run_step(flow, "Parity on x86 (the gate)", work, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (work / "build/parity/model/parity.json").is_file()
    scale_first_conv(export, 1.5)  # another model: the .nb in the app was not made from it
    refused = run_step(flow, "Parity on x86 (the gate)", work, env)
    assert refused.returncode != 0 and "is not the file the app's .nb was made from" in refused.stderr


LOAD_DRIVER = r"""
import com.litetools.core.LoadFailure;

public final class LoadFailureDriver {
    static LinkageError missingJar() {
        try {
            new com.baidu.paddle.lite.MobileConfig();  // compiled against the API stubs, run without them
        } catch (LinkageError e) {
            return e;
        }
        throw new AssertionError("MobileConfig loaded");
    }

    static LinkageError missingLibrary() {
        try {
            System.loadLibrary("paddle_lite_jni");
        } catch (LinkageError e) {
            return e;
        }
        throw new AssertionError("paddle_lite_jni loaded");
    }

    public static void main(String[] args) {
        String[][] devices = {{"arm64-v8a", "armeabi-v7a", "armeabi"}, {"x86_64", "x86"}, {"x86_64", "arm64-v8a"}};
        LinkageError[] errors = {missingJar(), missingLibrary()};
        for (LinkageError error : errors) {
            for (String[] abis : devices) {
                System.out.println(error.getClass().getSimpleName() + "|" + String.join(",", abis) + "|"
                        + LoadFailure.describe(error, abis));
            }
        }
    }
}
"""


def test_predictor_reports_what_failed_to_load(generated, android_jar, tmp_path):
    predictor = (generated / "app/src/main/java" / PACKAGE.replace(".", "/") / "Predictor.java").read_text()
    assert "catch (LinkageError e)" in predictor and "LoadFailure.describe(e, Build.SUPPORTED_ABIS)" in predictor
    assert "x86 emulators cannot run it" not in predictor
    stubs = compile_stubs(android_jar, tmp_path / "stubs")
    core = generated / "app/src/main/java/com/litetools/core/LoadFailure.java"
    javac([core], tmp_path / "core", android_jar)  # as the app compiles it: API 23
    driver = tmp_path / "src/LoadFailureDriver.java"
    driver.parent.mkdir()
    driver.write_text(LOAD_DRIVER)
    build = subprocess.run(["javac", "-d", str(tmp_path / "driver"), "-cp", f"{tmp_path / 'core'}:{stubs}",
                            str(driver)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run(["java", "-cp", f"{tmp_path / 'core'}:{tmp_path / 'driver'}", "LoadFailureDriver"],
                         capture_output=True, text=True, timeout=60)  # no stubs, no .so: both really fail
    assert run.returncode == 0, run.stderr
    rows = {tuple(ln.split("|")[:2]): ln.split("|")[2] for ln in run.stdout.splitlines()}
    assert len(rows) == 6
    for abis in ("arm64-v8a,armeabi-v7a,armeabi", "x86_64,x86", "x86_64,arm64-v8a"):
        jar = rows[("NoClassDefFoundError", abis)]
        assert "PaddlePredictor.jar" in jar and "com/baidu/paddle/lite/MobileConfig" in jar and "x86" not in jar
    arm = rows[("UnsatisfiedLinkError", "arm64-v8a,armeabi-v7a,armeabi")]
    assert "libpaddle_lite_jni.so" in arm and "arm64-v8a, armeabi-v7a, armeabi" in arm and "paddle_lite_jni" in arm
    assert "emulator" not in arm and "cannot run it" not in arm  # (the JVM's own detail lists its x86_64 paths)
    assert "x86 emulator" in rows[("UnsatisfiedLinkError", "x86_64,x86")]
    translated = rows[("UnsatisfiedLinkError", "x86_64,arm64-v8a")]  # an x86 image that runs ARM code
    assert "emulator" not in translated and "jniLibs" in translated


BARE_INSTALL = re.compile(r"pip3?\s+install\s+(?:-\S+\s+)*['\"]?lite-tools(?:['\"\s\[=<>~!]|$)", re.M)


def test_no_bare_pip_install_lite_tools(generated):
    assert BARE_INSTALL.search("  pip install lite-tools\n") and BARE_INSTALL.search('pip install -U "lite-tools"')
    assert not BARE_INSTALL.search("pip install paddle-lite-tools") and not BARE_INSTALL.search("pip install -e .")
    roots = [REPO / "README.md", REPO / "lite_tools", REPO / "scripts", generated]
    roots += [REPO / d for d in ("android_template", "android_template_shitu", "flutter_demo", "flutter_demo_shitu")]
    files = [p for r in roots for p in ([r] if r.is_file() else r.rglob("*"))
             if p.is_file() and p.suffix not in (".nb", ".pyc", ".bin", ".index")]
    assert len(files) > 50
    hits = [f"{p}: {m.group(0)}" for p in files for m in BARE_INSTALL.finditer(p.read_text(errors="replace"))]
    assert not hits
    from importlib.metadata import distribution
    assert distribution("paddle-lite-tools").entry_points.select(name="lite-tools")
