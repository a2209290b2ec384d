#!/usr/bin/env bash
# Fetch Android API 23's android.jar (Debian 11's package libandroid-23-java) into a cache, for compiling the
# generated Android sources in tests. Uses this machine's own Debian mirror with a private apt state directory
# and sources list: nothing system-wide changes. Prints the jar's path. Idempotent.
set -euo pipefail
CACHE=${LITE_TOOLS_ANDROID_CACHE:-"$(cd "$(dirname "$0")/.." && pwd)/build/android-sdk"}
JAR="$CACHE/android-23.jar"
if [ -s "$JAR" ]; then echo "$JAR"; exit 0; fi
source "$(dirname "$0")/fetch_lib.sh"
fetch_debs "$CACHE" bullseye alone libandroid-23-java
FOUND=$(find "$CACHE/root" -type f -name '*android-23.jar' | head -n1)
if [ -z "$FOUND" ]; then echo "fetch_android_jar: no android.jar inside ${FETCHED_DEBS[0]}" >&2; exit 1; fi
cp "$FOUND" "$JAR.tmp" && mv "$JAR.tmp" "$JAR"
rm -rf "$CACHE/root"
echo "$JAR"
