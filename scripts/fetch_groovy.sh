#!/usr/bin/env bash
# Fetch Debian's Groovy (a real Groovy parser) and its Java libraries into a cache, for syntax-checking the
# generated Gradle files in tests (no Gradle can be installed here). Private apt state on this machine's own
# Debian mirror (bookworm main only), download only: nothing system-wide changes. Prints the classpath. Idempotent.
set -euo pipefail
CACHE=${LITE_TOOLS_GROOVY_CACHE:-"$(cd "$(dirname "$0")/.." && pwd)/build/groovy"}
if [ -s "$CACHE/classpath" ]; then cat "$CACHE/classpath"; exit 0; fi
source "$(dirname "$0")/fetch_lib.sh"
fetch_debs "$CACHE" bookworm closure groovy
# Jars Debian already has installed stay where they are; the downloaded ones are in the private root.
CP=$(find "$CACHE/root/usr/share/java" /usr/share/java -maxdepth 1 -name '*.jar' -type f 2>/dev/null | tr '\n' ':')
if ! echo "$CP" | grep -q 'groovy-2'; then echo "fetch_groovy: no groovy jar after download" >&2; exit 1; fi
printf '%s' "$CP" > "$CACHE/classpath.tmp" && mv "$CACHE/classpath.tmp" "$CACHE/classpath"
cat "$CACHE/classpath"
