"""The pictures of the deploy report: per image, what the reference (Paddle Inference), Paddle Lite and the Java core
produced, drawn with Pillow on the source image and embedded as JPEG data URIs (the page stays one file), plus the
small inline SVG charts (score scatter, stage timings).

Sizes: thumbnails fit 320 px, the click-through image 1600 px; each click-through JPEG is re-encoded smaller until
it fits FULL_BUDGET bytes, so 50 photos stay under 10 MB of HTML whatever their resolution.
"""

from __future__ import annotations

import base64
import html
import io

from PIL import Image, ImageDraw, ImageFont

from .parity import matching
from .reference.postprocess import Box

THUMB = 320
FULL = 1600
THUMB_QUALITY = 72
FULL_BUDGET = 80_000  # bytes of JPEG per click-through image (base64 adds a third)
DETECTION = ("ssd", "picodet")
SHOWN_BOXES = 8  # labels listed per engine and image; every box is drawn
SCATTER_IOU = 0.5  # pairs for the score scatter: same class, IoU >= this (looser than the parity gate)


# One style per engine: colour, line pattern (dash, gap in px; None = solid), width at 320 px.
ENGINES = {"reference": ("Paddle Inference (reference)", "#1a9850", None, 3),
           "lite": ("Paddle Lite x86", "#e66101", (8, 5), 2),
           "java": ("Java core (JVM)", "#2c5fbe", (2, 4), 2)}
WORST = "#d7191c"


