"""`make demo`: the main job on the embedded default model.

Builds the zoo's PULC-style PPLCNet_x1_0 (person_exists head), optimises it for arm and x86 through
`lite-tools opt`, checks the x86 model against Paddle Inference on a few inputs, and prints the summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .errors import LiteToolsError

DEMO_MODEL = "PULC_person_exists"


def run(out: Path) -> int:
    from . import opt, zoo
    from .engines import LiteEngine, PaddleInferenceEngine
    from .model import files
    from .report_text import opt_summary

    export = zoo.export(DEMO_MODEL, out / "export" / DEMO_MODEL)
    print(f"demo: exported zoo model {DEMO_MODEL} to {export}")
    manifest = opt.optimize(export, out / "opt", opt.OptOptions(targets=("arm", "x86"), name=DEMO_MODEL),
                            progress=lambda m: print(f"demo: {m}"))
    print(opt_summary(manifest, out / "opt"))
    mf = files.locate(export)
    x = np.random.RandomState(0).uniform(-2, 2, (4, 3, 224, 224)).astype(np.float32)
    reference = PaddleInferenceEngine(mf.model_file, mf.param_file).run([x])[0]
    lite = np.concatenate([LiteEngine(out / "opt" / f"{DEMO_MODEL}.x86.nb").run([x[i:i + 1]])[0]
                           for i in range(len(x))])
    err = float(np.abs(reference - lite).max())
    print(f"demo: Lite x86 vs Paddle Inference on 4 random inputs: max abs difference {err:.2e}")
    return 0 if err < 1e-4 else 1


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
