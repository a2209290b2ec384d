package com.baidu.paddle.lite;

/** Compile-only declaration of Paddle Lite's Java API (tests; --apk without the user's jar): never dexed. */
public class PaddlePredictor {
    public static PaddlePredictor createPaddlePredictor(ConfigBase config) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public Tensor getInput(int index) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public Tensor getOutput(int index) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public boolean run() {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public String getVersion() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
