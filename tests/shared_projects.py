"""The generated projects several test files read (Android per preset, and the PP-ShiTu pair's), built once per
session by conftest's `preset_projects` / `shitu_system` / `shitu_projects` fixtures: a fixture imported into
another test module is a second fixture, built a second time."""

from __future__ import annotations

from pathlib import Path

from lite_tools.config import resolve

PRESET_MODELS = {"pulc-person-exists": "PULC_person_exists", "pulc-safety-helmet": "PULC_safety_helmet",
                 "pulc-person-exists-fpr1e-3": "PULC_person_exists", "pulc-safety-helmet-fpr1e-4": "PULC_safety_helmet",
                 "imagenet-cls": "PPLCNet_x0_25", "pphgnetv2-cls": "PPHGNetV2_B0",
                 "pulc-person-attribute": "PULC_person_attribute", "pulc-vehicle-attribute": "PULC_vehicle_attribute",
                 "ssd-mobilenet-300": "SSD_MobileNetV1_300", "custom-bgr-nearest": "PPLCNet_x0_25",
                 "paddledetection-infer-cfg": "SSD_MobileNetV1_300_ppdet",
                 "picodet-s-320-coco": "picodet_s_320_coco_lcnet", "picodet-mainbody-640": "picodet_lcnet_x2_5_640_mainbody"}
PACKAGE = "com.example.litetest"

DET = "picodet_lcnet_x2_5_640_mainbody"
REC = "PPLCNetV2_base_ShiTu"
SHITU_PACKAGE = "com.example.shitu"


def config_for(name: str):
    """The presets, plus a config no preset has (BGR, antialiased nearest, short side 250, top-3) and a
    PaddleDetection export's own infer_cfg.yml (three inputs, boxes in source pixels)."""
    if name == "paddledetection-infer-cfg":
        from lite_tools import zoo
        return zoo.config_for("SSD_MobileNetV1_300_ppdet")
    if name == "custom-bgr-nearest":
        from lite_tools.config import ChannelOrder, Interp, Resize, ResizeMode
        return resolve(preset="imagenet-cls").replace(
            channel_order=ChannelOrder.BGR, resize=Resize(ResizeMode.SHORT, short=250, interp=Interp.NEAREST,
                                                          antialias=True), topk=3, source="custom BGR nearest")
    return resolve(preset=name)


def make_preset_projects(root: Path, zoo_dir) -> dict:
    """preset -> (project dir, DeployConfig, model dir)."""
    from lite_tools.codegen import project as codegen

    made = {}
    for preset, model in PRESET_MODELS.items():
        out = root / preset
        codegen.generate("android", zoo_dir(model), config_for(preset), out, app_name=f"Test {preset}",
                         package=PACKAGE)
        made[preset] = (out, config_for(preset), zoo_dir(model))
    return made


def make_shitu_system(root: Path, zoo_dir) -> tuple:
    """(system config, gallery, ARM .nb of each role, manifests, root) for the zoo's detector/recogniser pair."""
    from lite_tools import opt, zoo
    from lite_tools.shitu import gallery, system_config
    import shitu_data

    det_dir, rec_dir = zoo_dir(DET), zoo_dir(REC)
    det_cfg, rec_cfg = zoo.config_for(DET), zoo.config_for(REC)
    data = shitu_data.make(root / "data", queries=1)
    gallery.build(data.image_root, rec_dir, rec_cfg, root / "gallery")
    g = gallery.load(root / "gallery")
    manifests, nbs = {}, {}
    for role, model in (("detector", det_dir), ("recogniser", rec_dir)):
        manifests[role] = opt.optimize(model, root / "opt" / role, opt.OptOptions(targets=("arm",), name=role))
        nbs[role] = root / "opt" / role / f"{role}.arm.nb"
    return system_config.defaults_for(det_cfg, rec_cfg), g, nbs, manifests, root


def make_shitu_projects(system: tuple, zoo_dir) -> dict:
    """{"android": the ShiTu Android project, "flutter": the Flutter host's android/}, with golden data."""
    from lite_tools.codegen import shitu_app

    sysc, g, nbs, manifests, root = system
    staging = root / "projects"
    staging.mkdir()
    kinds = shitu_app.write_projects(staging, ("android", "flutter"), system=sysc, detector=sysc.detector,
                                     recogniser=sysc.recogniser, det_nb=nbs["detector"], rec_nb=nbs["recogniser"],
                                     manifests=manifests, gallery=g, app_name="ShiTu Test", package=SHITU_PACKAGE,
                                     det_model=zoo_dir(DET), rec_model=zoo_dir(REC))
    assert kinds == ["android", "flutter"]
    return {"android": staging / "android", "flutter": staging / "flutter" / "android"}
