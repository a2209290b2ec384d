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
        upstream_cpu: avx512                # optional: the machine whose cv2.resize to reproduce, as
        upstream_threads: 8                 #   --upstream-cpu / --upstream-threads / --upstream-l2

Before any model runs, every entry's OUT/NAME is checked as `deploy --out` is (lite_tools.outputs): none may be or
contain an input of any entry or FILE itself (exit 2), and an existing one must carry our marker.
The models run in -j spawned worker processes; a worker that dies (SIGKILL from the OOM killer, a segfault in Paddle)
costs only the model it was running, FAILED with the signal; a fresh worker runs the rest; the summary always prints.
A failure in one model never stops the others; the exit code is 0 only when every model is READY.

Test-only hook: env LITE_TOOLS_TEST_DIE_AT=NAME makes the worker of model NAME SIGKILL itself as its job starts,
so the tests kill a worker deterministically.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
import sys
import time
from pathlib import Path

from . import child, outputs, provenance, staging
from .config.model import UPSTREAM_KEYWORDS
from .errors import BadInput, LiteToolsError
from .lite_runner import describe_exit

INPUT_KEYS = ("model", "config", "images", "labels")

MODEL_KEYS = {"model", "preset", "config", "name", "images", "quant", "fp16", "android", "flutter", "threshold",
              "app_name", "package", "labels", "no_labels", "upstream_cpu", "upstream_threads", "upstream_l2"}
TEXT_KEYS = ("model", "preset", "config", "name", "images", "quant", "app_name", "package", "labels", "upstream_cpu")
WHOLE_KEYS = ("upstream_threads", "upstream_l2")
FLAG_KEYS = ("fp16", "android", "flutter", "no_labels")


def type_problem(job: dict) -> str:
    """What is wrong with the types of one entry's values ("" if nothing), naming the key: that model's row says
    so instead of the deploy failing on it later (`threshold: "high"` was `internal error: TypeError`)."""
    import math

    for key in TEXT_KEYS:
        value = job.get(key)
        if value is not None and not (isinstance(value, str) and value):
            return f"{key} must be a non-empty string, got {value!r}"
    for key in FLAG_KEYS:
        value = job.get(key)
        if value is not None and not isinstance(value, bool):
            return f"{key} must be true or false, got {value!r}"
    for key in WHOLE_KEYS:
        value = job.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{key} must be a whole number, got {value!r}"
    given = {key: job.get(key) for key in UPSTREAM_KEYWORDS}
    if any(v is not None for v in given.values()):
        from .config import UpstreamCv2

        fault = UpstreamCv2().overriding(*given.values()).fault()
        if fault:
            return f"{UPSTREAM_KEYWORDS[fault[0]]}: {fault[1]}"
    value = job.get("threshold")
    if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                  and math.isfinite(value) and 0.0 <= value <= 1.0):
        return f"threshold must be a number in [0, 1], got {value!r}"
    return ""


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
    if not isinstance(defaults, dict):
        raise BadInput(f"{path}: defaults must be a mapping of model keys, got {defaults!r}")
    if data.get("out") is not None and not (isinstance(data["out"], str) and data["out"]):
        raise BadInput(f"{path}: out must be a folder name, got {data['out']!r}")
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
        problem = type_problem(job)
        if problem:  # this model's row says so; the others run
            name = job.get("name") if isinstance(job.get("name"), str) and job.get("name") else (
                Path(job["model"]).name if isinstance(job["model"], str) and job["model"] else f"models[{i}]")
            jobs.append({"name": name, "problem": f"{path.name}: models[{i}]: {problem}"})
            continue
        for key in INPUT_KEYS:
            if job.get(key) and not Path(job[key]).is_absolute():
                job[key] = str(base / job[key])
        job["name"] = job.get("name") or Path(job["model"]).name
        if job["name"] in names:
            raise BadInput(f"{path}: two models are named {job['name']!r}; give each a distinct name")
        names.add(job["name"])
        job["out"] = str(out / job["name"])
        jobs.append(job)
    inputs = [path] + [job[k] for job in jobs for k in INPUT_KEYS if job.get(k)]
    for i, job in enumerate(jobs):  # one entry's folder must not swallow another entry's model either
        if "problem" in job:
            continue
        try:
            outputs.check_destination(job["out"], True, inputs, create_parent=False)
        except BadInput as e:
            raise BadInput(f"{path}: models[{i}] ({job['name']}): {e}") from None
        job["batch_file"] = str(path)
    return jobs, out


def job_config(job: dict):
    """The DeployConfig of one entry: its config or preset with its threshold, labels and upstream machine."""
    from . import config as configs

    return configs.resolve(config=job.get("config"), preset=job.get("preset"), threshold=job.get("threshold"),
                           labels=job.get("labels"), no_labels=bool(job.get("no_labels")),
                           **{key: job.get(key) for key in UPSTREAM_KEYWORDS})


