"""PicoDet without NMS in the graph: the host decoder (reference/picodet.py) against Paddle's own ops on synthetic
raw heads (softmax and integral against paddle.nn.functional, hard NMS against Paddle's multiclass_nms3, the top-k
against paddle.topk), the Java core (PicoDetPostprocessor) against the reference on synthetic heads and on the
zoo models' real outputs, the raw form against the same weights with NMS in the graph (the cross-check), a
perturbed raw-head model caught by parity, and `lite-tools deploy` on the raw 320 model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lite_tools import javacheck
from lite_tools.codegen import ANDROID_TEMPLATE, android, render_tree
from lite_tools.config import DeployConfig, Resize, ResizeMode, Task, read_config_file
from lite_tools.config.for_model import settle
from lite_tools.errors import BadInput
from lite_tools.reference import picodet
from lite_tools.reference.postprocess import postprocess
from lite_tools.reference.preprocess import Preprocessed

STRIDES = (8, 16, 32, 64)
REG_MAX = 7
CORE = "app/src/main/java/com/litetools/core"


def pico_config(width=320, height=320, classes=3, **changes) -> DeployConfig:
    base = DeployConfig(task=Task.PICODET, resize=Resize(ResizeMode.FIXED, width=width, height=height), crop=None,
                        scale=1 / 255, mean=(0.0,) * 3, std=(1.0,) * 3, labels=tuple(f"c{i}" for i in range(classes)),
                        box_format="pixels", score_threshold=0.5, export_nms=(("nms_threshold", 0.6),),
                        fpn_stride=STRIDES, source="synthetic infer_cfg")
    return base.replace(**changes)


def synthetic_heads(seed=0, hw=(320, 320), classes=3, hot=10, clusters=4, low=0.3) -> list:
    """Raw heads [scores x 4, boxes x 4]: background scores below `low`, a few hot anchors, and clusters of
    neighbouring hot anchors of one class (so NMS has overlapping boxes to suppress); distributions peaked at
    moderate distances."""
    rng = np.random.RandomState(seed)
    scores, boxes = [], []
    for s, rows, cols in picodet.level_cells(hw, STRIDES):
        n = rows * cols
        sc = (rng.rand(n, classes) * low).astype(np.float32)
        for i in rng.choice(n, min(hot, n), replace=False):
            sc[i, rng.randint(classes)] = rng.uniform(0.45, 0.99)
        for _ in range(clusters):
            r, c, k = rng.randint(rows), rng.randint(cols), rng.randint(classes)
            for dr in (0, 1):
                for dc in (0, 1):
                    if r + dr < rows and c + dc < cols:
                        sc[(r + dr) * cols + c + dc, k] = rng.uniform(0.6, 0.95)
        logits = rng.randn(n, 4, REG_MAX + 1) * 1.5
        logits[:, :, 2:5] += 2.0  # distances of 2 to 4 cells: neighbours overlap
        scores.append(sc[None].astype(np.float32))
        boxes.append(logits.reshape(1, n, -1).astype(np.float32))
    return scores + boxes


def _pre(hw=(320, 320), source=(640, 480)) -> Preprocessed:
    return Preprocessed(np.zeros((1, 3, *hw), np.float32), source, (hw[1], hw[0]), (0, 0))


# --- the reference against Paddle's own ops -------------------------------------------------------------------

def test_distances_are_paddle_softmax_and_integral_times_stride():
    import paddle
    import paddle.nn.functional as F

    logits = (np.random.RandomState(3).randn(500, 4 * (REG_MAX + 1)) * 3).astype(np.float32)
    probs = F.softmax(paddle.to_tensor(logits.reshape(500, 4, REG_MAX + 1)), axis=-1)
    project = paddle.arange(REG_MAX + 1, dtype="float32")
    expected = (paddle.matmul(probs, project) * 32).numpy()
    ours = picodet.distances(logits, 32)
    assert np.abs(ours - expected).max() < 1e-4  # Paddle's float32 against our float64
    assert np.abs(picodet.distances(logits, 16) - expected).max() > 1  # a wrong stride shows


def test_centres_are_half_cell_offsets_row_major_per_level():
    """Peaked distributions (one bin at +60) put box sides exactly k * stride from the anchor centre, which an
    independent per-anchor formula gives; 800x608 has ceil(608 / 64) = 10 columns and ceil(800 / 64) = 13 rows."""
    hw, bins = (800, 608), REG_MAX + 1
    rng = np.random.RandomState(5)
    outputs, expected = [], []
    levels = picodet.level_cells(hw, STRIDES)
    assert [(r, c) for _, r, c in levels] == [(100, 76), (50, 38), (25, 19), (13, 10)]
    for s, rows, cols in levels:
        n = rows * cols
        sides = rng.randint(0, bins, (n, 4))
        logits = np.zeros((n, 4, bins), np.float32)
        logits[np.arange(n)[:, None], np.arange(4)[None], sides] = 60.0
        outputs.append(logits.reshape(1, n, -1))
        for k in range(n):
            cx, cy = (k % cols + 0.5) * s, (k // cols + 0.5) * s
            l, t, r, b = sides[k] * s
            expected.append((cx - l, cy - t, cx + r, cy + b))
    scores = [np.full((1, r * c, 1), 0.9, np.float32) for _, r, c in levels]
    params = picodet.HostNms(strides=STRIDES, nms_threshold=0.6, nms_top_k=10 ** 6)
    boxes, _ = picodet.decode_raw(scores + outputs, hw, params)
    # every score ties: the per-level top-k keeps anchor order (ties to the lower index)
    assert np.abs(boxes - np.array(expected)).max() < 1e-9


def test_top_k_per_level_is_paddle_topk_of_the_best_class_score_before_any_threshold():
    import paddle

    heads = synthetic_heads(seed=7, classes=4)
    params = picodet.HostNms(strides=STRIDES, nms_threshold=0.6, nms_top_k=50)
    _, scores = picodet.decode_raw(heads, (320, 320), params)
    expected = []
    for sc in heads[:4]:
        best = paddle.to_tensor(sc[0]).max(axis=1)
        _, index = paddle.topk(best, k=min(50, best.shape[0]))
        expected.append(sc[0][index.numpy()])
    assert np.array_equal(scores, np.concatenate(expected))
    assert (scores.max(axis=1) < picodet.SCORE_THRESHOLD).any()  # taken before the threshold


def _paddle_nms(boxes, scores, score_threshold, nms_threshold, candidates):
    """Paddle's multiclass_nms3 run eagerly: per class, scores > threshold, the best `candidates`, IoU > threshold
    suppressed, nothing kept across classes."""
    from paddle import _C_ops
    import paddle

    out, _, _ = _C_ops.multiclass_nms3(paddle.to_tensor(boxes[None].astype(np.float32)),
                                       paddle.to_tensor(scores.T[None].copy()), None, score_threshold, candidates,
                                       -1, nms_threshold, True, 1.0, -1)
    return out.numpy()


class _RowSet:
    """Rows as a set: class and score exact (both float32 scores), boxes within 1e-3 px (Paddle's are float32)."""

    def __init__(self, rows):
        self.rows = sorted((tuple(map(float, r)) for r in rows), key=lambda r: (r[0], -r[1], r[2], r[3]))

    def __eq__(self, other):
        return len(self.rows) == len(other.rows) and all(
            a[:2] == b[:2] and max(abs(x - y) for x, y in zip(a[2:], b[2:])) < 1e-3
            for a, b in zip(self.rows, other.rows))

    def __repr__(self):
        return f"{len(self.rows)} rows {self.rows[:3]}..."


_rows_set = _RowSet


@pytest.mark.parametrize("nms_threshold", [0.6, 0.3])
def test_hard_nms_keeps_what_paddle_multiclass_nms3_keeps(nms_threshold):
    heads = synthetic_heads(seed=11, classes=3, clusters=8)
    params = picodet.HostNms(strides=STRIDES, nms_threshold=nms_threshold)
    boxes, scores = picodet.decode_raw(heads, (320, 320), params)
    ours = picodet.hard_nms(boxes, scores, params)
    theirs = _paddle_nms(boxes, scores, params.score_threshold, nms_threshold, params.candidates)
    above = int((scores > np.float32(params.score_threshold)).sum())
    assert 20 <= len(ours) < above, "NMS must keep some boxes and suppress others for the comparison to mean much"
    assert _rows_set(ours) == _rows_set(theirs)
    other = picodet.hard_nms(boxes, scores, params.__class__(**{**params.__dict__, "nms_threshold": 0.45}))
    assert _rows_set(other) != _rows_set(theirs)  # the comparison sees a different IoU threshold


def test_keep_top_k_and_candidates_limit_each_class():
    heads = synthetic_heads(seed=13, classes=2, hot=200, low=0.5)
    params = picodet.HostNms(strides=STRIDES, nms_threshold=0.6)
    boxes, scores = picodet.decode_raw(heads, (320, 320), params)
    full = picodet.hard_nms(boxes, scores, params.__class__(**{**params.__dict__, "keep_top_k": 10 ** 6}))
    capped = picodet.hard_nms(boxes, scores, params.__class__(**{**params.__dict__, "keep_top_k": 5}))
    for c in range(2):
        assert [tuple(r) for r in capped if r[0] == c] == [tuple(r) for r in full if r[0] == c][:5]
    # hard_nms sees only the 200 best candidates of a class: Paddle with nms_top_k 200 agrees, not with 1000
    assert (scores > np.float32(0.4)).sum(axis=0).min() > 200
    assert _rows_set(full) == _rows_set(_paddle_nms(boxes, scores, 0.4, 0.6, 200))
    assert _rows_set(full) != _rows_set(_paddle_nms(boxes, scores, 0.4, 0.6, 1000))


def test_score_threshold_compares_in_float32_strictly():
    """numpy compares a float32 array with the Python float 0.4 in float32: float32(0.4) itself is out."""
    at = np.float32(0.4)
    scores = np.array([[at], [np.nextafter(at, np.float32(1))], [0.9]], np.float32)
    boxes = np.array([[0, 0, 10, 10], [100, 100, 110, 110], [200, 200, 210, 210]], np.float64)
    rows = picodet.hard_nms(boxes, scores, picodet.HostNms(strides=STRIDES, nms_threshold=0.6))
    assert [float(r[1]) for r in rows] == [float(scores[2, 0]), float(scores[1, 0])]


def test_clip_to_the_network_input_then_divide_by_the_host_scale_factor():
    rows = np.array([[1, 0.8, -5.0, 10.3, 330.0, 400.0]])
    out = picodet.finish(rows, (320, 320), (640, 480))
    sy, sx = np.float32(320) / np.float32(480), np.float32(320) / np.float32(640)
    expected = [0.0, float(np.float32(10.3)) / float(sy), 320.0 / float(sx), 320.0 / float(sy)]
    assert out[0, 2:].tolist() == expected
    unclipped = picodet.finish(rows, (320, 320), (640, 480), clip=False)
    assert unclipped[0, 2:].tolist() == [-5.0 / float(sx), 10.3 / float(sy), 330.0 / float(sx), 400.0 / float(sy)]


def test_decoded_form_gives_the_raw_forms_boxes():
    """Decoded boxes and scores built from the raw heads with Paddle's ops (softmax, integral, a meshgrid of
    centres) go through the same host NMS: the same boxes."""
    import paddle
    import paddle.nn.functional as F

    heads = synthetic_heads(seed=17, classes=3)
    all_boxes, all_scores = [], []
    for (s, rows, cols), sc, lg in zip(picodet.level_cells((320, 320), STRIDES), heads[:4], heads[4:]):
        d = paddle.matmul(F.softmax(paddle.to_tensor(lg[0]).reshape([-1, 4, REG_MAX + 1]), axis=-1),
                          paddle.arange(REG_MAX + 1, dtype="float32")) * s
        yy, xx = paddle.meshgrid(paddle.arange(rows, dtype="float32"), paddle.arange(cols, dtype="float32"))
        cx, cy = ((xx.flatten() + 0.5) * s), ((yy.flatten() + 0.5) * s)
        all_boxes.append(paddle.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], axis=1).numpy())
        all_scores.append(sc[0])
    decoded = [np.concatenate(all_boxes)[None], np.concatenate(all_scores).T[None].copy()]
    cfg = pico_config(classes=3, score_threshold=0.0)
    from_raw = postprocess(heads, cfg, _pre())
    from_decoded = postprocess(decoded, cfg, _pre())
    assert len(from_raw) == len(from_decoded) >= 20
    for a, b in zip(from_raw, from_decoded):
        assert (a.class_id, a.score) == (b.class_id, b.score)
        assert max(abs(a.x0 - b.x0), abs(a.y0 - b.y0), abs(a.x1 - b.x1), abs(a.y1 - b.y1)) < 1e-3


