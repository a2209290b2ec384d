"""Built-in deploy configs, each equal to the upstream file it names (tests/test_config.py compares them with
the paddleclas 2.6.0 wheel's deploy configs and PaddleClas's exported inference.yml):

- pulc-person-exists / pulc-safety-helmet: deploy/configs/PULC/<model>/inference_<model>.yaml (resize_short 256,
  centre crop 224, scale 0.00392157, ThreshOutput 0.5); the -fpr presets change only the threshold to PULC's
  published operating points.
- pulc-person-attribute / pulc-vehicle-attribute: their PULC deploy configs (a 192x256 / 256x192 stretch,
  PersonAttribute / VehicleAttribute with their thresholds); the attribute names are the post-processors' own.
- imagenet-cls: deploy/configs/inference_cls.yaml without its 1000 ImageNet names (give --config with the label
  file, or --labels): class ids are shown instead.
- pphgnetv2-cls: PP-HGNetV2's exported inference.yml (resize_short 232 with PIL bicubic, crop 224), names as above.
- ssd-mobilenet-300: the classic MobileNet-SSD (300x300 stretch, (v - 127.5) / 127.502231 on 0..255, VOC labels
  with background as class 0, boxes normalised to the input). PaddleDetection's own SSD export differs (its
  infer_cfg.yml normalises with ImageNet mean/std and outputs source pixels): use that file for such a model.
- picodet-s-320-coco / picodet-mainbody-640: the infer_cfg.yml PaddleDetection's export writes for
  picodet_s_320_coco_lcnet / picodet_lcnet_x2_5_640_mainbody (320 / 640 stretch, cv2 cubic, ImageNet mean/std on
  x / 255, draw_threshold 0.5, its NMS block and fpn_stride; boxes in source pixels). The mainbody names its one
  class `foreground`, as an export with PaddleClas's mainbody dataset writes (the corpus file, exported without
  the dataset, carries COCO's names instead).
"""

from __future__ import annotations

from .model import DeployConfig, Interp, Resize, ResizeMode, Task

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VOC_LABELS = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
              "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")
PULC_SCALE = 0.00392157  # what the PULC deploy configs write (float32 of it is not float32(1 / 255))
COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant",
    "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli",
    "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
    "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")
# PicoDet's export writes the head's NMS block with the thresholds it lowers for a host-side NMS (0.3 / 0.5)
PICODET_EXPORT_NMS = (("keep_top_k", 100), ("name", "MultiClassNMS"), ("nms_threshold", 0.5), ("nms_top_k", 1000),
                      ("score_threshold", 0.3))


def _pulc(name: str, labels: tuple, threshold: float) -> DeployConfig:
    return DeployConfig(task=Task.BINARY, resize=Resize(ResizeMode.SHORT, short=256), crop=(224, 224),
                        scale=PULC_SCALE, mean=IMAGENET_MEAN, std=IMAGENET_STD, labels=labels, threshold=threshold,
                        postprocess="ThreshOutput", source=f"preset {name}")


def _attributes(name: str, width: int, height: int, postprocess: str, params: dict) -> DeployConfig:
    return DeployConfig(task=Task.MULTILABEL, resize=Resize(ResizeMode.FIXED, width=width, height=height), crop=None,
                        scale=1.0 / 255.0, mean=IMAGENET_MEAN, std=IMAGENET_STD, postprocess=postprocess,
                        post_params=tuple(sorted(params.items())), source=f"preset {name}")


def _imagenet(name: str, short: int, interp: Interp, antialias: bool, scale: float) -> DeployConfig:
    return DeployConfig(task=Task.CLASSIFY, resize=Resize(ResizeMode.SHORT, short=short, interp=interp,
                                                          antialias=antialias),
                        crop=(224, 224), scale=scale, mean=IMAGENET_MEAN, std=IMAGENET_STD, topk=5,
                        postprocess="Topk", source=f"preset {name}")


