package com.baidu.paddle.lite;

/** Compile-only declaration of Paddle Lite's Java API (tests; --apk without the user's jar): never dexed. */
public class MobileConfig extends ConfigBase {
    public void setModelFromFile(String path) {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
