"""numpy's introsort fallback in our replicas of its argsort (pipeline.numpy_argsort, ShituPipeline.argsort): when a
partition popped from the stack is below numpy's depth limit (2 * floor(log2 N), one level spent per partition), the
rest of it goes to heapsort, whose tie order is neither stable nor quicksort's. Random scores never get there, so the
inputs here are found by McIlroy's "A Killer Adversary for Quicksort" (1999), run against numpy itself: an object
array whose __lt__ asks a lazy oracle that fixes values only when it must, so each median-of-3 pivot comes out near
the bottom of its partition. numpy sorts object arrays with the generic npy_aquicksort of numpy/core/src/npysort/
quicksort.cpp, the same introsort (pivot rule, partition scans, push the larger part, SMALL_QUICKSORT 15, depth
limit, aheapsort) as its float argsort (its extra `pi < pj` guards change no swap under a consistent order: they at
most spare a comparison whose answer is already implied), so the values the oracle settles on drive the float sort
down the same path.
Once the chain of bad partitions has used up the depth, every still-unsettled value is set to one of a few tied
values, NaN among them (all above the settled ones, so every earlier answer stays true): the heapsort then orders
ties and NaN, which is where a wrong tie rule would show.

On a CPU with AVX512_SKX, numpy 1.26 sends float32 and float64 argsorts to x86-simd-sort instead (another tie order,
so PaddleClas's there too): conftest switches those features off (NPY_DISABLE_CPU_FEATURES) before numpy loads; where
they still run, the comparisons with numpy's float argsort are skipped, and say so."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from lite_tools.shitu import javacheck, pipeline

# 37: the smallest N a chain of bad partitions (each of more than 16 items, two settled per partition) can take past
# the depth limit; 100: PicoDet's keep_top_k rows; 64 and 101: either side of a power of two (the limit steps there)
SIZES = (37, 50, 64, 100, 101, 300, 1000)
# what the still-unsettled items become, in item order, above every settled value (numpy sorts NaN last): two ties
TIE_PATTERN = (0.0, 0.0, math.nan, 1.0)


def depth_limit(n: int) -> int:
    """numpy's cdepth = npy_get_msb(n) * 2."""
    return 2 * (n.bit_length() - 1)


def settle_point(n: int) -> int:
    """How many values the adversary has settled when numpy runs out of depth: each bad partition settles two (the
    low median-of-3 candidate and the pivot), and heapsort takes over on the (limit + 1)th partition's large side."""
    return 2 * (depth_limit(n) + 1)


class Adversary:
    """McIlroy's lazy comparison oracle over items 0..n-1: an unsettled item ("gas") compares above every settled
    one; comparing two gas items settles one of them, preferring the one not last seen as the pivot candidate.
    Once `settle_at` items are settled, the rest are set to TIE_PATTERN values above them."""

    def __init__(self, n: int, settle_at: int):
        self.value = [None] * n
        self.settled = 0
        self.candidate = 0
        self.settle_at = settle_at

    def _settle(self, x: int) -> None:
        self.value[x] = float(self.settled)
        self.settled += 1
        if self.settled == self.settle_at:
            for k, i in enumerate(i for i, v in enumerate(self.value) if v is None):
                self.value[i] = self.settled + TIE_PATTERN[k % len(TIE_PATTERN)]

    def less(self, x: int, y: int) -> bool:
        value = self.value
        if value[x] is None and value[y] is None:
            self._settle(x if x == self.candidate else y)
        if value[x] is None:
            self.candidate = x
        elif value[y] is None:
            self.candidate = y
        a = math.inf if value[x] is None else value[x]
        b = math.inf if value[y] is None else value[y]
        return a < b or (b != b and a == a)

    def scores(self) -> np.ndarray:
        """The settled values as float32 scores in [0, 1]: the top tie is exactly 1.0 (a saturated sigmoid)."""
        assert all(v is not None for v in self.value), "the sort left values unsettled"
        return (np.array(self.value, np.float64) / (self.settled + 1)).astype(np.float32)