def _picodet(name: str, size: int, labels: tuple) -> DeployConfig:
    return DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=size, height=size, keep_ratio=False,
                                                         interp=Interp.BICUBIC),
                        crop=None, scale=1.0 / 255.0, mean=IMAGENET_MEAN, std=IMAGENET_STD, labels=labels,
                        score_threshold=0.5, box_format="pixels", export_nms=PICODET_EXPORT_NMS,
                        fpn_stride=(8, 16, 32, 64), source=f"preset {name}")


PERSON = ("nobody", "someone")
HELMET = ("wearing_helmet", "unwearing_helmet")
PRESETS = {
    # 0.5 is the deploy config's threshold; 0.9794 is PULC's published operating point for FPR 1/1000.
    "pulc-person-exists": lambda: _pulc("pulc-person-exists", PERSON, 0.5),
    "pulc-person-exists-fpr1e-3": lambda: _pulc("pulc-person-exists-fpr1e-3", PERSON, 0.9794),
    # 0.5 as deployed; 0.9167 is the published operating point for FPR 1/10000.
    "pulc-safety-helmet": lambda: _pulc("pulc-safety-helmet", HELMET, 0.5),
    "pulc-safety-helmet-fpr1e-4": lambda: _pulc("pulc-safety-helmet-fpr1e-4", HELMET, 0.9167),
    "pulc-person-attribute": lambda: _attributes("pulc-person-attribute", 192, 256, "PersonAttribute",
                                                 {"threshold": 0.5, "glasses_threshold": 0.3,
                                                  "hold_threshold": 0.6}),
    "pulc-vehicle-attribute": lambda: _attributes("pulc-vehicle-attribute", 256, 192, "VehicleAttribute",
                                                  {"color_threshold": 0.5, "type_threshold": 0.5}),
    "imagenet-cls": lambda: _imagenet("imagenet-cls", 256, Interp.BILINEAR, False, PULC_SCALE),
    "pphgnetv2-cls": lambda: _imagenet("pphgnetv2-cls", 232, Interp.BICUBIC, True, 1.0 / 255.0),
    "ssd-mobilenet-300": lambda: DeployConfig(
        task=Task.SSD, resize=Resize(ResizeMode.FIXED, width=300, height=300), crop=None, scale=1.0,
        mean=(127.5,) * 3, std=(127.502231,) * 3, labels=("background",) + VOC_LABELS, score_threshold=0.5,
        det_form="nms", source="preset ssd-mobilenet-300"),
    "picodet-s-320-coco": lambda: _picodet("picodet-s-320-coco", 320, COCO_LABELS),
    "picodet-mainbody-640": lambda: _picodet("picodet-mainbody-640", 640, ("foreground",)),
}
# The upstream file each preset equals: (where, relative path); tests compare them.
PRESET_SOURCES = {
    "pulc-person-exists": ("wheel", "deploy/configs/PULC/person_exists/inference_person_exists.yaml"),
    "pulc-safety-helmet": ("wheel", "deploy/configs/PULC/safety_helmet/inference_safety_helmet.yaml"),
    "pulc-person-attribute": ("wheel", "deploy/configs/PULC/person_attribute/inference_person_attribute.yaml"),
    "pulc-vehicle-attribute": ("wheel", "deploy/configs/PULC/vehicle_attribute/inference_vehicle_attribute.yaml"),
    "imagenet-cls": ("wheel", "deploy/configs/inference_cls.yaml"),
    "pphgnetv2-cls": ("corpus", "paddleclas/dump_infer_config/ImageNet__PPHGNetV2__PPHGNetV2_B0/inference.yml"),
    "picodet-s-320-coco": ("corpus", "paddledet/generated/picodet_s_320_coco_lcnet/infer_cfg.yml"),
    "picodet-mainbody-640": ("corpus", "paddledet/generated/picodet_lcnet_x2_5_640_mainbody/infer_cfg.yml"),
}
# Names a preset gives that its upstream file cannot (exported without the dataset that names them).
PRESET_OWN_LABELS = {"picodet-mainbody-640": ("foreground",)}
