"""Build, sign and verify a generated Android project's debug APK without Gradle (`--apk`).

What Gradle's assembleDebug does for these projects, with Debian's tools (lite_tools.apk.toolchain):
1. aapt2 compile + link the resources against API 29's framework-res.apk into a base APK with the manifest, the
   assets (extensions in build.gradle's `noCompress`, model.nb and gallery indexes, stored uncompressed: the app
   memory-maps them) and R.java. The project keeps AGP 7.4's conventions (`namespace` in app/build.gradle, no
   `package=` in the manifest), so the package goes into a temporary copy of the manifest.
2. javac: Java 8 against API 23's android.jar (a Java API above 23 does not compile). Against app/libs/
   PaddlePredictor.jar when the user placed it, else against the compile-only Paddle Lite declarations of a
   lite-tools package (lite_tools/java/paddle_lite_api), which never reach the dex. Only src/main: never src/test.
3. dx at minSdk 23 (no desugaring: a lambda or method reference fails here, naming its source file), with the
   jar's classes.
4. The user's `jniLibs/<abi>/*.so`: each built for its ABI (e_machine) and needing only libraries in the APK or the
   NDK's stable system libraries (lite_tools.apk.elf), stored uncompressed and page-aligned (zipalign -p).
5. Signed with the cached debug key (v1 + v2), then `apksigner verify`. Written all at once (a rename).
Without the Paddle Lite files the APK still builds, and says it will not run predictions. Behaviour on a device is
not verified here.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from . import core_classes, elf, toolchain as toolchains
from .. import cache
from ..errors import BadInput

APK_IN_PROJECT = Path("app/build/outputs/apk/debug/app-debug.apk")
PADDLE_JAR = Path("app/libs/PaddlePredictor.jar")
JNI_LIBS = Path("app/src/main/jniLibs")
COMPILE_ONLY = Path(__file__).resolve().parents[1] / "java" / "paddle_lite_api"  # declarations only, never dexed
PADDLE_API_CLASS = "com/baidu/paddle/lite/PaddlePredictor.class"
# The NDK's stable system libraries an app's native code may link against (every other one must be in the APK).
SYSTEM_LIBS = frozenset(f"lib{n}.so" for n in ("c", "m", "dl", "log", "android", "jnigraphics", "z", "EGL",
                                                "GLESv2", "GLESv3", "OpenSLES", "vulkan", "mediandk", "nativewindow"))


def paddle_note(jar: bool, jni: bool) -> str:
    """"" when the APK holds Paddle Lite's jar and JNI library; else what is missing and what that means."""
    missing = [what for what, there in ((str(PADDLE_JAR), jar), (f"{JNI_LIBS}/<abi>/libpaddle_lite_jni.so", jni))
               if not there]
    return "" if not missing else (f"no {' and no '.join(missing)} in the APK: it installs and starts but cannot run "
                                   "predictions until Paddle Lite's files are placed and the APK is built again")


@dataclasses.dataclass(frozen=True)
class ApkBuild:
    path: Path
    package: str
    min_sdk: int
    native_libs: tuple  # "lib/<abi>/<name>" inside the APK
    paddle_jar: bool
    note: str  # "" when the Paddle Lite files are all there
    seconds: float
    bytes: int = 0
    sha256: str = ""

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "path": str(self.path)}


def check_request(apk, kinds=("android",)) -> None:
    """Refuse, before any work, an `--apk` that cannot be met: no Android project asked for, or an explicit APK
    path that cannot be written. apk: None (no APK), "" (where Gradle puts it) or a path."""
    if apk is None:
        return
    if "android" not in kinds:
        raise BadInput("--apk builds the Android project's APK: add --android (a Flutter app's APK needs Flutter's "
                       "engine, which lite-tools cannot build)")
    if apk:
        check_writable(Path(apk))


@dataclasses.dataclass(frozen=True)
class GradleFacts:
    """What app/build.gradle says that the APK needs."""
    namespace: str
    application_id: str
    min_sdk: int
    target_sdk: int
    version_code: int
    version_name: str
    no_compress: tuple


