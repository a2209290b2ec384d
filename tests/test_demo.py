"""`make demo` as a new user runs it: `python -m lite_tools.demo` deploys the two trained zoo models on the document
pages we render, says per model what the reference found, and prints nothing else.

One run, with one upright page per layout for the detector (--layout-seeds 1: 3 pages instead of 6; the
orientation classifier keeps all 12 pages), is shared by the tests below (a single pytest-xdist worker runs them:
one test function). Independent paths: the turn each page's file is named after, and the regions
document_pages.render_with_regions drew, matched here by the plain rule (any box of the class with IoU >= 0.5),
which equals the demo's one-box-per-region matching because the drawn regions do not overlap (checked).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from lite_tools.pretrained import document_pages

LAYOUT_SEEDS = 1
NAMES = ("text_orientation", "layout")
STAGES = r"(export|opt|parity|android|flutter|java core)"
# Every line the demo may print: deploy's progress on stderr (not a terminal: plain lines) ...
PROGRESS = re.compile(rf"({'|'.join(NAMES)}) {STAGES}: (running|done in \d+\.\ds|opt (arm|x86): cached"
                      r"|opt (arm|x86): running Paddle Lite's optimizer|making the x86 model with lite-tools opt"
                      r"|optimising for arm|rendering the project)")
# ... and one line per model on stdout
ORIENTATION = re.compile(r"demo: PULC_text_image_orientation: READY; orientation: (\d+)/(\d+) pages right \(the "
                         r"reference's top-1 against the turn drawn\); report: (\S+/text_orientation/report\.html)")
LAYOUT = re.compile(r"demo: picodet_lcnet_x1_0_layout: READY; layout: (\d+) regions found on (\d+) pages, recall "
                    r"(\d\.\d\d) of the (\d+) drawn \(((?:\w+ \d\.\d\d, )*\w+ \d\.\d\d)\) at IoU >= 0\.5; "
                    r"report: (\S+/layout/report\.html)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    proc = subprocess.run([sys.executable, "-m", "lite_tools.demo", "--out", str(out), "--layout-seeds",
                           str(LAYOUT_SEEDS)], capture_output=True, text=True, cwd=REPO, timeout=900)
    return out, proc


def _report(out, name) -> dict:
    return json.loads((out / name / "report.json").read_text())


def _regions_found(regions, boxes) -> list:
    """Per drawn region: whether a box of its class overlaps it with IoU >= 0.5 (numpy, all pairs at once)."""
    if not boxes:
        return [False] * len(regions)
    r = np.array([[g.x0, g.y0, g.x1, g.y1] for g in regions])[:, None, :]
    b = np.array([[x["x0"], x["y0"], x["x1"], x["y1"]] for x in boxes])[None, :, :]
    inter = (np.clip(np.minimum(r[..., 2], b[..., 2]) - np.maximum(r[..., 0], b[..., 0]), 0, None)
             * np.clip(np.minimum(r[..., 3], b[..., 3]) - np.maximum(r[..., 1], b[..., 1]), 0, None))
    area = lambda a: (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])  # noqa: E731
    iou = inter / (area(r) + area(b) - inter)
    same = np.array([[g.label == x["label"] for x in boxes] for g in regions])
    return list(((iou >= 0.5) & same).any(axis=1))


def test_make_demo_deploys_the_trained_models_and_says_what_they_found(demo):
    out, proc = demo
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # the console: every line is one the demo means to print (no glog line, no warning, no traceback)
    unexpected = [ln for ln in proc.stderr.splitlines() if not PROGRESS.fullmatch(ln)]
    assert not unexpected, unexpected
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, lines
    orientation, layout = ORIENTATION.fullmatch(lines[0]), LAYOUT.fullmatch(lines[1])
    assert orientation and layout, lines
    for name in NAMES:  # each stage ran and finished, in order
        done = [ln.split(": ")[0] for ln in proc.stderr.splitlines() if ln.startswith(name) and ": done in " in ln]
        assert done == [f"{name} {stage}" for stage in STAGES[1:-1].split("|")], done

    # orientation: every page's turn through the reference (Paddle Inference), Paddle Lite x86 and the Java core
    report = _report(out, "text_orientation")
    assert report["ok"] and orientation.group(3) == str(out / "text_orientation" / "report.html")
    images = report["parity"]["images"]
    turns = [re.fullmatch(r"(report|article|columns)-(0|90|180|270)\.png", i["image"]).group(2) for i in images]
    assert sorted(i["image"] for i in images) == sorted(f"{layout}-{turn}.png" for layout in document_pages.LAYOUTS
                                                         for turn in document_pages.TURNS)
    assert [i["reference"][0]["label"] for i in images] == turns
    assert [i["lite"][0]["label"] for i in images] == turns
    labels = ("0", "90", "180", "270")  # the classes' order in inference.yml's label_list
    assert [labels[int(rows[0][0])] for rows in report["java"]["results"]] == turns
    assert orientation.group(1, 2) == (str(len(turns)), str(len(turns)))
    assert (out / "text_orientation" / "android").is_dir() and (out / "text_orientation" / "flutter").is_dir()

    # layout: the line's counts are the report's boxes and the regions drawn on the pages
    report = _report(out, "layout")
    assert report["ok"] and layout.group(6) == str(out / "layout" / "report.html")
    images = report["parity"]["images"]
    drawn = found = 0
    per_class = {}
    for image in images:
        page, seed = re.fullmatch(r"(report|article|columns)-seed(\d)\.png", image["image"]).groups()
        rgb, regions = document_pages.render_with_regions(page, int(seed))
        for i, a in enumerate(regions):  # disjoint: one box cannot count for two regions
            assert all(min(a.x1, b.x1) <= max(a.x0, b.x0) or min(a.y1, b.y1) <= max(a.y0, b.y0)
                       for b in regions[i + 1:]), (image["image"], a)
        hits = _regions_found(regions, image["reference"])
        drawn, found = drawn + len(regions), found + sum(hits)
        for region, hit in zip(regions, hits):
            per_class.setdefault(region.label, []).append(hit)
    assert len(images) == LAYOUT_SEEDS * len(document_pages.LAYOUTS)
    boxes = sum(len(i["reference"]) for i in images)
    assert layout.group(1, 2, 4) == (str(boxes), str(len(images)), str(drawn))
    assert layout.group(3) == f"{found / drawn:.2f}"
    printed = dict(item.rsplit(" ", 1) for item in layout.group(5).split(", "))
    assert printed == {label: f"{np.mean(hits):.2f}" for label, hits in per_class.items()}
    for label in ("text", "table", "figure"):  # what the pages are mostly made of, found on every page
        assert printed[label] == "1.00", printed
    assert (out / "layout" / "android").is_dir() and (out / "layout" / "flutter").is_dir()
    print(f"\n{proc.stdout}", end="")