class _Lazy:
    """An object numpy's object argsort compares (OBJECT_compare asks < and then >) through the adversary."""
    __slots__ = ("item", "adversary")

    def __init__(self, item: int, adversary: Adversary):
        self.item, self.adversary = item, adversary

    def __lt__(self, other):
        return self.adversary.less(self.item, other.item)

    def __gt__(self, other):
        return self.adversary.less(other.item, self.item)


def against_numpy(n: int) -> np.ndarray:
    adversary = Adversary(n, settle_point(n))
    items = np.empty(n, dtype=object)
    items[:] = [_Lazy(i, adversary) for i in range(n)]
    np.argsort(items)  # kind="quicksort": npy_aquicksort
    return adversary.scores()


@pytest.fixture(scope="module")
def killers() -> dict:
    return {n: against_numpy(n) for n in SIZES}


def simd_argsort() -> str | None:
    """Why numpy's float argsort here is not the introsort (None: it is)."""
    from numpy.core._multiarray_umath import __cpu_features__ as cpu

    if cpu.get("AVX512_SKX"):
        return (f"numpy {np.__version__} runs x86-simd-sort's argsort for float32/float64 on this AVX512_SKX CPU "
                "(np::qsort_simd::ArgQSort_AVX512_SKX): another tie order, not the introsort replicated")
    if int(np.__version__.split(".")[0]) >= 2 and cpu.get("AVX2"):
        return f"numpy {np.__version__} runs x86-simd-sort's AVX2 argsort on this CPU: not the introsort replicated"
    return None


def test_numpy_argsorts_with_its_introsort_here():
    """conftest's pin holds: numpy's float argsort is the introsort (on an AVX-512 CPU, only with its AVX-512
    features switched off), so the comparisons below run instead of skipping."""
    assert simd_argsort() is None, simd_argsort()


def _numpy_key(value) -> tuple:
    """numpy's ascending float order as a sort key: NaN last."""
    return (True, 0.0) if value != value else (False, float(value))


def _replica(values, monkeypatch, heapsort=None) -> tuple:
    """(pipeline.numpy_argsort(values), [the values of each part it heapsorted]); `heapsort` replaces its
    _heapsort (same arguments) for the call."""
    parts = []
    own = pipeline._heapsort
    run = heapsort or own

    def counted(v, idx, lo, n):
        parts.append([v[i] for i in idx[lo:lo + n]])
        run(v, idx, lo, n)

    monkeypatch.setattr(pipeline, "_heapsort", counted)
    try:
        return pipeline.numpy_argsort(values), parts
    finally:
        monkeypatch.setattr(pipeline, "_heapsort", own)


def _stable_sort(v, idx, lo, n) -> None:
    """A correct sort of idx[lo:lo + n] with another tie rule than heapsort's (stable)."""
    idx[lo:lo + n] = sorted(idx[lo:lo + n], key=lambda i: _numpy_key(v[i]))


def _is_sorted(values, order) -> bool:
    """order is a permutation that sorts values ascending in numpy's order."""
    keys = [_numpy_key(values[i]) for i in order]
    return sorted(order) == list(range(len(values))) and keys == sorted(keys)


def test_the_adversary_finds_the_same_input_against_numpy_and_the_replica(killers, monkeypatch):
    """McIlroy's oracle answers lazily, so what it settles on records the whole sequence of comparisons: run against
    our replica (its _less asked through the oracle, the items standing for themselves) it must settle on the very
    input it settled on against numpy's own sort."""
    for n, scores in killers.items():
        adversary = Adversary(n, settle_point(n))
        monkeypatch.setattr(pipeline, "_less", lambda a, b: adversary.less(int(a), int(b)))
        pipeline.numpy_argsort(np.arange(n, dtype=np.float64))
        monkeypatch.undo()
        np.testing.assert_array_equal(adversary.scores(), scores, err_msg=f"n={n}")


