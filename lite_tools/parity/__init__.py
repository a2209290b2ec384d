"""The x86 parity harness: Paddle Inference (reference) against Paddle Lite x86, from pixels to labels and boxes."""
