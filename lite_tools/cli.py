"""Command line: argument parsing, one-line errors, exit codes. Library modules are imported inside each
command, so `lite-tools --help` does not import paddle or paddlelite; even argparse and json wait until `opt` has
started its optimizer child (main)."""

from __future__ import annotations

import os
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
        from .jsonio import dumps

        print(dumps(info, indent=2))
    else:
        print(inspect_model.render(info))
    return 0


def cmd_doctor(args) -> int:
    from . import doctor

    python, answer = args.python, doctor.ASK
    if python and os.sep not in python:
        import shutil

        python = shutil.which(python)  # a bare `python3` is looked up on PATH, as a shell does
        if python is None:
            raise LiteToolsError(f"--python {args.python}: not found on PATH")
    if python and not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise LiteToolsError(f"--python {args.python}: not an executable file")
    if python:
        answer = doctor.ask_python(python)  # not a Python interpreter: one line now, before the slower checks
    checks = doctor.run_checks(python or sys.executable, answer)
    print(doctor.render(checks))
    return 0 if all(c.ok for c in checks) else 1


def cmd_zoo_list(args) -> int:
    from . import zoo

    width = max(map(len, zoo.REGISTRY))
    for name, entry in zoo.REGISTRY.items():  # trained or not: lite_tools.provenance says why it matters
        weights = "trained" if entry.trained else "untrained (deterministic, for tests)"
        print(f"{name:{width}s}  {weights:36s}  {entry.description}")
    return 0


def cmd_zoo_export(args) -> int:
    from . import zoo

    path = zoo.export(args.name, args.out, force=args.force)
    print(f"exported {args.name} to {path}")
    return 0


def whole_number(text: str) -> int:
    """argparse's type for a whole number in ASCII digits: int() also takes '٣' (probe 2026-12-03) and '1_000'."""
    import re

    if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
        raise ValueError(text)
    return int(text)


whole_number.__name__ = "whole number"  # argparse's words: "invalid whole number value: 'abc'"


def _upstream_from(args) -> dict:
    """The --upstream-* options given, as config.resolve's keywords."""
    from .config.model import UPSTREAM_KEYWORDS

    return {key: getattr(args, key, None) for key in UPSTREAM_KEYWORDS}


def _config_from(args):
    """The resolved DeployConfig; what was ignored or looked up on the way goes to stderr, one line each."""
    from . import config

    cfg = config.resolve(config=args.config, preset=args.preset, threshold=getattr(args, "threshold", None),
                         labels=getattr(args, "labels", None), no_labels=getattr(args, "no_labels", False),
                         **_upstream_from(args))
    if not getattr(args, "quiet", False):
        labels_from = cfg.origin("labels")
        if "class_id_map_file" in labels_from:
            _say(f"config: labels from {labels_from.split(' -> ')[-1]}")
        for note in cfg.notes:
            _say(f"config: {note}")
        given = _upstream_from(args)
        if any(v is not None for v in given.values()):
            from .reference.preprocess import depends_on_machine

            depends = depends_on_machine(cfg)
            if not depends:
                _say("config: --upstream-* changes nothing here: this config's resize is the same on every machine")
            elif depends == "cpu" and (given["upstream_threads"] is not None or given["upstream_l2"] is not None):
                _say("config: --upstream-threads/--upstream-l2 change nothing here: only IPP's warpAffine (keep_ratio "
                     "cubic detector configs) depends on them")
    return cfg


def cmd_config(args) -> int:
    from . import config

    if args.action == "export" and not args.out:
        raise LiteToolsError("config export needs --out FILE.json")
    cfg = _config_from(args)
    if args.action == "export":
        labels_from = cfg.origin("labels")
        inputs = [args.config, getattr(args, "labels", None)]
        if "class_id_map_file" in labels_from:
            inputs.append(labels_from.split(" -> ")[-1])
        config.write_json(cfg, args.out, inputs=inputs)
        print(f"wrote {args.out}")
    else:
        from .jsonio import dumps

        print(dumps(cfg.to_json(), indent=2, ensure_ascii=False))
    return 0


