"""Built-in deploy configs with the values PaddleClas and PaddleDetection publish for these models."""

from __future__ import annotations

from .model import DeployConfig, Interp, Resize, ResizeMode, Task

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VOC_LABELS = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
              "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")


def _pulc(name: str, labels: tuple, threshold: float) -> DeployConfig:
    # PaddleClas deploy/configs/PULC/*/inference_*.yaml: ResizeImage size 224 (stretch, cv2 bilinear),
    # NormalizeImage 1/255 + ImageNet mean/std, ThreshOutput on probs[1].
    return DeployConfig(task=Task.BINARY, resize=Resize(ResizeMode.FIXED, width=224, height=224), crop=None,
                        scale=1.0 / 255.0, mean=IMAGENET_MEAN, std=IMAGENET_STD, labels=labels, threshold=threshold,
                        source=f"preset {name}")


def _imagenet(name: str, short: int, interp: Interp, antialias: bool) -> DeployConfig:
    return DeployConfig(task=Task.CLASSIFY, resize=Resize(ResizeMode.SHORT, short=short, interp=interp,
                                                          antialias=antialias),
                        crop=(224, 224), scale=1.0 / 255.0, mean=IMAGENET_MEAN, std=IMAGENET_STD, topk=5,
                        source=f"preset {name}")


PRESETS = {
    # 0.5 is the deploy config's threshold; 0.9794 is PULC's published operating point for FPR 1/1000.
    "pulc-person-exists": lambda: _pulc("pulc-person-exists", ("nobody", "someone"), 0.5),
    "pulc-person-exists-fpr1e-3": lambda: _pulc("pulc-person-exists-fpr1e-3", ("nobody", "someone"), 0.9794),
    # 0.5 as deployed; 0.9167 is the published operating point for FPR 1/10000.
    "pulc-safety-helmet": lambda: _pulc("pulc-safety-helmet", ("wearing_helmet", "unwearing_helmet"), 0.5),
    "pulc-safety-helmet-fpr1e-4": lambda: _pulc("pulc-safety-helmet-fpr1e-4",
                                                ("wearing_helmet", "unwearing_helmet"), 0.9167),
    # PaddleClas inference_cls.yaml: resize_short 256 (cv2 bilinear), centre crop 224, top-5.
    "imagenet-cls": lambda: _imagenet("imagenet-cls", 256, Interp.BILINEAR, False),
    # PP-HGNetV2 configs: resize_short 232 with PIL bicubic, centre crop 224.
    "pphgnetv2-cls": lambda: _imagenet("pphgnetv2-cls", 232, Interp.BICUBIC, True),
    # MobileNet-SSD: 300x300 stretch, (v - 127.5) / 127.502231 on 0..255, VOC labels; class 0 is background.
    "ssd-mobilenet-300": lambda: DeployConfig(
        task=Task.SSD, resize=Resize(ResizeMode.FIXED, width=300, height=300), crop=None, scale=1.0,
        mean=(127.5,) * 3, std=(127.502231,) * 3, labels=("background",) + VOC_LABELS, score_threshold=0.5,
        source="preset ssd-mobilenet-300"),
}