def test_outputs_are_checked_against_their_shapes_by_index():
    heads = synthetic_heads(seed=1)
    cfg = pico_config(det_form="raw")  # settled; unsettled, shapes alone do not say raw
    swapped = heads[4:] + heads[:4]  # boxes first: the index says scores
    with pytest.raises(BadInput, match=r"output 4 has shape \[1, 1600, 3\], not \[1, cells, 4 \* \(reg_max"):
        postprocess(swapped, cfg, _pre())
    eight = synthetic_heads(seed=1, classes=8)  # 8 classes look like distributions of reg_max 1
    with pytest.raises(BadInput, match=r"output 0 \(scores of stride 8\) has shape \[1, 1600, 32\], expected "
                                       r"\[1, 1600, 8\]"):
        postprocess(eight[4:] + eight[:4], pico_config(classes=8, det_form="raw"), _pre())
    with pytest.raises(BadInput, match=r"output 5 \(box distributions of stride 16\)"):
        postprocess(heads[:5] + [heads[5][:, :10]] + heads[6:], cfg, _pre())
    with pytest.raises(BadInput, match="6 outputs, but fpn_stride"):
        postprocess(heads[:3] + heads[4:7], cfg, _pre())
    assert postprocess([np.zeros_like(h) if i < 4 else h for i, h in enumerate(heads)], cfg, _pre()) == []