def _load_images(args, cfg):
    """[(name, rgb)] and [(name, reason)] skipped; unreadable files (and images `cfg` resizes to nothing) are
    reported, never fatal."""
    from .reference import images

    if args.random is not None:
        if args.random < 1:
            raise LiteToolsError("--random needs a positive number of images")
        return [(f"random-{i:03d}", img) for i, img in enumerate(images.synthetic_images(args.random))], []
    loaded, skipped = images.load_folder(args.images, cfg)
    for _, reason in skipped:
        _say(f"parity: skipped {reason}")
    return loaded, skipped


def _tolerance(option: str, value: float) -> float:
    import math

    if not (math.isfinite(value) and value >= 0):
        raise LiteToolsError(f"{option} {value}: must be a finite number >= 0")
    return value


def _parity_inputs(args) -> list:
    """(what, path) of the files parity reads: its --report must never replace one of them."""
    from .model import files

    found = [("--config", args.config), ("--labels", getattr(args, "labels", None)),
             ("--lite-model", args.lite_model)]
    try:
        mf = files.locate(args.model)
        found += [("model file", mf.model_file), ("params file", mf.param_file)]
    except LiteToolsError:
        pass  # check() names the problem with the model
    if args.images:
        from .reference.images import list_images

        try:
            found += [("--images", path) for path in list_images(args.images)]
        except LiteToolsError:
            pass  # an empty or missing folder: _load_images has said so already
    return found


def cmd_parity(args) -> int:
    atol, rtol = _tolerance("--atol", args.atol), _tolerance("--rtol", args.rtol)
    from .parity import check, report

    cfg = _config_from(args)
    loaded, skipped = _load_images(args, cfg)
    if args.report:
        report.check_writable(args.report, _parity_inputs(args))  # before the run, not after minutes of it
    result = check.check(args.model, cfg, loaded, tolerance=check.Tolerance(atol, rtol),
                         quant=args.quant, fp16=args.fp16, lite_model=args.lite_model, skipped=skipped,
                         progress=None if args.quiet else _say)
    try:
        if args.report:
            json_path, html_path = report.write(result, args.report)
            _say(f"parity: report {html_path}")
    finally:  # the verdict first, whatever happens to the report
        _print_verdict(result)
    return 0 if result.ok else 1


def _print_weights(*weights) -> None:
    """Once, the note of weights that are not trained (lite_tools.provenance records): their outputs are not
    predictions. Trained and unrecorded weights say nothing here (the report names a trained one's source)."""
    from . import provenance

    notes = sorted({w["note"] for w in weights if provenance.not_predictions(w)})
    for note in notes:
        print(f"  weights: {note}")


def _print_verdict(result) -> None:
    from . import provenance

    print(("PASS" if result.ok else "FAIL") + f": {len(result.images)} image(s), task {result.task}, worst max_abs "
          f"{max((i.worst_abs for i in result.images), default=0):.3g}")
    _print_weights(provenance.record(result.model))
    for line in result.failures[:10]:
        print(f"  - {line}")
    for line in result.diagnosis:
        print(f"  diagnosis: {line}")
    if result.localisation:
        print(f"  where: {result.localisation['detail']}")
    if result.quant_estimate:
        q = result.quant_estimate
        print(f"  estimate (--quant {q['quant']} / fp16 {q['fp16']}, in Paddle): task agreement "
              f"{q['task_agreement']:.1%}, worst |delta| {q['max_abs_vs_fp32']:.3g}")
    if result.fp16_estimate:
        f = result.fp16_estimate
        worst = "n/a" if f["max_abs_vs_fp32"] is None else f"{f['max_abs_vs_fp32']:.3g}"
        print(f"  fp16 estimate (every tensor rounded, in Paddle; fp16 accumulation not modelled): task agreement "
              f"{f['task_agreement']:.1%}, worst |delta| {worst}, {len(f['overflows'])} tensor(s) overflow fp16")
    sys.stdout.flush()  # before an error line about the report on stderr


def _inputs(args) -> tuple:
    """The user's input paths besides MODEL and --images, which an output folder must not be or contain."""
    return tuple(getattr(args, k, None) for k in ("config", "labels", "model_file", "param_file"))


def cmd_project(args) -> int:
    """`lite-tools android` and `lite-tools flutter`."""
    from .codegen import project

    apk = getattr(args, "apk", None)  # checked before any work by project.generate (lite_tools.apk.placement.plan)
    summary = project.generate(args.kind, args.model, _config_from(args), args.out, app_name=args.app_name,
                               package=args.package, force=args.force, quant=args.quant, fp16=args.fp16,
                               progress=None if args.quiet else _say, inputs=_inputs(args), apk=apk)
    print(f"{args.kind.capitalize()} project for {summary['task']} ({summary['input'][0]}x{summary['input'][1]} "
          f"input, Paddle Lite {summary['lite_version']}) written to {summary['out']}")
    _print_apk(summary["apk"])
    return 0


