#!/usr/bin/env bash
# Fetch Debian's chromium (headless, for the report's browser test) with the part of its dependency closure this
# machine lacks, into a cache: private apt state on this machine's own Debian mirror (bookworm main), download only,
# each .deb extracted with dpkg-deb: nothing system-wide changes. Uses /usr/bin/chromium when it is installed.
# Prints a launcher that runs it with LD_LIBRARY_PATH into the extracted tree. Idempotent.
set -euo pipefail
CACHE=${LITE_TOOLS_CHROMIUM_CACHE:-"$(cd "$(dirname "$0")/.." && pwd)/build/chromium"}
if [ -x /usr/bin/chromium ]; then echo /usr/bin/chromium; exit 0; fi
if [ -x "$CACHE/chromium" ]; then echo "$CACHE/chromium"; exit 0; fi
source "$(dirname "$0")/fetch_lib.sh"
fetch_debs "$CACHE" bookworm closure chromium
if [ ! -x "$CACHE/root/usr/lib/chromium/chromium" ]; then echo "fetch_chromium: no chromium after download" >&2; exit 1; fi
# Every folder of shared libraries in the extracted tree, ahead of the system's.
LIBS=$(find "$CACHE/root" -name '*.so*' -printf '%h\n' | sort -u | tr '\n' ':')
cat > "$CACHE/chromium.tmp" <<LAUNCH
#!/bin/sh
export LD_LIBRARY_PATH="$LIBS\${LD_LIBRARY_PATH:-}"
export FONTCONFIG_PATH="\${FONTCONFIG_PATH:-/etc/fonts}"
exec "$CACHE/root/usr/lib/chromium/chromium" "\$@"
LAUNCH
chmod +x "$CACHE/chromium.tmp" && mv "$CACHE/chromium.tmp" "$CACHE/chromium"
echo "$CACHE/chromium"
