"""`lite-tools opt`: check, patch a staged copy, run Paddle Lite's optimizer per target, cache, manifest.

Outputs appear all at once or not at all: everything is produced in a hidden, locked work folder inside OUT_DIR
(lite_tools.staging: SIGTERM removes it, the next run sweeps a SIGKILLed one) and moved into place at the end by
staging.move_all, so a failure or an interrupt leaves neither new files nor a mix of old and new ones behind.
"""

from __future__ import annotations

import collections
import errno
import json
import os
import shutil
import time
from pathlib import Path

from . import cache, lite_runner, opt_child, staging
from .errors import BadInput, ToolFailure
from .model import compat, files, nb, program as programs

TARGETS = ("arm", "x86", "opencl")
QUANTS = ("int8", "int16")
COMPAT_VERSION = 1  # bump when a compat pass changes what it writes: invalidates cached .nb files
TRAINING_OP_HINTS = ("_grad", "sgd", "adam", "momentum", "lamb", "rmsprop", "fill_constant_batch_size_like")


class OptOptions(collections.namedtuple("OptOptions", "targets quant fp16 name use_cache compat",
                                        defaults=(None, False, None, True, True))):
    """What `opt` makes. `compat` is off only to reproduce the optimizer's crash on unpatched exports.

    A namedtuple, not a dataclass: the CLI imports this module while its optimizer child waits for a job, and
    dataclasses costs ~8 ms to import."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls, *args, **kwargs)
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
        return self

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


def _work_dir_in(out_dir: Path) -> tuple:
    """Create OUT_DIR if needed and a private, locked work folder in it (lite_tools.staging: what killed runs
    left there is swept first); return (work folder, whether we created OUT_DIR, so that a failure can remove it
    again)."""
    existed = out_dir.is_dir()
    if out_dir.exists() and not existed:
        raise BadInput(f"{out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        work = staging.make(out_dir)
    except OSError as e:
        if not existed:
            try:
                out_dir.rmdir()  # ours, and still empty
            except OSError:
                pass
        raise BadInput(f"{out_dir}: cannot write there ({e.strerror or e})") from None
    return work, not existed


def no_space(place: Path, error: OSError | None = None) -> BadInput:
    """The one-line error for a full disk, naming the place (Lite itself says "Check failed: fwrite ... Failed
    to read", which sends users looking at their model)."""
    what = f" (writing {Path(error.filename).name})" if error is not None and error.filename else ""
    return BadInput(f"{place}: no space left on device{what}: free some space or choose another --out")


def _write_failure(place: Path, error: OSError, doing: str = "") -> BadInput:
    """An OSError writing into `place` as one line: a full disk said as such, anything else as "cannot write"."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return no_space(place, error)
    return BadInput(f"{place}: cannot write there ({error.strerror or error}{doing})")


def _disk_full(place: Path, needed: int) -> bool:
    """True when `place` has less than `needed` bytes free (asked after a write failed: Lite gives no errno)."""
    try:
        st = os.statvfs(place)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < needed


def _finish(child, target: str, work: Path, name: str, mf: files.ModelFiles) -> None:
    """lite_runner.finish_opt, with a failure on a full disk said as such: the .nb is about the params' size."""
    try:
        lite_runner.finish_opt(child, target, work / "out" / f"{name}.{target}", label=str(mf.model_file.parent))
    except ToolFailure:
        if _disk_full(work, mf.param_file.stat().st_size):
            raise no_space(work.parent) from None
        raise


def _facts_key(hashes: dict, options: OptOptions) -> str:
    return cache.key_of("facts", hashes, options.compat, COMPAT_VERSION)


def _read_facts(mf: files.ModelFiles, options: OptOptions) -> tuple:
    """Validate the export and describe it: (facts, the program with the compat fixes applied)."""
    program = programs.load_program(mf.model_file)
    params, _ = programs.walk_params(program, mf.param_file)
    facts = {"inputs": [t.to_json() for t in program.inputs], "outputs": [t.to_json() for t in program.outputs],
             "ops": program.op_histogram(), "params": params,
             "compat_fixes": compat.apply_all(program) if options.compat else []}
    return facts, program


def _hash_input(path: Path) -> str:
    try:
        return cache.sha256_file_remembered(path)
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None


def _nb_key(hashes: dict, target: str, options: OptOptions, versions: dict) -> str:
    return cache.key_of(hashes, target, options.quant, options.fp16, options.compat, COMPAT_VERSION,
                        versions["paddlelite"])


def optimize(model_dir=None, out_dir=".", options: OptOptions = None, model_file=None, param_file=None,
             progress=None) -> dict:
    """Optimize a Paddle export into NAME.<target>.nb files and NAME.manifest.json; return the manifest.

    Kept close to the cost of calling opt directly: the optimizer children start first (or were prestarted by
    the CLI), so Paddle Lite's import overlaps our parsing and checks, and the inputs are hashed while they run.
    The cache is consulted up front where the files' digests are remembered (cache.remembered_sha256): a cache
    hit then costs a few stats, not reading the params. Otherwise it is consulted once the digests are known.
    """
    progress = progress or (lambda msg: None)
    mf = files.locate(model_dir, model_file, param_file)
    name = options.name or (Path(model_dir).resolve().name if model_dir else mf.model_file.stem)
    if not name or "/" in name or name.startswith("."):
        raise BadInput(f"--name {name!r} is not a usable file name")
    versions = lite_runner.package_versions()
    known = None
    if options.use_cache:
        known = {"model_file": cache.remembered_sha256(mf.model_file),
                 "param_file": cache.remembered_sha256(mf.param_file)}
        known = known if all(known.values()) else None
    likely_cached = {t for t in options.targets
                     if known and cache.get_json("opt", _nb_key(known, t, options, versions))}
    if likely_cached == set(options.targets):
        opt_child.release_prestarted()
    children = {t: opt_child.take() for t in options.targets if t not in likely_cached}
    try:
        out_dir = Path(out_dir)
        facts = cache.get_json("facts", _facts_key(known, options)) if known else None
        program, early = None, None
        if facts is None and known is None:  # nothing can be cached-known yet: every target will run
            early = _start_early(out_dir, mf, name, options, children)
        try:
            if facts is None:
                facts, program = _read_facts(mf, options)
            missing = unsupported_ops(facts["ops"], options.targets)
            if missing:
                raise _unsupported_error(mf.model_file, missing)
            if early and early[2] != [{k: v for k, v in r.items() if k != "pass"} for r in facts["compat_fixes"]]:
                early = _restart(early, children)  # never seen; the protobuf pass is the reference
        except BaseException:
            if early:
                _remove_work(*early[:2], children)
            raise

        work, created = early[:2] if early else _work_dir_in(out_dir)
        try:
            try:
                manifest = _optimize_into(work, mf, known, facts, program, name, options, versions, children,
                                          progress, jobs_sent=bool(early) and early[2] is not None)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise no_space(out_dir, e) from None
                raise
            finally:
                _close(children)  # before `work` goes: a child still running could write into it
            final = [(work / f"{name}.{t}.nb", out_dir / f"{name}.{t}.nb") for t in options.targets]
            final.append((work / f"{name}.manifest.json", out_dir / f"{name}.manifest.json"))
            staging.move_all(final, work / "previous")  # all or none: never a mixed set of old and new
            return manifest
        finally:
            _remove_work(work, created, children)
    finally:
        _close(children)


def _remove_work(work: Path, created: bool, children: dict) -> None:
    _close(children)  # before `work` goes: a child still running could write into it
    staging.remove(work)
    if created:
        try:  # only if still empty: another run may have written into it meanwhile, or the user
            work.parent.rmdir()
        except OSError:
            pass


def _start_early(out_dir: Path, mf: files.ModelFiles, name: str, options: OptOptions, children: dict):
    """Stage the program with the compatibility passes done on its bytes (model.wire_compat: no protobuf import)
    and start every child on it now, before the full parse and checks, which then run while Lite works: the
    child would otherwise wait ~35-60 ms for its job. (work, created, the pass's records), or None when the
    bytes are beyond the wire pass (the ordinary path then stages from the parsed program)."""
    from .model import wire_compat

    try:
        data = mf.model_file.read_bytes()
        patched, records = wire_compat.restore_xshape(data) if options.compat else (data, [])
    except (OSError, ValueError, IndexError, StopIteration, KeyError):  # WireError is a ValueError
        return None
    work, created = _work_dir_in(out_dir)
    try:
        stage = work / "stage"
        stage.mkdir()
        (stage / "model.pdmodel").write_bytes(patched)
        _link_params(mf, stage / "model.pdiparams")
        (work / "out").mkdir()
        for t, child in children.items():
            lite_runner.start_opt(child, stage / "model.pdmodel", stage / "model.pdiparams", t,
                                  work / "out" / f"{name}.{t}", options.quant, options.fp16)
    except BaseException as e:
        _remove_work(work, created, children)
        if isinstance(e, OSError):
            raise _write_failure(out_dir, e) from None
        raise
    return work, created, records


def _restart(early, children: dict):
    """The wire pass disagreed with the protobuf pass: stop the children it fed, start again the ordinary way."""
    work, created, _ = early
    _close(children)
    for t in children:
        children[t] = opt_child.take()
    shutil.rmtree(work / "stage", ignore_errors=True)
    shutil.rmtree(work / "out", ignore_errors=True)
    return work, created, None


def _close(children: dict) -> None:
    for child in children.values():
        child.close()


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
    _link_params(mf, staged_params)
    return staged_model, staged_params


def _link_params(mf: files.ModelFiles, staged_params: Path) -> None:
    try:
        os.symlink(mf.param_file.resolve(), staged_params)  # ASCII path for Lite; the user's bytes, read only
    except OSError:
        shutil.copyfile(mf.param_file, staged_params)


def _optimize_into(work: Path, mf: files.ModelFiles, known: dict | None, facts: dict, program, name: str,
                   options: OptOptions, versions: dict, children: dict, progress, jobs_sent: bool = False) -> dict:
    """Targets whose .nb the cache holds are copied from it (never linked: an output must not alias another output
    or the cache); the others run in `children`, all at once. When the inputs' digests were not remembered they
    are computed while the children run, and a target the cache turns out to hold after all (the same bytes under
    another path, or freshly rewritten) is taken from it."""
    started = time.perf_counter()
    digests = {}  # target -> .nb sha256

    def from_cache(t, hashes) -> bool:
        dest = work / f"{name}.{t}.nb"
        try:
            entry = cache.get_copy("opt", _nb_key(hashes, t, options, versions), ".nb", dest)
        except OSError as e:  # writing into OUT failed (a full disk): OUT's problem, not the model's
            raise _write_failure(work.parent, e, f"; copying {dest.name} from the cache") from None
        if entry:  # its sha256 is that of the bytes just copied into `dest`
            digests[t] = entry["sha256"]
            progress(f"opt {t}: cached")
        return bool(entry)

    to_build = [t for t in options.targets if not (known and from_cache(t, known))]
    if to_build and not jobs_sent:  # _start_early gave every child its job already
        staged = _stage(work, mf, program, options)
        (work / "out").mkdir()
        for t in to_build:
            if t not in children:  # its entry went away since optimize() looked
                children[t] = opt_child.take()
            lite_runner.start_opt(children[t], *staged, t, work / "out" / f"{name}.{t}", options.quant,
                                  options.fp16)
    hashes = known or {"model_file": _hash_input(mf.model_file), "param_file": _hash_input(mf.param_file)}
    if program is not None:
        cache.put_json("facts", _facts_key(hashes, options), facts)
    if options.use_cache and not known:
        for t in [t for t in to_build if from_cache(t, hashes)]:
            to_build.remove(t)
            children[t].close()
    staging.stop_at("opt")  # test-only: signals land while the optimizer runs
    for t in to_build:  # only now: a target started before its digests were known may have been cached (N2)
        progress(f"opt {t}: running Paddle Lite's optimizer")
    targets = {}
    for t in options.targets:
        dest = work / f"{name}.{t}.nb"
        if t in to_build:
            _finish(children[t], t, work, name, mf)
            os.replace(work / "out" / f"{name}.{t}.nb", dest)
            nb.zero_header_padding(dest)
            # --no-cache skips reading the cache, not refreshing it; the digest is of dest's bytes, read for the copy
            digests[t] = cache.put_copy("opt", _nb_key(hashes, t, options, versions), ".nb", dest)
        header = nb.read_header(dest)
        targets[t] = {"file": dest.name, "sha256": digests[t], "bytes": dest.stat().st_size,
                      "opt_version": header.opt_version, "nb_format_version": header.format_version,
                      "places": lite_runner.TARGET_PLACES[t], "cached": t not in to_build,
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
    (work / f"{name}.manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False))
    return manifest
