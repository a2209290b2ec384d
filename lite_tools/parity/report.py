"""Render a ParityReport: parity.json (the data) and parity.html (self-contained: no external assets)."""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from pathlib import Path

from .. import provenance
from ..errors import BadInput
from ..jsonio import dumps, same_file, write_text_atomic
from .check import ParityReport


REPORT_FILES = ("parity.json", "parity.html")
HTML_START = '<!doctype html><html><head><meta charset="utf-8"><title>lite-tools parity: '


def check_writable(out_dir, inputs=()) -> None:
    """Refuse, before the run, a --report folder that cannot be written: a file, a path through a file, or a place
    that cannot be written (read-only mount, no permission). Probed with a temporary file, so nothing is left.
    A parity.json or parity.html already there is replaced only when it is an earlier report of ours: never one
    of `inputs` ((what, path) pairs: the --config, say, which probe 2026-12-03 found overwritten under a PASS),
    nor a user's file."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--report {out}: is a file, not a directory")
    for name in REPORT_FILES:
        target = out / name
        if not os.path.lexists(target):
            continue
        if _is_our_report(target):
            continue  # an earlier run's (in an --images folder too: parity skips it, it is no image)
        what = next((what for what, path in inputs if path and same_file(target, path)), None)
        if what:
            raise BadInput(f"--report {out}: {target} is an input of this run (its {what}); lite-tools never "
                           "replaces its inputs: choose another --report folder")
        raise BadInput(f"--report {out}: {target} exists and is not a lite-tools parity report; lite-tools "
                       "replaces only its own reports: move it or choose another --report folder")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"--report {out}: {existing} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".lite-tools-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise BadInput(f"--report {out}: cannot write there ({e.strerror or e})") from None


def _is_our_report(path: Path) -> bool:
    """An earlier parity.json (format lite-tools-parity/1) or parity.html of ours; a symlink never is."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(len(HTML_START.encode()) if path.suffix == ".html" else 1 << 26)
    except OSError:
        return False
    if path.suffix == ".html":
        return head == HTML_START.encode()
    try:
        data = json.loads(head)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("format") == "lite-tools-parity/1"


