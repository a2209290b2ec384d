"""`DeployConfig`: the one source of truth for how pixels become the model's input and how its outputs become
labels and boxes. The Python reference and every template read this, never their own copies of the values."""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path

from ..errors import BadInput


BOX_FORMATS = ("normalized", "pixels")


class Task(str, enum.Enum):
    CLASSIFY = "classify"  # top-k over class probabilities
    BINARY = "binary"  # PULC ThreshOutput: probs[1] >= threshold -> label_1, else label_0
    SSD = "ssd"  # boxes [N, 6] = label, score, xmin, ymin, xmax, ymax normalised to the network input
    PICODET = "picodet"
    EMBEDDING = "embedding"


class ResizeMode(str, enum.Enum):
    SHORT = "short"  # scale so the short side is `short`; long side round-half-even as PaddleClas's round()
    FIXED = "fixed"  # exactly width x height (stretch), or fit inside it with keep_ratio


class Interp(str, enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


class ChannelOrder(str, enum.Enum):
    RGB = "RGB"
    BGR = "BGR"


@dataclasses.dataclass(frozen=True)
class Resize:
    mode: ResizeMode
    short: int = 0  # SHORT
    width: int = 0  # FIXED
    height: int = 0
    keep_ratio: bool = False  # FIXED: fit inside width x height (PaddleDetection keep_ratio) instead of stretching
    interp: Interp = Interp.BILINEAR
    antialias: bool = False  # PIL-style filter widening when shrinking (backend: pil); OpenCV does not


@dataclasses.dataclass(frozen=True)
class DeployConfig:
    task: Task
    resize: Resize
    crop: tuple | None  # (width, height) centre crop after resize, offsets (W - w) // 2, (H - h) // 2
    scale: float  # pixel (0..255) * scale, then (v - mean) / std
    mean: tuple
    std: tuple
    channel_order: ChannelOrder = ChannelOrder.RGB
    layout: str = "NCHW"
    labels: tuple = ()
    topk: int = 5
    threshold: float = 0.5  # BINARY decision threshold on probs[1]
    score_threshold: float = 0.5  # SSD/PICODET: boxes below are dropped (PaddleDetection draw_threshold)
    # SSD/PICODET box coordinates: "normalized" to the network input (classic MobileNet-SSD), or "pixels" of the
    # source image (PaddleDetection exports rescale by their scale_factor input before the output).
    box_format: str = "normalized"
    input_name: str = ""
    source: str = ""  # where the values came from (preset name or file)

    def __post_init__(self):
        if len(self.mean) != 3 or len(self.std) != 3:
            raise BadInput(f"{self.source}: mean and std need 3 values each")
        if any(s == 0 for s in self.std):
            raise BadInput(f"{self.source}: std has a zero")
        if self.box_format not in BOX_FORMATS:
            raise BadInput(f"{self.source}: box_format {self.box_format!r} is not one of {', '.join(BOX_FORMATS)}")
        if self.task == Task.BINARY and len(self.labels) != 2:
            raise BadInput(f"{self.source}: a binary task needs exactly two labels (label_0, label_1)")

    @property
    def input_size(self) -> tuple:
        """(width, height) of the network input, when it is fixed."""
        if self.crop:
            return tuple(self.crop)
        if self.resize.mode == ResizeMode.FIXED and not self.resize.keep_ratio:
            return (self.resize.width, self.resize.height)
        return None

    def to_json(self) -> dict:
        def plain(v):
            if isinstance(v, enum.Enum):
                return v.value
            if dataclasses.is_dataclass(v):
                return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
            if isinstance(v, (tuple, list)):
                return [plain(x) for x in v]
            return v
        return {"format": "lite-tools-deploy-config/1", **plain(self)}

    @classmethod
    def from_json(cls, data: dict, source: str = "") -> "DeployConfig":
        if data.get("format") != "lite-tools-deploy-config/1":
            raise BadInput(f"{source}: not a lite-tools deploy config (missing format: lite-tools-deploy-config/1)")
        try:
            r = data["resize"]
            resize = Resize(ResizeMode(r["mode"]), r.get("short", 0), r.get("width", 0), r.get("height", 0),
                            bool(r.get("keep_ratio", False)), Interp(r.get("interp", "bilinear")),
                            bool(r.get("antialias", False)))
            return cls(task=Task(data["task"]), resize=resize, crop=tuple(data["crop"]) if data.get("crop") else None,
                       scale=float(data["scale"]), mean=tuple(map(float, data["mean"])),
                       std=tuple(map(float, data["std"])), channel_order=ChannelOrder(data.get("channel_order", "RGB")),
                       layout=data.get("layout", "NCHW"), labels=tuple(data.get("labels", ())),
                       topk=int(data.get("topk", 5)), threshold=float(data.get("threshold", 0.5)),
                       score_threshold=float(data.get("score_threshold", 0.5)),
                       box_format=data.get("box_format", "normalized"),
                       input_name=data.get("input_name", ""), source=data.get("source", source))
        except (KeyError, ValueError, TypeError) as e:
            raise BadInput(f"{source}: invalid deploy config ({type(e).__name__}: {e})") from None

    def replace(self, **changes) -> "DeployConfig":
        return dataclasses.replace(self, **changes)


def write_json(config: DeployConfig, path: Path) -> None:
    Path(path).write_text(json.dumps(config.to_json(), indent=2, ensure_ascii=False) + "\n")