def _print_apk(built: dict | None) -> None:
    """The APK line of `--apk`, and its note when the Paddle Lite files are missing."""
    if built:
        print(f"APK (debug key, apksigner verified, {built['seconds']:.1f} s): {built['path']}")
        if built["note"]:
            print(f"  note: {built['note']}")


def cmd_deploy(args) -> int:
    from . import deploy
    from .progress import Progress

    if args.batch:
        from . import batch
        if args.model or args.config or args.preset:
            raise LiteToolsError("--batch FILE takes the models from FILE: give no MODEL, --config or --preset")
        if args.apk is not None:
            raise LiteToolsError("--apk builds one project's APK: not with --batch")
        if any(v is not None for v in _upstream_from(args).values()):
            raise LiteToolsError("--upstream-* with --batch: set upstream_cpu, upstream_threads or upstream_l2 in "
                                 "the batch file's defaults or models")
        return batch.run_batch(args.batch, jobs=args.jobs, quiet=args.quiet)
    if not args.model or not args.out:
        raise LiteToolsError("deploy needs MODEL and --out DIR (or --batch FILE)")
    kinds = tuple(k for k in ("android", "flutter") if getattr(args, k)) or ("android",)
    result = deploy.deploy(args.model, _config_from(args), args.out, images_dir=args.images, quant=args.quant,
                           fp16=args.fp16, kinds=kinds, force=args.force, app_name=args.app_name,
                           package=args.package, name=args.name, progress=Progress(quiet=args.quiet),
                           inputs=_inputs(args), apk=args.apk)
    status = "READY" if result.ok else ("WRITTEN ANYWAY (--force)" if result.forced else "NOT READY")
    print(f"{result.name}: {status}; report: {result.out}/report.html")
    _print_weights(result.weights)
    if result.reason:
        print(f"  reason: {result.reason}")
    _print_apk(result.apk)
    return 0 if result.ok else 1


def _delimiter(text: str) -> str:
    """PaddleClas writes `delimiter: "\\t"` in YAML; on a command line the two characters \\t mean a TAB too."""
    return {"\\t": "\t", "\\s": " "}.get(text, text)


def cmd_gallery(args) -> int:
    """`lite-tools gallery build|add|remove` (lite_tools.shitu.gallery)."""
    from .shitu import gallery

    say = (lambda m: None) if args.quiet else _say
    if args.gallery_command == "remove":
        manifest = gallery.remove(args.gallery, labels=tuple(args.label or ()), ids=tuple(args.id or ()),
                                  rec_model=args.rec, progress=say)
        where = args.gallery
    else:
        from .config import with_upstream
        from .config.model import UPSTREAM_OPTIONS

        config = with_upstream(gallery.rec_config(args.config), *_upstream_from(args).values(), said=UPSTREAM_OPTIONS)
        if args.gallery_command == "add":
            manifest = gallery.add(args.gallery, args.images, args.rec, config, image_root=args.image_root,
                                   delimiter=_delimiter(args.delimiter), progress=say, inputs=(args.config,))
            where = args.gallery
        elif args.from_paddleclas_index:
            if args.images:
                raise LiteToolsError("--from-paddleclas-index DIR takes the gallery from DIR: give no IMAGES")
            from .shitu import paddleclas_index

            manifest = paddleclas_index.import_gallery(args.from_paddleclas_index, args.rec, config, args.out,
                                                       image_root=args.image_root,
                                                       delimiter=_delimiter(args.delimiter), force=args.force,
                                                       progress=say, inputs=(args.config,))
            where = args.out
        else:
            if not args.images:
                raise LiteToolsError("gallery build needs IMAGES (a folder of label subfolders or a PaddleClas list "
                                     "file) or --from-paddleclas-index DIR")
            manifest = gallery.build(args.images, args.rec, config, args.out, image_root=args.image_root,
                                     delimiter=_delimiter(args.delimiter), force=args.force, progress=say,
                                     inputs=(args.config,))
            where = args.out
    skipped = len(manifest.get("skipped", []))
    origin = "; origin unverified" if manifest.get("origin") == gallery.ORIGIN_IMPORTED else ""
    print(f"gallery: {manifest['count']} entries ({len(manifest['labels'])} labels, {manifest['dimension']}-d) in "
          f"{where}" + (f"; {skipped} image(s) skipped" if skipped else "") + origin)
    return 0


