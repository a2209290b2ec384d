"""Reading whatever deploy config a user holds, by its content (not its name), into one DeployConfig:
PaddleClas deploy/exported/training YAML (`paddleclas`), PaddleDetection `infer_cfg.yml`/`.json` and PaddleX's
exports of either (`paddledet`), or our own JSON. Families lite-tools does not run are refused by name (a
PaddleOCR config, a PP-ShiTu system config, binary retrieval); within a supported family every op and field we do
not understand is an error that names it: guessing a preprocessing step is how apps end up silently wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import BadInput
from . import labels as label_files
from . import paddleclas, paddledet
from .model import DeployConfig, Task

# Transform ops and post-processors that only PaddleOCR's configs use.
OCR_OPS = {"DetResizeForTest", "DetLabelEncode", "KeepKeys", "RecResizeImg", "CTCLabelEncode", "ClsResizeImg",
           "SRResize", "TableLabelEncode", "ResizeTableImage", "PaddingTableImage", "LatexOCR"}
SHITU_KEYS = {"DetPreProcess", "RecPreProcess", "IndexProcess", "RecPostProcess", "DetPostProcess"}


def read_text(path: Path) -> str:
    """The file's text, read once: a pipe or process substitution (`--config <(...)`) has no second read."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, not a config file") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.__class__.__name__}: {e})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{path}: cannot read ({e.__class__.__name__}: {e})") from None


def parse_yaml(path: Path, text: str) -> dict:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path}: is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping at the top level")
    return data


def load_yaml(path: Path) -> dict:
    return parse_yaml(path, read_text(path))


def _ocr(data: dict) -> bool:
    pre = data.get("PreProcess")
    ops = pre.get("transform_ops") if isinstance(pre, dict) else None
    names = {next(iter(op)) for op in ops if isinstance(op, dict) and op} if isinstance(ops, list) else set()
    post = data.get("PostProcess")
    post_name = str(post.get("name", "")) if isinstance(post, dict) else ""
    return bool(names & OCR_OPS) or post_name.startswith(("DB", "CTC", "EAST", "SAST", "Table", "Attn"))


def _shitu(path, data: dict) -> None:
    index = data.get("IndexProcess") if isinstance(data.get("IndexProcess"), dict) else {}
    rec_post = data.get("RecPostProcess") if isinstance(data.get("RecPostProcess"), dict) else {}
    if index.get("dist_type") == "hamming" or "Binarize" in rec_post:
        raise BadInput(f"{path}: a PP-ShiTu binary retrieval config (dist_type: hamming / Binarize) is not "
                       "supported")
    if "IndexProcess" in data:
        raise BadInput(f"{path}: a PP-ShiTu system config (DetPreProcess / RecPreProcess / IndexProcess) holds two "
                       "models and a gallery: deploy it with `lite-tools shitu deploy --config FILE`")
    part = "detection" if "DetPreProcess" in data else "recognition"
    raise BadInput(f"{path}: a PP-ShiTu {part}-only config (DetPreProcess / RecPreProcess without IndexProcess) "
                   "is not a single-model deploy config; a PP-ShiTu system config goes to `lite-tools shitu deploy`")


def read_data(path: Path, data: dict) -> DeployConfig:
    if data.get("format") == "lite-tools-deploy-config/1":
        return DeployConfig.from_json(data, str(path))
    if set(data) & SHITU_KEYS:
        _shitu(path, data)
    if _ocr(data):
        raise BadInput(f"{path}: a PaddleOCR config is not supported (lite-tools reads PaddleClas classifiers and "
                       "PaddleDetection SSD/PicoDet detectors)")
    if "Preprocess" in data or "arch" in data:
        return paddledet.read(path, data)
    if "PreProcess" in data:
        return paddleclas.read(path, data)
    if "Infer" in data or ("Arch" in data and "DataLoader" in data):
        return paddleclas.read(path, data, training=True)
    raise BadInput(f"{path}: not a deploy config lite-tools knows: neither PaddleClas (PreProcess, or a training "
                   "config's Infer) nor PaddleDetection (Preprocess, arch) nor lite-tools JSON")


def read_config_file(path, labels=None, no_labels: bool = False) -> DeployConfig:
    """Dispatch on content. `labels`: a label file that replaces the config's names (and makes a missing
    class_id_map_file no error); `no_labels`: bare class ids where the config's label file cannot be found."""
    path = Path(path)
    if labels is not None and no_labels:
        raise BadInput("give --labels FILE or --no-labels, not both")
    text = read_text(path)  # once; everything below parses these characters
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            raise BadInput(f"{path}: is not valid JSON") from None
        if not isinstance(data, dict):
            raise BadInput(f"{path}: expected a JSON object at the top level")
    else:
        data = parse_yaml(path, text)  # YAML 1.2 reads JSON too: `<(cat config.json)` has no .json suffix
    try:
        cfg = read_data(path, data)
    except label_files.LabelFileMissing:
        if labels is None and not no_labels:
            raise
        cfg = read_data(path, _without_label_files(data))
        if labels is None:
            cfg = cfg.replace(labels=cfg.labels if cfg.task == Task.BINARY else (), multiclass_labels=(),
                              origins=with_origin(cfg, "labels", "--no-labels: bare class ids"))
    return cfg if labels is None else with_labels(cfg, labels)


def with_origin(cfg: DeployConfig, field: str, origin: str) -> tuple:
    return tuple(sorted(dict(cfg.origins, **{field: origin}).items()))


def with_labels(cfg: DeployConfig, labels) -> DeployConfig:
    """`cfg` named by the --labels file `labels` (a binary config keeps exactly its two classes)."""
    names = label_files.read_user_labels(labels)
    if cfg.task == Task.BINARY and len(names) != 2:
        raise BadInput(f"{labels}: {cfg.source} is binary (ThreshOutput) and needs 2 labels, the file has "
                       f"{len(names)}")
    return cfg.replace(labels=names, origins=with_origin(cfg, "labels", f"--labels {labels}"))


def _without_label_files(data: dict) -> dict:
    """The same config with every class_id_map_file removed (the user said where names come from instead)."""
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "class_id_map_file"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(data)


def read_paddleclas(path) -> DeployConfig:
    return paddleclas.read(path, load_yaml(Path(path)))


def read_paddledet(path) -> DeployConfig:
    return paddledet.read(path, load_yaml(Path(path)))
