"""The deploy report as a person sees it: real deploys (a detector and a classifier from the zoo) opened in Debian's
headless Chromium (scripts/fetch_chromium.sh); the screenshot must show the verdict badge and the loaded thumbnails
in the first 1280x800 screen. Also: every embedded image decodes at its size limit, a difference is marked, and 50
real photos stay under 10 MB."""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_cli

sys.path.insert(0, str(REPO / "scripts"))
from report_screenshot import screenshot  # noqa: E402

DEPLOYS = {"detector": ("SSD_MobileNetV1_300", "ssd-mobilenet-300"),
           "classifier": ("PULC_safety_helmet", "pulc-safety-helmet")}
SAMPLES = REPO / "lite_tools" / "samples"


@pytest.fixture(scope="module")
def deployed(zoo_dir, tmp_path_factory):
    """kind -> OUT of one real deploy (bundled samples, Android project, Java-core check)."""
    outs = {}
    for kind, (model, preset) in DEPLOYS.items():
        out = tmp_path_factory.mktemp(kind) / "out"
        proc = run_cli("deploy", zoo_dir(model), "--preset", preset, "--out", out, "--name", kind, "-q")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outs[kind] = out
    return outs


@pytest.fixture(scope="module")
def chromium():
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_chromium.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _images(page: str) -> list:
    """(alt, decoded PIL image) of every <img> in the page: each must be an inline JPEG."""
    found = []
    for tag in re.findall(r"<img [^>]*>", page):
        src = re.search(r'src="data:image/jpeg;base64,([^"]+)"', tag)
        assert src, tag[:120]
        found.append((re.search(r'alt="([^"]*)"', tag).group(1),
                      Image.open(io.BytesIO(base64.b64decode(src.group(1)))).convert("RGB")))
    return found


@pytest.mark.parametrize("kind", list(DEPLOYS))
def test_report_embeds_every_engines_picture(deployed, kind):
    out = deployed[kind]
    page, report = (out / "report.html").read_text(), json.loads((out / "report.json").read_text())
    names = [i["image"] for i in report["parity"]["images"]]
    assert len(names) == 6 and len(report["java"]["results"]) == 6  # the Java core's output per image is kept
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert page.count("src=") + page.count("href=") == len(refs)
    assert not any(ref in page for ref in ("<link", "url(", "<script"))
    for ref in refs:  # inline pictures, anchors in the page, or artifacts beside report.html
        assert ref.startswith(("data:image/jpeg;base64,", "#")) or (out / ref).exists(), ref[:80]
    assert {r for r in refs if not r.startswith(("data:", "#"))} >= {"opt/" + kind + ".arm.nb", "android"}
    pictures = _images(page)
    thumbs = [(alt, im) for alt, im in pictures if not alt.endswith("full size")]
    full = [(alt, im) for alt, im in pictures if alt.endswith("full size")]
    per_image = 3 if kind == "detector" else 1  # one panel per engine with its boxes; a classifier's picture once
    assert len(thumbs) == per_image * 6 and len(full) == 6
    for alt, im in thumbs:
        source = Image.open(SAMPLES / alt.split(":")[0])
        assert max(im.size) == min(320, max(source.size))  # fitted, aspect kept
        assert abs(im.width / im.height - source.width / source.height) < 0.02
    assert all(max(im.size) <= 1600 for _, im in full)
    assert page.count('class="card"') + page.count('class="card differ"') == 6
    assert "engines differ" not in page and page.count("all engines agree") == 6
    if kind == "detector":
        boxes = sum(len(i["reference"]) for i in report["parity"]["images"])
        assert boxes > 0 and page.count("<circle") == boxes  # one scatter point per matched box: all matched
        assert "Worst IoU" in page and "outlined in red" in page
    else:
        assert "Confusion between engines: none" in page
    assert "wall time per stage" in page and all(f">{stage}</text>" in page for stage in report["stages"])


def _badge(screen: np.ndarray, colour: str) -> np.ndarray:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return np.argwhere(np.all(np.abs(screen.astype(int) - rgb) <= 2, axis=2))


