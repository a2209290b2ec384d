"""Conformance over every real deploy config we hold (../shared/corpus, see its SOURCES.md) and every config the
paddleclas 2.6.0 wheel ships (deploy/configs/**): each is refused by family with a one-line BadInput that names the
family, or read by `read_config_file` into a DeployConfig equal, field by field, to what PaddleClas's own deploy
code makes of it (tests/upstream.py). The family table below is written from the files' contents; the values come
from upstream's objects, never typed in here."""

from __future__ import annotations

import collections
import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, fetch_paddleclas
from lite_tools.config import ChannelOrder, DeployConfig, Interp, Resize, ResizeMode, Task, read_config_file
from lite_tools.errors import BadInput
from upstream import Upstream, mismatches

CORPUS = REPO.parent / "shared" / "corpus"
CONFIG_SUFFIXES = (".yml", ".yaml", ".json")

# ---- the family table ---------------------------------------------------------------------------------------------
READ_FAMILIES = ("PaddleClas Topk", "PaddleClas ThreshOutput", "PaddleClas MultiLabelThreshOutput",
                 "PaddleClas PersonAttribute", "PaddleClas VehicleAttribute", "PaddleClas TableAttribute",
                 "PaddleClas NormalizeFeatures", "PaddleDetection SSD", "PaddleDetection PicoDet")
OCR_OPS = {"DetResizeForTest", "DetLabelEncode", "KeepKeys"}
SHITU_KEYS = ("DetPreProcess", "RecPreProcess", "IndexProcess")


def family(data: dict) -> tuple:
    """(family, phrases its refusal must contain) from a file's contents; no phrases: a family lite-tools reads."""
    if "Preprocess" in data or "arch" in data:  # PaddleDetection's exporter
        arch = str(data.get("arch"))
        if "use_python_inference" in data:
            return f"PaddleDetection 1.x {arch}", ("PaddleDetection 1.x export",)
        if arch == "SSD":
            return "PaddleDetection SSD", ()
        if arch == "PicoDet" or (arch == "GFL" and data.get("fpn_stride")):  # PicoDet exports say GFL
            return "PaddleDetection PicoDet", ()
        return f"PaddleDetection {arch}", (f"arch {arch}", "not supported", "supported: SSD, PicoDet")
    if any(key in data for key in SHITU_KEYS):
        kind = "system" if "DetPreProcess" in data and "RecPreProcess" in data else \
            "det" if "DetPreProcess" in data else "rec"
        named = tuple(word for word, present in (
            ("hamming", (data.get("IndexProcess") or {}).get("dist_type") == "hamming"),
            ("Binarize", "Binarize" in (data.get("RecPostProcess") or {}))) if present)
        return f"PP-ShiTu {kind}", ("a PP-ShiTu", *named)
    ops = {next(iter(op)) for op in (data.get("PreProcess") or {}).get("transform_ops") or [] if isinstance(op, dict)}
    if ops & OCR_OPS:
        return "PaddleOCR", ("a PaddleOCR config",)
    post = data.get("PostProcess") or {}
    name = post.get("main_indicator") or next((k for k in post if k != "SavePreLabel"), "")
    fam = f"PaddleClas {name}"
    return fam, (() if fam in READ_FAMILIES else (name,))


def refusal_within_family(reading) -> tuple:
    """(why, phrases) when upstream's reading of a supported family holds what a DeployConfig cannot express."""
    if reading.channel_num != 3:
        return "NormalizeImage channel_num 4: a zero 4th channel", ("channel_num",)
    if reading.output_dtype != "float32":
        return "NormalizeImage output_fp16", ("output_fp16",)
    if reading.pads:
        return "PadStride pads the resized image", ("PadStride",)
    if reading.label_conflict:
        return reading.label_conflict, ("label_list",)
    interp = reading.fields.get("resize", {}).get("interp")
    if interp is not None and interp not in {i.value for i in Interp}:
        return f"interpolation {interp}", (interp,)
    return "", ()


# ---- the files ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Case:
    key: str
    path: Path
    cwd: Path  # where PaddleClas runs with it: the wheel's deploy/, or the export's own folder


def _corpus_cases() -> list:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in CONFIG_SUFFIXES
                   and p.name != "generation_log.json")
    return [Case("corpus/" + str(p.relative_to(CORPUS)), p, p.parent) for p in files]


