"""Runs inside a child process: Paddle Lite's optimizer may abort(), exit(1) or segfault, so the parent only
reads what this prints and what it writes. Usage: python -m lite_tools.opt_child JOB_JSON."""

import json
import sys


def main() -> None:
    job = json.loads(sys.argv[1])
    import paddlelite.lite as lite

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


if __name__ == "__main__":
    main()