def jpeg_uri(img: Image.Image, max_side: int, quality: int = THUMB_QUALITY, budget: int | None = None) -> str:
    """A data: URI of `img` as JPEG, its long side <= max_side; with `budget`, lower quality then size to fit."""
    img = fit(img, max_side)
    while True:
        for q in ([quality] if budget is None else (quality, 65, 50, 40)):
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=q, optimize=True)
            if budget is None or buf.tell() <= budget:
                return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
        img = img.resize((max(1, img.width * 3 // 4), max(1, img.height * 3 // 4)), Image.Resampling.LANCZOS)


def fit(img: Image.Image, max_side: int) -> Image.Image:
    scale = min(1.0, max_side / max(img.size))
    if scale >= 1.0:
        return img.copy()
    return img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _segments(a, b, pattern):
    """Pieces of the line a-b: the whole line when solid, else dash/gap pieces."""
    if pattern is None:
        return [(a, b)]
    (x0, y0), (x1, y1) = a, b
    length = max(abs(x1 - x0), abs(y1 - y0))
    dash, gap = pattern
    out, t = [], 0.0
    while t < length:
        e = min(length, t + dash)
        out.append(((x0 + (x1 - x0) * t / length, y0 + (y1 - y0) * t / length),
                    (x0 + (x1 - x0) * e / length, y0 + (y1 - y0) * e / length)))
        t = e + gap
    return out


def draw_box(draw: ImageDraw.ImageDraw, xyxy, colour: str, pattern, width: int, text: str | None, font,
             corner: int = 0) -> None:
    """One box in an engine's style; its label (on a filled tag) at corner 0 top-left, 1 top-right, 2 bottom-left."""
    x0, y0, x1, y1 = xyxy
    for a, b in ((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0)):
        for p, q in _segments(a, b, pattern):
            draw.line([p, q], fill=colour, width=width)
    if text:
        l, t, r, b = draw.textbbox((0, 0), text, font=font)
        w, h = r - l + 4, b - t + 4
        tx = x0 if corner != 1 else max(x0, x1 - w)
        ty = max(0, y0 - h) if corner != 2 else y1
        draw.rectangle([tx, ty, tx + w, ty + h], fill=colour)
        draw.text((tx + 2 - l, ty + 2 - t), text, fill="white", font=font)


def box_text(b: dict) -> str:
    return f"{b['label'] or b['class_id']} {b['score']:.2f}"


def draw_detections(rgb, engines: dict, max_side: int, worst=None) -> Image.Image:
    """The source image scaled to max_side with each engine's boxes; `engines`: {engine: [box dict]} (one engine per
    thumbnail, all three on the click-through). `worst`: a reference box to outline in WORST."""
    src = Image.fromarray(rgb) if not isinstance(rgb, Image.Image) else rgb
    img = fit(src.convert("RGB"), max_side)
    s = img.width / src.width
    unit = max(1, max(img.size) // 640)  # line widths and fonts grow on large pictures (shown at natural size)
    draw, font = ImageDraw.Draw(img), _font(10 * unit)
    for corner, (engine, boxes) in enumerate(engines.items()):
        _, colour, pattern, width = ENGINES[engine]
        dash = None if pattern is None else (pattern[0] * unit, pattern[1] * unit)
        for b in boxes:
            draw_box(draw, [b["x0"] * s, b["y0"] * s, b["x1"] * s, b["y1"] * s], colour, dash, width * unit,
                     box_text(b), font, corner)
    if worst is not None:
        draw_box(draw, [worst["x0"] * s, worst["y0"] * s, worst["x1"] * s, worst["y1"] * s], WORST, None, 2 * unit,
                 None, font)
    return img


def as_boxes(items) -> list:
    return [Box(**{k: b[k] for k in ("class_id", "score", "x0", "y0", "x1", "y1", "label")}) for b in items]


def box_pairs(reference: list, lite: list) -> tuple:
    """(reference box, lite box, IoU) pairs for the scatter: same class, IoU >= SCATTER_IOU, any score."""
    return matching.match_boxes(as_boxes(reference), as_boxes(lite), 0.0, iou_min=SCATTER_IOU, score_tol=1.0).matched


def scatter_svg(points: list, worst: int | None, size: int = 300) -> str:
    """Reference score (x) against Lite score (y) per matched box, the diagonal, and point `worst` in WORST."""
    pad, span = 34, size - 44
    lo = min([min(x, y) for x, y, _ in points] + [1.0])
    lo = max(0.0, min(lo, 0.95) - 0.05)
    at = lambda v: (v - lo) / (1 - lo) * span  # noqa: E731
    parts = [f'<rect x="{pad}" y="10" width="{span}" height="{span}" fill="none" stroke="#999"/>',
             f'<line x1="{pad}" y1="{10 + span}" x2="{pad + span}" y2="10" stroke="#bbb" stroke-dasharray="4 3"/>',
             f'<text x="{pad + span / 2}" y="{size - 4}" font-size="11" text-anchor="middle">reference score</text>',
             f'<text x="10" y="{10 + span / 2}" font-size="11" text-anchor="middle" '
             f'transform="rotate(-90 10 {10 + span / 2})">Lite score</text>',
             f'<text x="{pad}" y="{size - 16}" font-size="10">{lo:.2f}</text>',
             f'<text x="{pad + span}" y="{size - 16}" font-size="10" text-anchor="end">1.00</text>']
    for i, (x, y, title) in enumerate(points):
        hot = i == worst
        parts.append(f'<circle cx="{pad + at(x):.1f}" cy="{10 + span - at(y):.1f}" r="{5 if hot else 3}" '
                     f'fill="{WORST if hot else "#2c7bb6"}" fill-opacity="{1 if hot else 0.6}">'
                     f'<title>{html.escape(title)}</title></circle>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
            f'aria-label="reference against Lite score per matched box">{"".join(parts)}</svg>')


def timings_svg(stages: dict, width: int = 520) -> str:
    """Wall time per stage as horizontal bars, seconds printed at each bar's end."""
    if not stages:
        return ""
    top = max(stages.values()) or 1.0
    row, label_w, bars = 22, 110, []
    for i, (name, secs) in enumerate(stages.items()):
        w = (width - label_w - 60) * secs / top
        y = i * row
        bars.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">{html.escape(name)}</text>'
                    f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="#5b8cc4"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="12">{secs:.2f} s</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(stages)}" role="img" '
            f'aria-label="wall time per stage">{"".join(bars)}</svg>')