def _wheel_cases(package_dir: Path) -> list:
    deploy = package_dir / "deploy"
    return [Case("wheel/" + str(p.relative_to(deploy)), p, deploy) for p in sorted(deploy.glob("configs/**/*.yaml"))]


_FETCH = fetch_paddleclas()  # at collection, to parametrise over the wheel's own configs (a no-op once unpacked)
WHEEL = Path(_FETCH.stdout.strip().splitlines()[-1]) if _FETCH.returncode == 0 else None
CASES = (_corpus_cases() if CORPUS.is_dir() else []) + (_wheel_cases(WHEEL) if WHEEL else [])
PARAMS = [pytest.param(c, id=c.key) for c in CASES]
if not CORPUS.is_dir():
    PARAMS.append(pytest.param(None, id="corpus", marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}")))
if WHEEL is None:
    PARAMS.append(pytest.param(None, id="wheel"))  # fails below with the fetch script's stderr


def _load(path: Path) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # JSON is YAML too


@pytest.fixture(scope="session")
def upstream(paddleclas_wheel):
    return Upstream(paddleclas_wheel)


@pytest.fixture(scope="session")
def readings(upstream):
    """{case key: (family, phrases, upstream's Reading or the exception upstream's code raised)}, once."""
    out = {}
    for case in CASES:
        data = _load(case.path)
        fam, phrases = family(data)
        try:
            if "Preprocess" in data or "arch" in data:
                reading = upstream.read_paddledet(case.path)
            elif "PreProcess" in data:
                reading = upstream.read_paddleclas(case.path, case.cwd)
            else:
                reading = None  # PP-ShiTu det/rec/system: nothing for predict_cls to read
        except Exception as e:  # noqa: BLE001  kept: fails the file's test if its family is one we read
            reading = e
        out[case.key] = (fam, phrases, reading)
    return out


@dataclasses.dataclass
class Outcome:
    cfg: DeployConfig | None = None
    error: BaseException | None = None
    no_labels_cfg: DeployConfig | None = None  # read again with no_labels=True, after a missing class_id_map_file
    no_labels_error: BaseException | None = None


def _read(path, **kw):
    try:
        return read_config_file(path, **kw), None
    except Exception as e:  # noqa: BLE001  any failure is this file's test result
        return None, e


@pytest.fixture(scope="session")
def outcomes(readings, tmp_path_factory):
    """{case key: what lite-tools' reader made of it}, read once from a folder unrelated to every config."""
    out = {}
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("neutral-cwd"))
    try:
        for case in CASES:
            o = Outcome(*_read(case.path))
            reading = readings[case.key][2]
            if getattr(reading, "missing_labels", ""):
                o.no_labels_cfg, o.no_labels_error = _read(case.path, no_labels=True)
            out[case.key] = o
    finally:
        os.chdir(old)
    return out


def _names(message: str, phrase: str) -> bool:
    """The phrase as whole words ('arch YOLO' in 'arch YOLO (PP-YOLO ...)', not in 'arch YOLOX')."""
    return re.search(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])", message) is not None


def expectation(entry) -> tuple:
    """(family, why a file of a read family is refused anyway, phrases its refusal must contain)."""
    fam, phrases, reading = entry
    if phrases or not hasattr(reading, "fields"):
        return fam, "", phrases
    why, phrases = refusal_within_family(reading)
    return fam, why, phrases


