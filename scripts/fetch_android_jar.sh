#!/usr/bin/env bash
# Fetch Android API 23's android.jar (Debian 11's package libandroid-23-java) into a cache, for compiling the
# generated Android sources in tests. Uses this machine's own Debian mirror with a private apt state directory
# and sources list: nothing system-wide changes. Prints the jar's path. Idempotent.
set -euo pipefail
CACHE=${LITE_TOOLS_ANDROID_CACHE:-"$(cd "$(dirname "$0")/.." && pwd)/build/android-sdk"}
JAR="$CACHE/android-23.jar"
if [ -s "$JAR" ]; then echo "$JAR"; exit 0; fi
mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial" "$CACHE/apt/etc"
# The mirror this machine already uses for Debian (first deb URI of its Debian sources, not the security one).
MIRROR=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v -i security | grep -o -E 'https?://[^ ]+/debian' | head -n1 || true)
if [ -z "$MIRROR" ]; then echo "fetch_android_jar: no Debian mirror configured in /etc/apt" >&2; exit 1; fi
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bullseye main" > "$CACHE/apt/etc/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$CACHE/apt/etc/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache=$CACHE/apt/cache" -o "Debug::NoLocking=1"
          -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
apt-get -qq "${APT_OPTS[@]}" update >&2
(cd "$CACHE" && apt-get -qq "${APT_OPTS[@]}" download libandroid-23-java >&2)
DEB=$(ls "$CACHE"/libandroid-23-java_*.deb | head -n1)
rm -rf "$CACHE/extract" && dpkg-deb -x "$DEB" "$CACHE/extract"
FOUND=$(find "$CACHE/extract" -type f -name '*android-23.jar' | head -n1)
if [ -z "$FOUND" ]; then echo "fetch_android_jar: no android.jar inside $DEB" >&2; exit 1; fi
cp "$FOUND" "$JAR.tmp" && mv "$JAR.tmp" "$JAR"
rm -rf "$CACHE/extract" "$CACHE/apt/lists" "$CACHE/apt/cache"
echo "$JAR"
