#!/usr/bin/env bash
# Fetch JUnit 4 and Hamcrest (Debian 12's junit4 and libhamcrest-java) into a cache, for running the generated
# projects' app/src/test golden tests with org.junit.runner.JUnitCore (no Gradle here). Private apt state on this
# machine's own Debian mirror, download only: nothing system-wide changes. Prints the classpath. Idempotent.
set -euo pipefail
CACHE=${LITE_TOOLS_JUNIT_CACHE:-"$(cd "$(dirname "$0")/.." && pwd)/build/junit"}
if [ -s "$CACHE/classpath" ]; then cat "$CACHE/classpath"; exit 0; fi
source "$(dirname "$0")/fetch_lib.sh"
fetch_debs "$CACHE" bookworm alone junit4 libhamcrest-java
# The versioned files (junit4.jar and hamcrest-2.2.jar; the other names are symlinks to them)
JUNIT=$(find "$CACHE/root/usr/share/java" -maxdepth 1 -name 'junit4*.jar' -type f | head -n1)
HAMCREST=$(find "$CACHE/root/usr/share/java" -maxdepth 1 -name 'hamcrest-[0-9]*.jar' -type f | head -n1)
if [ -z "$JUNIT" ] || [ -z "$HAMCREST" ]; then echo "fetch_junit: no junit4/hamcrest jar after download" >&2; exit 1; fi
printf '%s:%s' "$JUNIT" "$HAMCREST" > "$CACHE/classpath.tmp" && mv "$CACHE/classpath.tmp" "$CACHE/classpath"
cat "$CACHE/classpath"