# ---- per file -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", PARAMS)
def test_config_file_is_read_as_upstream_reads_it_or_refused_by_family(case, readings, outcomes):
    if case is None:
        pytest.fail(f"scripts/fetch_paddleclas.sh failed: {_FETCH.stderr.strip()[-600:]}")
    fam, why, phrases = expectation(readings[case.key])
    reading, out = readings[case.key][2], outcomes[case.key]
    if phrases:
        assert isinstance(out.error, BadInput), \
            f"{fam} ({why or 'family'}): expected a BadInput naming {phrases}, got {out.cfg or repr(out.error)}"
        message = str(out.error)
        assert "\n" not in message
        assert not [p for p in phrases if not _names(message, p)], f"{fam}: {message!r} does not name {phrases}"
        return
    if isinstance(reading, Exception):
        raise reading  # upstream's code failed on a family we read: the oracle is wrong, not the reader
    if reading.missing_labels:
        # PaddleClas only warns and names nothing; we refuse, saying where we looked, unless told no_labels=True.
        assert isinstance(out.error, BadInput), \
            f"missing {reading.missing_labels}: expected a BadInput, got {out.cfg or repr(out.error)}"
        message, name = str(out.error), Path(reading.missing_labels).name
        tried = {os.path.realpath(p) for p in re.findall(r"[^\s'\"(,]*" + re.escape(name), message)}
        assert len(tried) >= 2 and os.path.realpath(reading.missing_labels) in tried, \
            f"{message!r} should list the paths tried, PaddleClas's own {reading.missing_labels} among them"
        if out.no_labels_error is not None:
            raise out.no_labels_error
        cfg = out.no_labels_cfg
    else:
        if out.error is not None:
            raise out.error
        cfg = out.cfg
    assert mismatches(cfg, reading.fields) == [], reading.facts


