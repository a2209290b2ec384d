"""Compiling and running the generated Java in tests: real javac and java, Java 8 source level."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

TESTS = Path(__file__).resolve().parent
STUBS = TESTS / "java" / "stubs"
ANDROID_NS = "{http://schemas.android.com/apk/res/android}"


def javac(sources, out_dir: Path, classpath=()) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = ["javac", "--release", "8", "-Xlint:all", "-Xlint:-options", "-Werror", "-encoding", "UTF-8",
           "-d", str(out_dir)]
    if classpath:
        cmd += ["-cp", ":".join(map(str, classpath))]
    proc = subprocess.run(cmd + [str(s) for s in sources], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def compile_stubs(android_jar: Path, out_dir: Path) -> Path:
    """The compile-only Paddle Lite and Flutter declarations (the Flutter ones extend android.app.Activity)."""
    javac(sorted(STUBS.rglob("*.java")), out_dir, classpath=[android_jar])
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
