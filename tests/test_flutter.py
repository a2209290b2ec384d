"""The Flutter demo: pubspec and assets, the MethodChannel contract agreeing on both sides, the Java host compiled
against API 23 with the shared core and with no lambda or method reference in its class files (dx at minSdk 23),
and the core being the very same code as the Android project's."""

from __future__ import annotations

import re

import pytest
import yaml

from lite_tools.codegen import project as codegen
from lite_tools.codegen.flutter import CHANNEL
from lite_tools.config import resolve
from conftest import run_cli
from javatools import app_sources, assert_dexable, compile_stubs, javac

PACKAGE = "com.example.flutterdemo"


@pytest.fixture(scope="module")
def projects(tmp_path_factory, zoo_dir):
    root = tmp_path_factory.mktemp("flutter")
    made = {}
    for kind in ("flutter", "android"):
        out = root / kind
        codegen.generate(kind, zoo_dir("SSD_MobileNetV1_300"), resolve(preset="ssd-mobilenet-300"), out,
                         app_name="Detector Demo", package=PACKAGE)
        made[kind] = out
    return made


def _consts(text: str, pattern: str) -> dict:
    """{normalised constant name: value}: kKeyImageWidth and KEY_IMAGE_WIDTH both become KEYIMAGEWIDTH."""
    return {re.sub(r"^K(?=[A-Z])", "", name.replace("_", "").upper()) if name.startswith("k") else
            name.replace("_", "").upper(): value for name, value in re.findall(pattern, text)}


def test_channel_contract_agrees_on_both_sides(projects):
    flutter = projects["flutter"]
    dart = _consts((flutter / "lib/channel_contract.dart").read_text(), r'const String (\w+) = "([^"]*)";')
    java = _consts((flutter / f"android/app/src/main/java/{PACKAGE.replace('.', '/')}/ChannelContract.java")
                   .read_text(), r'static final String (\w+) = "([^"]*)";')
    assert dart == java and len(dart) == len(CHANNEL)
    assert sorted(dart.values()) == sorted(CHANNEL.values())
    main = (flutter / "lib/main.dart").read_text()
    used = set(re.findall(r"\bk[A-Z]\w+", main))
    declared = set(re.findall(r"const String (\w+)", (flutter / "lib/channel_contract.dart").read_text()))
    assert used <= declared and {"kKeyX0", "kKeyImageWidth", "kMethodRun", "kKeyAttributes"} <= used


def test_dart_scales_host_pixels_by_widget_size_only(projects):
    """Boxes arrive in photo pixels: Dart must divide by the photo size from the host, never by the model input."""
    main = (projects["flutter"] / "lib/main.dart").read_text()
    assert "size.width / photoSize.width" in main and "size.height / photoSize.height" in main
    assert not re.search(r"\b(300|224|320|416)\b", main)


def test_dart_parses(projects, dart_parse, tmp_path):
    """No Dart SDK here: tree-sitter's Dart grammar checks the syntax, and provably rejects a broken file."""
    lib = projects["flutter"] / "lib"
    ok, message = dart_parse(lib / "main.dart", lib / "channel_contract.dart")
    assert ok, message
    source = (lib / "main.dart").read_text()
    statement = "final sx = size.width / photoSize.width;"
    line = source[: source.index(statement)].count("\n") + 1
    broken = tmp_path / "broken.dart"
    broken.write_text(source.replace(statement, statement[:-1]))  # drop one semicolon
    ok, message = dart_parse(broken)
    assert not ok and f"broken.dart:{line}:" in message


def test_pubspec_and_assets(projects):
    flutter = projects["flutter"]
    spec = yaml.safe_load((flutter / "pubspec.yaml").read_text())
    assert re.fullmatch(r"[a-z][a-z0-9_]*", spec["name"]) and spec["name"] == "detector_demo"
    assert "flutter" in spec["dependencies"] and "image_picker" in spec["dependencies"]
    for asset in spec["flutter"]["assets"]:
        assert (flutter / asset).is_file(), asset
    assert (flutter / "android/app/src/main/assets/model.nb").is_file()
    for path in flutter.rglob("*"):
        if path.is_file() and path.suffix != ".nb":
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text and "{%" not in text, path


def test_one_copy_of_the_java_core(projects):
    """The Flutter host's core, Predictor and fetch script are the Android project's, byte for byte."""
    a, f = projects["android"] / "app", projects["flutter"] / "android/app"
    pkg = PACKAGE.replace(".", "/")
    for rel in ["src/main/java/com/litetools/core/" + n for n in
                ("Preprocessor.java", "Cv2Resampler.java", "PilResampler.java", "ExifOrientation.java",
                 "ClassificationPostprocessor.java",
                 "SsdPostprocessor.java", "MultiLabelPostprocessor.java", "Labels.java",
                 "DeployConstants.java")] + [f"src/main/java/{pkg}/Predictor.java",
                                             f"src/main/java/{pkg}/ImageLoader.java", "paddle_lite.gradle"]:
        assert (a / rel).read_bytes() == (f / rel).read_bytes(), rel


def test_host_gradle_files_parse_with_groovy(projects, groovy_parse):
    gradle = sorted((projects["flutter"] / "android").rglob("*.gradle"))
    assert len(gradle) == 4
    ok, message = groovy_parse(*gradle)
    assert ok, message


def test_java_host_compiles_against_api_23_without_lambdas(projects, android_jar, tmp_path):
    stubs = compile_stubs(android_jar, tmp_path / "stubs")
    javac(app_sources(projects["flutter"] / "android"), tmp_path / "classes", android_jar, classpath=[stubs])
    assert_dexable(tmp_path / "classes")


def test_flutter_cli_refuses_an_existing_dir(zoo_dir, tmp_path):
    (tmp_path / "app").mkdir()
    proc = run_cli("flutter", zoo_dir("PULC_person_exists"), "--preset", "pulc-person-exists", "--out",
                   tmp_path / "app")
    assert proc.returncode == 2 and "--force" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def attribute_project(tmp_path_factory, zoo_dir):
    out = tmp_path_factory.mktemp("flutter-attributes") / "app"
    codegen.generate("flutter", zoo_dir("PULC_person_attribute"), resolve(preset="pulc-person-attribute"), out,
                     app_name="Attribute Demo", package=PACKAGE)
    return out


def test_multilabel_flutter_project(attribute_project, android_jar, dart_parse, tmp_path):
    """A multilabel model's Flutter demo: rendered, its host (which puts the attributes into the reply under the
    contract's key) compiled against API 23 and dexable, its Dart parsed."""
    host = attribute_project / "android"
    constants = (host / "app/src/main/java/com/litetools/core/DeployConstants.java").read_text()
    assert 'TASK = "multilabel"' in constants and 'POSTPROCESS = "PersonAttribute"' in constants
    activity = (host / f"app/src/main/java/{PACKAGE.replace('.', '/')}/MainActivity.java").read_text()
    assert "reply.put(ChannelContract.KEY_ATTRIBUTES, attributes);" in activity
    stubs = compile_stubs(android_jar, tmp_path / "stubs")
    javac(app_sources(host), tmp_path / "classes", android_jar, classpath=[stubs])
    assert_dexable(tmp_path / "classes")
    lib = attribute_project / "lib"
    ok, message = dart_parse(lib / "main.dart", lib / "channel_contract.dart")
    assert ok, message
    assert "kKeyAttributes" in (lib / "main.dart").read_text()
