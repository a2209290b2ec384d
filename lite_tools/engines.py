"""Paddle Inference (the reference) and Paddle Lite (what ships) behind one small interface: feed arrays in
the model's input order, get arrays back in its output order."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from . import child
from .errors import BadInput


class PaddleInferenceEngine:
    """CPU, fp32, no IR optimisation passes: the reference computes exactly what the program says."""

    def __init__(self, model_file: Path, param_file: Path, ir_optim: bool = False):
        import paddle.inference as pi

        config = pi.Config(str(model_file), str(param_file))
        config.disable_gpu()
        config.disable_glog_info()
        config.switch_ir_optim(ir_optim)
        config.set_cpu_math_library_num_threads(1)
        self._predictor = pi.create_predictor(config)
        self.input_names = list(self._predictor.get_input_names())
        self.output_names = list(self._predictor.get_output_names())

    def run(self, inputs: list) -> list:
        for name, array in zip(self.input_names, inputs):
            self._predictor.get_input_handle(name).copy_from_cpu(np.ascontiguousarray(array))
        self._predictor.run()
        return [self._predictor.get_output_handle(n).copy_to_cpu() for n in self.output_names]


def inputs_digest(inputs: list) -> str:
    """sha256 of a run's input arrays (dtype, shape and bytes, in order): two runs with equal digests are fed the
    same tensors bit for bit."""
    h = hashlib.sha256()
    for array in inputs:
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype.str}{array.shape};".encode())
        h.update(array.tobytes())
    return h.hexdigest()


class RememberingEngine:
    """Paddle Inference that keeps each run's outputs by the digest of its inputs (see inputs_digest), so a later
    stage feeding the very same tensors (deploy's Java check, after parity ran the same images) gets the outputs
    again instead of loading the model and running it once more. Inputs it has not seen run the model, which is
    loaded at the first such run when the engine was made from an earlier one's record (`of`)."""

    def __init__(self, model_file: Path, param_file: Path, of: "RememberingEngine | None" = None):
        self._files = (Path(model_file).resolve(), Path(param_file).resolve())
        self._engine = None
        if of is not None and of._files == self._files:
            self.runs, self.input_names, self.output_names = of.runs, of.input_names, of.output_names
        else:
            self.runs = {}
            self._load()

    def _load(self) -> None:
        self._engine = PaddleInferenceEngine(*self._files)
        self.input_names, self.output_names = self._engine.input_names, self._engine.output_names

    def run(self, inputs: list) -> list:
        key = inputs_digest(inputs)
        if key not in self.runs:
            if self._engine is None:
                self._load()
            self.runs[key] = self._engine.run(inputs)
        return [o.copy() for o in self.runs[key]]  # callers may change theirs in place


class LiteEngine:
    """Paddle Lite's light predictor on an x86 `.nb` (the same runtime API the phone uses, MobileConfig)."""

    def __init__(self, nb_file: Path):
        import paddlelite.lite as lite

        if not Path(nb_file).is_file():
            raise BadInput(f"{nb_file}: no such file")
        config = lite.MobileConfig()
        config.set_model_from_file(str(nb_file))
        self._predictor = lite.create_paddle_predictor(config)
        self.version = self._predictor.get_version()
        self.input_names = list(self._predictor.get_input_names())
        self.output_names = list(self._predictor.get_output_names())

    def run(self, inputs: list) -> list:
        for i, array in enumerate(inputs):
            tensor = self._predictor.get_input(i)
            array = np.ascontiguousarray(array)
            tensor.from_numpy(array)
        self._predictor.run()
        return [self._predictor.get_output(i).numpy().copy() for i in range(len(self.output_names))]


def _lite_worker(conn, nb_file: str, log_file: str) -> None:
    """Child side of IsolatedLiteEngine: Lite's native output goes to a log, tensors come and go over a pipe."""
    child.output_to(log_file)
    try:
        engine = LiteEngine(Path(nb_file))
    except Exception as e:  # a Python-level refusal (a native one kills this process instead)
        conn.send(("error", str(e)))
        return
    conn.send(("ready", engine.input_names, engine.output_names, engine.version))
    while True:
        inputs = conn.recv()
        if inputs is None:
            return
        try:
            conn.send(("ok", engine.run(inputs)))
        except Exception as e:
            conn.send(("error", str(e)))


class IsolatedLiteEngine:
    """LiteEngine in a spawned child process (lite_tools.child): Paddle Lite aborts or segfaults on corrupt or
    mismatched models and inputs, and that must not take the CLI down. The same interface as LiteEngine; a dead
    child becomes a one-line ToolFailure naming the signal, the model and Lite's last complaint. A long-lived
    worker (one model load, many runs), so it uses child.start/answer rather than child.call."""

    def __init__(self, nb_file: Path, timeout: float = 600, log_dir=None):
        """log_dir: where Lite's log goes; parity and bisect give their locked work folder, which a later run
        sweeps after a SIGKILL (a log of its own in $TMPDIR would stay there forever)."""
        import tempfile

        if not Path(nb_file).is_file():
            raise BadInput(f"{nb_file}: no such file")
        self.nb_file, self.timeout = Path(nb_file), timeout
        self._log = tempfile.NamedTemporaryFile(prefix="lite-tools-lite-", suffix=".log", delete=False,
                                                dir=log_dir)
        self._log.close()
        self._proc, self._conn = child.start(_lite_worker, str(nb_file), self._log.name)
        reply = self._receive("loading")
        if reply[0] == "error":
            self.close()
            raise BadInput(f"{nb_file}: Paddle Lite cannot load it: {reply[1].splitlines()[0][:200]}")
        _, self.input_names, self.output_names, self.version = reply

    def _receive(self, doing: str):
        from .errors import ToolFailure

        reply = child.answer(self._conn, self.timeout)
        if reply is not None:
            return reply
        reason = child.how_it_ended(self._proc, self.timeout)
        complaint = self._last_complaint()
        self.close()
        hint = " (truncated or corrupt .nb, or one made by another opt version?)" if doing == "loading" else ""
        raise ToolFailure(f"Paddle Lite crashed ({reason}) while {doing} {self.nb_file}{hint}"
                          + (f": {complaint}" if complaint else ""))

    def _last_complaint(self) -> str:
        try:
            lines = Path(self._log.name).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        for line in reversed(lines):
            if "Check failed" in line or "Error" in line:
                return " ".join(line.split())[:240]
        return ""

    def run(self, inputs: list) -> list:
        try:
            self._conn.send([np.ascontiguousarray(a) for a in inputs])
        except (BrokenPipeError, OSError):
            pass  # the child is gone: _receive reports how it died
        reply = self._receive("running")
        if reply[0] == "error":
            from .errors import ToolFailure
            raise ToolFailure(f"Paddle Lite failed running {self.nb_file}: {reply[1].splitlines()[0][:200]}")
        return reply[1]

    def close(self) -> None:
        if self._proc.is_alive():
            try:
                self._conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            child.stop(self._proc)
        self._conn.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
