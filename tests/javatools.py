"""Compiling and running the generated Java in tests: real javac, javap and java. Everything is compiled as Android's
minSdk 23 sees it: Java 8 source and class files against API 23's android.jar as the boot class path, so a Java API
above API 23 does not compile, and the class files must hold no invokedynamic (a lambda or method reference, which
`dx` cannot dex at minSdk 23 without D8's desugaring)."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

TESTS = Path(__file__).resolve().parent
STUBS = TESTS / "java" / "stubs"  # Flutter's embedding API, compile-only
# Paddle Lite's Java API, compile-only: shipped with the package, for `--apk` without the user's jar
PADDLE_LITE_API = TESTS.parent / "lite_tools" / "java" / "paddle_lite_api"
ANDROID_NS = "{http://schemas.android.com/apk/res/android}"


def javac_command(out_dir: Path, android_jar: Path, classpath=()) -> list:
    """-Xlint:-options: javac warns about -source 8 itself, which -Werror would turn into a failure."""
    cmd = ["javac", "-source", "8", "-target", "8", "-bootclasspath", str(android_jar), "-Xlint:all",
           "-Xlint:-options", "-Werror", "-encoding", "UTF-8", "-d", str(out_dir)]
    return cmd + (["-cp", ":".join(map(str, classpath))] if classpath else [])


def javac(sources, out_dir: Path, android_jar: Path, classpath=()) -> None:
    """Compile against API 23 (see the module docstring); cwd is out_dir, where a crashing javac drops its args file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(javac_command(out_dir, android_jar, classpath) + [str(s) for s in sources],
                          capture_output=True, text=True, cwd=out_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def undexable_sites(classes_dir: Path) -> list:
    """'class member: why' for what dx cannot dex at minSdk 23, read from the class files with javap -c -p: every
    invokedynamic (javac -target 8 emits it only for lambdas and method references; string concatenation stays
    StringBuilder), and every default or static interface method."""
    classes = sorted(Path(classes_dir).rglob("*.class"))
    assert classes, f"no class files under {classes_dir}"
    proc = subprocess.run(["javap", "-c", "-p", *map(str, classes)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    sites, owner, member = [], "?", "?"
    for line in proc.stdout.splitlines():
        if not line.startswith((" ", "Compiled from")) and line.rstrip().endswith("{"):
            owner = line.strip().rstrip("{ ")
        elif line.startswith("  ") and not line.startswith("   ") and line.strip():
            member = line.strip()
            if re.search(r"\binterface\b", owner) and re.search(r"\b(default|static)\b.*\(", member):
                sites.append(f"{owner} {member}: an interface method with a body")
        if re.search(r"\binvokedynamic\b", line):
            sites.append(f"{owner} {member}: {line.strip()}")
    return sites


def assert_dexable(classes_dir: Path) -> None:
    """No lambda, method reference or interface method body survived into the class files."""
    sites = undexable_sites(classes_dir)
    assert not sites, "not dexable at minSdk 23 (dx, no desugaring):\n" + "\n".join(sites)


def build_harness(sources, harness: Path, out_dir: Path, android_jar: Path) -> str:
    """Compile the core `sources` as the app sees them (checked dexable) and a test `harness` against them, under
    `out_dir`; return the classpath to run the harness with."""
    core, classes = Path(out_dir) / "core", Path(out_dir) / "harness"
    javac(sources, core, android_jar)
    assert_dexable(core)
    javac([harness], classes, android_jar, classpath=[core])
    return f"{core}:{classes}"


def compile_stubs(android_jar: Path, out_dir: Path) -> Path:
    """The compile-only Paddle Lite and Flutter declarations (the Flutter ones extend android.app.Activity)."""
    javac(sorted(STUBS.rglob("*.java")) + sorted(PADDLE_LITE_API.rglob("*.java")), out_dir, android_jar)
    return out_dir


def app_sources(project: Path) -> list:
    return sorted((project / "app/src/main/java").rglob("*.java"))


def write_r_class(project: Path, package: str, out_dir: Path) -> Path:
    """The R class AAPT would generate, from the project's own resources (so a missing id fails to compile)."""
    res = project / "app/src/main/res"
    ids, layouts, strings = set(), set(), set()
    for layout in (res / "layout").glob("*.xml"):
        layouts.add(layout.stem)
        for el in ET.parse(layout).iter():
            value = el.get(ANDROID_NS + "id", "")
            if value.startswith("@+id/"):
                ids.add(value[5:])
    for el in ET.parse(res / "values" / "strings.xml").getroot():
        strings.add(el.get("name"))

    def block(kind, names):
        fields = "".join(f"        public static final int {n} = 0x7f{i:06x};\n" for i, n in enumerate(sorted(names)))
        return f"    public static final class {kind} {{\n{fields}    }}\n"
    path = out_dir / package.replace(".", "/") / "R.java"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"package {package};\n\npublic final class R {{\n{block('id', ids)}{block('layout', layouts)}"
                    f"{block('string', strings)}}}\n")
    return path


def balanced(text: str) -> bool:
    """Brackets balance once strings and comments are removed (a light syntax check for Gradle's Groovy)."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', text)
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack
