"""Deploy configs: one `DeployConfig`, read from PaddleClas/PaddleDetection YAML, our JSON, or a preset."""

from __future__ import annotations

from ..errors import BadInput
from .model import ChannelOrder, DeployConfig, Interp, Resize, ResizeMode, Task, write_json
from .presets import PRESETS
from .readers import read_config_file, read_paddleclas, read_paddledet

__all__ = ["ChannelOrder", "DeployConfig", "Interp", "Resize", "ResizeMode", "Task", "PRESETS", "resolve",
           "read_config_file", "read_paddleclas", "read_paddledet", "write_json"]


def resolve(config=None, preset=None, threshold=None, input_name=None) -> DeployConfig:
    """Exactly one of a config file or a preset name, with optional overrides."""
    if (config is None) == (preset is None):
        raise BadInput("give exactly one of --config FILE or --preset NAME")
    if preset is not None:
        if preset not in PRESETS:
            raise BadInput(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        cfg = PRESETS[preset]()
    else:
        cfg = read_config_file(config)
    if threshold is not None:
        cfg = cfg.replace(threshold=threshold) if cfg.task == Task.BINARY else cfg.replace(score_threshold=threshold)
    if input_name:
        cfg = cfg.replace(input_name=input_name)
    return cfg