# --- the config against the model (for_model) ------------------------------------------------------------------

def _raw_shapes(classes=3, bins=32, levels=4, n=-1):
    return ([("s%d" % i, [1, n, classes]) for i in range(levels)]
            + [("b%d" % i, [1, n, bins]) for i in range(levels)])


@pytest.mark.parametrize("config_change, outputs, needle", [
    ({}, _raw_shapes(levels=3), "fpn_stride [8, 16, 32, 64] has 4 levels but m has 3"),
    ({}, _raw_shapes()[:7] + [("b3", [1, -1, 64])], "box distributions of different widths [32, 64]"),
    ({}, _raw_shapes(classes=80), "names 3 classes but m scores 80"),
    ({"fpn_stride": ()}, _raw_shapes(), "need fpn_stride"),
    ({"export_nms": ()}, _raw_shapes(), "need NMS.nms_threshold"),
    ({"box_format": "normalized"}, _raw_shapes(), "box_format normalized"),
    ({"resize": Resize(ResizeMode.FIXED, width=320, height=320, keep_ratio=True)}, _raw_shapes(),
     "need a fixed network input"),
    ({}, _raw_shapes()[:4] + [("b0", [1, 1500, 32])] + _raw_shapes()[5:],
     "level 0 (stride 8) of a 320x320 input has 1600 anchors"),
    ({}, [("boxes", [1, 2000, 4]), ("scores", [1, 3, 2000])], "do not hold the 2125 anchors"),
    ({"task": Task.SSD}, _raw_shapes(), "only PicoDet's raw or decoded outputs are decoded on the host"),
])
def test_config_vs_model_refusals_name_both_sides(config_change, outputs, needle):
    with pytest.raises(BadInput) as err:
        settle(pico_config(**config_change), outputs, "m")
    assert needle in str(err.value)


