package com.baidu.paddle.lite;

/** Compile-only declaration of Paddle Lite's Java API (tests; --apk without the user's jar): never dexed. */
public class Tensor {
    public boolean resize(long[] dims) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public long[] shape() {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public boolean setData(float[] buf) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public float[] getFloatData() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
