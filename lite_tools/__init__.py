"""lite-tools: from a PaddleClas/PaddleDetection export to a verified Paddle Lite app project."""

__version__ = "0.1.0"