def test_config_vs_model_accepts_both_forms():
    assert settle(pico_config(), _raw_shapes(), "m").det_form == "raw"
    assert settle(pico_config(), [("b", [1, 2125, 4]), ("s", [1, 3, 2125])], "m").det_form == "decoded"
    assert settle(pico_config(), [("rows", [-1, 6]), ("num", [-1])], "m").det_form == "nms"


# --- the Java core against the reference on synthetic heads ---------------------------------------------------

def render_core(root: Path, config: DeployConfig, outputs: list, inputs=None, model="synthetic.pdmodel") -> Path:
    """The Java core with DeployConstants rendered for `config` and a model with `outputs` (arrays, or (name,
    shape) pairs) and `inputs` ((name, shape) pairs; default the image alone): what `lite-tools android` renders,
    without running opt."""
    shapes = [(f"out{i}", list(o.shape)) if hasattr(o, "shape") else o for i, o in enumerate(outputs)]
    inputs = inputs or [("image", [-1, 3, config.resize.height, config.resize.width])]
    manifest = {"name": "synthetic", "model": {"model_file": str(model)},
                "inputs": [{"name": n, "shape": list(s)} for n, s in inputs],
                "outputs": [{"name": n, "shape": list(s)} for n, s in shapes],
                "targets": {"arm": {"opt_version": "v2.13-rc"}}}
    context = android.context_for(config, manifest, "Synthetic", "com.example.synthetic")
    render_tree(ANDROID_TEMPLATE, root, context, only=[CORE])
    return root / CORE


