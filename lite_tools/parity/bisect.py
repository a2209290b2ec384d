"""Name the first op whose output leaves tolerance, by cutting both programs at intermediate variables.

A probe appends a `fetch` of one intermediate variable to a copy of each program (Paddle Lite's fusion passes
leave a fetched variable intact, since it now has a consumer outside the fused group), optimises the Lite copy
for x86 and runs both on the same input. Probes bisect along the op order, assuming that once an op's output
is wrong, everything downstream of it is too; ~log2(ops) probes of one opt run each.
"""

from __future__ import annotations

import tempfile
from pathlib import Path


from .. import opt, staging
from ..engines import IsolatedLiteEngine, PaddleInferenceEngine
from ..errors import LiteToolsError
from ..model import files, program as programs
from . import metrics

OUTPUT_SLOTS = ("Out", "Output", "Y")
FLOAT32 = 5


def candidates(program: programs.Program) -> list:
    """[(op index, op type, output var)] for every op's first float output, in program order."""
    found = []
    for i, op in enumerate(program.block.ops):
        if op.type in ("feed", "fetch"):
            continue
        for slot in op.outputs:
            if slot.parameter in OUTPUT_SLOTS and slot.arguments:
                v = program.var(slot.arguments[0])
                if v is not None and not v.persistable and v.type.lod_tensor.tensor.data_type == FLOAT32:
                    found.append((i, op.type, v.name))
                break
    return found


def with_extra_fetch(program_file: Path, var: str, out_dir: Path) -> Path:
    """A copy of the program that also fetches `var` (as the last output)."""
    program = programs.load_program(program_file)
    block = program.block
    cols = [a.i for op in block.ops if op.type == "fetch" for a in op.attrs if a.name == "col"]
    op = block.ops.add()
    op.type = "fetch"
    x = op.inputs.add()
    x.parameter, _ = "X", x.arguments.append(var)
    out = op.outputs.add()
    out.parameter, _ = "Out", out.arguments.append("fetch")
    attr = op.attrs.add()
    attr.name, attr.type, attr.i = "col", 0, max(cols, default=-1) + 1  # AttrType INT = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "model.pdmodel"
    path.write_bytes(program.serialize())
    return path


class _Prober:
    def __init__(self, ref: files.ModelFiles, lite: files.ModelFiles, inputs: list, tol, tmp: Path):
        self.ref, self.lite, self.inputs, self.tol, self.tmp = ref, lite, inputs, tol, tmp
        self.count = 0

    def __call__(self, var: str):
        """(diverges, max_abs) for `var`, or None when the probe itself fails."""
        self.count += 1
        d = self.tmp / f"probe{self.count}"
        try:
            ref_model = with_extra_fetch(self.ref.model_file, var, d / "ref")
            lite_model = with_extra_fetch(self.lite.model_file, var, d / "lite")
            r = PaddleInferenceEngine(ref_model, self.ref.param_file).run(self.inputs)[-1]
            opt.optimize(None, d / "nb", opt.OptOptions(targets=("x86",), name="probe"),
                         model_file=lite_model, param_file=self.lite.param_file)
            with IsolatedLiteEngine(d / "nb" / "probe.x86.nb", log_dir=d) as lite:
                o = lite.run(self.inputs)[-1]
        except (LiteToolsError, RuntimeError, ValueError):
            return None
        if r.shape != o.shape:
            return True, float("inf")
        return (not metrics.within(r, o, self.tol.atol, self.tol.rtol)), metrics.max_abs(r, o)


def localise_first_divergence(ref: files.ModelFiles, lite: files.ModelFiles, inputs: list, tol,
                              target: str | None = None) -> dict:
    """target: the failing output (its fetched variable), for a model with several outputs: bisection starts from
    the op that produces it rather than from the last op, which may feed another output that agrees."""
    program = programs.load_program(ref.model_file)
    cands = candidates(program)
    if target is not None:
        upto = [i for i, c in enumerate(cands) if c[2] == target]
        cands = cands[:upto[0] + 1] if upto else cands
    # locked (lite_tools.staging): SIGTERM removes it, and the next run sweeps one a SIGKILL left in $TMPDIR
    with staging.folder(tempfile.gettempdir(), "lite-tools-bisect-") as tmp:
        probe = _Prober(ref, lite, inputs, tol, Path(tmp))
        lo, hi, hi_result = -1, len(cands) - 1, None  # invariant: cands[lo] agrees (or lo = -1), cands[hi] diverges
        last = probe(cands[hi][2]) if cands else None
        if not last or not last[0]:
            return {"stage": "model", "detail": "no intermediate output diverges; the difference is in the final "
                    "fetch or in ops the probe cannot observe", "probes": probe.count}
        hi_result = last
        while hi - lo > 1:
            mid = (lo + hi) // 2
            result = probe(cands[mid][2])
            step = mid
            while result is None and step + 1 < hi:  # a probe Lite cannot build: try the next op
                step += 1
                result = probe(cands[step][2])
            if result is None or result[0]:
                hi, hi_result = (step, result) if result else (hi, hi_result)
                if result is None:
                    break
            else:
                lo = step
        index, op_type, var = cands[hi]
        op = program.block.ops[index]
        params = [a for s in op.inputs for a in s.arguments
                  if program.var(a) is not None and program.var(a).persistable]
        return {"stage": "model", "op_index": index, "op_type": op_type, "output": var,
                "max_abs": hi_result[1], "params": params, "probes": probe.count,
                "detail": f"op #{index} {op_type} -> {var} is the first to leave tolerance "
                          f"(max_abs {hi_result[1]:.3g})"
                          + (f"; its parameters: {', '.join(params)}" if params else "")}