def read_gradle(path: Path) -> GradleFacts:
    try:
        text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
    except OSError as e:
        raise BadInput(f"{path}: cannot read it ({e.strerror}); is this a lite-tools Android project?") from None

    def value(key: str, pattern: str = r"[\"']([^\"']+)[\"']", default=None):
        found = re.search(rf"\b{key}\s*=?\s*{pattern}", text)
        if found is None and default is None:
            raise BadInput(f"{path}: no `{key}` (an AGP 7.4 app/build.gradle sets it)")
        return found.group(1) if found else default
    namespace = value("namespace")
    no_compress = re.search(r"\bnoCompress\s*[(=]?\s*((?:[\"'][^\"']*[\"']\s*,?\s*)+)", text)
    return GradleFacts(namespace=namespace, application_id=value("applicationId", default=namespace),
                       min_sdk=int(value("minSdk(?:Version)?", r"(\d+)")),
                       target_sdk=int(value("targetSdk(?:Version)?", r"(\d+)")),
                       version_code=int(value("versionCode", r"(\d+)", default="1")),
                       version_name=value("versionName", default="1.0"),
                       no_compress=tuple(re.findall(r"[\"']\.?([^\"']+)[\"']", no_compress.group(1)))
                       if no_compress else ())


def build(project, apk=None, tools: toolchains.Toolchain | None = None, compile_only=COMPILE_ONLY,
          progress=None, paddle_root=None) -> ApkBuild:
    """The signed, verified debug APK of `project`, written to `apk` (default: where Gradle puts it).
    paddle_root: the project folder holding the user's Paddle Lite files (default `project`; a deploy builds its
    staged project with the files the user placed in OUT's, lite_tools.apk.placement)."""
    started = time.monotonic()
    say = progress or (lambda m: None)
    project = Path(project)
    paddle_root = Path(paddle_root) if paddle_root else project
    app = project / "app"
    facts = read_gradle(app / "build.gradle")
    apk = Path(apk) if apk else project / APK_IN_PROJECT
    check_writable(apk)
    jar = paddle_root / PADDLE_JAR
    if jar.exists():
        check_jar(jar)
    elif compile_only is None or not Path(compile_only).is_dir():
        raise BadInput(f"{jar} is missing, and this lite-tools install has no compile-only Paddle Lite API "
                       "(lite_tools/java/paddle_lite_api): place Paddle Lite's PaddlePredictor.jar there")
    natives = native_libs(paddle_root / JNI_LIBS)
    tools = tools or toolchains.ensure(progress=say)
    sources = sorted((app / "src/main/java").rglob("*.java"))
    if not sources:
        raise BadInput(f"{app / 'src/main/java'}: no Java sources")
    with tempfile.TemporaryDirectory(prefix=".lite-tools-apk-", dir=apk.parent) as tmp:
        tmp = Path(tmp)
        say("apk: resources (aapt2)")
        base = _link_resources(app, facts, tools, tmp)
        say("apk: compiling Java against API 23")
        classes = _compile_app(tools, app / "src/main/java" / core_classes.PACKAGE,
                               sources + sorted((tmp / "gen").rglob("*.java")), jar if jar.exists() else None,
                               compile_only, tmp)
        say("apk: dexing (dx, minSdk 23)")
        _dex(tools, facts.min_sdk, classes, jar if jar.exists() else None, tmp / "classes.dex", sources)
        unaligned = tmp / "unaligned.apk"
        shutil.copyfile(base, unaligned)
        with zipfile.ZipFile(unaligned, "a") as z:
            z.write(tmp / "classes.dex", "classes.dex", compress_type=zipfile.ZIP_DEFLATED)
            for name, path in natives:
                z.write(path, name, compress_type=zipfile.ZIP_STORED)
        say("apk: zipalign and sign")
        aligned, signed = tmp / "aligned.apk", tmp / "signed.apk"
        tools.run([tools.zipalign, "-p", "-f", "4", unaligned, aligned], "zipalign")
        tools.run([*tools.apksigner, "sign", "--ks", tools.keystore, "--ks-pass", f"pass:{toolchains.KEY_PASSWORD}",
                   "--key-pass", f"pass:{toolchains.KEY_PASSWORD}", "--ks-key-alias", toolchains.KEY_ALIAS,
                   "--v3-signing-enabled", "false", "--v4-signing-enabled", "false",  # AGP's debug default: v1+v2
                   "--out", signed, aligned], "apksigner sign")
        tools.run([*tools.apksigner, "verify", signed], "apksigner verify")
        _install(signed, apk)
    has_jni = any(name.endswith("/libpaddle_lite_jni.so") for name, _ in natives)
    return ApkBuild(path=apk, package=facts.application_id, min_sdk=facts.min_sdk,
                    native_libs=tuple(name for name, _ in natives), paddle_jar=jar.exists(),
                    note=paddle_note(jar.exists(), has_jni),
                    seconds=round(time.monotonic() - started, 2), bytes=apk.stat().st_size,
                    sha256=cache.sha256_file(apk))


