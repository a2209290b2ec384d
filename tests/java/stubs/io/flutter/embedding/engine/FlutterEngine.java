package io.flutter.embedding.engine;

import io.flutter.embedding.engine.dart.DartExecutor;

/** Compile-only declaration of Flutter's Android embedding API; tests only. */
public class FlutterEngine {
    public DartExecutor getDartExecutor() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