def run_java(tmp_path, config, jobs_outputs: list, sources: list) -> list:
    """Java rows for each job (a list of output tensors) on a source size, one JVM."""
    core = render_core(tmp_path / "project", config, jobs_outputs[0])
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for i, (outputs, source) in enumerate(zip(jobs_outputs, sources)):
        javacheck.write_outputs(jobs / f"output-{i:04d}.bin", source, outputs)
    javacheck.run_core(core, jobs, tmp_path / "classes")
    return [javacheck.read_post(jobs / f"post-{i:04d}.txt") for i in range(len(jobs_outputs))]


def assert_same_boxes(java_rows, boxes):
    assert len(java_rows) == len(boxes)
    for row, b in zip(java_rows, boxes):
        assert int(row[0]) == b.class_id and abs(row[1] - b.score) <= javacheck.SCORE_ATOL
        assert np.abs(np.array(row[2:]) - [b.x0, b.y0, b.x1, b.y1]).max() <= javacheck.BOX_ATOL


def test_java_core_decodes_synthetic_heads_as_the_reference(tmp_path):
    """Raw heads with ties (equal scores across anchors and classes), more than nms_top_k anchors above the
    threshold on a level, an empty result, and three source sizes; then the decoded form."""
    cfg = pico_config(classes=3)
    jobs = [synthetic_heads(seed=s) for s in range(3)]
    tied = synthetic_heads(seed=21)
    tied[0][0, :40, :] = np.float32(0.7)  # 120 equal scores over 40 anchors and 3 classes
    crowded = synthetic_heads(seed=22, hot=1600, low=0.41)  # every anchor of stride 8 above 0.4
    empty = [np.zeros_like(h) if i < 4 else h for i, h in enumerate(jobs[0])]
    jobs += [tied, crowded, empty]
    sources = [(640, 480), (320, 320), (97, 1203), (500, 500), (320, 240), (640, 480)]
    params = picodet.host_nms(cfg)
    assert picodet.split_raw(crowded, (320, 320), STRIDES)[0][0].max(axis=1).min() > 0.4
    assert len(picodet.decode_raw(crowded, (320, 320), params)[0]) == 1000 + 400 + 100 + 25
    java = run_java(tmp_path, cfg, jobs, sources)
    for rows, outputs, source in zip(java, jobs, sources):
        assert_same_boxes(rows, postprocess(outputs, cfg, _pre(source=source)))
    assert sum(map(len, java[:5])) >= 50 and java[5] == []


def test_java_core_decodes_the_decoded_form_as_the_reference(tmp_path):
    heads = synthetic_heads(seed=31)
    params = picodet.HostNms(strides=STRIDES, nms_threshold=0.6, nms_top_k=10 ** 6)
    boxes, scores = picodet.decode_raw(heads, (320, 320), params)  # every anchor, in level order
    order = np.concatenate([np.argsort(-sc[0].max(1), kind="stable") + start for sc, start in
                            zip(heads[:4], (0, 1600, 2000, 2100))])
    restore = np.empty_like(order)
    restore[order] = np.arange(order.size)
    decoded = [boxes[restore][None].astype(np.float32), scores[restore].T[None].copy()]
    cfg = pico_config(classes=3)
    (rows,) = run_java(tmp_path, cfg, [decoded], [(640, 480)])
    expected = postprocess(decoded, cfg, _pre())
    assert len(expected) >= 10
    assert_same_boxes(rows, expected)


