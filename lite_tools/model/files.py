"""Find the model/params pair of an export and reject what Paddle Lite cannot read, before it sees it."""

from __future__ import annotations

import collections
from pathlib import Path

from ..errors import BadInput

# Export layouts users hold: PaddleClas writes inference.*, PaddleDetection writes model.*.
KNOWN_STEMS = ("inference", "model")


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


def locate(model: str | Path | None, model_file: str | Path | None = None,
           param_file: str | Path | None = None) -> ModelFiles:
    """Resolve MODEL (a directory) or an explicit --model-file/--param-file pair to two existing files."""
    if model_file or param_file:
        if not (model_file and param_file):
            raise BadInput("--model-file and --param-file go together: give both")
        mf, pf = Path(model_file), Path(param_file)
        for p in (mf, pf):
            if not p.is_file():
                raise BadInput(f"{p}: no such file")
        if mf.suffix == ".json":
            raise _pir_error(mf)
        return ModelFiles(mf, pf)
    if model is None:
        raise BadInput("no model given: pass a model directory or --model-file/--param-file")
    d = Path(model)
    if not d.exists():
        raise BadInput(f"{d}: no such directory")
    if d.is_file():
        if d.suffix == ".json":
            raise _pir_error(d)
        raise BadInput(f"{d}: is a file; pass the export directory, or --model-file and --param-file")
    for stem in KNOWN_STEMS:
        mf, pf = d / f"{stem}.pdmodel", d / f"{stem}.pdiparams"
        if mf.is_file() and pf.is_file():
            return ModelFiles(mf, pf)
        if mf.is_file():
            raise BadInput(f"{d}: has {mf.name} but not {pf.name}; copy both files of the export")
        if pf.is_file():
            if (d / f"{stem}.json").is_file():
                raise _pir_error(d / f"{stem}.json")
            raise BadInput(f"{d}: has {pf.name} but not {mf.name}; copy both files of the export")
    for stem in KNOWN_STEMS:
        if (d / f"{stem}.json").is_file():
            raise _pir_error(d / f"{stem}.json")
    if not any(d.iterdir()):
        raise BadInput(f"{d}: is empty; expected inference.pdmodel + inference.pdiparams (PaddleClas) "
                       "or model.pdmodel + model.pdiparams (PaddleDetection)")
    raise BadInput(f"{d}: holds no inference.pdmodel/.pdiparams (PaddleClas) or model.pdmodel/.pdiparams "
                   "(PaddleDetection) pair; use --model-file/--param-file for other names")
