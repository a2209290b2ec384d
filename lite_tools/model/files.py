"""Find the model/params pair of an export and reject what Paddle Lite cannot read, before it sees it."""

from __future__ import annotations

import collections
import errno
import os
import stat
from pathlib import Path

from ..errors import BadInput

# Export layouts users hold: PaddleClas writes inference.*, PaddleDetection writes model.*.
KNOWN_STEMS = ("inference", "model")

_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class ModelFiles(collections.namedtuple("ModelFiles", "model_file param_file")):
    __slots__ = ()  # a namedtuple, not a dataclass: `opt` imports this, and dataclasses costs ~8 ms to import

    @property
    def stem(self) -> str:
        return self.model_file.stem


def _pir_error(path: Path) -> BadInput:
    return BadInput(
        f"{path}: is a PIR program (Paddle 3's default export), which Paddle Lite cannot read; "
        "re-export with FLAGS_enable_pir_api=0 set to get inference.pdmodel + inference.pdiparams"
    )


def _os_problem(path: Path, e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "is a symbolic link loop"
    if e.errno == errno.ENOENT and os.path.islink(path):
        return f"is a broken symbolic link (to {os.readlink(path)})"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "cannot read (permission denied)"
    return f"cannot read ({e.strerror or e})"


def stat_of(path: Path, kind: str = "file"):
    """os.stat(path), or a one-line BadInput that says what is wrong with it: a symlink loop, a broken link or
    an unreadable place must not be reported as "no such file" (Path.exists() and is_file() say False to all)."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError) as e:
        if e.errno == errno.ENOENT and os.path.islink(path):
            raise BadInput(f"{path}: {_os_problem(path, e)}") from None
        raise BadInput(f"{path}: no such {kind}") from None
    except OSError as e:
        raise BadInput(f"{path}: {_os_problem(path, e)}") from None


def require_file(path: Path) -> os.stat_result:
    """Raise a one-line BadInput unless `path` is a regular file this process can read; return its stat.

    Checked with stat before anything opens it: opening a FIFO blocks until a writer comes, which hangs the run.
    The open that proves readability is non-blocking, and it is a regular file by then anyway.
    """
    st = stat_of(path)
    for test, what in _NOT_REGULAR:
        if test(st.st_mode):
            raise BadInput(f"{path}: is {what}, not a file")
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except OSError as e:
        raise BadInput(f"{path}: {_os_problem(path, e)}") from None
    return st


def locate(model: str | Path | None, model_file: str | Path | None = None,
           param_file: str | Path | None = None) -> ModelFiles:
    """Resolve MODEL (a directory) or an explicit --model-file/--param-file pair to two readable files."""
    if model_file or param_file:
        if not (model_file and param_file):
            raise BadInput("--model-file and --param-file go together: give both")
        mf, pf = Path(model_file), Path(param_file)
        for p in (mf, pf):
            require_file(p)
        if mf.suffix == ".json":
            raise _pir_error(mf)
        return ModelFiles(mf, pf)
    if model is None:
        raise BadInput("no model given: pass a model directory or --model-file/--param-file")
    d = Path(model)
    st = stat_of(d, "directory")
    if stat.S_ISREG(st.st_mode):
        if d.suffix == ".json":
            raise _pir_error(d)
        raise BadInput(f"{d}: is a file; pass the export directory, or --model-file and --param-file")
    if not stat.S_ISDIR(st.st_mode):
        what = next(w for test, w in _NOT_REGULAR if test(st.st_mode))
        raise BadInput(f"{d}: is {what}, not a directory")
    try:
        names = set(os.listdir(d))
    except OSError as e:
        raise BadInput(f"{d}: {_os_problem(d, e)}") from None
    # Presence is what the listing says, so a loop, a FIFO or a folder named inference.pdmodel is reported as
    # such by require_file, not as a missing file.
    pairs = [s for s in KNOWN_STEMS if {f"{s}.pdmodel", f"{s}.pdiparams"} <= names]
    if len(pairs) > 1:
        both = " and ".join(f"{s}.pdmodel + {s}.pdiparams" for s in pairs)
        raise BadInput(f"{d}: holds two exports, {both}; pick one with --model-file and --param-file "
                       "(opt, inspect), or move one pair into a folder of its own")
    for stem in KNOWN_STEMS:
        mf, pf = d / f"{stem}.pdmodel", d / f"{stem}.pdiparams"
        has_mf, has_pf = mf.name in names, pf.name in names
        for p, present in ((mf, has_mf), (pf, has_pf)):
            if present:
                require_file(p)
        if has_mf and has_pf:
            return ModelFiles(mf, pf)
        if has_mf:
            raise BadInput(f"{d}: has {mf.name} but not {pf.name}; copy both files of the export")
        if has_pf:
            if f"{stem}.json" in names:
                raise _pir_error(d / f"{stem}.json")
            raise BadInput(f"{d}: has {pf.name} but not {mf.name}; copy both files of the export")
    for stem in KNOWN_STEMS:
        if f"{stem}.json" in names:
            raise _pir_error(d / f"{stem}.json")
    if not names:
        raise BadInput(f"{d}: is empty; expected inference.pdmodel + inference.pdiparams (PaddleClas) "
                       "or model.pdmodel + model.pdiparams (PaddleDetection)")
    raise BadInput(f"{d}: holds no inference.pdmodel/.pdiparams (PaddleClas) or model.pdmodel/.pdiparams "
                   "(PaddleDetection) pair; use --model-file/--param-file for other names")
