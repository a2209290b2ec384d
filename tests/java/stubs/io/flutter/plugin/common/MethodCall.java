package io.flutter.plugin.common;

/** Compile-only declaration of Flutter's Android embedding API; tests only. */
public final class MethodCall {
    public final String method;

    public MethodCall(String method) {
        this.method = method;
    }

    public <T> T argument(String key) {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
