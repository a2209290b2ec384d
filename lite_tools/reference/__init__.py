"""The Python reference pipeline: pixels -> input tensor -> labels/boxes, from a DeployConfig, exactly once.
The generated Java reproduces every step here; tests compare the two."""

from .images import load_image, list_images, synthetic_images
from .postprocess import postprocess
from .preprocess import Preprocessed, model_inputs, preprocess

__all__ = ["load_image", "list_images", "synthetic_images", "preprocess", "Preprocessed", "model_inputs",
           "postprocess"]