# --- the zoo's PicoDets: real outputs --------------------------------------------------------------------------

def photos(n=3, seed=21):
    from lite_tools.reference import synthetic_images

    return [(f"photo-{i}", img) for i, img in enumerate(synthetic_images(n, seed=seed))]


def _zoo(zoo_dir, name):
    from lite_tools import zoo
    from lite_tools.model import files, program as programs

    model = zoo_dir(name)
    program = programs.load_program(files.locate(model).model_file)
    return (model, zoo.config_for(name), [(t.name, t.shape) for t in program.inputs],
            [(t.name, t.shape) for t in program.outputs])


@pytest.mark.parametrize("name", ["picodet_s_320_coco_lcnet_raw", "picodet_s_320_coco_lcnet",
                                  "picodet_lcnet_x1_0_layout"])
def test_java_core_matches_the_reference_on_zoo_outputs(zoo_dir, android_jar, tmp_path, name):
    """The raw and NMS forms of the 320 COCO model and the raw 800x608 layout model (legacy head, a non-square
    input, 10 classes): the Java core on Paddle Inference's outputs gives the reference's boxes, and none on scores
    of zero. (The decoded form: test_java_core_decodes_the_decoded_form_as_the_reference.)"""
    model, cfg, inputs, outputs = _zoo(zoo_dir, name)
    core = render_core(tmp_path / "project", cfg, outputs, inputs, model)
    result = javacheck.check(core, cfg, model, photos(2))
    assert result.ok, result.mismatches
    assert result.compiled_against == javacheck.AGAINST_ANDROID
    assert any(result.java_results), "no image gave a box: the comparison would be vacuous"
    assert result.empty_nms_ok is True


@pytest.mark.parametrize("pair, images", [("picodet_s_320_coco_lcnet", 3), ("picodet_lcnet_x2_5_640_mainbody", 1)])
def test_raw_heads_decoded_on_the_host_give_the_graphs_nms_boxes(zoo_dir, pair, images):
    """The same weights exported with NMS in the graph and as raw heads: the raw heads decoded with the graph's
    multiclass_nms3 values (read from its program) give the graph's boxes at or above draw_threshold, one to one.
    The score margin is asserted first: a near tie may reorder NMS legitimately."""
    from lite_tools.parity import picodet_forms

    _, raw_cfg, _, _ = _zoo(zoo_dir, pair + "_raw")
    result = picodet_forms.cross_check(zoo_dir(pair), zoo_dir(pair + "_raw"), raw_cfg, photos(images))
    nms = result.nms
    assert (round(nms["score_threshold"], 6), round(nms["nms_threshold"], 6)) == (0.025, 0.6)
    assert result.margin >= 1e-3, f"near tie (margin {result.margin:.2e}): agreement would mean little"
    assert result.ok, [d for i in result.images for d in i.differences]
    assert all(i.matched == len(i.graph) == len(i.host) >= 1 for i in result.images)
    assert min(i.worst_iou for i in result.images) >= 0.95
    if images == 1:
        return  # the 640 model costs 4 s an image: its agreement alone
    # the check can fail: the host with a stricter score threshold misses the graph's lower boxes, and says why
    lowest = min(b.score for i in result.images for b in i.graph)
    strict = picodet_forms.cross_check(zoo_dir(pair), zoo_dir(pair + "_raw"), raw_cfg, photos(),
                                       host_changes={"score_threshold": lowest + 1e-6})
    assert not strict.ok
    causes = [d.cause for i in strict.images for d in i.differences]
    assert causes and all(d.side == "graph only" for i in strict.images for d in i.differences), causes


