"""The generated projects become real signed APKs without Gradle (lite_tools.apk): built with Debian's aapt2, javac
against API 23, dx, zipalign and apksigner, then read back by two independent readers (aapt's `dump badging` and
androguard, a Python APK/DEX parser): package, minSdk 23, launchable activity, CAMERA, the .nb assets byte for byte
(sha256 equal to the manifest's) and stored uncompressed, every Java-core class in the dex and no compile-only
stub. The user's Paddle Lite files go in, checked (our ELF reader, tested against binutils' readelf on ELF32/ELF64
objects written here); bad input is one line. Nothing here runs on a device."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lite_tools import outputs
from lite_tools.apk import build, elf, toolchain
from lite_tools.codegen import project as codegen
from lite_tools.config.presets import PRESETS
from lite_tools.errors import BadInput, EXIT_BAD_INPUT, ToolFailure
from conftest import refused, run_cli
from apk_readback import CORE, androguard_apk, assert_reads_back, dex_classes
from shared_projects import PACKAGE, PRESET_MODELS, SHITU_PACKAGE, config_for

LIB_PADDLE = "libpaddle_lite_jni.so"
DT_STRSZ = 10  # the string table's size: readelf needs it, our reader (like the loader for DT_NEEDED) does not


@pytest.fixture(scope="session")
def preset_apks(tmp_path_factory, zoo_dir, apk_tools):
    """preset -> (project dir, ApkBuild): every preset's project generated and built once per session (the builds
    run their tools as subprocesses: two at a time)."""
    root = tmp_path_factory.mktemp("apk")
    for preset in PRESETS:
        codegen.generate("android", zoo_dir(PRESET_MODELS[preset]), config_for(preset), root / preset,
                         app_name=f"Test {preset}", package=PACKAGE)
    with ThreadPoolExecutor(max_workers=2) as pool:
        builds = dict(zip(PRESETS, pool.map(lambda p: build.build(root / p, tools=apk_tools), PRESETS)))
    return {preset: (root / preset, builds[preset]) for preset in PRESETS}


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_builds_a_signed_apk_that_reads_back(preset_apks, apk_tools, preset):
    project, result = preset_apks[preset]
    manifest = json.loads((project / "app/src/main/assets/lite_manifest.json").read_text())
    assert_reads_back(apk_tools, result, project, {"model.nb": manifest["targets"]["arm"]["sha256"]})
    assert not result.paddle_jar and result.native_libs == ()
    assert result.note.startswith("no app/libs/PaddlePredictor.jar and no app/src/main/jniLibs/<abi>/"
                                  "libpaddle_lite_jni.so in the APK") and "cannot run predictions" in result.note


def test_shitu_project_builds_a_signed_apk_that_reads_back(shitu_system, shitu_projects, apk_tools):
    """The two-model app: both .nb and the gallery index stored uncompressed, as the gates checked them."""
    _, g, _, manifests, _ = shitu_system
    project = shitu_projects["android"]
    result = build.build(project, tools=apk_tools)
    index = g.file("float32")
    with zipfile.ZipFile(result.path) as z:
        assert z.getinfo(f"assets/{index.name}").compress_type == zipfile.ZIP_STORED
        assert z.read(f"assets/{index.name}") == index.read_bytes()
    assert result.package == SHITU_PACKAGE
    assert_reads_back(apk_tools, result, project, {"model.nb": manifests["detector"]["targets"]["arm"]["sha256"],
                                                   "rec.nb": manifests["recogniser"]["targets"]["arm"]["sha256"]})


# ---- minimal ELF shared objects, written here from the ELF specification's layouts ----

def make_elf(bits: int, machine: int, needed=(), soname_at: int = 0x10000) -> bytes:
    """An ELF32/ELF64 little-endian shared object: one PT_LOAD mapping the whole file at `soname_at` (so a
    virtual address differs from its file offset), a PT_DYNAMIC with DT_NEEDED entries and DT_STRTAB."""
    wide = bits == 64
    ehsize, phentsize = (64, 56) if wide else (52, 32)
    strtab = b"\0" + b"".join(n.encode() + b"\0" for n in needed)
    offsets, at = [], 1
    for n in needed:
        offsets.append(at)
        at += len(n) + 1
    phoff = ehsize
    strtab_off = phoff + 2 * phentsize
    dyn_off = (strtab_off + len(strtab) + 7) & ~7
    word = "q" if wide else "i"
    addr = "Q" if wide else "I"
    dyn = b"".join(struct.pack(f"<{word}{addr}", elf.DT_NEEDED, o) for o in offsets)
    dyn += struct.pack(f"<{word}{addr}", elf.DT_STRTAB, soname_at + strtab_off)
    dyn += struct.pack(f"<{word}{addr}", DT_STRSZ, len(strtab)) + struct.pack(f"<{word}{addr}", 0, 0)
    size = dyn_off + len(dyn)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1, 1]) + bytes(9)
    if wide:
        header = ident + struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0, phoff, 0, 0, ehsize, phentsize, 2, 64, 0, 0)
        phdrs = struct.pack("<IIQQQQQQ", elf.PT_LOAD, 5, 0, soname_at, soname_at, size, size, 0x1000)
        phdrs += struct.pack("<IIQQQQQQ", elf.PT_DYNAMIC, 6, dyn_off, soname_at + dyn_off, soname_at + dyn_off,
                             len(dyn), len(dyn), 8)
    else:
        header = ident + struct.pack("<HHIIIIIHHHHHH", 3, machine, 1, 0, phoff, 0, 0, ehsize, phentsize, 2, 40, 0, 0)
        phdrs = struct.pack("<IIIIIIII", elf.PT_LOAD, 0, soname_at, soname_at, size, size, 5, 0x1000)
        phdrs += struct.pack("<IIIIIIII", elf.PT_DYNAMIC, dyn_off, soname_at + dyn_off, soname_at + dyn_off,
                             len(dyn), len(dyn), 6, 4)
    body = header + phdrs + strtab
    return body + bytes(dyn_off - len(body)) + dyn


def readelf_needed(path: Path) -> tuple:
    """binutils' readelf: the independent reader of the same objects."""
    proc = subprocess.run(["readelf", "-h", "-d", "-W", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import re

    machine = re.search(r"Machine:\s+(.+)", proc.stdout).group(1).strip()
    return machine, tuple(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", proc.stdout))


@pytest.mark.parametrize("bits,machine,readelf_name", [(64, elf.EM_AARCH64, "AArch64"), (32, elf.EM_ARM, "ARM"),
                                                       (64, elf.EM_X86_64, "Advanced Micro Devices X86-64"),
                                                       (32, elf.EM_386, "Intel 80386")])
def test_elf_reader_agrees_with_readelf(tmp_path, bits, machine, readelf_name):
    needed = ("libc.so", "liblog.so", "libc++_shared.so")
    path = tmp_path / "lib.so"
    path.write_bytes(make_elf(bits, machine, needed))
    info = elf.read(path)
    assert readelf_needed(path) == (readelf_name, needed)
    assert (info.bits, info.machine, info.needed) == (bits, machine, needed)


def test_elf_reader_on_real_libraries():
    """The JDK's and aapt2's libraries, as readelf reads them (real linkers' layouts, not only ours)."""
    libs = [p for p in (Path(sys.base_prefix) / "lib").glob("libpython3*.so*")] + \
        sorted(Path("/usr/lib/jvm").glob("*/lib/libjava.so"))
    assert libs, "no real shared library found"
    for lib in libs:
        machine, needed = readelf_needed(lib)
        assert elf.read(lib).needed == needed and needed, lib


def test_elf_reader_refuses_what_is_not_an_elf_shared_object(tmp_path):
    cases = {"text": b"not an elf at all", "truncated": make_elf(64, elf.EM_AARCH64, ("libc.so",))[:70],
             "big-endian": b"\x7fELF\x02\x02\x01" + bytes(57)}
    for name, data in cases.items():
        path = tmp_path / f"{name}.so"
        path.write_bytes(data)
        with pytest.raises(BadInput) as e:
            elf.read(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value), name


# ---- the user's Paddle Lite files ----

@pytest.fixture(scope="session")
def api_jar(apk_tools, tmp_path_factory):
    """A PaddlePredictor.jar stand-in (Paddle Lite's cannot be downloaded here): the compile-only declarations
    compiled and jarred, as a user would place the real one."""
    root = tmp_path_factory.mktemp("api-jar")
    sources = sorted((build.COMPILE_ONLY / "com/baidu").rglob("*.java"))
    apk_tools.run([*apk_tools.javac, "-d", root / "classes", *sources], "javac (the jar stand-in)")
    jar = root / "PaddlePredictor.jar"
    subprocess.run(["jar", "cf", str(jar), "-C", str(root / "classes"), "."], check=True)
    return jar


def _with_paddle_files(preset_apks, tmp_path, jar=None, libs=None) -> Path:
    project = tmp_path / "project"
    shutil.copytree(preset_apks["imagenet-cls"][0], project, ignore=shutil.ignore_patterns("build"))
    if jar is not None:
        (project / "app/libs").mkdir(parents=True)
        shutil.copyfile(jar, project / build.PADDLE_JAR)
    for rel, data in (libs or {}).items():
        path = project / build.JNI_LIBS / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return project


def test_paddle_lite_files_go_into_the_apk(preset_apks, apk_tools, api_jar, tmp_path):
    needs = ("libc.so", "libm.so", "libdl.so", "liblog.so", "libz.so")
    project = _with_paddle_files(preset_apks, tmp_path, jar=api_jar, libs={
        f"arm64-v8a/{LIB_PADDLE}": make_elf(64, elf.EM_AARCH64, needs + ("libhelper.so",)),
        "arm64-v8a/libhelper.so": make_elf(64, elf.EM_AARCH64, ("libc.so",)),
        f"armeabi-v7a/{LIB_PADDLE}": make_elf(32, elf.EM_ARM, needs)})
    result = build.build(project, tools=apk_tools)
    assert result.note == "" and result.paddle_jar
    expected = {f"lib/arm64-v8a/{LIB_PADDLE}", "lib/arm64-v8a/libhelper.so", f"lib/armeabi-v7a/{LIB_PADDLE}"}
    assert set(result.native_libs) == expected
    with zipfile.ZipFile(result.path) as z:
        for name in expected:
            entry = z.getinfo(name)
            assert entry.compress_type == zipfile.ZIP_STORED and z.read(name) == (project / build.JNI_LIBS /
                                                                                  name[4:]).read_bytes()
    # page-aligned for loading straight from the APK: zipalign's own check
    apk_tools.run([apk_tools.zipalign, "-c", "-p", "4", result.path], "zipalign -c")
    classes = dex_classes(androguard_apk(result.path))
    with zipfile.ZipFile(api_jar) as z:
        jar_classes = {n[:-6] for n in z.namelist() if n.endswith(".class")}
    assert jar_classes and jar_classes <= classes  # the jar's classes are dexed with the app
    assert f"{PACKAGE.replace('.', '/')}/Predictor" in classes


@pytest.mark.parametrize("case", ["wrong-abi", "missing-needed", "corrupt-jar", "not-paddle-jar", "unknown-abi"])
def test_bad_paddle_lite_files_are_one_line_errors(preset_apks, apk_tools, api_jar, tmp_path, case):
    arm64 = f"arm64-v8a/{LIB_PADDLE}"
    other_jar = tmp_path / "other.jar"
    with zipfile.ZipFile(other_jar, "w") as z:
        z.writestr("a/B.class", b"\xca\xfe\xba\xbe")
    corrupt = tmp_path / "corrupt.jar"
    corrupt.write_bytes(api_jar.read_bytes()[: api_jar.stat().st_size // 2])
    setups = {
        "wrong-abi": ({arm64: make_elf(32, elf.EM_ARM, ("libc.so",))}, api_jar,
                      ("built for ARM", "arm64-v8a needs AArch64 (e_machine 183)")),
        "missing-needed": ({arm64: make_elf(64, elf.EM_AARCH64, ("libc.so", "libc++_shared.so"))}, api_jar,
                           ("needs libc++_shared.so", "System.loadLibrary", "c++_static")),
        "corrupt-jar": ({}, corrupt, ("PaddlePredictor.jar: not a jar",)),
        "not-paddle-jar": ({}, other_jar, ("holds no com/baidu/paddle/lite/PaddlePredictor.class",)),
        "unknown-abi": ({f"arm64/{LIB_PADDLE}": make_elf(64, elf.EM_AARCH64)}, api_jar,
                        ("not an Android ABI directory",)),
    }
    libs, jar, needles = setups[case]
    project = _with_paddle_files(preset_apks, tmp_path, jar=jar, libs=libs)
    with pytest.raises(BadInput) as e:
        build.build(project, tools=apk_tools)
    message = str(e.value)
    assert e.value.exit_code == EXIT_BAD_INPUT and "\n" not in message
    assert all(n in message for n in needles), message
    assert not (project / build.APK_IN_PROJECT).exists()


def test_a_lambda_fails_the_dex_step_naming_its_file(preset_apks, apk_tools, tmp_path):
    """dx at minSdk 23 cannot dex a lambda (no desugaring): the build stops with one line naming the file."""
    project = _with_paddle_files(preset_apks, tmp_path)
    predictor = project / f"app/src/main/java/{PACKAGE.replace('.', '/')}/Predictor.java"
    text = predictor.read_text()
    predictor.write_text(text.replace("public final class Predictor {",
                                      "public final class Predictor {\n    static final Runnable NONE = () -> { };", 1))
    with pytest.raises(BadInput) as e:
        build.build(project, tools=apk_tools)
    assert f"dx cannot dex {predictor}: a lambda or method reference" in str(e.value), str(e.value)
    assert not (project / build.APK_IN_PROJECT).exists()


# ---- the command line ----

def test_cli_refuses_an_unwritable_apk_path_before_any_work(small_model, apk_env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for command in (["android", small_model, "--preset", "imagenet-cls"], ["deploy", small_model, "--preset",
                                                                            "imagenet-cls"]):
        out = tmp_path / command[0]
        proc = run_cli(*command, "--out", out, "--apk", blocker / "app.apk", env=apk_env)
        refused(proc, f"cannot write the APK to {blocker / 'app.apk'}", f"{blocker} is a file")
        assert not out.exists()
    proc = run_cli("deploy", small_model, "--preset", "imagenet-cls", "--flutter", "--out", tmp_path / "f", "--apk",
                   env=apk_env)
    refused(proc, "--apk builds the Android project's APK", "Flutter's engine")


def test_cli_builds_the_apk_and_keeps_the_users_files(small_model, apk_tools, apk_env, api_jar, tmp_path):
    """`lite-tools android --apk` (the note without Paddle Lite), then with a user's corrupt jar placed in the
    project and the project regenerated with --force: the jar stays, and the build refuses it in one line."""
    out = tmp_path / "app"
    proc = run_cli("android", small_model, "--preset", "imagenet-cls", "--package", PACKAGE, "--out", out, "--apk",
                   env=apk_env)
    assert proc.returncode == 0, proc.stderr
    apk = out / build.APK_IN_PROJECT
    assert "apksigner verified" in proc.stdout and str(apk) in proc.stdout
    assert f"note: {build.paddle_note(jar=False, jni=False)}" in proc.stdout
    assert androguard_apk(apk).get_package() == PACKAGE
    # built before OUT was installed: OUT's marker claims it (a re-run may replace it; a user's file it would not)
    assert build.APK_IN_PROJECT.as_posix() in outputs.read_marker(out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "app/libs").mkdir(parents=True)
    (out / build.PADDLE_JAR).write_bytes(b"PK\x03\x04 broken")
    proc = run_cli("android", small_model, "--preset", "imagenet-cls", "--package", PACKAGE, "--out", out,
                   "--force", "--apk", env=apk_env)
    refused(proc, f"{out / build.PADDLE_JAR}: not a jar")
    # refused before any work: the project and its APK are as they were
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "PaddlePredictor.jar"} == before


def test_without_apt_get_the_toolchain_is_one_line(tmp_path, monkeypatch):
    """A machine with no apt-get (not Debian): exit 2, one line, before anything is fetched or written."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(BadInput) as e:
        toolchain.ensure(tmp_path / "cache")
    assert e.value.exit_code == EXIT_BAD_INPUT and "\n" not in str(e.value)
    assert "--apk needs apt-get" in str(e.value) and str(tmp_path / "cache") in str(e.value)
    assert not (tmp_path / "cache").exists()


def test_a_library_missing_from_the_toolchain_is_named(apk_tools, tmp_path):
    """The cached tools are checked with ldd: a tree lacking one of their libraries (a partial fetch) is refused
    with one line naming it, instead of a loader error at the first build."""
    root = tmp_path / "root"
    for path in apk_tools.root.rglob("*"):
        if path.is_file() and path.name != "libziparchive.so.0":
            (root / path.relative_to(apk_tools.root)).parent.mkdir(parents=True, exist_ok=True)
            (root / path.relative_to(apk_tools.root)).symlink_to(path)
    with pytest.raises(ToolFailure) as e:
        toolchain._usable(toolchain.Toolchain(root))
    assert "needs libziparchive.so.0" in str(e.value) and "\n" not in str(e.value), str(e.value)
    assert toolchain._usable(apk_tools) == apk_tools  # the real tree has them all


def test_the_core_classes_are_reused_only_for_the_same_sources(preset_apks, apk_tools, tmp_path, monkeypatch):
    """lite_tools.apk.core_classes: what the Java-core check compiled comes back byte for byte for the same sources
    and android.jar; a changed source, or a cache entry that is not a jar of core classes, compiles anew."""
    from lite_tools import javacheck
    from lite_tools.apk import core_classes

    monkeypatch.setenv("LITE_TOOLS_CACHE", str(tmp_path / "cache"))
    core = tmp_path / "core"
    shutil.copytree(preset_apks["imagenet-cls"][0] / CORE, core)
    jar = apk_tools.android_jar
    assert not core_classes.restore(core, jar, tmp_path / "none")
    javacheck.compile_core(core, tmp_path / "checked", android_jar=jar)  # a miss: compiles, then remembers
    compiled = {p.name: p.read_bytes() for p in (tmp_path / "checked" / core_classes.PACKAGE).glob("*.class")}
    assert core_classes.restore(core, jar, tmp_path / "again")
    restored = {p.name: p.read_bytes() for p in (tmp_path / "again" / core_classes.PACKAGE).glob("*.class")}
    assert compiled and restored == compiled and not list((tmp_path / "again").glob("CoreHarness*"))
    labels = core / "Labels.java"
    labels.write_text(labels.read_text() + "\n// changed\n")
    assert not core_classes.restore(core, jar, tmp_path / "changed")
    labels.write_text(labels.read_text().replace("\n// changed\n", ""))
    (entry,) = (tmp_path / "cache" / core_classes.KIND).glob("*.jar")
    entry.write_bytes(b"not a jar")
    assert not core_classes.restore(core, jar, tmp_path / "corrupt")
    assert javacheck.compile_core(core, tmp_path / "recompiled", android_jar=jar) == javacheck.AGAINST_ANDROID
    assert {p.name for p in (tmp_path / "recompiled" / core_classes.PACKAGE).glob("*.class")} == set(compiled)
