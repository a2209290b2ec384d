"""scripts/setup.sh: a clear failure without a usable CPython, and nothing to do when nothing changed."""

from __future__ import annotations

import os
import shutil
import subprocess

from conftest import REPO


def test_no_suitable_python_is_a_clear_failure(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sha256sum", "cut", "dirname", "rm", "touch", "head"):  # what the script needs, no python
        os.symlink(shutil.which(tool), bin_dir / tool)
    proc = subprocess.run(["bash", "scripts/setup.sh"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert "no CPython 3.8-3.10 found" in proc.stderr and "pyenv install 3.10" in proc.stderr
    assert not (tmp_path / ".venv").exists()


def test_setup_is_a_no_op_when_nothing_changed():
    """The test run itself came through setup.sh, so the stamp for this pyproject.toml exists."""
    proc = subprocess.run(["bash", "scripts/setup.sh"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
