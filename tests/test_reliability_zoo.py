"""Regression tests for the reliability probe (../shared/probes/reliability-2026-12-01.md) on `lite-tools zoo export`:
it follows the rule for output folders (lite_tools/outputs.py): a user's files are never overwritten, a folder an
earlier export wrote is re-exported into, all at once; and a read-only HOME only costs the cache (O45). Real CLI."""

from __future__ import annotations

import json
import shlex

from conftest import refused, run_cli, tree_digest
from lite_tools.cache import sha256_file
from lite_tools.outputs import MARKER
from test_reliability_cache import in_mount_ns, read_only, warned_once

SMALL, PERSON = "PPLCNet_x0_25", "PULC_person_exists"


def export(name, out, *extra, env=None):
    return run_cli("zoo", "export", name, "--out", out, *extra, env=env)


def leftovers(folder) -> list:
    """Hidden work folders of ours (`.lite-tools-*`) in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".lite-tools-") and p.is_dir())


def exported_as(out, name, zoo_dir) -> None:
    """OUT holds `name`'s export, byte for byte, and our marker listing exactly those files."""
    src = zoo_dir(name)
    for f in src.iterdir():
        assert sha256_file(out / f.name) == sha256_file(f), f.name
    marker = json.loads((out / MARKER).read_text())
    assert marker["written_by"] == "lite-tools zoo export"
    assert marker["files"] == sorted(f.name for f in src.iterdir())


def test_zoo_export_never_overwrites_user_files(tmp_path):
    """`zoo export NAME --out DIR` copied over files of the same name in an existing folder: a user's own
    inference.pdmodel was replaced without a word. A folder holding files lite-tools did not write is refused, in
    one line, with and without --force; the user's files stay byte-identical and nothing is left beside them."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "inference.pdmodel").write_bytes(b"my own program, not a zoo export")
    (out / "notes.txt").write_text("mine\n")
    before = tree_digest(out)
    for extra in ((), ("--force",)):
        refused(export(SMALL, out, *extra), str(out), "holds files lite-tools did not write",
                "remove them yourself or choose another folder")
        assert tree_digest(out) == before
        assert sorted(p.name for p in out.iterdir()) == ["inference.pdmodel", "notes.txt"]
        assert leftovers(tmp_path) == []


def test_zoo_export_twice_into_the_same_folder_works(tmp_path, zoo_dir):
    """Exporting again into the folder an earlier `zoo export` wrote is a re-export (no --force needed): the new
    export replaces what the marker lists, files the user added beside it stay, and the copy is staged and moved
    in at once (no work folder left)."""
    out = tmp_path / "m"
    first = export(SMALL, out)
    assert first.returncode == 0, first.stderr
    exported_as(out, SMALL, zoo_dir)
    (out / "notes.txt").write_text("mine\n")
    again = export(PERSON, out)
    assert again.returncode == 0, again.stderr
    exported_as(out, PERSON, zoo_dir)
    assert (out / "notes.txt").read_text() == "mine\n"
    same = export(PERSON, out)
    assert same.returncode == 0, same.stderr
    exported_as(out, PERSON, zoo_dir)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "inference.pdiparams", "inference.pdmodel",
                                                     "lite-tools-weights.json", "notes.txt"]
    assert leftovers(tmp_path) == [] and leftovers(out) == []


def test_zoo_export_replaces_another_commands_output_only_with_force(tmp_path, zoo_dir):
    """A folder another lite-tools command wrote (say a deploy's OUT) is replaced only with --force, as `deploy`
    and `android` replace an existing OUT; then only the files its marker lists go."""
    out = tmp_path / "d"
    out.mkdir()
    (out / "report.json").write_text("{}\n")
    (out / MARKER).write_text(json.dumps({"format": "lite-tools-output/1", "written_by": "lite-tools deploy",
                                          "files": ["report.json"]}))
    refused(export(SMALL, out), str(out), "lite-tools deploy", "--force")
    assert (out / "report.json").read_text() == "{}\n"
    forced = export(SMALL, out, "--force")
    assert forced.returncode == 0, forced.stderr
    exported_as(out, SMALL, zoo_dir)
    assert not (out / "report.json").exists()


def test_O45_zoo_export_with_read_only_home(tmp_path):
    """HOME on a read-only mount and no LITE_TOOLS_CACHE: `paddle.jit.save` could not create
    ~/.cache/paddle/to_static_tmp, a traceback from inside Paddle. Now the export works, with the cache's one
    warning; nothing is written under HOME and no temp folder of ours outlives the run (Paddle's import makes an
    empty $TMPDIR/.cache/paddle/dataset of its own when HOME is not writable: paddle/dataset/common.py)."""
    home, tmpdir, out = tmp_path / "home", tmp_path / "tmp", tmp_path / "m"
    home.mkdir()
    tmpdir.mkdir()
    setup = f"{read_only(home)}\nunset LITE_TOOLS_CACHE\nexport HOME={shlex.quote(str(home))}"
    proc = in_mount_ns(setup, "zoo", "export", SMALL, "--out", out, env={"TMPDIR": str(tmpdir)})
    assert str(home / ".cache" / "lite-tools") in warned_once(proc)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "inference.pdiparams", "inference.pdmodel",
                                                     "lite-tools-weights.json"]
    assert list(home.iterdir()) == []
    assert [p.name for p in tmpdir.iterdir() if p.name != ".cache"] == []
