#!/usr/bin/env bash
# Real photos for the preprocessing tests (issue 12): the sample images that matplotlib, scikit-image and
# scikit-learn ship inside their wheels (grace_hopper.jpg, astronaut.png, china.jpg, ...). The three wheels (pinned
# versions and sha256) are downloaded, never installed; their JPEG and PNG sample files are copied into
# build/sample-photos/<package>/, with SOURCES.txt naming the wheel file each came from. Idempotent; the folder appears by one
# rename or not at all. Prints the folder last.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
source "$REPO/scripts/fetch_lib.sh"
DEST=${LITE_TOOLS_SAMPLE_PHOTOS:-"$REPO/build/sample-photos"}
if [ -f "$DEST/SOURCES.txt" ]; then echo "$DEST"; exit 0; fi
PY=${LITE_TOOLS_PYTHON:-"$REPO/.venv/bin/python"}
[ -x "$PY" ] || PY=python3
WHEELS=(
    "matplotlib==3.9.2 matplotlib-3.9.2-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl ab68d50c06938ef28681073327795c5db99bb4666214d2d5f880ed11aeaded66"
    "scikit-image==0.24.0 scikit_image-0.24.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 39ee0af13435c57351a3397eb379e72164ff85161923eec0c38849fecf1b4764"
    "scikit-learn==1.5.2 scikit_learn-1.5.2-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 3a686885a4b3818d9e62904d91b57fa757fc2bed3e465c8b177be652f4dd37c8"
)
mkdir -p "$(dirname "$DEST")"
TMP=$(mktemp -d "$(dirname "$DEST")/.sample-photos.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
for entry in "${WHEELS[@]}"; do
    read -r spec wheel sha <<<"$entry"
    RETRY_CLEAN="$TMP/dl/$wheel" retry "pip download $spec" \
        "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.10 \
        --platform manylinux2014_x86_64 --disable-pip-version-check -q -d "$TMP/dl" "$spec" >&2
    actual=$(sha256sum "$TMP/dl/$wheel" | cut -d' ' -f1)
    if [ "$actual" != "$sha" ]; then
        echo "fetch_sample_photos: $wheel has sha256 $actual, expected $sha" >&2; exit 1
    fi
done
"$PY" - "$TMP/dl" "$TMP/photos" <<'PYEOF'
import sys
import zipfile
from pathlib import Path

dl, out = Path(sys.argv[1]), Path(sys.argv[2])
folders = ("mpl-data/sample_data/", "skimage/data/", "sklearn/datasets/images/")
sources = []
for wheel in sorted(dl.glob("*.whl")):
    package = wheel.name.split("-")[0]
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            if any(f in name for f in folders) and name.lower().endswith((".jpg", ".jpeg", ".png")):
                target = out / package / Path(name).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(name))
                sources.append(f"{package}/{target.name}\t{wheel.name}:{name}")
(out / "SOURCES.txt").write_text("\n".join(sources) + "\n")
PYEOF
mv -T "$TMP/photos" "$DEST" 2>/dev/null || [ -f "$DEST/SOURCES.txt" ]
echo "$DEST"
