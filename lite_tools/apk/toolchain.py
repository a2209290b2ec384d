"""Debian's packaged Android build tools, fetched once into a cache and run from there: nothing is installed.

No Android SDK, Gradle, D8 or R8 can be had here, but Debian packages the pieces of an APK build: Debian 12's `aapt`
(aapt and aapt2; they load p7zip's `7z.so` through libbacktrace's RUNPATH /usr/lib/p7zip), `zipalign`, `apksigner` and
`android-framework-res` (API 29's framework-res.apk, for `aapt2 link -I`), and Debian 11's `dalvik-exchange` (`dx`,
the only dexer) and `libandroid-23-java` (API 23's android.jar, for javac's boot class path). They are fetched as
scripts/fetch_android_jar.sh fetches: a private apt state in the cache that reads only this machine's own Debian
mirror, `apt-get install --download-only` (the closure of what this machine lacks) or `apt-get download`, then
`dpkg-deb -x` into the cache; the native tools run with LD_LIBRARY_PATH pointing into the extracted tree.

Cache: $LITE_TOOLS_APK_CACHE, default ~/.cache/lite-tools-apk (the tests use build/apk-tools). Also holds the debug
signing key. `python -m lite_tools.apk.toolchain` fetches and prints the cache.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import BadInput, ToolFailure

FORMAT = "lite-tools-apk-toolchain/1"
# (suite, packages, how): "closure" downloads what this machine lacks of the packages and their dependencies;
# "alone" only the packages (Java-only: the JDK that runs them is required anyway).
FETCHES = (("bookworm", ("aapt", "zipalign", "apksigner", "android-framework-res", "p7zip-full"), "closure"),
           ("bullseye", ("dalvik-exchange", "libandroid-23-java"), "alone"))
BUILD_TOOLS = "usr/lib/android-sdk/build-tools/debian"
KEY_ALIAS, KEY_PASSWORD = "androiddebugkey", "android"  # the Android SDK's debug-key conventions
NETWORK_TRIES = 4
# Each Java tool runs for seconds: the C1 compiler alone and the serial GC start and finish it about twice as fast.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def cache_dir(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("LITE_TOOLS_APK_CACHE") or Path.home() / ".cache" / "lite-tools-apk")


@dataclasses.dataclass(frozen=True)
class Toolchain:
    root: Path  # the extracted packages

    @property
    def aapt(self) -> Path:
        return self.root / BUILD_TOOLS / "aapt"

    @property
    def aapt2(self) -> Path:
        return self.root / BUILD_TOOLS / "aapt2"

    @property
    def zipalign(self) -> Path:
        return self.root / BUILD_TOOLS / "zipalign"

    @property
    def framework_res(self) -> Path:
        return self.root / "usr/share/android-framework-res/framework-res.apk"

    @property
    def android_jar(self) -> Path:
        return self.root / "usr/share/java/com.android.android-23.jar"

    @property
    def dx(self) -> list:
        return ["java", *JVM_FLAGS, "-jar", str(self._one("usr/share/java/com.android.dx-*.jar"))]

    @property
    def apksigner(self) -> list:
        """apksigner.jar's manifest names /usr/share/java/apksig.jar: give the cached one on the class path."""
        jars = [self._one("usr/share/java/apksigner-*.jar"), self._one("usr/share/java/apksig-*.jar")]
        return ["java", *JVM_FLAGS, "-cp", ":".join(map(str, jars)), "com.android.apksigner.ApkSignerTool"]

    @property
    def javac(self) -> list:
        """Java 8 class files against API 23's android.jar: a Java API the phone lacks does not compile."""
        return ["javac", *(f"-J{f}" for f in JVM_FLAGS), "-source", "8", "-target", "8", "-proc:none",
                "-bootclasspath", str(self.android_jar), "-Xlint:-options", "-encoding", "UTF-8"]

    @property
    def keystore(self) -> Path:
        return self.root.parent / "debug.keystore"

    def _one(self, pattern: str) -> Path:
        found = sorted(glob.glob(str(self.root / pattern)))
        if not found:
            raise ToolFailure(f"the APK toolchain in {self.root} has no {pattern}: remove {self.root.parent} "
                              "to fetch it again")
        return Path(found[-1])

    def env(self) -> dict:
        """The environment the extracted native tools run in: their libraries first, then the system's."""
        lib = self.root / "usr/lib"
        dirs = [*glob.glob(f"{lib}/*-linux-gnu/android"), *glob.glob(f"{lib}/*-linux-gnu"), str(lib), f"{lib}/p7zip"]
        old = os.environ.get("LD_LIBRARY_PATH")
        return dict(os.environ, LD_LIBRARY_PATH=":".join(dirs + ([old] if old else [])))

    def attempt(self, cmd: list, what: str, cwd=None) -> subprocess.CompletedProcess:
        """Run a tool in env(); its exit status is the caller's to judge."""
        try:
            return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=self.env(), cwd=cwd,
                                  timeout=600)
        except FileNotFoundError as e:
            raise ToolFailure(f"{what}: {e.filename} not found") from None

    def run(self, cmd: list, what: str, cwd=None) -> str:
        """Run a tool; ToolFailure naming `what` with the tool's first error line when it fails."""
        proc = self.attempt(cmd, what, cwd)
        if proc.returncode != 0:
            raise ToolFailure(f"{what} failed: {first_error(proc.stderr + proc.stdout)}")
        return proc.stdout


