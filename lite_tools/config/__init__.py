"""Deploy configs: one `DeployConfig`, read from PaddleClas/PaddleDetection/PaddleX files, our JSON, or a preset."""

from __future__ import annotations

import math

from ..errors import BadInput
from .model import (UPSTREAM_CPUS, UPSTREAM_KEYWORDS, UPSTREAM_OPTION_NAMES, UPSTREAM_OPTIONS, ChannelOrder,
                    DeployConfig, Interp, Resize, ResizeMode, Task, UpstreamCv2, write_json)
from .presets import PRESETS
from .readers import read_config_file, read_paddleclas, read_paddledet, with_labels, with_origin

__all__ = ["ChannelOrder", "DeployConfig", "Interp", "Resize", "ResizeMode", "Task", "UpstreamCv2", "UPSTREAM_CPUS",
           "UPSTREAM_KEYWORDS", "UPSTREAM_OPTIONS", "PRESETS", "resolve", "with_upstream",
           "read_config_file", "read_paddleclas", "read_paddledet", "write_json"]


def with_upstream(cfg: DeployConfig, cpu=None, threads=None, l2_cache=None, said: str = "") -> DeployConfig:
    """`cfg` reproducing another upstream machine's cv2.resize (UpstreamCv2; None keeps the config's value);
    `said`: the options' name for the origins ("--upstream-*")."""
    if cpu is None and threads is None and l2_cache is None:
        return cfg
    new = cfg.upstream_cv2.overriding(cpu, threads, l2_cache)
    fault = new.fault()
    if fault:
        where = UPSTREAM_OPTION_NAMES[fault[0]] if said == UPSTREAM_OPTIONS else said or cfg.source
        raise BadInput(f"{where}: {fault[1]}")
    return cfg.replace(upstream_cv2=new, origins=with_origin(cfg, "upstream_cv2", said or "with_upstream"))


def resolve(config=None, preset=None, threshold=None, input_name=None, labels=None,
            no_labels: bool = False, upstream_cpu=None, upstream_threads=None,
            upstream_l2=None) -> DeployConfig:
    """Exactly one of a config file or a preset name, with optional overrides (`labels`: a label file whose
    names replace the config's; `no_labels`: bare class ids where the config's label file cannot be found;
    upstream_*: the machine whose cv2.resize to reproduce, see UpstreamCv2)."""
    if (config is None) == (preset is None):
        raise BadInput("give exactly one of --config FILE or --preset NAME")
    if preset is not None:
        if preset not in PRESETS:
            raise BadInput(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        cfg = PRESETS[preset]()
        if labels is not None:
            cfg = with_labels(cfg, labels)
    else:
        cfg = read_config_file(config, labels=labels, no_labels=no_labels)
    if threshold is not None:
        if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
                and math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
            raise BadInput(f"--threshold {threshold!r}: must be a number in [0, 1] (a probability or score)")
        if cfg.task == Task.BINARY or (cfg.task == Task.MULTILABEL and cfg.postprocess == "MultiLabelThreshOutput"):
            cfg = cfg.replace(threshold=threshold)
        elif cfg.task in (Task.SSD, Task.PICODET):
            cfg = cfg.replace(score_threshold=threshold)
        else:
            raise BadInput(f"--threshold does not apply to {cfg.postprocess or cfg.task.value} ({cfg.source}): "
                           "set its thresholds in the config file")
        cfg = cfg.replace(origins=with_origin(cfg, "threshold", "--threshold"))
    if input_name:
        cfg = cfg.replace(input_name=input_name)
    return with_upstream(cfg, upstream_cpu, upstream_threads, upstream_l2, said=UPSTREAM_OPTIONS)
