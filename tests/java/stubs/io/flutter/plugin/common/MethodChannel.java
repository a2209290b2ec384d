package io.flutter.plugin.common;

/** Compile-only declaration of Flutter's Android embedding API; tests only. */
public class MethodChannel {
    public interface Result {
        void success(Object result);

        void error(String errorCode, String errorMessage, Object errorDetails);

        void notImplemented();
    }

    public interface MethodCallHandler {
        void onMethodCall(MethodCall call, Result result);
    }

    public MethodChannel(BinaryMessenger messenger, String name) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public void setMethodCallHandler(MethodCallHandler handler) {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
