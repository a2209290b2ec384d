"""`lite-tools opt`: check, patch a staged copy, run Paddle Lite's optimizer per target, cache, manifest.

Outputs appear all at once or not at all: everything is produced in a hidden temp folder inside OUT_DIR and
renamed into place at the end, so a failure or an interrupt leaves no `.nb` and no manifest behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import cache, lite_runner
from .errors import BadInput
from .model import compat, files, nb, program as programs

TARGETS = ("arm", "x86", "opencl")
QUANTS = ("int8", "int16")
COMPAT_VERSION = 1  # bump when a compat pass changes what it writes: invalidates cached .nb files
TRAINING_OP_HINTS = ("_grad", "sgd", "adam", "momentum", "lamb", "rmsprop", "fill_constant_batch_size_like")


@dataclasses.dataclass(frozen=True)
class OptOptions:
    targets: tuple
    quant: str | None = None
    fp16: bool = False
    name: str | None = None
    use_cache: bool = True
    compat: bool = True  # off only to reproduce the optimizer's crash on unpatched exports

    def __post_init__(self):
        if not self.targets:
            raise BadInput("--target needs at least one of arm, x86, opencl")
        for t in self.targets:
            if t not in TARGETS:
                raise BadInput(f"unknown target {t!r}; choose from {', '.join(TARGETS)} (comma-separated)")
        if len(set(self.targets)) != len(self.targets):
            raise BadInput(f"target listed twice in {','.join(self.targets)}")
        if self.quant not in (None,) + QUANTS:
            raise BadInput(f"unknown --quant {self.quant!r}; choose int8 or int16")
        if self.fp16 and any(t != "arm" for t in self.targets):
            raise BadInput("--fp16 applies to ARM only (Paddle Lite has no fp16 kernels for x86 or this "
                           "OpenCL path); drop --fp16 or optimise x86/opencl in a separate run")

    @classmethod
    def parse_targets(cls, text: str) -> tuple:
        return tuple(t.strip() for t in text.split(",") if t.strip())


def unsupported_ops(op_types, targets) -> dict:
    """{target: sorted op types Paddle Lite has no kernel for} for every target that misses any."""
    used = set(op_types) - {"feed", "fetch"}
    missing = {}
    for t in targets:
        gap = sorted(used - lite_runner.supported_ops(t))
        if gap:
            missing[t] = gap
    return missing


def _unsupported_error(model_file: Path, missing: dict) -> BadInput:
    parts = [f"{t}: {', '.join(ops)}" for t, ops in missing.items()]
    all_ops = {op for ops in missing.values() for op in ops}
    hint = ""
    if any(h in op for op in all_ops for h in TRAINING_OP_HINTS):
        hint = (" (training ops: this looks like a training checkpoint, not an inference model; export it "
                "with PaddleClas tools/export_model.py or PaddleDetection tools/export_model.py)")
    return BadInput(f"{model_file}: Paddle Lite 2.13 has no kernel for: {'; '.join(parts)}{hint}")


def _prepare_out_dir(out_dir: Path) -> bool:
    """Create OUT_DIR if needed; return whether we created it (so a failure can remove it again)."""
    existed = out_dir.is_dir()
    if out_dir.exists() and not existed:
        raise BadInput(f"{out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".lite-tools-probe-")
        probe.close()
    except OSError as e:
        raise BadInput(f"{out_dir}: cannot write there ({e.strerror or e})") from None
    return not existed


def _model_facts(mf: files.ModelFiles, hashes: dict, options: OptOptions, params_bytes: bytes):
    """Validate the export and describe it: (facts, patched program or None).

    Facts depend only on the input bytes, so they are cached by their hashes: a cache hit skips parsing and
    validating again (the same bytes passed validation when the entry was written).
    """
    key = cache.key_of("facts", hashes, options.compat, COMPAT_VERSION)
    facts = cache.get_json("facts", key) if options.use_cache else None
    if facts is not None:
        return facts, None
    program = programs.load_program(mf.model_file)
    params, _ = programs.walk_params(program, mf.param_file, params_bytes)
    facts = {"inputs": [t.to_json() for t in program.inputs], "outputs": [t.to_json() for t in program.outputs],
             "ops": program.op_histogram(), "params": params,
             "compat_fixes": compat.apply_all(program) if options.compat else []}
    cache.put_json("facts", key, facts)
    return facts, program


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None


def optimize(model_dir=None, out_dir=".", options: OptOptions = None, model_file=None, param_file=None,
             progress=None) -> dict:
    """Optimize a Paddle export into NAME.<target>.nb files and NAME.manifest.json; return the manifest."""
    progress = progress or (lambda msg: None)
    mf = files.locate(model_dir, model_file, param_file)
    name = options.name or (Path(model_dir).resolve().name if model_dir else mf.model_file.stem)
    if not name or "/" in name or name.startswith("."):
        raise BadInput(f"--name {name!r} is not a usable file name")
    params_bytes = _read(mf.param_file)  # read once: hashed here, validated by _model_facts on a cache miss
    hashes = {"model_file": cache.sha256_file(mf.model_file), "param_file": cache.sha256_bytes(params_bytes)}
    facts, program = _model_facts(mf, hashes, options, params_bytes)
    del params_bytes
    missing = unsupported_ops(facts["ops"], options.targets)
    if missing:
        raise _unsupported_error(mf.model_file, missing)

    out_dir = Path(out_dir)
    created = _prepare_out_dir(out_dir)
    work = Path(tempfile.mkdtemp(prefix=".lite-tools-", dir=out_dir))
    try:
        manifest = _optimize_into(work, mf, hashes, facts, program, name, options, progress)
        final = {work / f"{name}.{t}.nb": out_dir / f"{name}.{t}.nb" for t in options.targets}
        final[work / f"{name}.manifest.json"] = out_dir / f"{name}.manifest.json"
        for src, dst in final.items():
            os.replace(src, dst)
        return manifest
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stage(work: Path, mf: files.ModelFiles, program, options: OptOptions) -> tuple:
    """Write the patched program next to a link to the user's params; return (model, params) paths."""
    if program is None:
        program = programs.load_program(mf.model_file)
        if options.compat:
            compat.apply_all(program)
    stage = work / "stage"
    stage.mkdir()
    staged_model = stage / "model.pdmodel"
    staged_model.write_bytes(program.serialize())
    staged_params = stage / "model.pdiparams"
    try:
        os.symlink(mf.param_file.resolve(), staged_params)  # ASCII path for Lite; the user's bytes, read only
    except OSError:
        shutil.copyfile(mf.param_file, staged_params)
    return staged_model, staged_params


