"""`lite-tools deploy --batch FILE.yaml -j N`: many models, each with its own config, in a process pool.

FILE.yaml:
    out: build/batch            # where each model's folder goes (default: next to FILE, "<FILE stem>-out")
    defaults: {android: true, flutter: false, quant: null, images: null}
    models:
      - model: exports/person_exists        # relative paths are relative to FILE
        preset: pulc-person-exists          # or config: deploy/inference_person_exists.yaml
        labels: my_labels.txt               # optional, as --labels (or no_labels: true, as --no-labels)
        name: person                        # optional: folder and .nb name (default: the model folder's name)
        quant: int8                         # optional, like every key in defaults

A failure in one model never stops the others; the exit code is 0 only when every model is READY.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import sys
import time
from pathlib import Path

from .errors import BadInput, LiteToolsError

MODEL_KEYS = {"model", "preset", "config", "name", "images", "quant", "fp16", "android", "flutter", "threshold",
              "app_name", "package", "labels", "no_labels"}


def load_jobs(path) -> tuple:
    from .config.readers import load_yaml

    path = Path(path)
    data = load_yaml(path)
    unknown = sorted(set(data) - {"out", "defaults", "models"})
    if unknown:
        raise BadInput(f"{path}: unknown field(s) {', '.join(unknown)} (known: out, defaults, models)")
    models = data.get("models")
    if not isinstance(models, list) or not models:
        raise BadInput(f"{path}: needs a non-empty 'models' list")
    defaults = data.get("defaults") or {}
    base = path.parent
    out = Path(data.get("out") or f"{path.stem}-out")
    out = out if out.is_absolute() else base / out
    jobs, names = [], set()
    for i, entry in enumerate(models):
        if not isinstance(entry, dict) or "model" not in entry:
            raise BadInput(f"{path}: models[{i}] needs a 'model' path")
        job = {**defaults, **entry}
        bad = sorted(set(job) - MODEL_KEYS)
        if bad:
            raise BadInput(f"{path}: models[{i}] has unknown field(s) {', '.join(bad)}")
        if ("preset" in job) == ("config" in job):
            raise BadInput(f"{path}: models[{i}] needs exactly one of preset or config")
        for key in ("model", "config", "images", "labels"):
            if job.get(key) and not Path(job[key]).is_absolute():
                job[key] = str(base / job[key])
        job["name"] = job.get("name") or Path(job["model"]).name
        if job["name"] in names:
            raise BadInput(f"{path}: two models are named {job['name']!r}; give each a distinct name")
        names.add(job["name"])
        job["out"] = str(out / job["name"])
        jobs.append(job)
    return jobs, out


def run_one(job: dict) -> dict:
    """Deploy one model in a worker process; every failure becomes a row, never an exception."""
    started = time.perf_counter()
    row = {"name": job["name"], "status": "ERROR", "reason": "", "seconds": 0.0, "report": ""}
    try:
        from . import config as configs
        from .deploy import deploy

        cfg = configs.resolve(config=job.get("config"), preset=job.get("preset"), threshold=job.get("threshold"),
                              labels=job.get("labels"), no_labels=bool(job.get("no_labels")))
        kinds = tuple(k for k in ("android", "flutter") if job.get(k)) or ("android",)
        result = deploy(job["model"], cfg, job["out"], images_dir=job.get("images"), quant=job.get("quant"),
                        fp16=bool(job.get("fp16")), kinds=kinds, replace_out=True, name=job["name"],
                        app_name=job.get("app_name", "LiteTools Demo"),
                        package=job.get("package", "com.litetools.demo"))
        row.update(status="READY" if result.ok else "NOT READY", reason=result.reason,
                   report=str(Path(result.out) / "report.html"))
    except LiteToolsError as e:
        row["reason"] = str(e)
    except Exception as e:  # a bug in one model's run must not stop the others
        row["reason"] = f"internal error: {type(e).__name__}: {e}"
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def run_batch(path, jobs: int = 1, quiet: bool = False) -> int:
    todo, out = load_jobs(path)
    if jobs < 1:
        raise BadInput("-j needs at least 1")
    rows = []
    context = multiprocessing.get_context("spawn")  # paddle's threads do not survive fork
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(run_one, job): job for job in todo}
        for future in concurrent.futures.as_completed(futures):
            row = future.result()
            rows.append(row)
            if not quiet:
                print(f"batch: {row['name']}: {row['status']} in {row['seconds']:.1f}s", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: [j["name"] for j in todo].index(r["name"]))
    width = max(len(r["name"]) for r in rows)
    print(f"{'model':{width}s}  {'status':9s}  {'time':>7s}  report / reason")
    for r in rows:
        print(f"{r['name']:{width}s}  {r['status']:9s}  {r['seconds']:6.1f}s  {r['report'] or r['reason']}")
        if r["report"] and r["reason"]:
            print(f"{'':{width}s}  {'':9s}  {'':7s}  {r['reason']}")
    ready = sum(r["status"] == "READY" for r in rows)
    print(f"{ready}/{len(rows)} READY; outputs in {out}")
    return 0 if ready == len(rows) else 1
