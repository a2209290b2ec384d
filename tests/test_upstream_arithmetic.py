"""The reference's preprocessing is upstream's to the bit: PaddleClas 2.6.0's own operators (the whole tensor, and
NormalizeImage alone), and its wheel's copy of PaddleDetection's deploy preprocessing (DetResize, DetNormalizeImage),
run from the unpacked wheel on the same 8-bit pixels."""

from __future__ import annotations

import numpy as np
import pytest

from lite_tools.config import DeployConfig, Interp, Resize, ResizeMode, Task, resolve
from lite_tools.reference.preprocess import det_factors, model_inputs, normalise, preprocess, resized_size
from conftest import REPO
from upstream import Upstream

CORPUS = REPO.parent / "shared" / "corpus"

PULC_SCALE = "0.00392157"  # PULC configs write this literal: its float32 is not float32(1 / 255)


@pytest.fixture(scope="module")
def wheel(paddleclas_wheel):
    return Upstream(paddleclas_wheel)


def _pixels(sample_photos, count=6):
    """Real photos cut to 64x48 crops (normalisation is per pixel: every value 0..255 occurs in them)."""
    crops = [img[:48, :64] for _, img in sample_photos[:count]]
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)  # every grey level once
    return crops + [ramp]


@pytest.mark.parametrize("scale", ["1.0/255.0", PULC_SCALE])
def test_paddleclas_normalisation_is_bit_exact(wheel, sample_photos, scale):
    theirs = wheel.pre.NormalizeImage(scale=scale, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], order="")
    base = resolve(preset="imagenet-cls")
    cfg = base.replace(scale=eval(scale))  # the reader's value: the literal evaluated, as upstream does
    for img in _pixels(sample_photos):
        want = theirs(img)
        got = normalise(img, cfg)
        assert got.dtype == np.float32 and np.array_equal(got, want)
    # the float64 arithmetic lite-tools used before differs (so this test can tell them apart)
    img = _pixels(sample_photos)[-1]
    old = ((img * cfg.scale - np.array(cfg.mean)) / np.array(cfg.std)).astype(np.float32)
    assert not np.array_equal(old, theirs(img))


@pytest.mark.parametrize("is_scale", [True, False])
def test_paddledetection_normalisation_is_bit_exact(wheel, sample_photos, is_scale):
    mean, std = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]) if is_scale else ([127.5] * 3, [127.502231] * 3)
    theirs = wheel.det.DetNormalizeImage(mean=mean, std=std, is_scale=is_scale)
    cfg = DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=320, height=320), crop=None,
                       scale=1.0 / 255.0 if is_scale else 1.0, mean=tuple(mean), std=tuple(std))
    for img in _pixels(sample_photos):
        want, _ = theirs(img, {})
        assert np.array_equal(normalise(img, cfg), want)
    # PaddleClas's float32 order gives other values here: which upstream a config follows matters
    if is_scale:
        as_cls = normalise(img, cfg.replace(task=Task.CLASSIFY))
        assert not np.array_equal(as_cls, want)


SIZES = [(471, 620), (640, 480), (480, 640), (1920, 1080), (333, 500), (1000, 999), (37, 4000), (4000, 37), (301, 299)]
TARGETS = [(320, 320), (608, 800), (800, 608), (300, 512), (640, 640)]  # (height, width) as target_size writes


@pytest.mark.parametrize("keep_ratio", [True, False])
def test_paddledetection_geometry_is_upstreams(wheel, keep_ratio):
    """DetResize's scale rule (target_min / im_min unless the rounded long side passes target_max), the size
    cv2.resize(fx, fy) makes, im_shape and scale_factor (float32 of the float64 [fy, fx]): equal, on non-square
    targets too."""
    import cv2

    for th, tw in TARGETS:
        resize = wheel.det.DetResize(target_size=[th, tw], keep_ratio=keep_ratio, interp=cv2.INTER_LINEAR)
        cfg = DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=tw, height=th,
                                                            keep_ratio=keep_ratio), crop=None, scale=1.0 / 255.0,
                           mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
        for w, h in SIZES:
            img = np.zeros((h, w, 3), np.uint8)
            info = {"scale_factor": np.array([1.0, 1.0], np.float32), "im_shape": np.array([h, w], np.float32),
                    "input_shape": [3, th, tw]}
            out, info = resize(img, info)
            assert det_factors(cfg, w, h) == resize.generate_scale(img)
            assert resized_size(cfg, w, h) == (out.shape[1], out.shape[0]), (w, h, th, tw)
            pre = preprocess(np.full((h, w, 3), 128, np.uint8), cfg)
            shape, factor = model_inputs(pre, ["image", "im_shape", "scale_factor"])[1:]
            assert np.array_equal(shape[0], info["im_shape"]) and np.array_equal(factor[0], info["scale_factor"])


