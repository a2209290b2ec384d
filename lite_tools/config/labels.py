"""Class names: PaddleClas's `class_id_map_file`, found where PaddleClas would find it, read as it reads it.

PaddleClas opens the path as written, so relative to the working directory; its deploy configs say
`../ppcls/utils/...` because they are run from `deploy/`, and its training configs say `ppcls/utils/...` because
they are run from the repository root. We try the working directory first (PaddleClas's only rule), then the
layout the YAML sits in, stop at the first hit and say which file it was. Nothing found is an error listing every
path tried (unless the user gives `--labels FILE` or `--no-labels`): PaddleClas itself only prints a warning and
shows no names, which is how apps end up labelling classes with bare numbers in silence.

A map file is read as PaddleClas's `parse_class_id_map`: each line up to its first newline, split at the first
`delimiter` (default one space), `int(id)` -> the rest verbatim (spaces kept; Python's text mode has already turned '\\r\\n' and '\\r' into
'\\n'). Where
PaddleClas would fail on a line (its `int()` raises, and it then drops the whole map), we refuse with the line.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BadInput


class LabelFileMissing(BadInput):
    """The config names a class_id_map_file that is nowhere PaddleClas would look (--labels / --no-labels help)."""


def candidates(name: str, config_path: Path, training: bool) -> list:
    """Where PaddleClas would look for `name`, in order: the working directory, then the YAML's layout."""
    p = Path(name)
    if p.is_absolute():
        return [p]
    found = [Path(os.getcwd()) / p]
    for parent in Path(config_path).resolve().parents:
        if training:
            if (parent / "ppcls").is_dir():
                found.append(parent / p)
                break
        elif parent.name == "deploy" and (parent.parent / "ppcls").is_dir():
            found.append(parent / p)
            break
    return found


def parse_map(path: Path, delimiter: str | None) -> dict:
    """{class id: name} as PaddleClas's parse_class_id_map reads it."""
    delimiter = " " if delimiter is None else str(delimiter)
    try:
        text = Path(path).read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read the label file ({e})") from None
    mapping = {}
    for number, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        head, _, name = line.partition(delimiter)
        try:
            mapping[int(head)] = name
        except ValueError:
            raise BadInput(f"{path}: line {number} {line[:60]!r} is not 'ID{delimiter}NAME' (PaddleClas would drop "
                           "every label of this file)") from None
    if not mapping:
        raise BadInput(f"{path}: the label file is empty")
    return mapping


def by_index(mapping: dict) -> tuple:
    """Names by class index; ids the file skips are named by their number (PaddleClas would raise on them)."""
    if min(mapping) < 0:
        raise BadInput(f"negative class id {min(mapping)} in a label file")
    return tuple(mapping.get(i, str(i)) for i in range(max(mapping) + 1))


def find_map(name: str, config_path: Path, training: bool, what: str) -> Path:
    tried = candidates(name, config_path, training)
    for path in tried:
        if path.is_file():
            return path
    raise LabelFileMissing(f"{config_path}: {what} {name!r} not found (tried {', '.join(str(p) for p in tried)}); "
                   "give --labels FILE, or --no-labels for bare class ids as PaddleClas prints them")


def read_user_labels(path) -> tuple:
    """--labels FILE: PaddleClas's 'ID NAME' map when every line starts with an id and a space, else one name
    per line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such label file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read the label file ({e})") from None
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise BadInput(f"{path}: the label file is empty")
    if all(line.partition(" ")[0].isdigit() and " " in line for line in lines):
        return by_index({int(line.partition(" ")[0]): line.partition(" ")[2] for line in lines})
    return tuple(line.strip() for line in lines)
