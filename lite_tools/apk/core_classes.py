"""The Java core's compiled classes (com/litetools/core/*.class), cached by digest in lite_tools.cache.

Why: `deploy --apk` compiled the same core twice, once to run it on the JVM against the reference
(lite_tools.javacheck) and once for the APK (lite_tools.apk.build), each seconds of javac; a deploy run again on the
same model compiled both again. Both compile it the same way (Java 8 class files against API 23's android.jar), so
the second reuses the first's classes. The key is every core source's name and bytes, the android.jar's sha256 and
the javac that compiles (its real path, size and mtime): a changed source, jar or JDK compiles anew. An entry is a
jar of the classes; one that cannot be read counts as none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from .. import cache

KIND = "core-classes"
FORMAT = "lite-tools-core-classes/1 -source 8 -target 8 -bootclasspath"
PACKAGE = "com/litetools/core"


def key(core_dir, android_jar) -> str:
    javac = os.path.realpath(shutil.which("javac") or "javac")
    try:
        st = os.stat(javac)
        compiler = [javac, st.st_size, st.st_mtime_ns]
    except OSError:
        compiler = [javac]
    sources = [(p.name, cache.sha256_file(p)) for p in sorted(Path(core_dir).glob("*.java"))]
    return cache.key_of(FORMAT, sources, cache.sha256_file_remembered(Path(android_jar)), compiler)


def restore(core_dir, android_jar, classes_dir) -> bool:
    """Put the cached classes of the core in `core_dir` into `classes_dir`; False when there are none."""
    hit = cache.get_file(KIND, key(core_dir, android_jar), ".jar")
    if hit is None:
        return False
    try:
        with zipfile.ZipFile(hit) as z:
            names = z.namelist()
            if not names or not all(n.startswith(PACKAGE + "/") and n.endswith(".class") and ".." not in n
                                    for n in names):
                return False
            z.extractall(classes_dir)
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
    return True


def remember(core_dir, android_jar, classes_dir) -> None:
    """Cache the core's classes that javac just wrote under `classes_dir` (a cache that cannot be written only
    costs time next run)."""
    classes = sorted((Path(classes_dir) / PACKAGE).glob("*.class"))
    if not classes:
        return
    with tempfile.TemporaryDirectory(prefix="lite-tools-core-classes-") as tmp:
        jar = Path(tmp) / "core.jar"
        with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as z:
            for path in classes:
                z.write(path, f"{PACKAGE}/{path.name}")
        cache.put_file(KIND, key(core_dir, android_jar), ".jar", jar)
