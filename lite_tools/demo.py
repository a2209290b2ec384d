"""`make demo`: the main job on the embedded default model.

Builds the zoo's PULC-style PPLCNet_x1_0 (person_exists head), optimises it for arm and x86 through
`lite-tools opt`, runs the parity gate (Paddle Lite x86 against Paddle Inference, pixels to decisions, with the
`pulc-person-exists` preset) on generated photos, and prints where the report is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import LiteToolsError

DEMO_MODEL = "PULC_person_exists"


def run(out: Path) -> int:
    from . import opt, zoo
    from .config import resolve
    from .parity import check, report
    from .reference import synthetic_images
    from .report_text import opt_summary

    export = zoo.export(DEMO_MODEL, out / "export" / DEMO_MODEL)
    print(f"demo: exported zoo model {DEMO_MODEL} to {export}")
    manifest = opt.optimize(export, out / "opt", opt.OptOptions(targets=("arm", "x86"), name=DEMO_MODEL),
                            progress=lambda m: print(f"demo: {m}"))
    print(opt_summary(manifest, out / "opt"))
    images = [(f"photo-{i}", img) for i, img in enumerate(synthetic_images(8, seed=2024))]
    result = check.check(export, resolve(preset=zoo.REGISTRY[DEMO_MODEL].preset), images,
                         progress=lambda m: print(f"demo: {m}"))
    _, html_path = report.write(result, out / "parity")
    worst = max(i.worst_abs for i in result.images)
    print(f"demo: parity {'PASS' if result.ok else 'FAIL'} on {len(images)} generated photos "
          f"(worst |lite - paddle| {worst:.2e}); report: {html_path}")
    return 0 if result.ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lite_tools.demo")
    parser.add_argument("--out", default="build/demo")
    args = parser.parse_args(argv)
    try:
        return run(Path(args.out))
    except LiteToolsError as e:
        print(f"lite-tools: error: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
