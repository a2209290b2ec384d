"""The zoo's PP-HGNetV2 B0-B6 are PaddleClas's: each built network has the parameter count, and the state_dict keys
and shapes in order, of the network PaddleClas 2.6.0's own `pp_hgnet_v2.py` (from its wheel) builds, so released
PaddleClas weights load by name. Opt and parity run on B0 only; B1-B6 are exempt, and the registry says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lite_tools import zoo

VARIANTS = [f"B{i}" for i in range(7)]

# Runs in a child process: upstream's module imports its package's siblings relatively (TheseusLayer, the logger,
# save_load), and ppcls/arch/__init__.py imports the whole training stack (sklearn and more, not installed). So the
# packages on the way are bare modules pointing at the wheel's folders (their __init__ files do not run) and the real
# theseus_layer.py, logger.py and save_load.py load from there. The one module replaced is ppcls/utils/download.py,
# the pretrained-weights downloader (it imports requests and tqdm): building with pretrained=False never calls it.
# Both sides build under paddle.LazyGuard: parameters get their shapes but no values (7x faster; no values compared).
UPSTREAM_SCRIPT = r"""
import json, sys, types
root = sys.argv[1]
for name in ("ppcls", "ppcls.arch", "ppcls.arch.backbone", "ppcls.arch.backbone.legendary_models", "ppcls.utils"):
    package = types.ModuleType(name)
    package.__path__ = [root + "/" + name.replace(".", "/")]
    sys.modules[name] = package
download = types.ModuleType("ppcls.utils.download")
def get_weights_path_from_url(url, md5sum=None):
    raise RuntimeError("no downloads here: " + url)
download.get_weights_path_from_url = get_weights_path_from_url
sys.modules["ppcls.utils.download"] = download
import importlib
import paddle
module = importlib.import_module("ppcls.arch.backbone.legendary_models.pp_hgnet_v2")
out = {"file": module.__file__}
for variant in sys.argv[2:]:
    with paddle.LazyGuard():
        net = getattr(module, "PPHGNetV2_" + variant)(pretrained=False)
    out[variant] = {"params": sum(int(p.size) for p in net.parameters()),
                    "state": [[k, list(v.shape)] for k, v in net.state_dict().items()]}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def upstream_networks(paddleclas_wheel):
    """{variant: {"params": count, "state": [[key, shape], ...]}} of PaddleClas's own PPHGNetV2_B0..B6."""
    proc = subprocess.run([sys.executable, "-c", UPSTREAM_SCRIPT, str(paddleclas_wheel), *VARIANTS],
                          capture_output=True, text=True, env=dict(os.environ, GLOG_minloglevel="2"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["file"] == str(paddleclas_wheel / "ppcls" / "arch" / "backbone" / "legendary_models" /
                              "pp_hgnet_v2.py")
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_matches_paddleclas(variant, upstream_networks):
    import paddle

    with paddle.LazyGuard():
        net = zoo.REGISTRY[f"PPHGNetV2_{variant}"].build()
    ours = {"params": sum(int(np.prod(p.shape)) for p in net.parameters()),
            "state": [[k, list(v.shape)] for k, v in net.state_dict().items()]}
    theirs = upstream_networks[variant]
    assert ours["params"] == theirs["params"]
    assert ours["state"] == theirs["state"]


def test_variants_differ_from_each_other(upstream_networks):
    """The per-variant comparison is not one network seven times: upstream's counts are seven distinct, increasing
    values."""
    counts = [upstream_networks[v]["params"] for v in VARIANTS]
    assert counts == sorted(set(counts))


def test_only_b1_to_b6_are_exempt_from_opt_and_parity():
    exempt = {name for name, entry in zoo.REGISTRY.items() if entry.exempt}
    assert exempt == {f"PPHGNetV2_B{i}" for i in range(1, 7)}
    assert "PPHGNetV2_B0" in zoo.CHECKED and not exempt & set(zoo.CHECKED)
    assert set(zoo.CHECKED) | exempt == set(zoo.REGISTRY)
    for name in exempt:
        entry = zoo.REGISTRY[name]
        assert entry.preset == zoo.REGISTRY["PPHGNetV2_B0"].preset
        assert "exempt from opt and parity" in entry.description