def cmd_shitu_deploy(args) -> int:
    """`lite-tools shitu deploy` (lite_tools.shitu.deploy)."""
    from .progress import Progress
    from .shitu import deploy

    system, det_dir, rec_dir, found = deploy.resolve_system(args.config, args.det, args.rec)
    system = deploy.with_upstream(system, **_upstream_from(args))
    if not args.quiet:
        for role, path in (("detector", det_dir), ("recogniser", rec_dir)):
            _say(f"shitu: {role} {path} ({found[role]})")
        for note in system.notes:
            _say(f"shitu: {note}")
    kinds = tuple(k for k in ("android", "flutter") if getattr(args, k)) or ("android",)
    result = deploy.deploy(system, det_dir, rec_dir, args.gallery, args.out, images_dir=args.images, kinds=kinds,
                           force=args.force, app_name=args.app_name, package=args.package, found=found,
                           progress=Progress(quiet=args.quiet), inputs=tuple(x for x in (args.config,) if x),
                           apk=args.apk)
    status = "READY" if result.ok else ("WRITTEN ANYWAY (--force)" if result.forced else "NOT READY")
    print(f"shitu: {status}; report: {result.out}/report.html")
    _print_weights(*(m.get("weights") for m in result.models.values()))
    if result.reason:
        print(f"  reason: {result.reason}")
    _print_apk(result.apk)
    if result.projects.get("note"):
        print(f"  {result.projects['note']}")
    return 0 if result.ok else 1


COMMANDS = ("opt", "inspect", "doctor", "config", "parity", "android", "flutter", "deploy", "zoo", "gallery",
            "shitu")


