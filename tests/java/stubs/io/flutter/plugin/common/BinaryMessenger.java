package io.flutter.plugin.common;

/** Compile-only declaration of Flutter's Android embedding API; tests only. */
public interface BinaryMessenger {
}