def test_a_perturbed_raw_head_model_is_caught_by_parity(zoo_dir, tmp_path):
    """Lite built from a copy whose last conv filter (a head's) is scaled by 1.1: the raw-head tensors are gated
    by the tolerance (not waved through as detection rows), so parity fails naming the output."""
    from lite_tools.model import files, program as programs
    from lite_tools.parity import check as parity

    name = "picodet_s_320_coco_lcnet_raw"
    model, cfg, _, _ = _zoo(zoo_dir, name)
    perturbed = tmp_path / "perturbed"
    shutil.copytree(model, perturbed)
    mf = files.locate(perturbed)
    program = programs.load_program(mf.model_file)
    conv = [op for op in program.block.ops if op.type == "conv2d"][-1]
    weight = next(a for slot in conv.inputs if slot.parameter == "Filter" for a in slot.arguments)
    offset, numel, _ = programs.walk_params(program, mf.param_file)[1][weight]
    data = bytearray(mf.param_file.read_bytes())
    values = np.frombuffer(bytes(data[offset:offset + numel * 4]), "<f4") * np.float32(1.1)
    data[offset:offset + numel * 4] = values.astype("<f4").tobytes()
    mf.param_file.write_bytes(bytes(data))
    report = parity.check(model, cfg, photos(2), lite_export=perturbed, localise=False)
    assert not report.ok
    failing = [o for i in report.images for o in i.outputs if not o.ok]
    assert failing and all(o.gated for o in failing)
    assert any("max_abs=" in line and "save_infer_model" in line for line in report.failures), report.failures


def test_deploy_on_the_raw_320_model_is_ready_and_its_projects_compile(zoo_dir, android_jar, tmp_path):
    """`lite-tools deploy` with the export's own infer_cfg.yml (arch PicoDet): opt, parity with the raw heads
    gated, the Android project and the Flutter demo, the Java core on the JVM; READY. The Android project's Java
    (whose Predictor fetches every output for the host decoder) compiles against API 23 with no lambdas; the
    Flutter host carries the same core (tests/test_flutter.py compiles that host)."""
    from conftest import run_cli
    from javatools import app_sources, assert_dexable, compile_stubs, javac, write_r_class

    model = zoo_dir("picodet_s_320_coco_lcnet_raw")
    out = tmp_path / "out"
    proc = run_cli("deploy", model, "--config", model / "infer_cfg.yml", "--out", out, "--android", "--flutter",
                   "--name", "pico", "--package", "com.example.pico")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("pico: READY")
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] and report["parity"]["ok"] and report["java"]["ok"] and report["java"]["empty_nms_ok"]
    images = report["parity"]["images"]
    assert all(len(i["outputs"]) == 8 and all(o["gated"] for o in i["outputs"]) for i in images)
    assert sum(len(i["reference"]) for i in images) >= len(images), "no boxes: the box gate would be vacuous"
    constants = (out / "android" / CORE / "DeployConstants.java").read_text()
    assert 'DET_FORM = "raw"' in constants and "FPN_STRIDES = {8, 16, 32, 64}" in constants
    nms_threshold = dict(read_config_file(model / "infer_cfg.yml").export_nms)["nms_threshold"]
    assert f"NMS_THRESHOLD = {float(nms_threshold)!r};" in constants and "HOST_SCORE_THRESHOLD = 0.4;" in constants
    stubs = compile_stubs(android_jar, tmp_path / "stubs")
    android_project = out / "android"
    r_java = write_r_class(android_project, "com.example.pico", tmp_path / "gen")
    javac(app_sources(android_project) + [r_java, javacheck.HARNESS], tmp_path / "android-classes", android_jar,
          classpath=[stubs])
    assert_dexable(tmp_path / "android-classes")
    assert ((out / "flutter/android" / CORE / "PicoDetPostprocessor.java").read_bytes()
            == (android_project / CORE / "PicoDetPostprocessor.java").read_bytes())


@pytest.mark.parametrize("name", ["picodet_s_320_coco_lcnet_raw", "picodet_s_320_coco_lcnet"])
def test_the_preset_runs_both_forms_through_parity(zoo_dir, name):
    """`--preset picodet-s-320-coco` (PaddleDetection's infer_cfg.yml for the model) on the raw heads and on NMS in
    the graph: the form comes from the model; parity holds on two of the bundled samples."""
    from lite_tools.config import resolve
    from lite_tools.deploy import load_images
    from lite_tools.parity import check as parity

    images, _ = load_images(None)
    report = parity.check(zoo_dir(name), resolve(preset="picodet-s-320-coco"), images[:2], localise=False)
    assert report.ok, report.failures
    assert report.task == "picodet" and all(i.task_ok for i in report.images)
    assert all(o.gated == name.endswith("_raw") for i in report.images for o in i.outputs)
