"""Paddle Inference (the reference) and Paddle Lite (what ships) behind one small interface: feed arrays in
the model's input order, get arrays back in its output order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
