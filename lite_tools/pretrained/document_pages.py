"""Document pages we render ourselves (a title, text paragraphs, a table, a bar chart with its caption), each turned
0, 90, 180 and 270 degrees: the demo images of the text-orientation classifier, whose right answers are known.

Deterministic: a seeded word generator, Pillow's drawing, and one font file, DejaVu Sans from matplotlib 3.9.2's
wheel (pinned by sha256 like the weights, so every machine draws the same glyphs; system fonts differ).
Turned clockwise: the label k means the page was turned k degrees clockwise, as PaddleOCR reads this model's
classes (it turns an image labelled "90" back 90 degrees counter-clockwise), and as the model answers on these pages
(read counter-clockwise, every 90 and 270 would be wrong).
The regions each upright page is made of (render_with_regions: a box per title, paragraph, table, figure and caption,
named as the CDLA layout classes) are what the layout detector should find on it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .wheels import WheelFile, fetch

FONT = WheelFile(
    requirement="matplotlib==3.9.2",
    wheel="matplotlib-3.9.2-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    wheel_sha256="ab68d50c06938ef28681073327795c5db99bb4666214d2d5f880ed11aeaded66",
    member="matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf",
    member_sha256="3fdf69cabf06049ea70a00b5919340e2ce1e6d02b0cc3c4b44fb6801bd1e0d22")
TURNS = (0, 90, 180, 270)
WIDTH, HEIGHT, MARGIN = 640, 905, 54  # a portrait page, 1:sqrt(2)
BODY, TITLE, SMALL = 17, 30, 14  # font sizes in px
INK, RULE, BARS = (25, 25, 30), (90, 90, 100), ((70, 110, 170), (200, 120, 60), (90, 150, 90))
VOCABULARY = tuple("""the of and a to in is for on that with as by are this be from at or an we results model data
table figure page section method value values shown each two three training test image images layout document text
line lines small large first second above below between which these their our report analysis mean error rate
accuracy sample samples measured across per during after before under over study system network output input set
time number results show both more less than most only also used using based new same different other""".split())
LAYOUTS = ("report", "article", "columns")


@dataclasses.dataclass(frozen=True)
class Region:
    """One block drawn on an upright page: its CDLA class name and the box around its ink, in page pixels."""
    label: str  # title, text, table, table_caption, figure or figure_caption
    x0: float
    y0: float
    x1: float
    y1: float


def _fonts():
    from PIL import ImageFont

    path = str(fetch(FONT))
    return {size: ImageFont.truetype(path, size) for size in (BODY, TITLE, SMALL)}


def _sentence(rng, words: int) -> str:
    chosen = [VOCABULARY[i] for i in rng.randint(0, len(VOCABULARY), words)]
    return " ".join(chosen).capitalize() + "."


def _paragraph(rng, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(6, 15)) for _ in range(sentences))


def _wrap(text: str, font, width: int) -> list:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + ([line] if line else [])


class _Page:
    """A cursor down a column of the page: each block is drawn at the cursor, which then moves below it."""

    def __init__(self, draw, fonts, rng):
        self.draw, self.fonts, self.rng = draw, fonts, rng
        self.regions = []  # a Region per block, in drawing order

    def _region(self, label: str, boxes: list) -> None:
        """Record the union of `boxes` (x0, y0, x1, y1) as one region (nothing when the block drew nothing)."""
        if boxes:
            x0, y0, x1, y1 = np.asarray(boxes, np.float64).T
            self.regions.append(Region(label, float(x0.min()), float(y0.min()), float(x1.max()), float(y1.max())))

    def text(self, x: int, y: int, width: int, bottom: int, sentences: int) -> int:
        font, ink = self.fonts[BODY], []
        for line in _wrap(_paragraph(self.rng, sentences), font, width):
            if y + BODY > bottom:
                break
            self.draw.text((x, y), line, font=font, fill=INK)
            ink.append(self.draw.textbbox((x, y), line, font=font))
            y += int(BODY * 1.45)
        self._region("text", ink)
        return y + BODY // 2

    def title(self, y: int) -> int:
        words = " ".join(VOCABULARY[i] for i in self.rng.randint(0, len(VOCABULARY), 4)).title()
        self.draw.text((MARGIN, y), words, font=self.fonts[TITLE], fill=INK, stroke_width=1, stroke_fill=INK)
        self._region("title", [self.draw.textbbox((MARGIN, y), words, font=self.fonts[TITLE], stroke_width=1)])
        return y + int(TITLE * 1.8)

    def table(self, x: int, y: int, width: int, rows: int, cols: int) -> int:
        font, row_h = self.fonts[SMALL], int(SMALL * 1.9)
        col_w = width // cols
        heads = [VOCABULARY[i].title() for i in self.rng.randint(0, len(VOCABULARY), cols)]
        for r in range(rows + 1):
            for c in range(cols):
                cell = heads[c] if r == 0 else f"{self.rng.uniform(0, 100):.2f}"
                self.draw.text((x + c * col_w + 6, y + r * row_h + 5), cell, font=font, fill=INK,
                               stroke_width=1 if r == 0 else 0, stroke_fill=INK)
        for r in range(rows + 2):
            self.draw.line((x, y + r * row_h, x + cols * col_w, y + r * row_h), fill=RULE, width=2 if r < 2 else 1)
        for c in range(cols + 1):
            self.draw.line((x + c * col_w, y, x + c * col_w, y + (rows + 1) * row_h), fill=RULE, width=1)
        self._region("table", [(x, y, x + cols * col_w + 1, y + (rows + 1) * row_h + 1)])  # the rules' outer edges
        return self.caption(x, y + (rows + 1) * row_h + 8, width, f"Table 1. {_sentence(self.rng, 7)}",
                            "table_caption")

    def caption(self, x: int, y: int, width: int, text: str, label: str) -> int:
        ink = []
        for line in _wrap(text, self.fonts[SMALL], width):
            self.draw.text((x, y), line, font=self.fonts[SMALL], fill=INK)
            ink.append(self.draw.textbbox((x, y), line, font=self.fonts[SMALL]))
            y += int(SMALL * 1.4)
        self._region(label, ink)
        return y + SMALL

    def figure(self, x: int, y: int, width: int, height: int) -> int:
        """A bar chart: axes, ticks, three series of bars, their labels, a caption."""
        font = self.fonts[SMALL]
        left, base = x + 34, y + height
        ink = [(left - 1, y, x + width, base + 1)]  # the axes (2 px lines)
        self.draw.line((left, y, left, base), fill=INK, width=2)
        self.draw.line((left, base, x + width, base), fill=INK, width=2)
        for t in range(5):
            ty = base - t * (height - 10) // 4
            self.draw.line((left - 5, ty, left, ty), fill=INK, width=1)
            self.draw.text((x, ty - SMALL // 2), str(t * 25), font=font, fill=INK)
            ink.append(self.draw.textbbox((x, ty - SMALL // 2), str(t * 25), font=font))
        groups = 5
        group_w = (x + width - left - 10) // groups
        for g in range(groups):
            for s, colour in enumerate(BARS):
                bx = left + 10 + g * group_w + s * (group_w - 12) // len(BARS)
                bar_h = int(self.rng.uniform(0.15, 0.95) * (height - 10))
                self.draw.rectangle((bx, base - bar_h, bx + (group_w - 12) // len(BARS) - 3, base), fill=colour)
            self.draw.text((left + 12 + g * group_w, base + 4), f"G{g + 1}", font=font, fill=INK)
            ink.append(self.draw.textbbox((left + 12 + g * group_w, base + 4), f"G{g + 1}", font=font))
        self._region("figure", ink)
        return self.caption(x, base + SMALL + 14, width, f"Figure 1. {_sentence(self.rng, 8)}", "figure_caption")


def render(layout: str, seed: int = 0) -> np.ndarray:
    """One upright page (HEIGHT x WIDTH x 3 uint8 RGB) in one of LAYOUTS."""
    return render_with_regions(layout, seed)[0]


def render_with_regions(layout: str, seed: int = 0) -> tuple:
    """(render(layout, seed), [Region]): the page and the box of every block drawn on it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), (252, 252, 248))
    page = _Page(ImageDraw.Draw(image), _fonts(), np.random.RandomState(seed + LAYOUTS.index(layout)))
    inner, bottom = WIDTH - 2 * MARGIN, HEIGHT - MARGIN
    y = page.title(MARGIN)
    if layout == "report":
        y = page.text(MARGIN, y, inner, bottom, 5)
        y = page.table(MARGIN, y, inner, 6, 4)
        page.text(MARGIN, y, inner, bottom, 16)
    elif layout == "article":
        y = page.text(MARGIN, y, inner, bottom, 3)
        y = page.figure(MARGIN, y, inner, 190)
        page.text(MARGIN, y, inner, bottom, 16)
    else:  # two columns under a figure, a table closing the right one
        y = page.figure(MARGIN, y, inner, 150)
        half = (inner - 24) // 2
        page.text(MARGIN, y, half, bottom, 14)
        right = page.text(MARGIN + half + 24, y, half, bottom - 230, 8)
        page.table(MARGIN + half + 24, right, half, 5, 2)
    return np.asarray(image), page.regions


def turned(rgb: np.ndarray, degrees: int) -> np.ndarray:
    """The page turned `degrees` (a multiple of 90) clockwise; exact, no resampling."""
    return np.ascontiguousarray(np.rot90(rgb, -(degrees // 90)))


def demo_pages(seed: int = 0) -> list:
    """[(name, HxWx3 uint8 RGB, the label the classifier should give)]: every layout at every turn."""
    pages = []
    for layout in LAYOUTS:
        upright = render(layout, seed)
        pages += [(f"{layout}-{turn}", turned(upright, turn), str(turn)) for turn in TURNS]
    return pages
