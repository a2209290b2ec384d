"""The Java core's float32 fused multiply-add (Cv2Resampler.fma32: IPP's cubic sums need it, API 23 has no
Math.fma) against two independent sides: the JDK's own Math.fma, and exact rational arithmetic rounded to float32
in Python. The triples are those where rounding x*y + z through a double goes wrong (sums an ulp fraction from a
float32 tie), the resampler's own operands (pixels times weights) and random bit patterns; the reference's numpy
emulation (lite_tools.reference.cv2_resize._fma32) is held to the same answers."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from conftest import REPO
from lite_tools.reference.cv2_resize import _fma32

CORE = REPO / "android_template" / "app" / "src" / "main" / "java" / "com" / "litetools" / "core"
HARNESS = REPO / "tests" / "java" / "FmaHarness.java"


def near_ties(rng, n: int) -> np.ndarray:
    """x*y + z within 2^-2j of half an ulp of z: the double sum lands on a float32 tie that the exact sum is not."""
    z = (rng.random(n) * 1000 + 1).astype(np.float32)
    z[::2] *= -1
    half = (np.spacing(np.abs(z)) / 2).astype(np.float32)
    j = rng.integers(12, 24, size=n)
    u = (1 - np.ldexp(1.0, -j)).astype(np.float32)
    v = (1 + np.ldexp(1.0, -j)).astype(np.float32)
    x = (u * half).astype(np.float32)
    return np.concatenate([np.stack([x, v, z], 1), np.stack([-x, v, z], 1), np.stack([x, -v, z], 1),
                           np.stack([half, np.ones(n, np.float32), z], 1)])


def triples() -> np.ndarray:
    rng = np.random.default_rng(7)
    n = 50_000
    bits = rng.integers(0, 2 ** 32, size=(n, 3), dtype=np.uint64).astype(np.uint32).view(np.float32)
    bits = bits[(np.abs(bits) < 1e15).all(axis=1) & (np.abs(bits) > 1e-15).all(axis=1)]  # finite, normal sums
    s = rng.integers(0, 256, size=(n, 2)).astype(np.float32)
    w = (rng.random((n, 2)) * 2 - 0.5).astype(np.float32)
    pixels = np.stack([s[:, 0], w[:, 0], s[:, 1] * w[:, 1]], axis=1)
    return np.ascontiguousarray(np.concatenate([near_ties(rng, n), pixels, bits]).astype(np.float32))


def exact_float32(q: Fraction) -> np.float32:
    """q rounded to the nearest float32, ties to even, decided on exact distances."""
    c = np.float32(float(q))
    candidates = (np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf)))
    return min(candidates, key=lambda f: (abs(Fraction(float(f)) - q), int(np.array(f).view(np.int32)) & 1))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """(triples, the core's fma32, Math.fma) over one JVM run."""
    work = tmp_path_factory.mktemp("fma")
    classes = work / "classes"
    classes.mkdir()
    subprocess.run(["javac", "-d", str(classes), str(CORE / "Cv2Resampler.java"), str(CORE / "IppWarpCubic.java"),
                    str(HARNESS)], check=True, capture_output=True, text=True)
    t = triples()
    t.tofile(work / "in.bin")
    subprocess.run(["java", "-cp", str(classes), "com.litetools.core.FmaHarness", str(work / "in.bin"),
                    str(work / "out.bin")], check=True, capture_output=True, text=True, timeout=300)
    out = np.fromfile(work / "out.bin", np.float32).reshape(-1, 2)
    return t, out[:, 0], out[:, 1]


def test_the_cores_fma_is_the_jdks(results):
    t, ours, jdk = results
    naive = (t[:, 0].astype(np.float64) * t[:, 1] + t[:, 2]).astype(np.float32)
    assert (naive.view(np.int32) != jdk.view(np.int32)).sum() > 10_000  # the triples do hit double rounding
    assert np.array_equal(ours.view(np.int32), jdk.view(np.int32))


def test_the_references_fma_is_the_jdks(results):
    t, _, jdk = results
    assert np.array_equal(_fma32(t[:, 0], t[:, 1], t[:, 2]).view(np.int32), jdk.view(np.int32))


def test_the_cores_fma_is_exact_rounding(results):
    """On the triples where double rounding goes wrong, and a sample of the others: exact arithmetic's answer."""
    t, ours, _ = results
    naive = (t[:, 0].astype(np.float64) * t[:, 1] + t[:, 2]).astype(np.float32)
    rng = np.random.default_rng(1)
    idx = np.concatenate([np.nonzero(naive != ours)[0][:1500], rng.choice(len(t), 1500, replace=False)])
    wrong = [i for i in idx
             if exact_float32(Fraction(float(t[i, 0])) * Fraction(float(t[i, 1])) + Fraction(float(t[i, 2])))
             != ours[i]]
    assert len(idx) == 3000 and not wrong, t[wrong[:5]]
