"""The one rule for output folders (OUT of `android`, `flutter`, `deploy`; OUT/NAME of each batch entry).

Why: `--force` and batch jobs used to `rmtree` OUT, which deleted the user's model when OUT was, or held, the export.
- OUT that is, or is an ancestor of, any input (model folder or files, images, config, labels, batch file;
  compared as real paths, symlinks resolved) is refused. OUT inside an input folder is fine: it deletes nothing.
- OUT that is a symbolic link is refused (we never replace a link, nor delete through one).
- Every folder we create carries MARKER, listing the relative paths we wrote. Replacing OUT deletes only those
  (then empty folders); what else the user put there stays. A non-empty OUT without a valid marker is refused,
  with or without --force.
- The new content is staged beside OUT and moved in at the end; a path we would write that holds something not
  ours is refused before anything is deleted. Moving in is all or nothing (OUT swapped whole, or staging.move_all):
  a replace that fails puts the old files back, so OUT never holds a mix of old and new outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from .errors import BadInput
from .staging import move_all, signals_held

MARKER = ".lite-tools-output.json"
FORMAT = "lite-tools-output/1"


def _real(path) -> Path:
    return Path(os.path.realpath(path))


def parent_of(out) -> Path:
    """The folder OUT sits in, where its staging folder goes: `--out .` has the parent `..`, not `.` itself."""
    return Path(os.path.abspath(out)).parent


def refuse_inputs(out, inputs) -> None:
    """BadInput when `out` is or contains one of `inputs` (None entries are skipped)."""
    target = _real(out)
    for given in inputs:
        if not given:
            continue
        real = _real(given)
        if real == target or target in real.parents:
            how = "is" if real == target else "contains"
            raise BadInput(f"{out}: {how} the input {given}; lite-tools never creates or replaces an output "
                           "folder that holds its inputs: choose another output folder")


def read_marker(out) -> list | None:
    """The relative paths our marker in `out` lists, or None when it has no valid marker."""
    marker = Path(out) / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) and data.get("format") == FORMAT else None
    if not isinstance(files, list) or not all(isinstance(f, str) and _safe_rel(f) for f in files):
        return None  # a marker naming "../x" or "/x" is not ours
    return files


def written_by(out) -> str | None:
    """The command a valid marker in `out` names (`lite-tools deploy`, ...), or None."""
    if read_marker(out) is None:
        return None
    try:
        writer = json.loads((Path(out) / MARKER).read_text(encoding="utf-8")).get("written_by")
    except (OSError, ValueError):
        return None
    return writer if isinstance(writer, str) else None


def _stamp(path: Path) -> list:
    """[size, mtime in ns] of a file or link as it is (not followed): what tells that someone rewrote it."""
    st = os.lstat(path)
    return [st.st_size, st.st_mtime_ns]


def changed_since_written(out) -> list:
    """The files our marker in `out` lists that are no longer as we wrote them (size or mtime differ), for a
    replacement nobody asked for with --force (`zoo export` into its own earlier export). Markers older than
    stamps record none, so nothing counts as changed there."""
    try:
        stamps = json.loads((Path(out) / MARKER).read_text(encoding="utf-8")).get("stamps") or {}
        recorded = {k: list(v) for k, v in stamps.items() if isinstance(k, str) and isinstance(v, list)}
    except (OSError, ValueError, AttributeError, TypeError):
        return []
    changed = []
    for rel, stamp in sorted(recorded.items()):
        try:
            if _safe_rel(rel) and _stamp(Path(out) / rel) != stamp:
                changed.append(rel)
        except OSError:
            pass  # gone: nothing of the user's to keep
    return changed


def _safe_rel(rel: str) -> bool:
    p = PurePosixPath(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts and str(p) == rel and rel != MARKER


def check_destination(out, replace: bool, inputs=(), create_parent: bool = True) -> Path:
    """Refuse an OUT we may not create (or, with `replace`, replace), before any work starts; then create its
    parent (with `create_parent`) and check that we can write there."""
    out = Path(out)
    if out.is_symlink():
        raise BadInput(f"{out}: is a symbolic link (to {os.readlink(out)}); lite-tools never replaces a link or "
                       "deletes through one: give the real folder or another output folder")
    refuse_inputs(out, inputs)
    if out.exists():
        if not out.is_dir():
            raise BadInput(f"{out}: exists and is not a directory")
        try:
            has_files = any(out.iterdir())
        except OSError as e:
            raise BadInput(f"{out}: cannot be listed ({e.strerror or e})") from None
        if has_files and read_marker(out) is None:
            raise BadInput(f"{out}: is not a lite-tools output (no {MARKER}), so it is never replaced, even with "
                           "--force: remove it yourself or choose another output folder")
        if not replace:
            raise BadInput(f"{out}: exists; pass --force to replace it")
    if not create_parent:
        return out
    try:
        parent_of(out).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=parent_of(out)).close()
    except OSError as e:
        raise BadInput(f"{out}: cannot write there ({e.strerror or e})") from None
    return out


def _listing(root: Path) -> list:
    """Relative POSIX paths of every file and symlink below `root` (links are listed, never followed)."""
    found = []
    for folder, dirs, names in os.walk(root):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found.append(Path(folder, name).relative_to(root).as_posix())
    return sorted(found)


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _entries(root: Path) -> set:
    """Relative POSIX paths of everything below `root`: files, links and folders."""
    found = set()
    for folder, dirs, names in os.walk(root):
        found.update(Path(folder, n).relative_to(root).as_posix() for n in dirs + names)
    return found


def _swap(staging: Path, out: Path) -> bool:
    """Make `staging` OUT by moving the old OUT aside (into staging's parent) first; False, and nothing changed,
    when OUT cannot be moved (a mount point, say)."""
    aside = staging.parent / f"previous-{out.name}"
    with signals_held():  # a SIGTERM between the two renames would leave no OUT at all
        try:
            os.rename(out, aside)
        except OSError:
            return False
        try:
            os.rename(staging, out)
        except OSError as e:
            os.rename(aside, out)
            raise BadInput(f"{out}: cannot be replaced ({e.strerror or e}); it keeps its previous outputs") from None
    shutil.rmtree(aside, ignore_errors=True)
    return True


@contextlib.contextmanager
def changing(folder, say=None):
    """Hold an exclusive lock on an existing output folder for a read-modify-write (`gallery add`, `gallery
    remove`): two runs at once would each read the old contents, and the later install would drop the entries the
    earlier one added. A second run waits (saying so through `say`). install() may swap the folder for a new one,
    so the lock is taken again until it is on the folder the path names now."""
    folder = Path(folder)
    said = False
    while True:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as e:
            raise BadInput(f"{folder}: cannot be opened ({e.strerror or e})") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if say and not said:
                    say(f"{folder}: another lite-tools run is changing it; waiting for it to finish")
                    said = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(fd), os.stat(folder)):
                break
        except FileNotFoundError:
            os.close(fd)
            raise BadInput(f"{folder}: was removed while this run waited for it") from None
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the other run replaced the folder: lock the new one
    try:
        yield
    finally:
        os.close(fd)


def install(staging: Path, out: Path, command: str) -> None:
    """Write the marker into `staging` and make it OUT, replacing only what OUT's marker lists.
    `staging`'s parent must be our private folder (lite_tools.staging): the old OUT is moved aside there."""
    staging, out = Path(staging), Path(out)
    new = _listing(staging)
    stamps = {rel: _stamp(staging / rel) for rel in new}  # renames keep them: they describe the files in OUT
    (staging / MARKER).write_text(json.dumps({"format": FORMAT, "written_by": f"lite-tools {command}",
                                              "files": new, "stamps": stamps}, indent=1) + "\n", encoding="utf-8")
    if not os.path.lexists(out):
        os.rename(staging, out)
        return
    check_destination(out, replace=True, create_parent=False)  # again: OUT may have changed while we worked
    old = set(read_marker(out) or ())
    for rel in sorted(old | set(new)):  # nothing is deleted until every path we touch proved ours
        parts = PurePosixPath(rel).parts
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            here = out / prefix
            last = i == len(parts)
            if not os.path.lexists(here) or (not last and _is_real_dir(here)):
                continue
            if not last and here.is_symlink():
                raise BadInput(f"{here}: is a symbolic link; lite-tools never writes or deletes through one: "
                               "remove it yourself")
            if prefix in old and not _is_real_dir(here):
                break  # a file we wrote: it goes
            if prefix not in old and (not last or rel in new):
                raise BadInput(f"{here}: exists and was not written by lite-tools: remove it yourself or choose "
                               "another output folder")
            if last and rel in new:
                raise BadInput(f"{here}: is now a folder, not the file lite-tools wrote: remove it yourself")
    old_dirs = {p.as_posix() for rel in old for p in PurePosixPath(rel).parents if str(p) != "."}
    if _entries(out) <= old | old_dirs | {MARKER} and _swap(staging, out):
        return
    for rel in new:  # the user's own files stay (or OUT cannot be moved): move ours in beside them, all or none
        try:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BadInput(f"{(out / rel).parent}: cannot write there ({e.strerror or e})") from None
    move_all([(staging / rel, out / rel) for rel in new] + [(staging / MARKER, out / MARKER)],
             staging.parent / "previous-files")
    for rel in old - set(new):  # ours, no longer written
        here = out / rel
        if os.path.lexists(here) and not _is_real_dir(here):
            here.unlink()
    for folder in sorted(old_dirs, key=lambda p: -p.count("/")):
        try:
            (out / folder).rmdir()  # only when empty
        except OSError:
            pass
