"""Runs in a child process (see opt_child): import Paddle Lite, read one job (marshal) from fd 0, run it, print
what the parent looks for, and leave with os._exit: Paddle Lite's teardown is slow, and a forked child must not
run the parent's exit handlers. Imports nothing else: every millisecond here delays the optimizer."""

import marshal
import os
import sys


def _read_job():
    chunks = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    return marshal.loads(b"".join(chunks)) if chunks else None


def _exit_flushing_native_output() -> None:
    """Paddle Lite prints its tables through C stdio, which os._exit would not flush."""
    import ctypes

    sys.stdout.flush()
    ctypes.CDLL(None).fflush(None)
    os._exit(0)


def main() -> None:
    import paddlelite.lite as lite

    job = _read_job()
    if job is None:
        os._exit(0)  # the parent needed no optimizer after all
    opt = lite.Opt()
    if job["action"] == "version":
        print("LITE_VERSION=" + opt.version())
        _exit_flushing_native_output()
    if job["action"] == "supported_ops":
        opt.set_valid_places(job["places"])
        sys.stdout.flush()
        opt.print_supported_ops()
        _exit_flushing_native_output()
    opt.set_model_file(job["model_file"])
    opt.set_param_file(job["param_file"])
    opt.set_model_type("naive_buffer")  # the only format the phone runtime (MobileConfig) loads
    opt.set_optimize_out(job["optimize_out"])  # Lite appends ".nb" itself
    if job.get("fp16"):
        opt.enable_fp16()  # must come before set_valid_places, or it is silently ignored
    opt.set_valid_places(job["places"])
    if job.get("quant"):
        opt.set_quant_model(True)
        opt.set_quant_type({"int8": "QUANT_INT8", "int16": "QUANT_INT16"}[job["quant"]])
    sys.stdout.flush()
    opt.run()
    print("LITE_TOOLS_OPT_DONE", flush=True)
    os._exit(0)  # the .nb is written and closed; Paddle Lite's log lines still in C buffers are not needed
