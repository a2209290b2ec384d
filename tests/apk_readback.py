"""Reading a built APK back as an installer and the app would (tests/test_apk.py, tests/test_deploy_apk.py): aapt's
`dump badging` and androguard (a Python APK/DEX parser), two readers independent of the build."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

CORE = "app/src/main/java/com/litetools/core"


def badging(apk_tools, apk: Path) -> str:
    return apk_tools.run([apk_tools.aapt, "dump", "badging", apk], "aapt dump badging")


def androguard_apk(apk: Path):
    from androguard.core.apk import APK
    from loguru import logger

    logger.remove()  # androguard logs every parsed chunk at DEBUG
    return APK(str(apk))


def dex_classes(parsed) -> set:
    """Class names (com/litetools/core/Labels) in every classes*.dex, by androguard's DEX parser."""
    from androguard.core.dex import DEX

    return {c.get_name()[1:-1] for dex in parsed.get_all_dex() for c in DEX(dex).get_classes()}


def assert_reads_back(apk_tools, result, project: Path, nb_sha256: dict) -> set:
    """What an installer and the app see, from two readers; nb_sha256: asset name -> the manifest's sha256."""
    apk = result.path
    assert apk == project / "app/build/outputs/apk/debug/app-debug.apk" and apk.is_file()
    text = badging(apk_tools, apk)
    assert f"package: name='{result.package}'" in text, text
    assert "sdkVersion:'23'" in text, text
    assert f"launchable-activity: name='{result.package}.MainActivity'" in text, text
    assert "uses-permission: name='android.permission.CAMERA'" in text, text
    parsed = androguard_apk(apk)
    assert parsed.get_package() == result.package and parsed.get_min_sdk_version() == "23"
    assert parsed.get_main_activity() == f"{result.package}.MainActivity"
    assert "android.permission.CAMERA" in parsed.get_permissions()
    assert parsed.is_signed_v1() and parsed.is_signed_v2()
    with zipfile.ZipFile(apk) as z:
        for name, sha in nb_sha256.items():
            entry = z.getinfo(f"assets/{name}")
            assert entry.compress_type == zipfile.ZIP_STORED, name  # noCompress: memory-mapped by the app
            assert hashlib.sha256(parsed.get_file(f"assets/{name}")).hexdigest() == sha, name
    classes = dex_classes(parsed)
    core = {f"com/litetools/core/{p.name.split('.')[0]}" for p in (project / CORE).glob("*.java")}
    assert core and core <= classes, sorted(core - classes)
    assert f"{result.package.replace('.', '/')}/R" in classes  # aapt2's R, compiled with the app
    assert not [c for c in classes if c.startswith(("com/baidu/", "io/flutter/"))]  # the stubs stay out
    tests = project / "app/src/test/java"
    test_classes = {str(p.relative_to(tests).with_suffix("")) for p in tests.rglob("*.java")}
    assert not test_classes & classes  # src/test is never dexed
    return classes