def test_browser_shows_verdict_and_thumbnails_on_the_first_screen(deployed, chromium, tmp_path):
    """One Chromium screenshot per report: the verdict badge's colour fills a block near the top, and the first
    image's thumbnail is drawn (its own dominant colours, computed here from the sample file, cover its area)."""
    from lite_tools.deploy_report import VERDICT_OK

    for kind, out in deployed.items():
        png = tmp_path / f"{kind}.png"
        screenshot(chromium, out / "report.html", png)
        screen = np.asarray(Image.open(png).convert("RGB"))
        assert screen.shape[:2] == (800, 1280)
        badge = _badge(screen[:250], VERDICT_OK)  # near the top, above the images (photos may hold the colour)
        assert len(badge) > 2000, f"{kind}: the READY badge is not on the first screen"
        (y0, x0), (y1, x1) = badge.min(axis=0), badge.max(axis=0)
        assert len(badge) > 0.6 * (y1 - y0 + 1) * (x1 - x0 + 1)  # one filled block (the badge), white text on it
        first = json.loads((out / "report.json").read_text())["parity"]["images"][0]["image"]
        thumb = Image.open(SAMPLES / first).convert("RGB")
        thumb.thumbnail((320, 320))
        bins = lambda a: (np.asarray(a, dtype=np.int32) >> 5) @ [64, 8, 1]  # noqa: E731 - 3 bits per channel
        want = np.bincount(bins(thumb).ravel(), minlength=512)
        top = [b for b in np.argsort(want)[::-1][:4] if b not in (0, 511)]  # not page black/white
        seen = np.bincount(bins(screen[250:]).ravel(), minlength=512)
        assert seen[top].sum() >= 0.6 * want[top].sum(), f"{kind}: {first}'s thumbnail is not drawn"


def test_a_difference_is_marked(deployed):
    """The detector's real report data with one Lite box dropped on one image: that card, and only it, is marked."""
    from lite_tools.deploy import DeployResult, load_images
    from lite_tools.deploy_report import render

    data = json.loads((deployed["detector"] / "report.json").read_text())
    data.pop("format")
    changed = copy.deepcopy(data)
    target = next(i for i, img in enumerate(changed["parity"]["images"]) if img["lite"])
    img = changed["parity"]["images"][target]
    img["lite"], img["task_ok"], img["task_detail"] = img["lite"][1:], False, "boxes differ: 1 missing"
    page = render(DeployResult(**changed), load_images(None)[0])
    cards = re.findall(r'<div class="card( differ)?" id="img-(\d+)">', page)
    assert [int(i) for flag, i in cards if flag] == [target]
    assert page.count("engines differ") == 1 and "Lite: boxes differ: 1 missing" in page
    assert "the engines agree on 5" in page


def test_fifty_photos_stay_under_ten_megabytes(deployed, sample_photos):
    """50 real photos (the 31 sample photos, the larger ones twice, one enlarged to 4000 px), each with the detector's
    real boxes scaled onto it: the page must stay under 10 MB with the images at their limits."""
    from lite_tools.deploy import DeployResult
    from lite_tools.deploy_report import render

    data = json.loads((deployed["detector"] / "report.json").read_text())
    data.pop("format")
    photos = sorted(sample_photos, key=lambda p: -p[1].size)
    photos = (photos + photos)[:50]
    big = Image.fromarray(photos[0][1])
    photos[0] = (photos[0][0], np.asarray(big.resize((4000, round(4000 * big.height / big.width)))))
    with_boxes = [i for i in data["parity"]["images"] if i["reference"]]
    parity, java, images = [], [], []
    for n, (name, rgb) in enumerate(photos):
        src = with_boxes[n % len(with_boxes)]
        w, h = Image.open(SAMPLES / src["image"]).size
        sx, sy = rgb.shape[1] / w, rgb.shape[0] / h
        def scale(b):
            return {**b, "x0": b["x0"] * sx, "x1": b["x1"] * sx, "y0": b["y0"] * sy, "y1": b["y1"] * sy}
        entry = {**src, "image": f"{n:02d}-{name}", "reference": [scale(b) for b in src["reference"]],
                 "lite": [scale(b) for b in src["lite"]]}
        parity.append(entry)
        java.append([[b["class_id"], b["score"], b["x0"], b["y0"], b["x1"], b["y1"]] for b in entry["reference"]])
        images.append((entry["image"], rgb))
    data["parity"] = {**data["parity"], "images": parity}
    data["java"] = {**data["java"], "results": java, "mismatches": []}
    page = render(DeployResult(**data), images)
    assert len(_images(page)) == 50 * 4
    assert len(page.encode()) <= 10_000_000, f"{len(page.encode()) / 1e6:.1f} MB for 50 photos"
    assert max(im.size[0] for alt, im in _images(page) if alt.startswith("00-") and alt.endswith("full size")) <= 1600


def test_readme_screenshot_exists():
    """docs/report.png: scripts/report_screenshot.py regenerates it (a deploy and one Chromium run)."""
    png = REPO / "docs" / "report.png"
    assert png.is_file() and png.stat().st_size < 200_000
    assert Image.open(png).size == (1280, 800)

