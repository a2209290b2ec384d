"""Regenerate docs/report.png, the README's picture of a deploy report: deploy the zoo's SSD_MobileNetV1_300 on the
bundled samples, open report.html in headless Chromium (scripts/fetch_chromium.sh) at 1280x800 and save the first
screen as a palette PNG under 200 KB.

    .venv/bin/python scripts/report_screenshot.py [--out docs/report.png] [--report DIR]   (DIR: reuse a deploy)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIMIT = 200_000


def chromium() -> str:
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_chromium.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"fetch_chromium.sh failed: {proc.stderr.strip()[-400:]}")
    return proc.stdout.strip()


def screenshot(browser: str, page: Path, png: Path, size=(1280, 800)) -> None:
    """The page's first screen as Chromium draws it (headless, no GPU, no sandbox: containers have none)."""
    cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", Path(page).resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not Path(png).is_file():
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")


def shrink(png: Path, limit: int = LIMIT) -> int:
    """Re-save as a palette PNG (fewer colours until it fits `limit`); return its size."""
    from PIL import Image

    original = Image.open(png).convert("RGB")
    for colours in (256, 128, 64, 32):
        original.quantize(colours, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
        if png.stat().st_size < limit:
            break
    return png.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--report", type=Path, help="an existing deploy OUT folder (skips the deploy)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.report
        if out is None:
            from lite_tools import zoo

            out = Path(tmp) / "deploy"
            model = zoo.exported("SSD_MobileNetV1_300")
            run = subprocess.run([sys.executable, "-m", "lite_tools", "deploy", str(model),
                                  "--preset", "ssd-mobilenet-300", "--out", str(out), "--name", "ssd_mobilenet",
                                  "-q"], capture_output=True, text=True)
            if not (out / "report.html").is_file():
                raise SystemExit(f"deploy failed: {(run.stderr or run.stdout)[-600:]}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(chromium(), out / "report.html", args.out)
        size = shrink(args.out)
    print(f"{args.out}: {size / 1000:.0f} KB")
    return 0 if size < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
