package io.flutter.embedding.engine.dart;

import io.flutter.plugin.common.BinaryMessenger;

/** Compile-only declaration of Flutter's Android embedding API; tests only. */
public class DartExecutor {
    public BinaryMessenger getBinaryMessenger() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
