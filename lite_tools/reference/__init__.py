"""The Python reference pipeline: pixels -> input tensor -> labels/boxes, from a DeployConfig, exactly once.
The generated Java reproduces every step here; tests compare the two."""

from .images import list_images, load_folder, load_image, synthetic_images
from .postprocess import postprocess
from .preprocess import Preprocessed, model_inputs, preprocess

__all__ = ["load_image", "load_folder", "list_images", "synthetic_images", "preprocess", "Preprocessed", "model_inputs",
           "postprocess"]
