"""A known tensor through a tiny Paddle Lite model and back (y = 2x + 1). numpy 2 makes Lite's from_numpy read
garbage without any error; this catches it. Run as a child: python -m lite_tools.canary (prints CANARY ...)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from . import cache


def canary_model() -> Path:
    """An x86 .nb of y = 2x + 1, built once per cache (or once per run, in a temp folder, without a cache)."""
    from . import opt

    key = cache.key_of("canary-v1", opt.COMPAT_VERSION)
    hit = cache.get_file("canary", key, ".nb")
    if hit:
        return hit
    import paddle

    class AffineCanary(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.two = self.create_parameter([1], default_initializer=paddle.nn.initializer.Constant(2.0))

        def forward(self, x):
            return x * self.two + 1.0

    import atexit

    from . import staging

    tmp = staging.make(tempfile.gettempdir(), "lite-tools-canary-")  # locked: swept after a SIGKILL
    atexit.register(staging.remove, tmp)
    paddle.jit.save(AffineCanary(), f"{tmp}/model/inference",
                    input_spec=[paddle.static.InputSpec([1, 4, 8], "float32", "x")])
    opt.optimize(f"{tmp}/model", f"{tmp}/out", opt.OptOptions(targets=("x86",), name="canary"))
    cache.put_file("canary", key, ".nb", Path(f"{tmp}/out/canary.x86.nb"))
    return cache.get_file("canary", key, ".nb") or Path(f"{tmp}/out/canary.x86.nb")


def main() -> None:
    from .engines import LiteEngine

    x = (np.arange(32, dtype=np.float32).reshape(1, 4, 8) - 16.0) / 8.0
    (y,) = LiteEngine(canary_model()).run([x])
    err = float(np.abs(y - (2 * x + 1)).max()) if y.shape == x.shape else float("inf")
    print(f"CANARY max_abs={err!r} shape={list(y.shape)} numpy={np.__version__}")
    sys.exit(0 if err < 1e-6 else 1)


if __name__ == "__main__":
    main()
