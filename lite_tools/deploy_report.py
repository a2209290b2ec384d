"""report.html for `lite-tools deploy`: one self-contained page rendered from DeployResult and the compared images:
the verdict, then every image with what each engine produced (lite_tools.report_gallery), then the details. Its only
references are data: URIs, anchors within the page and relative links to the artifacts beside it in OUT."""

from __future__ import annotations

import html
from pathlib import Path

from . import provenance
from .parity.report import histogram_svg
from .report_gallery import CLICK_CSS, Gallery
from .report_images import timings_svg
from .report_text import size_text


VERDICT_OK, VERDICT_BAD = "#0b7a3e", "#c4161c"  # the badge's colours (the browser test finds them on screen)


def _table(rows, head=None) -> str:
    e = html.escape
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in head) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c if str(c).startswith('<') else e(str(c))}</td>" for c in row) + "</tr>")
    return "".join(out) + "</table>"


def java_section(j) -> str:
    """The Java-core check (JavaCheck.to_json()), with what the core was compiled against: API 23's android.jar
    proves no Java API above the app's minSdk, plain Java 8 does not."""
    e = html.escape
    if j is None:
        return "<p>Not run (the run stopped before the projects).</p>"
    return (f"<p>{'PASS' if j['ok'] else 'FAIL'}: the generated Java core (Java 8, compiled against "
            f"{e(j['compiled_against'])}) on {j['images']} image(s); "
            f"largest input-tensor difference from the Python reference {j['max_input_abs']:.3g}"
            + ("" if j["empty_nms_ok"] is None else f"; empty NMS result handled: {j['empty_nms_ok']}") + ".</p>"
            + "".join(f"<p class=bad>{e(x)}</p>" for x in j["mismatches"][:10]))


def _size_on_disk(path: Path):
    """A file's size, a folder's total; None when it is not (yet) there."""
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return None


def artifacts_table(artifacts: dict, out_dir, apk: dict | None = None) -> str:
    """Each artifact with its size and a relative link (the page lives in OUT beside them). apk: report.json's
    "apk" entry; an APK built for a path outside OUT is not an artifact in OUT, so it gets its own row, by its
    absolute path and the size it was built with."""
    e = html.escape
    rows = []
    for what, rel in artifacts.items():
        size = _size_on_disk(Path(out_dir) / rel) if out_dir else None
        rows.append([what, f'<a href="{e(rel, quote=True)}"><code>{e(rel)}</code></a>',
                     "" if size is None else size_text(size)])
    if apk and apk.get("in_out") is None:
        rows.append(["android APK (outside OUT)", f"<code>{e(str(apk['path']))}</code>",
                     size_text(apk["bytes"]) if apk.get("bytes") else ""])
    return _table(rows, ["artifact", "path (in OUT)", "size"])


