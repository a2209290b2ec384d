"""A debug APK built from a generated Android project without Gradle, with Debian's packaged Android tools
(lite_tools.apk.toolchain), checked (lite_tools.apk.elf for the user's native libraries) and signed
(lite_tools.apk.build)."""
