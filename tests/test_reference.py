"""The reference pipeline against independent implementations (OpenCV, Pillow) and the documented rules."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lite_tools.config import Interp, resolve
from lite_tools.errors import BadInput
from lite_tools.reference import load_image, preprocess, synthetic_images
from lite_tools.reference.postprocess import binary, classify, ssd_boxes
from lite_tools.reference.preprocess import Preprocessed, resized_size
from lite_tools.reference.resize import resize

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def photos():
    return synthetic_images(6, seed=11)


@pytest.mark.parametrize("size", [(224, 224), (300, 300), (57, 91), (640, 480)])
def test_bilinear_matches_opencv_within_its_rounding(photos, size):
    """OpenCV INTER_LINEAR rounds to uint8 with 11-bit fixed-point weights: within 1 grey level of ours."""
    for img in photos:
        ours = resize(img, *size, Interp.BILINEAR, antialias=False)
        theirs = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR).astype(np.float64)
        assert np.abs(ours - theirs).max() <= 1.0
        assert np.abs(ours - theirs).mean() < 0.35


def test_bicubic_matches_opencv_up_to_its_output_rounding(photos):
    """Only OpenCV's rounding to uint8 separates us: half a level, plus 1e-4 where its fixed-point weights
    break a .5 tie the other way."""
    for img in photos:
        ours = np.clip(resize(img, 224, 224, Interp.BICUBIC, antialias=False), 0, 255)
        theirs = cv2.resize(img, (224, 224), interpolation=cv2.INTER_CUBIC).astype(np.float64)
        assert np.abs(ours - theirs).max() <= 0.5 + 1e-4


def test_antialiased_resize_tracks_pillow(photos):
    """PIL keeps 8-bit intermediates between its passes: within 3 grey levels, on average well under 1."""
    for img in photos:
        for interp, pil in ((Interp.BICUBIC, Image.BICUBIC), (Interp.BILINEAR, Image.BILINEAR)):
            ours = np.clip(resize(img, 232, 232, interp, antialias=True), 0, 255)
            theirs = np.asarray(Image.fromarray(img).resize((232, 232), pil)).astype(np.float64)
            assert np.abs(ours - theirs).max() <= 3.0 and np.abs(ours - theirs).mean() < 0.5


def test_short_side_rounds_half_to_even_like_paddleclas():
    cfg = resolve(preset="imagenet-cls")
    # 256 / 200 * 250 = 320 exactly; 256 / 512 * 513 = 256.5 -> 256 (half to even), 256 / 512 * 515 = 257.5 -> 258
    assert resized_size(cfg, 250, 200) == (320, 256)
    assert resized_size(cfg, 513, 512) == (256, 256)
    assert resized_size(cfg, 515, 512) == (258, 256)


def test_centre_crop_offsets_and_normalisation():
    cfg = resolve(preset="imagenet-cls")
    img = np.random.RandomState(0).randint(0, 256, (256, 333, 3)).astype(np.uint8)
    pre = preprocess(img, cfg)
    assert pre.resized_size == (333, 256) and pre.crop_offset == ((333 - 224) // 2, (256 - 224) // 2)
    # Independent path: same-size resize is the identity, so crop + normalise by hand.
    x, y = pre.crop_offset
    expect = (img[y:y + 224, x:x + 224].astype(np.float64) * cfg.scale - cfg.mean) / cfg.std
    np.testing.assert_allclose(pre.tensor[0].transpose(1, 2, 0), expect, atol=1e-6)


def test_bgr_reverses_channels():
    cfg = resolve(preset="pulc-person-exists")
    img = synthetic_images(1, seed=3)[0]
    rgb = preprocess(img, cfg).tensor
    bgr = preprocess(img, cfg.replace(channel_order="BGR", mean=cfg.mean[::-1], std=cfg.std[::-1])).tensor
    np.testing.assert_allclose(bgr[:, ::-1], rgb, atol=1e-6)


def _save(tmp_path, name, img, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_image_modes_decode_like_imread(tmp_path):
    rgb = synthetic_images(1, seed=5)[0][:64, :80]
    base = Image.fromarray(rgb)
    assert np.array_equal(load_image(_save(tmp_path, "a.png", base)), rgb)
    assert np.array_equal(load_image(_save(tmp_path, "a.bmp", base)), rgb)
    grey = load_image(_save(tmp_path, "g.png", base.convert("L")))
    assert grey.shape == (64, 80, 3) and np.array_equal(grey[..., 0], np.asarray(base.convert("L")))
    rgba = base.copy()
    rgba.putalpha(Image.fromarray(np.full((64, 80), 7, np.uint8)))
    assert np.array_equal(load_image(_save(tmp_path, "t.png", rgba)), rgb)  # alpha dropped, colours kept
    pal = base.quantize(64)
    assert np.array_equal(load_image(_save(tmp_path, "p.png", pal)), np.asarray(pal.convert("RGB")))
    sixteen = Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)
    assert np.array_equal(load_image(_save(tmp_path, "w.png", sixteen))[..., 0], rgb[..., 0])
    cmyk = load_image(_save(tmp_path, "c.jpg", base.convert("CMYK"), quality=95))
    assert cmyk.shape == (64, 80, 3) and np.abs(cmyk.astype(int) - rgb).mean() < 12
    webp = load_image(_save(tmp_path, "w.webp", base, lossless=True))
    assert np.array_equal(webp, rgb)


def test_exif_orientation_is_applied(tmp_path):
    rgb = synthetic_images(1, seed=6)[0][:40, :70]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = _save(tmp_path, "o.jpg", Image.fromarray(rgb), exif=exif, quality=100)
    out = load_image(path)
    stored = np.asarray(Image.open(path).convert("RGB"))  # the pixels as stored, orientation not applied
    assert out.shape == (70, 40, 3)
    assert np.array_equal(out, np.rot90(stored, k=-1))


def test_unreadable_image_is_a_named_error(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(BadInput, match="broken.jpg: cannot read image"):
        load_image(tmp_path / "broken.jpg")


def test_postprocess_rules():
    cfg = resolve(preset="imagenet-cls").replace(topk=3)
    probs = np.array([0.1, 0.3, 0.3, 0.2, 0.1])
    assert [c.class_id for c in classify(probs, cfg)] == [1, 2, 3]  # ties: lower id first
    logits = np.log(probs) + 5.0  # not probabilities: softmax restores them
    assert [round(c.score, 6) for c in classify(logits, cfg)] == [0.3, 0.3, 0.2]
    pulc = resolve(preset="pulc-person-exists")
    assert binary(np.array([0.5, 0.5]), pulc)[0].label == "someone"  # >= threshold
    assert binary(np.array([0.6, 0.4]), pulc)[0].class_id == 0 and binary(np.array([0.6, 0.4]), pulc)[0].score == 0.6


def test_ssd_boxes_scale_x_by_width_and_y_by_height():
    cfg = resolve(preset="ssd-mobilenet-300")
    pre = Preprocessed(np.zeros((1, 3, 300, 300), np.float32), (640, 360), (300, 300), (0, 0))
    rows = np.array([[12, 0.9, 0.25, 0.5, 0.75, 1.2], [3, 0.2, 0, 0, 1, 1], [-1, 0, 0, 0, 0, 0]], np.float32)
    (box,) = ssd_boxes(rows, pre, cfg)
    assert (box.label, box.x0, box.y0, box.x1, box.y1) == ("dog", 160.0, 180.0, 480.0, 360.0)
    assert ssd_boxes(np.array([[-1.0]], np.float32), pre, cfg) == []


def test_ssd_boxes_wholly_outside_the_image_are_dropped():
    cfg = resolve(preset="ssd-mobilenet-300")
    pre = Preprocessed(np.zeros((1, 3, 300, 300), np.float32), (640, 360), (300, 300), (0, 0))
    rows = np.array([[1, 0.9, 1.05, 0.1, 1.3, 0.4], [2, 0.9, 0.1, -0.5, 0.3, -0.01], [3, 0.9, 0.1, 0.1, 0.2, 0.2]])
    assert [b.class_id for b in ssd_boxes(rows, pre, cfg)] == [3]
