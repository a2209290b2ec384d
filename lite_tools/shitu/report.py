"""report.html for `lite-tools shitu deploy`: one self-contained page rendered from ShituDeployResult: the verdict,
the system's settings, both models, the gallery, every gate, and per query image each stage's result."""

from __future__ import annotations

import html
from pathlib import Path

from .. import provenance
from ..deploy_report import _table, artifacts_table
from ..report_text import size_text


def _text(value) -> str:
    """A cell shown as text: the shared _table passes a cell starting with '<' through as markup (our verdicts),
    so user text (labels, file names, paths, failure lines) that starts with '<' is escaped and wrapped here."""
    s = str(value)
    return f"<span>{html.escape(s)}</span>" if s.startswith("<") else s


def _rows(rows) -> list:
    return [tuple(_text(c) for c in row) for row in rows]


def _float(v, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def render(result, out_dir=None) -> str:
    """out_dir: where the artifacts are now (for their sizes; the page lives in OUT beside them)."""
    e = html.escape
    verdict = "READY" if result.ok else ("WRITTEN ANYWAY (--force)" if result.forced else "NOT READY")
    colour = "#283" if result.ok else "#c22"
    s = result.system
    parts = [f"<h1 style='color:{colour}'>PP-ShiTu: {verdict}</h1>"]
    if result.reason:
        parts.append(f"<p class=bad>{e(result.reason)}</p>")
    weights = {role: m.get("weights") for role, m in result.models.items()}  # absent in reports from before it
    parts += [provenance.banner_html(w, f"{role}: ") for role, w in weights.items() if w is not None]
    untrained = any(provenance.not_predictions(w) for w in weights.values())
    said = f"{provenance.OUTPUTS_LABEL}, " if untrained else ""
    parts.append("<h2>System</h2>" + _table(_rows([
        ("config", s["source"]), ("detections kept", f"top {s['max_det_results']}, then score >= {s['threshold']}"),
        ("recognition", f"top-1 of {s['search']['return_k']} kept when score >= {s['search']['score_thres']}"),
        ("final NMS", f"IoU <= {s['rec_nms_threshold']} (rec_nms_thresold), class ignored")])))
    rows = []
    for role, m in result.models.items():
        arm = m["manifest"]["targets"]["arm"]
        rows.append((role, m["dir"], m["found_by"], size_text(arm["bytes"]), arm["sha256"][:16]))
    parts.append("<h2>Models</h2>" + _table(_rows(rows), ("role", "export", "found by", "ARM .nb", "sha256")))
    g = result.gallery
    labels = ", ".join(f"{k} ({v})" for k, v in sorted(g["labels"].items()))
    parts.append("<h2>Gallery</h2>" + _table(_rows([("folder", g["dir"]), ("entries", f"{g['count']} of {g['dim']}-d"),
                                              ("labels", labels), ("origin", g["origin"] or "-"),
                                              ("rec params sha256", g["params_sha256"])])))
    gate_rows = [(name, "PASS" if gate["ok"] else "<b class=bad>FAIL</b>",
                  _text("; ".join(gate["failures"][:3]) or _detail(gate["detail"])))
                 for name, gate in result.gates.items()]
    parts.append("<h2>Per-stage gates</h2>" + _table(gate_rows, ("stage", "verdict", "detail")))
    for image in result.images:
        crops = [(f"{c['window'] or 'empty (skipped)'}", c["top"] or "-", _float(c["score"]),
                  "yes" if c["kept"] else "no", _float(cos["cosine"], 6) if cos else "-")
                 for c, cos in zip(image["crops"], _align(image["crops"], image["cosines"]))]
        shown = [(r["label"], r["box"], _float(r["score"])) for r in image["reference"]]
        lite = [(r["label"], r["box"], _float(r["score"])) for r in image["lite"]]
        parts.append(f"<h3>{e(image['name'])} ({image['size'][0]}x{image['size'][1]})</h3>"
                     f"<p>detector parity: {'PASS' if image['detector_ok'] else 'FAIL'}; "
                     f"{len(image['detections'])} detection(s) kept</p>"
                     + _table(_rows(crops), ("crop", "top-1", "score", "kept", "cosine Lite/Paddle"))
                     + f"<p>result ({said}Paddle Inference):</p>" + _table(_rows(shown) or [("-", "-", "-")],
                                                                            ("label", "box", "score"))
                     + f"<p>result ({said}Paddle Lite):</p>" + _table(_rows(lite) or [("-", "-", "-")],
                                                                     ("label", "box", "score"))
                     + "".join(f"<p class=note>{e(n)}</p>" for n in image["notes"]))
    parts.append("<h2>Projects</h2><p>" + e(", ".join(result.projects["rendered"]) or result.projects["note"]
                                            or "not rendered (a gate failed)") + "</p>")
    parts.append("<h2>Artifacts</h2>" + artifacts_table(result.artifacts, out_dir, result.apk)
                 + f"<p>OUT is <code>{e(str(result.out))}</code>.</p>")
    parts.append("<h2>Time per stage</h2>" + _table([(k, f"{v:.2f} s") for k, v in result.stages.items()]))
    style = ("body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.bad{color:#c22}.note{color:#666}")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>PP-ShiTu deploy</title><style>{style}</style>"
            f"</head><body>{''.join(parts)}</body></html>")


def _align(crops: list, cosines: list) -> list:
    """The cosine of each non-empty crop, None for skipped ones (cosines hold one per distinct window)."""
    by_window = {tuple(c["window"]): c for c in cosines}
    return [by_window.get(tuple(c["window"])) if c["window"] else None for c in crops]


def _detail(detail: dict) -> str:
    return ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in detail.items()
                     if not isinstance(v, (dict, list)))


def write_report(result, folder: Path) -> None:
    (Path(folder) / "report.html").write_text(render(result, folder), encoding="utf-8")