def _optimize_into(work: Path, mf: files.ModelFiles, hashes: dict, facts: dict, program, name: str,
                   options: OptOptions, progress) -> dict:
    versions = lite_runner.package_versions()
    staged = None
    targets = {}
    for t in options.targets:
        key = cache.key_of(hashes, t, options.quant, options.fp16, options.compat, COMPAT_VERSION,
                           versions["paddlelite"])
        dest = work / f"{name}.{t}.nb"
        started = time.perf_counter()
        hit = cache.get_file("opt", key, ".nb") if options.use_cache else None
        if hit:
            shutil.copyfile(hit, dest)
            progress(f"opt {t}: cached")
        else:
            progress(f"opt {t}: running Paddle Lite's optimizer")
            staged = staged or _stage(work, mf, program, options)
            (work / "out").mkdir(exist_ok=True)
            lite_runner.run_opt(*staged, t, work / "out" / f"{name}.{t}", options.quant, options.fp16,
                                label=str(mf.model_file.parent))
            os.replace(work / "out" / f"{name}.{t}.nb", dest)
            nb.zero_header_padding(dest)
        # One pass over the .nb: hashed for the manifest and, after a fresh run, stored in the cache
        # (--no-cache skips reading the cache, not refreshing it).
        if hit:
            recorded = cache.get_json("opt", key)  # the digest written with the entry (entries are immutable)
            digest = recorded["sha256"] if recorded else cache.sha256_file(dest)
        else:
            digest = cache.store_and_hash("opt", key, ".nb", dest)
            cache.put_json("opt", key, {"sha256": digest})
        header = nb.read_header(dest)
        targets[t] = {"file": dest.name, "sha256": digest, "bytes": dest.stat().st_size,
                      "opt_version": header.opt_version, "nb_format_version": header.format_version,
                      "places": lite_runner.TARGET_PLACES[t], "cached": bool(hit),
                      "seconds": round(time.perf_counter() - started, 3)}

    from . import __version__
    manifest = {
        "name": name,
        "model": {"model_file": str(mf.model_file.resolve()), "param_file": str(mf.param_file.resolve()),
                  "model_sha256": hashes["model_file"], "params_sha256": hashes["param_file"],
                  "model_bytes": mf.model_file.stat().st_size, "params_bytes": mf.param_file.stat().st_size},
        "inputs": facts["inputs"],
        "outputs": facts["outputs"],
        "ops": facts["ops"],
        "params": facts["params"],
        "options": {"quant": options.quant, "fp16": options.fp16, "compat": options.compat},
        "compat_fixes": facts["compat_fixes"],
        "targets": targets,
        "versions": {"lite_tools": __version__, **versions},
    }
    (work / f"{name}.manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
