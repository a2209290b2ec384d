"""Golden vectors for a generated Android project's own JUnit tests (app/src/test: CoreGoldenTest, and for the
PP-ShiTu app ShituGoldenTest): a few small images, the input tensors the Python reference makes of them (sha256 of
the float32 values in little-endian, plus sampled values), the real raw outputs Paddle Inference gives for those
tensors (PicoDet's raw heads with what no result depends on set to 0: unread_flushed), and the results the
reference makes of the outputs. The tests feed the same pixels and outputs to the project's Java core, so a core
that drifts from the reference (a wrong mean, label or threshold) fails `gradle testDebugUnitTest` on the user's
machine, with no phone and no model runtime.

The data is a resource (app/src/test/resources/golden/*.b64: big-endian fields as java.io.DataInputStream reads
them, gzipped, then base64: text, like the rest of the project's sources; the layout is in
android_template/app/src/test/java/{{ package_path }}/GoldenData.java.jinja); the test sources only read it, so
the templates carry no values and DeployConfig plus the reference stay the one source of truth.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np

from ..config import DeployConfig, Task

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
# Photos of different shapes (landscape, portrait, very wide), shrunk so that each golden file stays
# 12-90 KB: the tests are about arithmetic, not accuracy. Detectors get a little more resolution, to find boxes.
IMAGES = ("landscape.jpg", "portrait.jpg", "wide.jpg")
LONG_SIDE = {Task.SSD: 64, Task.PICODET: 64}
DEFAULT_LONG_SIDE = 40
TENSOR_SAMPLES = 16
RAW_SCORE_FLOOR = 0.5  # PicoDet raw heads: scores below this fraction of the host NMS threshold go as 0
MAGIC = 0x4C544731  # "LTG1"
RESOURCE_DIR = Path("app/src/test/resources/golden")
CORE_DATA = "core_golden.b64"
SHITU_DATA = "shitu_golden.b64"


def small_images(long_side: int) -> list:
    """[(name, HxWx3 uint8 RGB)]: the bundled sample photos shrunk (box filter) to `long_side` on the long side."""
    from PIL import Image

    from ..reference.images import load_image

    out = []
    for name in IMAGES:
        rgb = load_image(SAMPLES / name)
        h, w = rgb.shape[:2]
        scale = long_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        out.append((name, np.asarray(Image.fromarray(rgb).resize(size, Image.BOX), dtype=np.uint8)))
    return out


def usable_images(images: list, config: DeployConfig) -> list:
    """The images `config` can preprocess: not a sliver its resize leaves no pixels of, and not smaller than its
    crop once resized (a keep_ratio resize into a square with a square crop takes square images only). When none
    is, the centre square of the first one (every resize keeps a square one whole)."""
    from ..reference.preprocess import resized_size, unusable

    def fits(rgb) -> bool:
        h, w = rgb.shape[:2]
        if unusable(w, h, config):
            return False
        rw, rh = resized_size(config, w, h)
        return not config.crop or (rw >= config.crop[0] and rh >= config.crop[1])

    kept = [(name, rgb) for name, rgb in images if fits(rgb)]
    if kept or not images:
        return kept
    name, rgb = images[0]
    h, w = rgb.shape[:2]
    side = min(w, h)
    square = rgb[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    return [(f"{name} (centre square)", np.ascontiguousarray(square))] if fits(square) else []


class Writer:
    """Big-endian fields as java.io.DataInputStream reads them; strings as int length + UTF-8 bytes."""

    def __init__(self):
        self.parts = []

    def int(self, v: int) -> None:
        self.parts.append(struct.pack(">i", int(v)))

    def ints(self, values) -> None:
        values = [int(v) for v in values]
        self.parts.append(struct.pack(f">i{len(values)}i", len(values), *values))

    def long(self, v: int) -> None:
        self.parts.append(struct.pack(">q", int(v)))

    def float(self, v: float) -> None:
        self.parts.append(struct.pack(">f", v))

    def floats(self, values) -> None:
        values = np.asarray(values, ">f4").ravel()
        self.int(values.size)
        self.parts.append(values.tobytes())

    def double(self, v: float) -> None:
        self.parts.append(struct.pack(">d", float(v)))

    def doubles(self, values) -> None:
        values = np.asarray(values, ">f8").ravel()
        self.int(values.size)
        self.parts.append(values.tobytes())

    def text(self, s: str) -> None:
        data = str(s).encode("utf-8")
        self.int(len(data))
        self.parts.append(data)

    def texts(self, items) -> None:
        items = list(items)
        self.int(len(items))
        for item in items:
            self.text(item)

    def tensor(self, array) -> None:
        array = np.asarray(array)
        self.int(array.ndim)
        self.parts.append(struct.pack(f">{array.ndim}q", *array.shape))
        self.floats(array)

    def image(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        self.int(w)
        self.int(h)
        self.parts.append(np.ascontiguousarray(rgb, np.uint8).tobytes())

    def input_tensor(self, tensor: np.ndarray) -> None:
        """Size, sha256 of the float32 values in little-endian, and TENSOR_SAMPLES (index, value) pairs."""
        flat = np.ascontiguousarray(tensor, np.float32).ravel()
        self.int(flat.size)
        self.text(hashlib.sha256(flat.astype("<f4").tobytes()).hexdigest())
        at = np.unique(np.linspace(0, flat.size - 1, TENSOR_SAMPLES).astype(np.int64))
        self.int(at.size)
        for i in at:
            self.int(i)
            self.float(flat[i])

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def write_preprocessed(w: Writer, pre, inputs: list) -> None:
    """The geometry Preprocessor.Result reports, the image tensor, and each extra input (im_shape ...) exactly."""
    _, _, h, wd = pre.tensor.shape
    w.ints([wd, h, *pre.resized_size, *pre.crop_offset])
    w.input_tensor(pre.tensor)
    w.int(len(inputs) - 1)
    for extra in inputs[1:]:
        w.floats(np.asarray(extra, np.float32))


def write_results(w: Writer, task: Task, results: list) -> None:
    if task == Task.MULTILABEL:
        (a,) = results
        w.texts(a.decisions)
        w.texts(a.text)
        w.ints(a.output)
        w.ints(a.class_ids)
        w.floats(a.scores)
    elif task == Task.EMBEDDING:
        w.doubles(results[0].vector)
    else:
        w.int(len(results))
        for r in results:
            w.int(r.class_id)
            w.double(r.score)
            w.text(r.label)
            if task in (Task.SSD, Task.PICODET):
                for v in (r.x0, r.y0, r.x1, r.y1):
                    w.double(v)


def reference_engine(model_dir):
    from ..engines import PaddleInferenceEngine
    from ..model import files

    mf = files.locate(model_dir)
    return PaddleInferenceEngine(mf.model_file, mf.param_file)


def core_cases(config: DeployConfig, engine, images=None) -> tuple:
    """(data bytes, summary): every image through the reference and Paddle Inference (`engine`, the model's
    PaddleInferenceEngine). config: the settled one the project was rendered from (android.context_for's)."""
    from ..reference import model_inputs, postprocess, preprocess

    images = usable_images(small_images(LONG_SIDE.get(config.task, DEFAULT_LONG_SIDE)) if images is None else images,
                           config)
    w = Writer()
    w.int(MAGIC)
    w.text(config.task.value)
    w.int(len(images))
    summary = []
    for name, rgb in images:
        pre = preprocess(rgb, config)
        inputs = model_inputs(pre, engine.input_names)
        outputs = engine.run(inputs)
        results = postprocess(outputs, config, pre)
        w.text(name)
        w.image(rgb)
        write_preprocessed(w, pre, inputs)
        shipped = outputs if config.task == Task.PICODET else outputs[:1]  # what Predictor reads
        if config.task == Task.PICODET and config.det_form == "raw":
            shipped = unread_flushed(shipped, config, pre, results)
        w.int(len(shipped))
        for out in shipped:
            w.tensor(out)
        write_results(w, config.task, results)
        summary.append({"image": name, "size": [int(rgb.shape[1]), int(rgb.shape[0])], "results": len(results)})
    return w.bytes(), summary


def unread_flushed(outputs: list, config: DeployConfig, pre, results: list) -> list:
    """PicoDet raw heads (a 320x320 COCO model's are ~1 MB a photo) with what no result can depend on set to 0:
    every score below RAW_SCORE_FLOOR x the host NMS score threshold, and the box logits of each cell none of whose
    scores reaches that floor. Why the results stay the same: a flushed score and 0 are both below the threshold, so
    every comparison with it comes out the same; a cell that clears it keeps its exact scores and logits, so it
    keeps its place among each level's top anchors and its box. The reference makes its results again from the
    flushed outputs, and the outputs go as they are unless those are the same results."""
    from ..reference import picodet, postprocess

    nms = picodet.host_nms(config)
    levels, floor = len(nms.strides), np.float32(RAW_SCORE_FLOOR * nms.score_threshold)
    scores = [np.asarray(s, np.float32) for s in outputs[:levels]]
    live = [s[0].max(axis=1) >= floor for s in scores]
    flushed = [np.where(s >= floor, s, np.float32(0)) for s in scores]
    flushed += [np.where(keep[None, :, None], np.asarray(b, np.float32), np.float32(0))
                for keep, b in zip(live, outputs[levels:])]
    return flushed if postprocess(flushed, config, pre) == results else list(outputs)


def encode(data: bytes) -> str:
    """The resource's text: gzip (no timestamp: the same inputs give the same file), then base64 in 76-column
    lines."""
    return base64.encodebytes(gzip.compress(data, mtime=0)).decode("ascii")


def decode(path) -> bytes:
    return gzip.decompress(base64.b64decode(Path(path).read_text(encoding="ascii")))


def _write(project: Path, name: str, data: bytes, summary: list) -> dict:
    path = Path(project) / RESOURCE_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = encode(data)
    path.write_text(text, encoding="ascii")
    return {"file": str(RESOURCE_DIR / name), "bytes": len(text), "images": summary}


def write_core(project: Path, config: DeployConfig, model_dir, engine=None) -> dict:
    """Write CoreGoldenTest's data into `project`; return what it holds. engine: model_dir's
    PaddleInferenceEngine when the caller has one."""
    return _write(project, CORE_DATA, *core_cases(config, engine or reference_engine(model_dir)))


def shitu_cases(system, det_config: DeployConfig, rec_config: DeployConfig, det_engine, rec_engine, gallery,
                images=None) -> tuple:
    """(data bytes, summary) for ShituGoldenTest: each image through lite_tools.shitu.pipeline with Paddle
    Inference for both models and the shipped float32 gallery; kept are the detector's raw output, each crop's
    window, the recogniser's input tensor (checksum) and raw output, and the detections, crops and recognitions
    the reference made. det_config, rec_config: the settled configs the project was rendered from."""
    from ..reference import preprocess
    from ..shitu import pipeline

    detect = pipeline.Detector(det_config, det_engine)
    search = pipeline.GallerySearcher(gallery.float32)
    images = small_images(LONG_SIDE[Task.PICODET]) if images is None else images
    w = Writer()
    w.int(MAGIC)
    w.int(len(images))
    summary = []
    for name, rgb in images:
        crops = []

        def embed(crop):
            tensor = preprocess(crop, rec_config).tensor
            raw = np.asarray(rec_engine.run([tensor])[0], np.float32)
            crops.append((tensor, raw))
            return pipeline.l2_normalise(raw)

        outputs = []

        def detect_kept(image):
            outputs.append(np.asarray(detect(image), np.float32))
            return outputs[-1]

        result = pipeline.run(rgb, system, detect_kept, embed, search)
        w.text(name)
        w.image(rgb)
        w.tensor(outputs[0])
        windows = [c.window for c in result.candidates if c.window]  # embedded in this order
        w.int(len(windows))
        for window, (tensor, raw) in zip(windows, crops):
            w.ints(window)
            w.input_tensor(tensor)
            w.tensor(raw)
        w.int(len(result.detections))
        for d in result.detections:
            w.int(d.class_id)
            w.float(d.score)
            for v in d.box:
                w.float(v)
        w.int(len(result.candidates))
        for c in result.candidates:
            w.ints(c.box)
            w.ints(c.window)
            w.int(c.top is not None)
            if c.top is not None:
                w.long(c.top.id)
                w.double(c.top.score)
                w.text(c.top.label)
            w.int(c.kept)
        w.int(len(result.recognitions))
        for r in result.recognitions:
            w.ints(r.box)
            w.text(r.label)
            w.double(r.score)
            w.long(r.id)
        summary.append({"image": name, "size": [int(rgb.shape[1]), int(rgb.shape[0])],
                        "detections": len(result.detections), "crops": len(windows),
                        "recognitions": len(result.recognitions)})
    return w.bytes(), summary


def write_shitu(project: Path, system, det_config: DeployConfig, rec_config: DeployConfig, det_model, rec_model,
                gallery) -> dict:
    """Write the PP-ShiTu project's golden data: the detector's core (CoreGoldenTest) and the pipeline
    (ShituGoldenTest); return what they hold."""
    det_engine = reference_engine(det_model)
    core = write_core(project, det_config, det_model, det_engine)
    data, summary = shitu_cases(system, det_config, rec_config, det_engine, reference_engine(rec_model), gallery)
    return {"core": core, "shitu": _write(project, SHITU_DATA, data, summary)}