def build_parser(only: str | None = None):
    """The whole command line; with `only`, the top level and that one command, which is what main() needs (all
    ~90 arguments cost ~8 ms, which `opt` would otherwise pay before its optimizer child gets its job)."""
    import argparse

    def wanted(command: str) -> bool:
        return only is None or only == command

    class Parser(argparse.ArgumentParser):
        """argparse with our error line: the usage, then one `lite-tools: error: OPTION: PROBLEM` line, exit 2."""

        def error(self, message):
            self.print_usage(sys.stderr)
            message = message[len("argument "):] if message.startswith("argument ") else message
            self.exit(2, f"lite-tools: error: {' '.join(message.split())}\n")

    class Version(argparse.Action):
        def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
            super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

        def __call__(self, parser, namespace, values, option_string=None):
            print(version_line())
            parser.exit(0)

    p = Parser(prog="lite-tools", description="From a Paddle export to a verified Paddle Lite app.")
    p.add_argument("--version", action=Version, help="print the versions of lite-tools, Paddle Lite and Paddle")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    if wanted("opt"):
        o = sub.add_parser("opt", help="optimise a Paddle inference model into Paddle Lite .nb files")
        o.add_argument("model", nargs="?", help="export directory (inference.* or model.* .pdmodel/.pdiparams)")
        o.add_argument("--model-file")
        o.add_argument("--param-file")
        o.add_argument("--target", required=True, help="comma-separated: arm, x86, opencl")
        o.add_argument("--out", required=True, help="output directory")
        o.add_argument("--quant", choices=["int8", "int16"], help="weight-only dynamic post-quantisation")
        o.add_argument("--fp16", action="store_true", help="fp16 kernels (ARM only)")
        o.add_argument("--name", help="output base name (default: the model directory's name)")
        o.add_argument("--no-cache", action="store_true",
                       help="always run the optimizer (the result still refreshes the cache)")
        o.add_argument("--no-compat", action="store_true", help=argparse.SUPPRESS)
        o.add_argument("-q", "--quiet", action="store_true")
        o.set_defaults(func=cmd_opt)

    if wanted("inspect"):
        i = sub.add_parser("inspect", help="describe a Paddle model directory or a .nb file")
        i.add_argument("path", nargs="?")
        i.add_argument("--model-file")
        i.add_argument("--param-file")
        i.add_argument("--json", action="store_true")
        i.set_defaults(func=cmd_inspect)

    if wanted("doctor"):
        d = sub.add_parser("doctor", help="check the Python, Paddle, Paddle Lite, numpy and Java set-up")
        d.add_argument("--python", metavar="PATH", help="the interpreter whose cv2 to read for the --upstream-* "
                                                        "line (the PaddleClas/PaddleDetection one; default: this one)")
        d.set_defaults(func=cmd_doctor)

    def config_source(p, required=True):
        group = p.add_mutually_exclusive_group(required=required)
        group.add_argument("--config", help="PaddleClas inference YAML, PaddleDetection infer_cfg.yml, or our JSON")
        group.add_argument("--preset", help="a built-in config (lite-tools config show --preset NAME)")
        p.add_argument("--threshold", type=float, help="override the binary/multi-label/box score threshold")
        names = p.add_mutually_exclusive_group()
        names.add_argument("--labels", help="class names: PaddleClas's 'ID NAME' lines or one name per line "
                                            "(replaces the config's)")
        names.add_argument("--no-labels", action="store_true",
                           help="bare class ids when the config's class_id_map_file cannot be found")
        upstream_options(p)

    def upstream_options(p):
        u = p.add_argument_group("upstream machine", "whose cv2.resize the tensor reproduces, where it depends on "
                                 "the machine (INTER_CUBIC on x86-64 runs Intel IPP; default: avx2, 1 thread)")
        u.add_argument("--upstream-cpu", metavar="{avx2,avx512,none}",
                       help="avx2: IPP's AVX2 code; avx512: the code IPP runs on AVX-512 CPUs (unless OPENCV_IPP="
                            "avx2 is set there); none: no IPP (aarch64 wheels, cv2.ipp.setUseIPP(False))")
        u.add_argument("--upstream-threads", type=whole_number, metavar="N",
                       help="cv2.getNumThreads() there (1..25; it matters for keep_ratio cubic detector configs)")
        u.add_argument("--upstream-l2", type=whole_number, metavar="BYTES",
                       help="the L2 cache size IPP reads there (0: none reported, as on AMD; OpenCV then assumes "
                            "256 KiB)")

    def apk_option(p):
        p.add_argument("--apk", nargs="?", const="", metavar="FILE",
                       help="also build the Android project's signed debug APK without Gradle (Debian's Android "
                            "tools, fetched once), to FILE or app/build/outputs/apk/debug/app-debug.apk")

    def app_options(p):
        p.add_argument("--app-name", default="LiteTools Demo")
        p.add_argument("--package", default="com.litetools.demo")
        p.add_argument("--quant", choices=["int8", "int16"], help="weight-only quantisation of the ARM model")
        p.add_argument("--fp16", action="store_true", help="fp16 kernels on ARM")

    if wanted("config"):
        c = sub.add_parser("config", help="print or write the resolved deploy config as JSON")
        c.add_argument("action", choices=["show", "export"])
        config_source(c)
        c.add_argument("--out", help="with export: the JSON file to write")
        c.set_defaults(func=cmd_config)

    if wanted("parity"):
        pa = sub.add_parser("parity", help="check Paddle Lite x86 against Paddle Inference, pixels to labels/boxes")
        pa.add_argument("model", help="export directory")
        config_source(pa)
        imgs = pa.add_mutually_exclusive_group(required=True)
        imgs.add_argument("--images", help="directory of images (JPEG/PNG/BMP/WebP/TIFF, any mode)")
        imgs.add_argument("--random", type=whole_number, help="N generated photo-like images of varied sizes")
        pa.add_argument("--quant", choices=["int8", "int16"], help="also estimate Lite's weight quantisation")
        pa.add_argument("--fp16", action="store_true",
                        help="also estimate fp16 inference (ARM): every tensor rounded to fp16 in Paddle; an "
                             "overflow or another task result fails")
        pa.add_argument("--atol", type=float, default=1e-4)
        pa.add_argument("--rtol", type=float, default=1e-3)
        pa.add_argument("--lite-model", help="check this existing x86 .nb instead of making one")
        pa.add_argument("--report", help="directory for parity.json and parity.html")
        pa.add_argument("-q", "--quiet", action="store_true")
        pa.set_defaults(func=cmd_parity)

    if wanted("android") or wanted("flutter"):
        for kind, help_text in (("android", "write an Android Studio project running the model with Paddle Lite"),
                                ("flutter", "write a Flutter demo whose Android host runs the model with Paddle Lite")):
            an = sub.add_parser(kind, help=help_text)
            an.add_argument("model", help="export directory")
            config_source(an)
            an.add_argument("--out", required=True, help="project directory to create")
            app_options(an)
            an.add_argument("--force", action="store_true", help="replace OUT if it exists")
            if kind == "android":
                apk_option(an)
            an.add_argument("-q", "--quiet", action="store_true")
            an.set_defaults(func=cmd_project, kind=kind)

    if wanted("deploy"):
        de = sub.add_parser("deploy", help="opt, parity, Android/Flutter projects and a report, in one command")
        de.add_argument("model", nargs="?", help="export directory")
        config_source(de, required=False)  # --batch files name a config per model
        de.add_argument("--out", help="output directory")
        de.add_argument("--images", help="images for the parity and Java checks (default: the bundled samples)")
        de.add_argument("--android", action="store_true", help="write the Android project (the default)")
        de.add_argument("--flutter", action="store_true", help="write the Flutter demo")
        app_options(de)
        de.add_argument("--name", help="base name of the .nb files (default: the model directory's name)")
        de.add_argument("--force", action="store_true", help="replace OUT; write projects even if a check fails")
        apk_option(de)
        de.add_argument("--batch", help="YAML file listing many models (see README)")
        de.add_argument("-j", "--jobs", type=whole_number, default=1, help="with --batch: models deployed in parallel")
        de.add_argument("-q", "--quiet", action="store_true")
        de.set_defaults(func=cmd_deploy)

    if wanted("zoo"):
        z = sub.add_parser("zoo", help="built-in model architectures with deterministic weights")
        zsub = z.add_subparsers(dest="zoo_command", required=True)
        zl = zsub.add_parser("list")
        zl.set_defaults(func=cmd_zoo_list)
        ze = zsub.add_parser("export", help="write a zoo model's Paddle export into a folder")
        ze.add_argument("name")
        ze.add_argument("--out", required=True, help="a new or empty folder, or one an earlier zoo export wrote "
                                                     "(replaced by the new export)")
        ze.add_argument("--force", action="store_true", help="also replace a folder another lite-tools command "
                                                              "wrote (never one holding files it did not write)")
        ze.set_defaults(func=cmd_zoo_export)

    if wanted("gallery"):
        g = sub.add_parser("gallery", help="a gallery of labelled embeddings for PP-ShiTu search (build, add, remove)")
        gsub = g.add_subparsers(dest="gallery_command", required=True)

        def rec_options(q, required=True):
            q.add_argument("--rec", required=required, help="the rec (feature extractor) export directory")
            if required:
                q.add_argument("--config", required=True, help="the rec model's inference.yml (PostProcess "
                                                               "NormalizeFeatures), our JSON, or a PP-ShiTu config")
                upstream_options(q)

        def image_options(q):
            q.add_argument("--image-root", help="with a list file: the folder its paths are relative to (default: "
                                                "the list file's folder)")
            q.add_argument("--delimiter", default="\t", help="the list file's field delimiter (default TAB)")
            q.add_argument("-q", "--quiet", action="store_true")

        gb = gsub.add_parser("build", help="embed labelled images (or import a PaddleClas index) into GALLERY")
        gb.add_argument("images", nargs="?", help="a folder of label subfolders, or a PaddleClas list file "
                                                  "(path<delimiter>label)")
        gb.add_argument("--from-paddleclas-index", metavar="DIR", help="import PaddleClas's vector.index + "
                                                                       "id_map.pkl instead")
        rec_options(gb)
        gb.add_argument("--out", required=True, help="the GALLERY folder to create")
        gb.add_argument("--force", action="store_true", help="replace OUT if lite-tools wrote it")
        image_options(gb)
        gb.set_defaults(func=cmd_gallery)
        ga = gsub.add_parser("add", help="add labelled images to GALLERY (PaddleClas's index_operation append)")
        ga.add_argument("gallery")
        ga.add_argument("images", help="a folder of label subfolders, or a PaddleClas list file")
        rec_options(ga)
        image_options(ga)
        ga.set_defaults(func=cmd_gallery)
        gr = gsub.add_parser("remove", help="remove entries from GALLERY by label or id (index_operation remove)")
        gr.add_argument("gallery")
        gr.add_argument("--label", action="append", help="remove every entry with this label (repeatable)")
        gr.add_argument("--id", action="append", type=whole_number, help="remove the entry with this id (repeatable)")
        rec_options(gr, required=False)
        gr.add_argument("-q", "--quiet", action="store_true")
        gr.set_defaults(func=cmd_gallery)

    if wanted("shitu"):
        sh = sub.add_parser("shitu", help="PP-ShiTu: mainbody detector + recogniser + gallery in one app")
        shsub = sh.add_subparsers(dest="shitu_command", required=True)
        sd = shsub.add_parser("deploy", help="opt both models, per-stage parity, the gallery in the app, a report")
        sd.add_argument("--config", help="PaddleClas's PP-ShiTu system config (inference_general.yaml or a sibling)")
        sd.add_argument("--det", help="the mainbody detector export (default: the config's det_inference_model_dir)")
        sd.add_argument("--rec", help="the recogniser export (default: the config's rec_inference_model_dir)")
        sd.add_argument("--gallery", required=True, help="a lite-tools gallery (lite-tools gallery build)")
        sd.add_argument("--out", required=True, help="output directory")
        sd.add_argument("--images", help="query images for the per-stage checks (default: the bundled samples)")
        sd.add_argument("--android", action="store_true", help="write the Android project (the default)")
        sd.add_argument("--flutter", action="store_true", help="write the Flutter demo")
        sd.add_argument("--app-name", default="LiteTools ShiTu")
        sd.add_argument("--package", default="com.litetools.shitu")
        sd.add_argument("--force", action="store_true", help="replace OUT; write projects even if a check fails")
        upstream_options(sd)
        apk_option(sd)
        sd.add_argument("-q", "--quiet", action="store_true")
        sd.set_defaults(func=cmd_shitu_deploy)
    return p