def run_one(job: dict) -> dict:
    """Deploy one model in a worker process; every failure becomes a row, never an exception."""
    started = time.perf_counter()
    row = {"name": job["name"], "status": "ERROR", "reason": job.get("problem", ""), "seconds": 0.0, "report": ""}
    if job.get("problem"):
        return row
    try:
        from .deploy import deploy

        cfg = job_config(job)
        kinds = tuple(k for k in ("android", "flutter") if job.get(k)) or ("android",)
        result = deploy(job["model"], cfg, job["out"], images_dir=job.get("images"), quant=job.get("quant"),
                        fp16=bool(job.get("fp16")), kinds=kinds, replace_out=True, name=job["name"],
                        app_name=job.get("app_name", "LiteTools Demo"),
                        package=job.get("package", "com.litetools.demo"),
                        inputs=[job.get("config"), job.get("labels"), job.get("batch_file")])
        row.update(status="READY" if result.ok else "NOT READY", reason=result.reason,
                   report=str(Path(result.out) / "report.html"))
        if provenance.not_predictions(result.weights):  # said in the summary too, not only in its report
            row["weights"] = result.weights["note"]
    except LiteToolsError as e:
        row["reason"] = str(e)
    except Exception as e:  # a bug in one model's run must not stop the others
        row["reason"] = f"internal error: {type(e).__name__}: {e}"
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def _worker(conn) -> None:
    """A spawned worker's body: deploy each job it is sent, one at a time, and send its row back; None ends it."""
    try:
        for job in iter(conn.recv, None):
            if os.environ.get("LITE_TOOLS_TEST_DIE_AT") == job["name"]:  # test-only: see the module docstring
                os.kill(os.getpid(), signal.SIGKILL)
            conn.send(run_one(job))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent says "interrupted", once
        os._exit(130)
    except EOFError:  # the parent is gone
        pass


def _died(job: dict, exitcode: int, started: float) -> dict:
    """The row of a job whose worker ended without sending one."""
    return {"name": job["name"], "status": "FAILED", "reason": f"worker died ({describe_exit(exitcode)})",
            "seconds": round(time.perf_counter() - started, 2), "report": ""}


def _run_all(todo: list, jobs: int, quiet: bool) -> list:
    """Run the jobs on at most `jobs` spawned workers; one row per job, whatever happens.

    A worker serves one job after another (Paddle is imported once per worker, ~1 s); one that dies costs only the
    job it was running, FAILED with the signal, and a fresh worker takes its place."""
    staging.handle_sigterm()
    workers, free, busy, rows = [], [], {}, []  # busy: conn -> (process, job, started)
    waiting = list(todo)

    def start():
        process, conn = child.start(_worker, daemon=False)  # not daemonic: deploy has children
        workers.append((process, conn))
        return process, conn

    try:
        while waiting or busy:
            while waiting and len(busy) < jobs:
                process, conn = free.pop() if free else start()
                job = waiting[0]
                try:
                    conn.send(job)
                except OSError:  # it died while idle: the job never started, give it to a new worker
                    continue
                waiting.pop(0)
                busy[conn] = (process, job, time.perf_counter())
            for conn in multiprocessing.connection.wait(list(busy)):
                process, job, started = busy.pop(conn)
                try:
                    row = conn.recv()
                    free.append((process, conn))
                except Exception:  # EOF (or half a message): the worker died running this job
                    process.join()
                    row = _died(job, process.exitcode, started)
                rows.append(row)
                if not quiet:
                    print(f"batch: {row['name']}: {row['status']} in {row['seconds']:.1f}s", file=sys.stderr,
                          flush=True)
    except SystemExit:  # SIGTERM reached only us (lite_tools.staging): pass it on, so workers remove their folders
        for process, _, _ in busy.values():
            process.terminate()
        raise
    finally:  # done, or interrupted (the workers had Ctrl-C too): let them exit, kill any still there after 5 s
        for _, conn in workers:
            try:
                conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for process, _ in workers:
            process.join(max(0.0, deadline - time.monotonic()))
        for process, conn in workers:
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
    return rows


def table(rows: list) -> str:
    """The summary: columns as wide as their header or widest cell, whichever is wider; a NOT READY row's reason
    and the note of weights that are not trained (lite_tools.provenance) on lines of their own below its report."""
    header = ("model", "status", "time", "report / reason")
    cells = []
    for r in rows:
        cells.append((r["name"], r["status"], f"{r['seconds']:.1f}s", r["report"] or r["reason"]))
        if r["report"] and r["reason"]:
            cells.append(("", "", "", r["reason"]))
        if r.get("weights"):
            cells.append(("", "", "", f"weights: {r['weights']}"))
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(3)]

    def line(c):
        return f"{c[0]:<{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:>{widths[2]}}  {c[3]}".rstrip()
    return "\n".join(line(c) for c in [header, *cells])


def run_batch(path, jobs: int = 1, quiet: bool = False) -> int:
    if jobs < 1:
        raise BadInput("-j needs at least 1")
    todo, out = load_jobs(path)
    refused = [run_one(job) for job in todo if "problem" in job]  # no worker needed to say what is wrong
    for row in refused if not quiet else ():
        print(f"batch: {row['name']}: {row['status']}: {row['reason']}", file=sys.stderr, flush=True)
    rows = refused + _run_all([job for job in todo if "problem" not in job], jobs, quiet)
    rows.sort(key=lambda r: [j["name"] for j in todo].index(r["name"]))
    print(table(rows))
    ready = sum(r["status"] == "READY" for r in rows)
    print(f"{ready}/{len(rows)} READY; outputs in {out}")
    return 0 if ready == len(rows) else 1