# ---- totals -------------------------------------------------------------------------------------------------------
def _sources_counts() -> dict:
    """SOURCES.md's own folder table: {folder: files}."""
    text = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `([^`]+)/` \|[^|]*\| (\d+) \|$", text, re.M)}


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
def test_totals_by_family(readings, outcomes, capsys):
    """Every file is accounted for (SOURCES.md's counts), and no file of a family we read is refused unless the
    table above says why. Prints family -> read/refused for the README."""
    counts = _sources_counts()
    assert counts, "SOURCES.md has no folder table"
    for folder, n in counts.items():
        found = (len([c for c in CASES if c.key.startswith("wheel/")]) if folder == "paddleclas/wheel-2.6.0"
                 else len([c for c in CASES if c.key.startswith(f"corpus/{folder}/")]))
        assert found == n, f"{folder}: SOURCES.md lists {n} files, found {found}"
    rows = collections.defaultdict(collections.Counter)
    unexplained, facts = [], collections.Counter()
    for case in CASES:
        fam, why, phrases = expectation(readings[case.key])
        reading, out = readings[case.key][2], outcomes[case.key]
        refused = isinstance(out.error, BadInput) and not getattr(reading, "missing_labels", "")
        cfg = out.cfg or out.no_labels_cfg
        differs = cfg is not None and hasattr(reading, "fields") and bool(mismatches(cfg, reading.fields))
        rows[fam]["files"] += 1
        rows[fam]["refused" if refused else "differs" if differs else "read" if cfg else "failed"] += 1
        if why:
            rows[fam][f"refused: {why}"] += 1
        if fam in READ_FAMILIES and not why and refused:
            unexplained.append(f"{case.key}: {out.error}")
        for fact in getattr(reading, "facts", ()):
            facts[re.sub(r" \(.*", "", fact)] += 1
    columns = ("files", "read", "differs", "refused", "failed")  # read: equal to upstream's reading
    table = ["", f"{'family':34} " + " ".join(f"{c:>7}" for c in columns) + "  refused within the family"]
    for fam in sorted(rows, key=lambda f: (f not in READ_FAMILIES, f)):
        whys = "; ".join(f"{k[9:]} x{v}" for k, v in rows[fam].items() if k.startswith("refused: "))
        table.append(f"{fam:34} " + " ".join(f"{rows[fam][c]:7}" for c in columns) + f"  {whys}")
    table.append(f"{'total':34} " + " ".join(f"{sum(r[c] for r in rows.values()):7}" for c in columns))
    table += ["", "upstream's own limits met (files):"] + [f"  {n:3}  {f}" for f, n in facts.most_common()]
    with capsys.disabled():
        print("\n".join(table))
    assert not unexplained, "refused though their family is read:\n" + "\n".join(unexplained)


# ---- the comparison can fail ----------------------------------------------------------------------------------
def config_value(name: str, value):
    """A reading's plain value as the DeployConfig field holds it."""
    if name == "resize":
        return Resize(ResizeMode(value["mode"]), short=value.get("short", 0), width=value.get("width", 0),
                      height=value.get("height", 0), keep_ratio=value.get("keep_ratio", False),
                      interp=Interp(value["interp"]), antialias=value["antialias"])
    if name in ("scale", "threshold", "score_threshold"):
        return float(value)
    if name in ("mean", "std"):
        return tuple(map(float, value))
    return {"task": Task, "channel_order": ChannelOrder}.get(name, lambda v: v)(value)


def build(fields: dict) -> DeployConfig:
    """A DeployConfig holding exactly a reading's fields (defaults elsewhere)."""
    return DeployConfig(**{name: config_value(name, value) for name, value in fields.items()})


def _ulp(x) -> float:
    """x moved by one float32 step: the smallest change upstream's float32 arithmetic sees."""
    x = np.float32(x)
    return float(np.nextafter(x, np.float32(0) if x > 0 else np.float32(1)))


OTHER_TASK = {"classify": "embedding", "binary": "classify", "multilabel": "classify", "embedding": "classify",
              "ssd": "picodet", "picodet": "ssd"}


def mutations(name: str, value, fields: dict):
    """Altered values of one field, each still a valid DeployConfig."""
    if name == "resize":
        yield {**value, "interp": "nearest" if value["interp"] != "nearest" else "bicubic"}
        yield {**value, "antialias": not value["antialias"]}
        side = "short" if value["mode"] == "short" else "width"
        yield {**value, side: value[side] + 1}
        if value["mode"] == "fixed":
            yield {**value, "keep_ratio": not value["keep_ratio"]}
    elif name == "task":
        yield OTHER_TASK[value]
    elif name == "postprocess":
        yield ("PersonAttribute" if value == "MultiLabelThreshOutput" else "MultiLabelThreshOutput") \
            if fields["task"] == "multilabel" else "Topk" if value != "Topk" else "ThreshOutput"
    elif name in ("scale", "threshold", "score_threshold"):
        yield _ulp(value)
    elif name in ("mean", "std"):
        yield (*value[:-1], _ulp(value[-1]))
    elif name == "crop":
        yield (7, 7) if value is None else (value[0] + 1, value[1])
    elif name == "channel_order":
        yield "BGR" if value == "RGB" else "RGB"
    elif name == "layout":  # no other valid value: DeployConfig refuses any layout but NCHW
        assert value == "NCHW", value
    elif name == "box_format":
        yield "normalized" if value == "pixels" else "pixels"
    elif name == "det_form":
        yield "nms" if value == "" else ""
    elif name in ("labels", "multiclass_labels"):
        yield (*value[:-1], value[-1] + "~") if value else ("~",)
    elif name == "post_params":
        yield (*value[:-1], (value[-1][0], _ulp(value[-1][1]))) if value else (("threshold", 0.5),)
    elif name in ("export_nms", "fpn_stride"):
        yield value[:-1] if value else ((("name", "~"),) if name == "export_nms" else (8,))
    elif name in ("topk", "default_label_index", "pad_stride"):
        yield value + 1
    elif name == "model_name":
        yield value + "~"
    else:
        raise AssertionError(f"no mutation for {name}")


def test_the_comparison_catches_every_altered_field(readings, outcomes):
    """For one file of each family read: the reader's DeployConfig when it matches, and one built from upstream's
    reading, compare equal; moving any one field of either (a float32 step, one label, the interpolation...) is
    reported as exactly that field."""
    seen = {}
    for key, entry in readings.items():
        fam, why, phrases = expectation(entry)
        if fam in READ_FAMILIES and not phrases and not isinstance(entry[2], Exception):
            seen.setdefault(fam, (entry[2], outcomes[key].cfg or outcomes[key].no_labels_cfg))
    assert seen and (set(seen) == set(READ_FAMILIES) or not CORPUS.is_dir()), \
        f"no file of {set(READ_FAMILIES) - set(seen)}"
    for fam, (reading, read) in seen.items():
        fields = reading.fields
        bases = [build(fields)] + ([read] if read is not None and not mismatches(read, fields) else [])
        for base in bases:
            assert mismatches(base, fields) == [], fam
            for name, value in fields.items():
                for altered in mutations(name, value, fields):
                    cfg = base.replace(**{name: config_value(name, altered)})
                    found = [m.split(":")[0] for m in mismatches(cfg, fields)]
                    assert found == [name], f"{fam}: {name} -> {altered!r} reported as {found}"
