"""Command line: argument parsing, one-line errors, exit codes. Library modules are imported inside each
command, so `lite-tools --help` does not import paddle or paddlelite."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import LiteToolsError


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_opt(args) -> int:
    from . import opt

    options = opt.OptOptions(targets=opt.OptOptions.parse_targets(args.target), quant=args.quant,
                             fp16=args.fp16, name=args.name, use_cache=not args.no_cache,
                             compat=not args.no_compat)
    manifest = opt.optimize(args.model, args.out, options, model_file=args.model_file,
                            param_file=args.param_file, progress=None if args.quiet else _say)
    if not args.quiet:
        from .report_text import opt_summary
        print(opt_summary(manifest, args.out))
    return 0


def cmd_inspect(args) -> int:
    from . import inspect_model

    info = inspect_model.inspect_path(args.path, model_file=args.model_file, param_file=args.param_file)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(inspect_model.render(info))
    return 0


def cmd_doctor(args) -> int:
    from . import doctor

    checks = doctor.run_checks()
    print(doctor.render(checks))
    return 0 if all(c.ok for c in checks) else 1


def cmd_zoo_list(args) -> int:
    from . import zoo

    for name, entry in zoo.REGISTRY.items():
        print(f"{name:24s} {entry.description}")
    return 0


def cmd_zoo_export(args) -> int:
    from . import zoo

    path = zoo.export(args.name, args.out)
    print(f"exported {args.name} to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lite-tools", description="From a Paddle export to a verified Paddle Lite app.")
    sub = p.add_subparsers(dest="command", required=True)

    o = sub.add_parser("opt", help="optimise a Paddle inference model into Paddle Lite .nb files")
    o.add_argument("model", nargs="?", help="export directory (inference.* or model.* .pdmodel/.pdiparams)")
    o.add_argument("--model-file")
    o.add_argument("--param-file")
    o.add_argument("--target", required=True, help="comma-separated: arm, x86, opencl")
    o.add_argument("--out", required=True, help="output directory")
    o.add_argument("--quant", choices=["int8", "int16"], help="weight-only dynamic post-quantisation")
    o.add_argument("--fp16", action="store_true", help="fp16 kernels (ARM only)")
    o.add_argument("--name", help="output base name (default: the model directory's name)")
    o.add_argument("--no-cache", action="store_true", help="always run the optimizer (the result still refreshes the cache)")
    o.add_argument("--no-compat", action="store_true", help=argparse.SUPPRESS)
    o.add_argument("-q", "--quiet", action="store_true")
    o.set_defaults(func=cmd_opt)

    i = sub.add_parser("inspect", help="describe a Paddle model directory or a .nb file")
    i.add_argument("path", nargs="?")
    i.add_argument("--model-file")
    i.add_argument("--param-file")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_inspect)

    d = sub.add_parser("doctor", help="check the Python, Paddle, Paddle Lite, numpy and Java set-up")
    d.set_defaults(func=cmd_doctor)

    z = sub.add_parser("zoo", help="built-in model architectures with deterministic weights")
    zsub = z.add_subparsers(dest="zoo_command", required=True)
    zl = zsub.add_parser("list")
    zl.set_defaults(func=cmd_zoo_list)
    ze = zsub.add_parser("export")
    ze.add_argument("name")
    ze.add_argument("--out", required=True)
    ze.set_defaults(func=cmd_zoo_export)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LiteToolsError as e:
        print(f"lite-tools: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("lite-tools: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
