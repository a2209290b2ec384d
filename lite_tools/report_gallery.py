"""The per-image part of the deploy report: each image with what the three engines produced, side by side, a red
mark where they differ, and the task's summary (score scatter with the worst-IoU box for detectors, top-k and the
engines' confusion for classifiers). Inputs are the report's own data: parity.json's per-image reference and Lite
results and the Java check's per-image results (JavaCheck.to_json()["results"]), plus the images themselves."""

from __future__ import annotations

import collections
import dataclasses
import html

from . import provenance
from . import report_images as ri

CLICK_CSS = """.card{border:1px solid #ccc;border-radius:6px;padding:8px;margin:10px 0}
.card.differ{border:3px solid #d7191c}.panels{display:flex;gap:10px;flex-wrap:wrap}.panels:has(table){flex-wrap:nowrap}
.panel{max-width:320px;font-size:12px}.panel img{display:block}
.mark{background:#d7191c;color:#fff;padding:2px 8px;border-radius:4px;font-weight:bold}
.same{color:#1a7a3a}.lb{display:none}.lb:target{display:flex;position:fixed;inset:0;background:rgba(0,0,0,.85);
align-items:center;justify-content:center;z-index:9}.lb img{max-width:96vw;max-height:96vh}
td.differ{background:#fbd3d3}.untrained-tag{background:#fff3cd;color:#c4161c;padding:2px 8px;border-radius:4px;
font-weight:bold}.key{display:inline-block;width:22px;height:0;vertical-align:middle;margin:0 4px}"""


def _labels(parity_image: dict) -> dict:
    return {r["class_id"]: r.get("label", "") for r in (*parity_image["reference"], *parity_image["lite"])
            if "class_id" in r}


def java_items(task: str, rows, labels: dict):
    """The Java core's rows (javacheck: [id, score(, x0, y0, x1, y1)] or a multilabel dict) as the report's dicts."""
    if rows is None:
        return None
    if task == "embedding":
        return [{"vector": rows[0] if rows else []}]
    if task == "multilabel":
        return [rows]
    keys = ("class_id", "score", "x0", "y0", "x1", "y1") if task in ri.DETECTION else ("class_id", "score")
    items = [dict(zip(keys, r)) for r in rows]
    for it in items:
        it["class_id"] = int(it["class_id"])
        it["label"] = labels.get(it["class_id"], f"class {it['class_id']}")
    return items


def _key(engine: str) -> str:
    _, colour, pattern, _ = ri.ENGINES[engine]
    return f'<span class=key style="border-top:3px {"solid" if pattern is None else "dashed"} {colour}"></span>'


def _top(items, engine_ref=None) -> list:
    """Display rows for a classifier's (or multilabel) result."""
    if items is None:
        return ["not run"]
    out = []
    for it in items:
        if "vector" in it:
            out.append(f"embedding of {len(it['vector'])} values, |v| = {sum(v * v for v in it['vector']) ** 0.5:.4f}")
        elif "decisions" in it:
            out += list(it["decisions"])
        else:
            out.append(f"{it['label'] or it['class_id']} {it['score']:.3f}")
    return out or ["(nothing)"]


def _ids(items):
    if items is None:
        return None
    if items and "vector" in items[0]:
        return []  # compared by cosine in parity and value by value in the Java check: their verdicts mark it
    return [d for it in items for d in it["decisions"]] if items and "decisions" in items[0] \
        else [it["class_id"] for it in items]


