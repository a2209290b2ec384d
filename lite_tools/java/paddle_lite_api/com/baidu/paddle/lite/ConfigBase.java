package com.baidu.paddle.lite;

/** Compile-only declaration of Paddle Lite's Java API (documented in its Java API reference); tests only. */
public class ConfigBase {
    public void setPowerMode(PowerMode mode) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public void setThreads(int threads) {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