def test_old_keep_ratio_rule_differs_from_upstreams():
    """min(target_min / im_min, target_max / im_max), the rule lite-tools had, is not PaddleDetection's: for a
    471x620 image into 800x608, 608 / 471 * 620 = 800.34 rounds to 800, so upstream keeps 608 / 471 where the
    min() took 800 / 620. The sizes agree (608x800); the map and scale_factor do not."""
    cfg = DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=800, height=608, keep_ratio=True),
                       crop=None, scale=1.0 / 255.0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    assert det_factors(cfg, 471, 620) == (608 / 471, 608 / 471) != (800 / 620, 800 / 620)
    assert resized_size(cfg, 471, 620) == (608, 800)


def _wheel_configs(wheel) -> list:
    root = wheel.package_dir / "deploy" / "configs"
    found = [root / "inference_cls.yaml", root / "PULC" / "person_exists" / "inference_person_exists.yaml",
             root / "PULC" / "safety_helmet" / "inference_safety_helmet.yaml"]
    return [p for p in found if p.is_file()]


HGNET = CORPUS / "paddleclas" / "dump_infer_config" / "ImageNet__PPHGNetV2__PPHGNetV2_B0" / "inference.yml"


@pytest.mark.parametrize("which", ["wheel", "pphgnetv2"])
def test_whole_tensor_is_paddleclas_own(wheel, sample_photos, which):
    """The tensor the reference feeds the model equals, bit for bit, what PaddleClas 2.6.0's own operators
    (create_operators on the file's transform_ops, run on cv2.imread's pixels as predict_cls.py does) produce,
    for its cv2-bilinear deploy configs and a PP-HGNetV2 inference.yml (PIL bicubic), on all 31 sample photos."""
    import yaml

    from lite_tools.config import read_config_file

    if which == "pphgnetv2":
        if not HGNET.is_file():
            pytest.skip(f"{HGNET} is not here (../shared/corpus is beside the repository only on our machines)")
        paths = [HGNET]
    else:
        paths = _wheel_configs(wheel)
        assert paths
    for path in paths:
        ops = wheel.pre.create_operators(yaml.safe_load(path.read_text())["PreProcess"]["transform_ops"])
        cfg = read_config_file(path)
        for name, rgb in sample_photos:
            theirs = rgb.copy()
            for op in ops:
                theirs = op(theirs)
            ours = preprocess(rgb, cfg).tensor[0]
            assert ours.shape == theirs.shape and np.array_equal(ours, theirs), (path.name, name)


@pytest.mark.parametrize("interp,keep_ratio", [(Interp.BILINEAR, False), (Interp.BILINEAR, True),
                                               (Interp.BICUBIC, False), (Interp.BICUBIC, True)])
def test_whole_tensor_is_paddledetections_own(wheel, sample_photos, interp, keep_ratio):
    """DetResize (cv2.resize with fx, fy) + DetNormalizeImage + DetPermute from the wheel against the reference, with
    im_shape and scale_factor, bit for bit. Cubic runs through Intel IPP in the x86-64 wheel: its resize when fx / fy
    are dsize / size (the fixed 320x320), its warpAffine for keep_ratio's scale (reference/ipp_warp.py), whose
    result depends on OpenCV's thread count: the wheel runs with one thread here."""
    import cv2

    flags = {Interp.BILINEAR: cv2.INTER_LINEAR, Interp.BICUBIC: cv2.INTER_CUBIC}
    th, tw = (608, 800) if keep_ratio else (320, 320)
    ops = [wheel.det.DetResize(target_size=[th, tw], keep_ratio=keep_ratio, interp=flags[interp]),
           wheel.det.DetNormalizeImage(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], is_scale=True),
           wheel.det.DetPermute()]
    cfg = DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=tw, height=th, keep_ratio=keep_ratio,
                                                        interp=interp), crop=None, scale=1.0 / 255.0,
                       mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for name, rgb in sample_photos[::3]:
            h, w = rgb.shape[:2]
            info = {"scale_factor": np.array([1.0, 1.0], np.float32), "im_shape": np.array([h, w], np.float32),
                    "input_shape": [3, th, tw]}
            theirs, info = wheel.det.det_preprocess(rgb.copy(), info, ops)
            pre = preprocess(rgb, cfg)
            ours = pre.tensor[0]
            shape, factor = model_inputs(pre, ["image", "im_shape", "scale_factor"])[1:]
            assert np.array_equal(shape[0], info["im_shape"]) and np.array_equal(factor[0], info["scale_factor"])
            assert ours.shape == theirs.shape and np.array_equal(ours, theirs), name
    finally:
        cv2.setNumThreads(threads)


def test_reports_name_the_thread_count_a_keep_ratio_cubic_config_is_exact_at():
    """PaddleDetection's keep_ratio cubic resize is IPP's warpAffine, whose result depends on OpenCV's thread count:
    the resize line of the reports says so for that config only."""
    from lite_tools.reference.preprocess import reproduces

    def cfg(interp, keep_ratio):
        return DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=800, height=608,
                                                             keep_ratio=keep_ratio, interp=interp),
                            crop=None, scale=1.0 / 255.0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    assert "cv2.setNumThreads(1)" in reproduces(cfg(Interp.BICUBIC, True))
    for other in (cfg(Interp.BICUBIC, False), cfg(Interp.BILINEAR, True)):
        assert "setNumThreads" not in reproduces(other) and reproduces(other).startswith("cv2.resize")
