"""Reading Paddle inference models and `.nb` files without Paddle Lite."""
