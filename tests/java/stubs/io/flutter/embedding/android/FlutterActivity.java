package io.flutter.embedding.android;

import io.flutter.embedding.engine.FlutterEngine;

/** Compile-only declaration of Flutter's Android embedding API; tests only. */
public class FlutterActivity extends android.app.Activity {
    public void configureFlutterEngine(FlutterEngine flutterEngine) {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