def write(report: ParityReport, out_dir) -> tuple:
    """parity.json and parity.html in `out_dir`, each written atomically; failure is one BadInput line. Both say
    where the model's weights come from when its export records it (lite_tools.provenance)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"--report {out}: cannot write there ({e.strerror or e})") from None
    weights = provenance.record(report.model)
    write_text_atomic(out / "parity.json", dumps({**report.to_json(), "weights": weights}, indent=2, default=_finite))
    write_text_atomic(out / "parity.html", render_html(report, weights))
    return out / "parity.json", out / "parity.html"


def _finite(v):
    return None if isinstance(v, float) and not math.isfinite(v) else str(v)


def histogram_svg(values: list, width: int = 480, height: int = 140) -> str:
    """Counts of per-image worst |lite - reference| in log10 bins (1e-10 .. 1, then NaN/inf), as an inline SVG."""
    labels = [f"1e{b}" for b in range(-10, 1)] + ["NaN"]
    counts = [0] * len(labels)
    for v in values:
        if v is None or not math.isfinite(v):
            counts[-1] += 1
        else:
            exponent = -10 if v <= 0 else int(min(max(math.floor(math.log10(v)), -10), 0))
            counts[exponent + 10] += 1
    top = max(counts) or 1
    bw = width / len(labels)
    bars = []
    for i, (label, c) in enumerate(zip(labels, counts)):
        h = (height - 30) * c / top
        colour = "#c22" if label == "NaN" else "#4a7"
        bars.append(f'<rect x="{i * bw + 2:.1f}" y="{height - 20 - h:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{label}: {c}</title></rect>'
                    f'<text x="{i * bw + bw / 2:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">{label}'
                    f'</text><text x="{i * bw + bw / 2:.1f}" y="{height - 24 - h:.1f}" font-size="10" '
                    f'text-anchor="middle">{c or ""}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="histogram of worst absolute error per image">{"".join(bars)}</svg>')


def _number(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def fp16_section(f: dict) -> str:
    """The --fp16 estimate: what it models, that it is an estimate, the per-output figures, every overflow and
    (as information) the tensors whose values underflow."""
    e = html.escape
    outs = "".join(f"<tr><td>{e(o['name'])}</td><td>{_number(o['max_abs'], '.3g')}</td>"
                   f"<td>{_number(o['min_cosine'], '.6f')}</td><td>{o['compared']}</td></tr>" for o in f["outputs"])
    over = "".join(f"<tr><td>{e(o['op'])}</td><td>{e(o['var'])}</td><td>{o['max_abs']:.3g}</td>"
                   f"<td>{'first' if o['first'] else 'after another'}</td><td>{e(', '.join(o['images'][:5]))}</td></tr>"
                   for o in f["overflows"])
    differ = "".join(f"<li>{e(d['image'])}: {e(d['detail'])}</li>" for d in f["task_differs_on"])
    return (f"<h2>fp16 estimate (an estimate, not a device measurement)</h2><p>Method: {e(f['method'])}; "
            f"{f['weights_rounded']} weight tensors rounded{' after --quant ' + e(f['quant']) if f['quant'] else ''}."
            f"</p><p>Not modelled: {e(f['not_modelled'])}.</p><p>Task agreement with fp32: {f['task_agreement']:.1%} "
            f"({e(f['task_agreement_rule'])}).</p>{'<ul>' + differ + '</ul>' if differ else ''}"
            f"<table><tr><th>output</th><th>max |Δ| vs fp32</th><th>min cosine</th><th>images compared</th></tr>"
            f"{outs}</table>" + (f"<h3>Tensors that overflow fp16 (|x| &gt; 65504 or inf/NaN)</h3><table><tr>"
                                 f"<th>op</th><th>output</th><th>max |x|</th><th>overflow</th><th>images</th></tr>"
                                 f"{over}</table>" if over else "<p>No tensor overflows fp16.</p>")
            + _underflow_html(f))


def _underflow_html(f: dict) -> str:
    """The fp16 estimate's underflow rows: information, not a failure (a changed task result already is one)."""
    e, rows = html.escape, f.get("underflows", [])
    shown = [u for u in rows if u["subnormal_fraction"] + u["zero_fraction"] >= f["underflow_shown"]]
    table = "".join(f"<tr><td>{e(u['op'])}</td><td>{e(u['var'])}</td><td>{u['subnormal_fraction']:.2%}</td>"
                    f"<td>{u['zero_fraction']:.2%}</td><td>{u['min_abs']:.3g}</td><td>{len(u['images'])}</td></tr>"
                    for u in shown)
    rest = len(rows) - len(shown)
    return ("<h3>Values that underflow fp16 (information)</h3><p>Of each fp32 tensor's nonzero values, the share fp16 "
            "stores as a subnormal (|x| &lt; 6.1e-5, fewer significant bits) or as 0 (|x| &le; 2.98e-8). This alone "
            "does not make --fp16 NOT READY: where it changes the task result, the task agreement above fails.</p>"
            + (f"<table><tr><th>op</th><th>output</th><th>subnormal</th><th>to 0</th><th>smallest nonzero |x|</th>"
               f"<th>images</th></tr>{table}</table>" if shown else "")
            + (f"<p>{rest} {'more ' if shown else ''}tensor(s) underflow on less than {f['underflow_shown']:.0%} of "
               f"their nonzero values (parity.json lists them all).</p>" if rest else "")
            + ("<p>No value underflows fp16.</p>" if not rows else ""))