class Gallery:
    """Cards for every compared image plus the task summary, from parity.json, the Java check and the images."""

    def __init__(self, parity: dict, java: dict | None, images: list, untrained: bool = False):
        """untrained: the weights are not trained (lite_tools.provenance): each card says its results are
        outputs, not predictions."""
        self.task = parity.get("task", "")
        self.untrained = untrained
        self.rgb = dict(images)
        java_rows = (java or {}).get("results") or []
        mism = (java or {}).get("mismatches", [])
        self.rows = []
        for i, img in enumerate(parity.get("images", [])):
            rows = java_rows[i] if i < len(java_rows) else None
            java_items_ = java_items(self.task, rows, _labels(img)) if java else None
            java_bad = [m[len(img["image"]) + 2:] for m in mism if m.startswith(img["image"] + ": ")]
            self.rows.append({"name": img["image"], "reference": list(img["reference"]), "lite": list(img["lite"]),
                              "java": java_items_, "lite_ok": img["task_ok"] and img.get("ok", True),
                              "lite_detail": img["task_detail"], "java_bad": java_bad})

    def differs(self, r: dict) -> list:
        """What differs on this image, one phrase each (empty: the engines agree)."""
        out = []
        if not r["lite_ok"]:
            out.append(f"Lite: {r['lite_detail']}")
        elif self.task not in ri.DETECTION and _ids(r["lite"]) != _ids(r["reference"]):
            out.append("Lite: order of tied classes")
        if r["java_bad"]:
            out.append("Java: " + "; ".join(r["java_bad"][:2]))
        elif r["java"] is not None and self.task not in ri.DETECTION and _ids(r["java"]) != _ids(r["reference"]):
            out.append("Java: different classes")
        return out

    def worst_pair(self):
        """(image index, reference box, lite box, IoU) of the matched pair with the lowest IoU, and all pairs."""
        pairs = []
        for i, r in enumerate(self.rows):
            for ref, lite, iou in ri.box_pairs(r["reference"], r["lite"]):
                pairs.append((i, ref, lite, iou))
        worst = min(range(len(pairs)), key=lambda k: pairs[k][3]) if pairs else None
        return pairs, worst

    def html(self) -> str:
        if not self.rows:
            return "<p>No image was compared.</p>"
        det = self.task in ri.DETECTION
        pairs, worst = self.worst_pair() if det else ([], None)
        worst_box = None if worst is None else pairs[worst]
        cards = [self._card(i, r, worst_box if worst_box and worst_box[0] == i else None)
                 for i, r in enumerate(self.rows)]
        legend = "<p>" + " ".join(f"{_key(e)}{html.escape(ri.ENGINES[e][0])}" for e in ri.ENGINES) + (
            f' <span style="color:{ri.WORST}">&#9632; worst-IoU box</span>' if det else "") + "</p>"
        return legend + "".join(cards)

    def summary_html(self) -> str:
        """Detectors: the score scatter with the worst IoU; classifiers: the confusion between engines."""
        if self.task in ri.DETECTION:
            pairs, worst = self.worst_pair()
            if not pairs:
                return "<p>No box was matched between the reference and Lite (no box on any image).</p>"
            points = [(ref.score, lite.score, f"{self.rows[i]['name']}: {ref.label} IoU {iou:.4f}")
                      for i, ref, lite, iou in pairs]
            i, ref, _, iou = pairs[worst]
            return (ri.scatter_svg(points, worst) + f"<p>{len(pairs)} matched box(es). Worst IoU {iou:.4f}: "
                    f"{html.escape(ref.label or str(ref.class_id))} on {html.escape(self.rows[i]['name'])} "
                    f"(<a href=\"#img-{i}\">outlined in red</a>).</p>")
        if self.task == "embedding":
            return ""
        rows = []
        for other in ("lite", "java"):
            counts = collections.Counter()
            for r in self.rows:
                mine, ref = _top(r[other])[:1], _top(r["reference"])[:1]
                if r[other] is not None and _ids(r[other])[:1] != _ids(r["reference"])[:1]:
                    counts[(ref[0], mine[0])] += 1
            rows += [f"<tr><td>{html.escape(ri.ENGINES[other][0])}</td><td>{html.escape(a)}</td>"
                     f"<td>{html.escape(b)}</td><td>{n}</td></tr>" for (a, b), n in sorted(counts.items())]
        if not rows:
            return "<p class=same>Confusion between engines: none (every image's top-1 is the same in all three).</p>"
        return ("<table><tr><th>engine</th><th>reference top-1</th><th>its top-1</th><th>images</th></tr>"
                + "".join(rows) + "</table>")

    def _card(self, i: int, r: dict, worst) -> str:
        e = html.escape
        rgb = self.rgb.get(r["name"])
        differ = self.differs(r)
        mark = ("<span class=mark>engines differ</span> " + e("; ".join(differ)) if differ
                else "<span class=same>&#10003; all engines agree</span>")
        engines = {"reference": r["reference"], "lite": r["lite"], "java": r["java"]}
        det = self.task in ri.DETECTION
        full = ""
        if rgb is not None:
            shown = {k: v for k, v in engines.items() if v is not None} if det else {}
            full_img = ri.draw_detections(rgb, shown, ri.FULL, dataclasses.asdict(worst[1]) if worst else None)
            full = (f'<div class=lb id="full-{i}"><a href="#img-{i}"><img alt="{e(r["name"])} full size" '
                    f'src="{ri.jpeg_uri(full_img, ri.FULL, 80, ri.FULL_BUDGET)}"></a></div>')
        worst_ref = dataclasses.asdict(worst[1]) if worst else None
        panels = (self._detection_panels(i, r, rgb, engines, differ, worst_ref) if det
                  else self._classifier_panels(i, r, rgb, engines))
        tag = f"<span class=untrained-tag>{e(provenance.OUTPUTS_LABEL)}</span> " if self.untrained else ""
        return (f'<div class="card{" differ" if differ else ""}" id="img-{i}"><b>{e(r["name"])}</b> {tag}{mark}'
                f'<div class=panels>{"".join(panels)}</div>{full}</div>')

    @staticmethod
    def _thumb(i: int, name: str, rgb, engines: dict, what: str, worst=None) -> str:
        thumb = ri.draw_detections(rgb, engines, ri.THUMB, worst)
        return (f'<a href="#full-{i}"><img class=thumb alt="{html.escape(name)}: {html.escape(what)}" '
                f'width="{thumb.width}" height="{thumb.height}" src="{ri.jpeg_uri(thumb, ri.THUMB)}"></a>')

    def _detection_panels(self, i, r, rgb, engines, differ, worst) -> list:
        """One thumbnail per engine with its own boxes, its labels and scores below, red where it differs."""
        e, panels = html.escape, []
        for engine, items in engines.items():
            title = ri.ENGINES[engine][0]
            picture = "" if rgb is None else self._thumb(
                i, r["name"], rgb, {} if items is None else {engine: items}, title,
                worst if engine == "reference" else None)
            lines = ["not run"] if items is None else [ri.box_text(b) for b in items[:ri.SHOWN_BOXES]]
            more = 0 if items is None else len(items) - ri.SHOWN_BOXES
            count = "" if items is None else (f"{len(items)} box(es): " if items else "no box")
            body = count + e(", ".join(lines)) + (f" and {more} more" if more > 0 else "")
            bad = engine != "reference" and any(d.startswith({"lite": "Lite", "java": "Java"}[engine]) for d in differ)
            style = ' style="background:#fbd3d3"' if bad else ""
            panels.append(f'<div class=panel{style}>{picture}<b>{_key(engine)}{e(title)}</b><br>{body}</div>')
        return panels

    def _classifier_panels(self, i, r, rgb, engines) -> list:
        """The image once, then a table: rank by engine, each cell red where it is not the reference's."""
        e = html.escape
        shown = {k: _top(v) for k, v in engines.items()}
        ids = {k: _ids(v) for k, v in engines.items()}
        rows = []
        for rank in range(max(map(len, shown.values()))):
            cells = []
            for engine, texts in shown.items():
                mine, ref = ids[engine], ids["reference"]
                bad = mine is not None and (rank >= len(mine) or rank >= len(ref) or mine[rank] != ref[rank])
                cells.append(f"<td{' class=differ' if bad else ''}>{e(texts[rank]) if rank < len(texts) else ''}</td>")
            rows.append(f"<tr><td>{rank + 1}</td>{''.join(cells)}</tr>")
        head = "".join(f"<th>{_key(k)}{e(ri.ENGINES[k][0])}</th>" for k in shown)
        picture = "" if rgb is None else f"<div class=panel>{self._thumb(i, r['name'], rgb, {}, 'picture')}</div>"
        table = f"<table><tr><th>#</th>{head}</tr>{''.join(rows)}</table>"
        return [picture, f'<div style="flex:1;min-width:0">{table}</div>']