def version_line() -> str:
    """`lite-tools X.Y.Z (paddlelite A, paddlepaddle B)`, from the installed packages' metadata (no import)."""
    from importlib import metadata

    from . import __version__

    def installed(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"
    return f"lite-tools {__version__} (paddlelite {installed('paddlelite')}, paddlepaddle {installed('paddlepaddle')})"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    import os

    # Paddle's C++ (glog) INFO and WARNING lines, such as "New Executor is Running.", are noise around our one-line
    # errors; glog reads this when paddle is first imported, and every child inherits it. Its errors still show.
    os.environ.setdefault("GLOG_minloglevel", "2")
    if argv[:1] == ["opt"]:
        # Its optimizer child starts before anything else is imported or parsed, so that Paddle Lite's import
        # there overlaps ours (opt_child); a cache hit or an error stops it.
        from . import opt_child

        opt_child.prestart(1)
    try:
        try:
            args = build_parser(only=argv[0] if argv[:1] and argv[0] in COMMANDS else None).parse_args(argv)
        except SystemExit:  # --help, --version, a usage error: printed; a closed pipe shows up in this flush
            sys.stdout.flush()
            raise
        code = args.func(args)
        sys.stdout.flush()  # here, not at exit: a reader that left is the BrokenPipeError below, not a traceback
        return code
    except LiteToolsError as e:
        print(f"lite-tools: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("lite-tools: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lite-tools config show | head`: the reader left; no traceback, as cat does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more reaches the closed pipe
        return 141  # 128 + SIGPIPE, what a shell reports for a writer the pipe stopped


def run() -> None:
    """The console entry point (`lite-tools`, `python -m lite_tools`): exit with main()'s code.

    `opt` then skips the interpreter's teardown, ~7 ms of freeing modules one by one and a last garbage collection
    (4% of a small model's run, which bench_opt compares with the bare optimizer). Every exit handler still runs
    before, and `opt` leaves no file open; Python does not promise finalizers at exit anyway.
    """
    exit_code = []
    if sys.argv[1:2] == ["opt"]:
        import atexit

        atexit.register(_exit_without_teardown, exit_code)  # registered first, so it runs after all others
    code = main()
    exit_code.append(code)
    sys.exit(code)


def _exit_without_teardown(exit_code: list) -> None:
    if exit_code:  # main() returned (argparse's own exits and crashes take the ordinary way)
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code[0])


if __name__ == "__main__":
    run()