def render_html(report: ParityReport, weights: dict | None = None) -> str:
    """weights: lite_tools.provenance.record of the model (None: nothing recorded, nothing said)."""
    e = html.escape
    verdict = "PASS" if report.ok else "FAIL"
    rows = []
    for img in sorted(report.images, key=lambda i: (i.ok, -i.worst_abs)):
        outs = "; ".join(f"{o.name}: " + ("shape differs" if o.max_abs is None else
                                          f"max_abs {o.max_abs:.2e}, cos {o.cosine:.6f}") for o in img.outputs)
        shown = sorted((r for r in img.reference if "label" in r), key=lambda r: -r["score"])[:3]
        top = ", ".join(f"{r['label']} {r['score']:.3f}" for r in shown)
        top += "; ".join("; ".join(r["decisions"]) for r in img.reference if "decisions" in r)  # attributes
        rows.append(f"<tr class={'ok' if img.ok else 'bad'}><td>{e(img.image)}</td><td>{'ok' if img.ok else 'FAIL'}"
                    f"</td><td>{e(img.task_detail)}</td><td>{e(outs)}</td><td>{e(top)}</td></tr>")
    skipped = "".join(f"<li>{e(str(n))}: {e(r)}</li>" for n, r in report.skipped)
    failures = "".join(f"<li>{e(f)}</li>" for f in report.failures)
    diagnosis = "".join(f"<li>{e(d)}</li>" for d in report.diagnosis)
    loc = e(report.localisation["detail"]) if report.localisation else ""
    quant = ""
    if report.quant_estimate:
        q = report.quant_estimate
        quant = (f"<h2>Weight quantisation estimate (--quant {e(str(q['quant']))})</h2><p>Method: {e(q['method'])}."
                 f"</p><p>Limits: {e(q.get('limits', ''))}.</p><p>Task agreement with fp32: "
                 f"{q['task_agreement']:.1%} ({e(q['task_agreement_rule'])}); worst |Δ| {q['max_abs_vs_fp32']:.3g}; "
                 f"min cosine {q['min_cosine_vs_fp32']:.6f}; {q['tensors_changed']} weight tensors rounded.</p>")
    quant += fp16_section(report.fp16_estimate) if report.fp16_estimate else ""
    return f"""{HTML_START}{verdict}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}.ok td:nth-child(2){{color:#283}}
.bad td:nth-child(2){{color:#c22;font-weight:bold}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:3px 6px;font-size:13px;text-align:left}}.verdict{{font-size:28px;color:{'#283' if report.ok else '#c22'}}}
</style></head><body>
<h1>Parity: Paddle Inference vs Paddle Lite x86</h1>
<p class="verdict">{verdict}</p>
{provenance.banner_html(weights)}
<p>Model <code>{e(report.model)}</code>, Lite model <code>{e(report.lite_model)}</code>,
config {e(report.config_source)}
(task {e(report.task)}; its resize is {e(report.resize_reproduces)}, bit for bit), tolerance atol {report.tolerance.atol} + rtol {report.tolerance.rtol} × max|ref|.
{len(report.images)} image(s) compared, {len(report.skipped)} skipped.
{' '.join(f"{e(k.replace('_', ' '))}: {v:.1%}." for k, v in report.summary.items())}</p>
{'<h2>Failures</h2><ul>' + failures + '</ul>' if failures else ''}
{'<h2>Diagnosis</h2><ul>' + diagnosis + '</ul>' if diagnosis else ''}
{'<h2>Where it goes wrong</h2><p>' + loc + '</p>' if loc else ''}
{quant}
<h2>Worst |lite − reference| per image</h2>{histogram_svg([i.worst_abs for i in report.images])}
<h2>Images (failures and worst cases first)</h2>
<table><tr><th>image</th><th>verdict</th><th>task</th><th>outputs</th>
<th>reference {e(provenance.OUTPUTS_LABEL + ': ') if provenance.not_predictions(weights) else ''}top / decisions</th>
</tr>{''.join(rows)}</table>
{'<h2>Skipped</h2><ul>' + skipped + '</ul>' if skipped else ''}
<p>Timings (s): {e(json.dumps(report.timings))}</p></body></html>"""
