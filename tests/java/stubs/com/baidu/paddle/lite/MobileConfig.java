package com.baidu.paddle.lite;

/** Compile-only declaration of Paddle Lite's Java API; tests only. */
public class MobileConfig extends ConfigBase {
    public void setModelFromFile(String path) {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