def test_heapsort_fallback_is_taken_and_orders_as_numpy(killers, monkeypatch):
    """The replica on each input: its heapsort runs, on a part holding ties and NaN, and the order is numpy's
    argsort of the float32 scores (the dtype PaddleClas sorts: the detector's rows, faiss's scores) and of float64.
    A correct sort with another tie rule in place of the heapsort (Python's stable sort) gives another order."""
    why = simd_argsort()
    for n, scores in killers.items():
        order, parts = _replica(scores, monkeypatch)
        assert parts, f"n={n}: the depth limit {depth_limit(n)} was not exceeded"
        big = max(parts, key=len)
        finite = [v for v in big if v == v]
        assert len(big) == n - settle_point(n), (n, len(big))  # the adversary's gas: all of it heapsorted
        assert len(finite) - len(set(finite)) >= 2 and len(big) - len(finite) >= 2, (n, big)
        assert _is_sorted(scores, order), n
        other, _ = _replica(scores, monkeypatch, heapsort=_stable_sort)
        assert _is_sorted(scores, other) and other != order, f"n={n}: the heapsorted part's tie order is not tested"
        if why is None:
            assert order == list(np.argsort(scores)), f"n={n}: float32"
            assert order == list(np.argsort(scores.astype(np.float64))), f"n={n}: float64"
    if why:
        pytest.skip(why)


def test_selection_and_nms_keep_paddleclas_order_through_the_heapsort(killers):
    """Steps 2 and 7 on the adversarial scores, against PaddleClas's own expressions on them:
    `pred[:, 1].argsort()[::-1][:max_det_results]` (DetPredictor) and `scores.argsort()[::-1]` over float32 faiss
    scores (nms_to_rec_results, disjoint boxes so that nothing is suppressed)."""
    why = simd_argsort()
    if why:
        pytest.skip(why)
    for n, scores in killers.items():
        rows = np.zeros((n, 6), np.float32)
        rows[:, 1] = scores
        rows[:, 2] = np.arange(n)  # x0: the row
        keep = n - 7
        selected, _ = pipeline.select_detections(rows, keep, -math.inf)
        assert [int(d.box[0]) for d in selected] == list(rows[:, 1].argsort()[::-1][:keep]), n
        recs = [pipeline.Recognition((10 * i, 0, 10 * i + 5, 5), str(i), float(s), i) for i, s in enumerate(scores)]
        kept, _ = pipeline.rec_nms(recs, 0.5)
        assert [r.id for r in kept] == list(np.array([np.float32(r.score) for r in recs]).argsort()[::-1]), n


DEPTH_CHECK = "if (depth < 0) {"


def test_java_argsort_takes_the_heapsort_fallback_as_numpy(killers, android_jar, tmp_path):
    """ShituPipeline.argsort on the JVM on the same inputs: numpy's order (the replica's where numpy dispatches to
    SIMD). The same class with its depth check removed (quicksort to the end, no heapsort) orders differently."""
    arrays = list(killers.values())
    why = simd_argsort()
    want = [pipeline.numpy_argsort(a) if why else list(np.argsort(a)) for a in arrays]
    assert javacheck.java_argsort(arrays, android_jar=android_jar) == want
    source = (javacheck.CORE / "ShituPipeline.java").read_text(encoding="utf-8")
    assert source.count(DEPTH_CHECK) == 1, "ShituPipeline.argsort's depth check moved: update DEPTH_CHECK"
    mutant = tmp_path / "core"
    mutant.mkdir()
    (mutant / "ShituPipeline.java").write_text(source.replace(DEPTH_CHECK, "if (depth < Integer.MIN_VALUE) {"),
                                              encoding="utf-8")
    shutil.copyfile(javacheck.CORE / "EmbeddingSearcher.java", mutant / "EmbeddingSearcher.java")
    unbounded = javacheck.java_argsort(arrays, core_dir=mutant, android_jar=android_jar)
    assert all(_is_sorted(a, o) for a, o in zip(arrays, unbounded)), "the mutant does not sort"
    assert all(o != w for o, w in zip(unbounded, want)), "an input's order does not depend on the heapsort fallback"