def render(result, images=(), out_dir=None) -> str:
    """images: [(name, HxWx3 uint8 RGB)] as compared (none: the cards show results without pictures);
    out_dir: where the artifacts are now (for their sizes)."""
    e = html.escape
    m = result.manifest
    verdict = "READY" if result.ok else ("WRITTEN ANYWAY (--force)" if result.forced else "NOT READY")
    colour = VERDICT_OK if result.ok else VERDICT_BAD
    shown = dict(m["targets"])
    if result.verify_target:
        shown["x86 (verified, fp32)"] = result.verify_target
    targets = _table([[t, i["file"], size_text(i["bytes"]), i["opt_version"], f"<code>{e(i['sha256'])}</code>"]
                      for t, i in shown.items()], ["target", "file", "size", "opt", "sha256"])
    model = _table([["model file", m["model"]["model_file"]], ["params file", m["model"]["param_file"]],
                    ["model sha256", m["model"]["model_sha256"]], ["params sha256", m["model"]["params_sha256"]],
                    ["parameters", f"{m['params']['numel']:,} ({size_text(m['params']['bytes'])})"],
                    ["inputs", "; ".join(f"{t['name']} {t['shape']} {t['dtype']}" for t in m["inputs"])],
                    ["outputs", "; ".join(f"{t['name']} {t['shape']} {t['dtype']}" for t in m["outputs"])],
                    ["options", f"quant {m['options']['quant']}, fp16 {m['options']['fp16']}"],
                    ["compatibility fixes", f"{len(m['compat_fixes'])} (XShape restored on "
                                            f"{', '.join(sorted({f['op'] for f in m['compat_fixes']})) or 'none'})"],
                    ["versions", ", ".join(f"{k} {v}" for k, v in m["versions"].items())]])
    ops = ", ".join(f"{k}×{v}" for k, v in sorted(m["ops"].items(), key=lambda kv: -kv[1]))
    parity = result.parity or {}
    worst = sorted(parity.get("images", []), key=lambda i: -max([o["max_abs"] or 0 for o in i["outputs"]] or [0]))[:5]
    worst_rows = [[i["image"], "ok" if i["ok"] else "FAIL", i["task_detail"],
                   f"{max([o['max_abs'] or 0 for o in i['outputs']] or [0]):.2e}"] for i in worst]
    hist = histogram_svg([max([o["max_abs"] or 0 for o in i["outputs"]] or [0]) for i in parity.get("images", [])])
    parity_html = (f"<p>{'PASS' if parity.get('ok') else 'FAIL'}: {len(parity.get('images', []))} image(s), "
                   f"{len(parity.get('skipped', []))} skipped; config {e(str(parity.get('config_source')))}. "
                   + " ".join(f"{e(k.replace('_', ' '))}: {v:.1%}." for k, v in parity.get("summary", {}).items())
                   + "</p>" + "".join(f"<p class=bad>{e(f)}</p>" for f in parity.get("failures", [])[:10])
                   + (f"<p>Where: {e(parity['localisation']['detail'])}</p>" if parity.get("localisation") else "")
                   + hist + "<h3>Worst cases</h3>" + _table(worst_rows, ["image", "verdict", "task", "max |Δ|"]))
    q = parity.get("quant_estimate")
    if q:
        parity_html += (f"<p>Weight quantisation estimate ({e(q['method'])}): task agreement "
                        f"{q['task_agreement']:.1%}, worst |Δ| {q['max_abs_vs_fp32']:.3g}.</p>")
    f16 = parity.get("fp16_estimate")
    if f16:
        worst16 = "n/a" if f16["max_abs_vs_fp32"] is None else f"{f16['max_abs_vs_fp32']:.3g}"
        parity_html += (f"<p>fp16 estimate (an estimate, not a device measurement: {e(f16['not_modelled'])}): task "
                        f"agreement {f16['task_agreement']:.1%}, worst |Δ| {worst16}, "
                        f"{len(f16['overflows'])} tensor(s) overflow fp16"
                        + "".join(f"; {e(o['op'])} {e(o['var'])} reaches {o['max_abs']:.3g}"
                                  for o in f16["overflows"] if o["first"]) + ".</p>")
    java_html = java_section(result.java)
    stages = (timings_svg(result.stages) + f"<p>Total {sum(result.stages.values()):.2f} s.</p>")
    arts = artifacts_table(result.artifacts, out_dir, result.apk) + f"<p>OUT is <code>{e(str(result.out))}</code>.</p>"
    weights = result.weights
    untrained = provenance.not_predictions(weights)
    gallery = Gallery(parity, result.java, list(images), untrained=untrained)
    images_title = (f"Images: {provenance.OUTPUTS_LABEL} of the reference, Paddle Lite and the Java core" if untrained
                    else "Images: reference, Paddle Lite and the Java core")
    agree = sum(not gallery.differs(r) for r in gallery.rows)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>lite-tools deploy: {e(result.name)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left;vertical-align:top}}
.verdict{{font-size:26px;font-weight:bold;color:#fff;background:{colour};display:inline-block;padding:6px 18px;
border-radius:6px;margin:0}}.bad{{color:#c22}}code{{font-size:12px}}{CLICK_CSS}</style></head><body>
<h1>lite-tools deploy: {e(result.name)}</h1>
<p class="verdict">{verdict}</p>{f'<p class=bad>{e(result.reason)}</p>' if result.reason else ''}
{provenance.banner_html(weights)}
<p>{len(gallery.rows)} image(s): the engines agree on {agree}. Click an image for it at full size.</p>
<h2>{e(images_title)}</h2>{gallery.html()}
<h2>Across images</h2>{gallery.summary_html()}
<h2>Artifacts</h2>{arts}
<h2>Model and conversion</h2>{model}{targets}<p>Ops: {e(ops)}</p>
<h2>Parity: Paddle Lite x86 against Paddle Inference</h2>{parity_html}
<h2>Java core on the JVM against the Python reference</h2>{java_html}
<h2>Timings</h2>{stages}
</body></html>"""


def write_report(result, out_dir: Path, images=()) -> Path:
    path = Path(out_dir) / "report.html"
    path.write_text(render(result, images, out_dir), encoding="utf-8")
    return path