def first_error(output: str) -> str:
    """A tool's first line that says error or exception (else its first line), for a one-line message."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()] or ["(no output)"]
    found = [ln for ln in lines if re.search(r"error|exception", ln, re.I)]
    return (found or lines)[0][:300]


def ensure(cache=None, progress=None) -> Toolchain:
    """The cached toolchain, fetched first when the cache has none (about 35 MB of .deb files, once)."""
    cache = (Path(cache) if cache else cache_dir()).absolute()  # the tools run in other working directories
    marker = cache / "toolchain.json"
    if marker.is_file():  # the tree is always cache/root: a cache restored elsewhere (CI) still works
        toolchain = _usable(Toolchain(cache / "root"))
        _debug_key(toolchain.keystore)
        return toolchain
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise BadInput(f"--apk needs {tool} (it builds with Debian's packaged Android tools, fetched into "
                           f"{cache}); this machine has none: build the project with Gradle instead")
    (progress or (lambda m: None))(f"apk: fetching Debian's Android build tools into {cache} (once)")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=cache))
    except OSError as e:
        raise BadInput(f"cannot write the APK toolchain's cache {cache}: {e.strerror or e} (set "
                       "LITE_TOOLS_APK_CACHE to a writable folder)") from None
    try:
        mirror = debian_mirror()
        root = work / "root"
        for suite, packages, how in FETCHES:
            for deb in _download(work / suite, mirror, suite, packages, how):
                proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
                if proc.returncode != 0:
                    raise ToolFailure(f"dpkg-deb -x {deb.name} failed: {first_error(proc.stderr)}")
        final = cache / "root"
        try:
            root.rename(final)
        except OSError:  # another process finished first: use its tree
            pass
        toolchain = _usable(Toolchain(final))
        _debug_key(toolchain.keystore)
        _write_atomic(marker, json.dumps({"format": FORMAT, "root": "root",
                                          "packages": [p for _, ps, _ in FETCHES for p in ps]}, indent=1) + "\n")
        return toolchain
    finally:
        shutil.rmtree(work, ignore_errors=True)


def debian_mirror() -> str:
    """The first non-security Debian URI this machine's apt uses (as scripts/fetch_lib.sh's debian_mirror)."""
    texts = []
    for name in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*"))]:
        try:
            texts.append(Path(name).read_text(errors="replace"))
        except OSError:
            continue
    for line in "\n".join(texts).splitlines():
        if re.match(r"\s*(URIs:|deb\s)", line) and "security" not in line.lower():
            found = re.search(r"https?://\S+/debian\b", line)
            if found:
                return found.group(0)
    raise BadInput("--apk fetches Debian's Android build tools from this machine's Debian mirror, and /etc/apt "
                   "names none")


def _download(state: Path, mirror: str, suite: str, packages: tuple, how: str) -> list:
    """apt-get on a private state under `state` reading only `mirror suite main`; the downloaded .deb files."""
    for sub in ("lists/partial", "cache/archives/partial", "etc"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "etc/sources.list").write_text(f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                            f"{mirror} {suite} main\n")
    opts = ["-o", f"Dir::Etc::SourceList={state}/etc/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={state}/lists", "-o", f"Dir::Cache={state}/cache", "-o", "Debug::NoLocking=1",
            "-o", "APT::Get::List-Cleanup=0", "-o", "APT::Sandbox::User=root", "-o", "Acquire::Retries=3"]
    _retry(f"apt-get update ({suite})", ["apt-get", "-qq", *opts, "update"], clean=state / "lists")
    if how == "closure":
        _retry(f"apt-get install --download-only {' '.join(packages)}",
               ["apt-get", "-qq", *opts, "install", "--download-only", "--no-install-recommends", "-y", *packages])
        return sorted((state / "cache/archives").glob("*.deb"))
    _retry(f"apt-get download {' '.join(packages)}", ["apt-get", "-qq", *opts, "download", *packages], cwd=state)
    return sorted(state.glob("*.deb"))


def _retry(what: str, cmd: list, cwd=None, clean: Path | None = None) -> None:
    """Mirrors fail transiently: try NETWORK_TRIES times, 5/10/15 s apart, the half-fetched lists removed between."""
    for attempt in range(1, NETWORK_TRIES + 1):
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
        if proc.returncode == 0:
            return
        if attempt == NETWORK_TRIES:
            raise ToolFailure(f"fetching the APK toolchain: {what} failed {NETWORK_TRIES} times: "
                              f"{first_error(proc.stderr + proc.stdout)}")
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
            (clean / "partial").mkdir(parents=True, exist_ok=True)
        time.sleep(5 * attempt)


def _usable(toolchain: Toolchain) -> Toolchain:
    """Every tool there, and every library the native ones need found (in the cache or on this machine, 7z.so
    included): `ldd` names one that is not, as the dynamic loader would at the first build."""
    for path in (toolchain.aapt, toolchain.aapt2, toolchain.zipalign, toolchain.framework_res, toolchain.android_jar):
        if not path.is_file():
            raise ToolFailure(f"the APK toolchain has no {path}: remove {toolchain.root.parent} to fetch it again")
    if shutil.which("ldd"):
        for tool in (toolchain.aapt, toolchain.aapt2, toolchain.zipalign):
            missing = re.findall(r"^\s*(\S+) => not found", toolchain.run(["ldd", tool], f"ldd {tool.name}"), re.M)
            if missing:
                raise ToolFailure(f"{tool.name} from Debian's packages needs {', '.join(missing)}, found neither in "
                                  f"{toolchain.root} nor on this machine: remove {toolchain.root.parent} to fetch "
                                  "the packages again")
    toolchain.run([toolchain.aapt2, "version"], "aapt2 version (the cached APK toolchain)")
    return toolchain


def _debug_key(keystore: Path) -> None:
    """A debug signing key as the Android SDK makes one (alias androiddebugkey, password android), made once."""
    if keystore.is_file():
        return
    tmp = keystore.with_name(f".{keystore.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    proc = subprocess.run(["keytool", "-genkeypair", "-keystore", str(tmp), "-storetype", "PKCS12",
                           "-storepass", KEY_PASSWORD, "-keypass", KEY_PASSWORD, "-alias", KEY_ALIAS, "-keyalg", "RSA",
                           "-keysize", "2048", "-validity", "10000", "-dname", "CN=Android Debug,O=Android,C=US"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolFailure(f"keytool (making the debug signing key) failed: {first_error(proc.stderr + proc.stdout)}")
    try:
        os.link(tmp, keystore)  # never replaces a key another process made meanwhile (APKs signed with it)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    from ..errors import LiteToolsError

    try:
        found = ensure(progress=lambda m: print(m, file=sys.stderr))
    except LiteToolsError as e:
        print(f"fetch_apk_tools: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    print(found.root.parent)
