"""Runs in a child process (see opt_child): import Paddle Lite, read one job (marshal) from stdin, run it, print
what the parent looks for. Imports nothing else: every millisecond here delays the optimizer."""

import marshal
import os
import sys


def main() -> None:
    import paddlelite.lite as lite

    data = sys.stdin.buffer.read()
    if not data:
        return  # the parent needed no optimizer after all
    job = marshal.loads(data)
    opt = lite.Opt()
    if job["action"] == "version":
        print("LITE_VERSION=" + opt.version())
        return
    if job["action"] == "supported_ops":
        opt.set_valid_places(job["places"])
        sys.stdout.flush()
        opt.print_supported_ops()
        return
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
    sys.stdout.flush()
    print("LITE_TOOLS_OPT_DONE", flush=True)
    os._exit(0)  # the .nb is written and closed; Paddle Lite's teardown would take another ~50 ms