def check_writable(apk: Path) -> None:
    """Refuse, before any work, an APK path that cannot be written (one line naming it)."""
    if apk.is_dir():
        raise BadInput(f"cannot write the APK to {apk}: it is a directory")
    blocker = next((p for p in apk.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise BadInput(f"cannot write the APK to {apk}: {blocker} is a file, not a folder")
    try:
        apk.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=apk.parent, prefix=".lite-tools-apk-probe-"):
            pass
    except OSError as e:
        raise BadInput(f"cannot write the APK to {apk}: {e.strerror or e}") from None


def check_jar(jar: Path) -> None:
    try:
        with zipfile.ZipFile(jar) as z:
            bad, names = z.testzip(), set(z.namelist())
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise BadInput(f"{jar}: not a jar ({e}); put Paddle Lite's PaddlePredictor.jar there") from None
    if bad is not None:
        raise BadInput(f"{jar}: corrupt jar ({bad} fails its CRC); put Paddle Lite's PaddlePredictor.jar there")
    if PADDLE_API_CLASS not in names:
        raise BadInput(f"{jar}: holds no {PADDLE_API_CLASS}; is it Paddle Lite's PaddlePredictor.jar?")


def native_libs(jni_dir: Path) -> list:
    """[(name in the APK, path)] of the user's .so files, each checked for its ABI and its DT_NEEDED libraries."""
    found = []
    if not jni_dir.is_dir():
        return found
    for abi_dir in sorted(p for p in jni_dir.iterdir() if p.is_dir()):
        if abi_dir.name not in elf.ABI_MACHINES:
            raise BadInput(f"{abi_dir}: not an Android ABI directory (one of {', '.join(elf.ABI_MACHINES)})")
        libs = sorted(abi_dir.glob("*.so"))
        infos = {lib.name: elf.read(lib) for lib in libs}
        want = elf.ABI_MACHINES[abi_dir.name]
        for lib in libs:
            info = infos[lib.name]
            if info.machine != want:
                raise BadInput(f"{lib}: built for {info.machine_name}, but {abi_dir.name} needs "
                               f"{elf.MACHINE_NAMES[want]} (e_machine {want})")
            missing = [n for n in info.needed if n not in infos and n not in SYSTEM_LIBS]
            if missing:
                raise BadInput(f"{lib} needs {', '.join(missing)}, which is neither in {abi_dir} nor an NDK system "
                               "library: the app would fail in System.loadLibrary (use Paddle Lite's c++_static "
                               "library, or add it)")
            found.append((f"lib/{abi_dir.name}/{lib.name}", lib))
    return found


def _link_resources(app: Path, facts: GradleFacts, tools, tmp: Path) -> Path:
    """aapt2 compile + link: the base APK (manifest, resources.arsc, res/, assets) and gen/.../R.java."""
    manifest = (app / "src/main/AndroidManifest.xml").read_text(encoding="utf-8")
    if not re.search(r"<manifest\b[^>]*\bpackage=", manifest):
        manifest = re.sub(r"<manifest\b", f'<manifest package="{facts.namespace}"', manifest, count=1)
    (tmp / "AndroidManifest.xml").write_text(manifest, encoding="utf-8")
    tools.run([tools.aapt2, "compile", "--dir", app / "src/main/res", "-o", tmp / "res.zip"], "aapt2 compile")
    (tmp / "gen").mkdir()
    assets = app / "src/main/assets"
    cmd = [tools.aapt2, "link", "-I", tools.framework_res, "--manifest", tmp / "AndroidManifest.xml",
           "-o", tmp / "base.apk", "--java", tmp / "gen", "--min-sdk-version", facts.min_sdk,
           "--target-sdk-version", facts.target_sdk, "--version-code", facts.version_code,
           "--version-name", facts.version_name, "--auto-add-overlay"]
    if facts.application_id != facts.namespace:
        cmd += ["--rename-manifest-package", facts.application_id]
    if assets.is_dir():
        cmd += ["-A", assets]
    for extension in facts.no_compress:  # aapt2 matches `.nb`, not Gradle's bare `nb`, against asset names
        cmd += ["-0", "." + extension.lstrip(".")]
    tools.run([*cmd, tmp / "res.zip"], "aapt2 link")
    return tmp / "base.apk"


def _compile_app(tools, core_dir: Path, sources: list, jar, compile_only, tmp: Path) -> Path:
    """The app's classes: with the core's from lite_tools.apk.core_classes when the Java-core check (or an earlier
    build) compiled this very core, only the rest is compiled; anything amiss there compiles it all."""
    paths = ["-cp", str(jar)] if jar else ["-sourcepath", str(compile_only), "-implicit:none"]
    restored = tmp / "core-classes"
    if core_dir.is_dir() and core_classes.restore(core_dir, tools.android_jar, restored):
        rest = [s for s in sources if s.parent.resolve() != core_dir.resolve()]
        against = ["-cp", f"{restored}:{jar}"] if jar else ["-cp", str(restored), *paths]
        (tmp / "classes").mkdir()
        proc = tools.attempt([*tools.javac, *against, "-d", tmp / "classes", *rest],
                             "javac (the app's Java against API 23's android.jar)", cwd=tmp)
        if proc.returncode == 0:
            shutil.copytree(restored, tmp / "classes", dirs_exist_ok=True)
            return tmp / "classes"
        shutil.rmtree(tmp / "classes", ignore_errors=True)
    classes, against_api23 = _compile(tools, sources, paths, tmp)
    if core_dir.is_dir() and against_api23:  # never classes of the lambda fallback's `--release 8`
        core_classes.remember(core_dir, tools.android_jar, classes)
    return classes


def _compile(tools, sources: list, paths: list, tmp: Path) -> tuple:
    """javac against API 23: (classes, True). Its android.jar has no java.lang.invoke, so a lambda crashes javac
    without naming its file: then the classes are compiled as plain Java 8 (classes, False) and dx, which cannot dex
    them at minSdk 23, names it."""
    classes = tmp / "classes"
    classes.mkdir()
    what = "javac (the app's Java against API 23's android.jar)"
    proc = tools.attempt([*tools.javac, *paths, "-d", classes, *sources], what, cwd=tmp)
    if proc.returncode == 0:
        return classes, True
    output = proc.stderr + proc.stdout
    if "java.lang.invoke" not in output:
        raise BadInput(f"{what} failed: {toolchains.first_error(output)}")
    shutil.rmtree(classes)
    classes.mkdir()
    if paths[0] == "-cp":  # the jar joins android.jar on the class path
        paths = ["-cp", f"{tools.android_jar}:{paths[1]}", *paths[2:]]
    else:
        paths = ["-cp", str(tools.android_jar), *paths]
    tools.run(["javac", "--release", "8", "-encoding", "UTF-8", *paths, "-d", classes, *sources],
              "javac --release 8 (to find the lambda)", cwd=tmp)
    return classes, False


def _dex(tools, min_sdk: int, classes: Path, jar, out: Path, sources: list) -> None:
    """dx at minSdk 23; a failure names the source file of the class dx refused."""
    # --no-optimize: a debug build; dx's SSA optimiser would take a third of its time
    proc = tools.attempt([*tools.dx, "--dex", "--no-optimize", f"--min-sdk-version={min_sdk}", f"--output={out}",
                          classes, *([jar] if jar else [])], "dx")
    if proc.returncode == 0:
        return
    output = proc.stderr + proc.stdout
    where = re.search(r"ERROR in ([\w.$]+)\.[^.\s]+:", output) or re.search(r"processing ([\w/$.]+)\.class", output)
    cls = where.group(1).replace(".", "/") if where else ""
    relative = cls.split("$")[0] + ".java"
    source = next((str(s) for s in sources if cls and str(s).endswith("/" + relative)), None)
    why = ("a lambda or method reference, which dx cannot desugar for minSdk 23 (use a named or anonymous class)"
           if "invokedynamic" in output else toolchains.first_error(output))
    raise BadInput(f"dx cannot dex {source or cls or 'the app'}: {why}")


def _install(signed: Path, apk: Path) -> None:
    try:
        os.replace(signed, apk)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise BadInput(f"no space left on device writing {apk}") from None
        raise BadInput(f"cannot write the APK to {apk}: {e.strerror or e}") from None
