package com.baidu.paddle.lite;

/** Compile-only declaration of Paddle Lite's Java API (tests; --apk without the user's jar): never dexed. */
public enum PowerMode {
    LITE_POWER_HIGH, LITE_POWER_LOW, LITE_POWER_FULL, LITE_POWER_NO_BIND, LITE_POWER_RAND_HIGH, LITE_POWER_RAND_LOW
}
