"""Regression tests for the reliability probe (../shared/probes/reliability-2026-12-01.md), named after its case ids:
config values out of range or of the wrong type (C7, C10, C12-C14, B6, P23), reading a config once (C22), the write
side of `config export` and `parity --report` (C24, C25, P24), `--version` (H3), Paddle's log noise (N1), the batch
table (N3), and one walk over every command with a bad input. Each runs the real CLI; the refusals come before any
engine runs, so they are fast."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import REPO, poison_first_conv, refused, run_cli

PERSON = ("--preset", "pulc-person-exists")
GOOD_CLS = """PreProcess:
  transform_ops:
  - ResizeImage:
      resize_short: 256
  - CropImage:
      size: 224
  - NormalizeImage:
      scale: 1.0/255.0
      mean: [0.485, 0.456, 0.406]
      std: [0.229, 0.224, 0.225]
      order: ''
  - ToCHWImage:
PostProcess:
  main_indicator: Topk
  Topk:
    topk: 5
"""
GLOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d", re.M)  # glog's prefix: I1201 07:54:53.082114 ...



def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def bad(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=bad)


@pytest.fixture(scope="module")
def person(zoo_dir):
    """PULC_person_exists (2 classes, 224x224): only read, never written."""
    return zoo_dir("PULC_person_exists")


def config_file(tmp_path, name="cls.yaml", **changes):
    """GOOD_CLS, each `old` text replaced by `new`, as tmp_path/name."""
    text = GOOD_CLS
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


def run_read_only(folder, *args):
    """`lite-tools ARGS` in a mount namespace where `folder` is a read-only bind mount."""
    q = shlex.quote(str(folder))
    cli = " ".join(shlex.quote(str(a)) for a in (sys.executable, "-m", "lite_tools", *args))
    return subprocess.run(["unshare", "-m", "bash", "-c", f"mount --bind -o ro {q} {q} && exec {cli}"],
                          capture_output=True, text=True, timeout=600)


needs_unshare = pytest.mark.skipif(not can_unshare(), reason="needs unshare -m (root, mount namespaces)")


# C7, C10, C12: values in a config file


def refused_by_every_reader(person, tmp_path, command, edit, *needles):
    """`config show`, `parity` and `android` on a config with one edited line: one line, no project."""
    cfg = config_file(tmp_path, **edit)
    args = {"config": ("config", "show"), "parity": ("parity", person, "--random", 1),
            "android": ("android", person, "--out", tmp_path / "app")}[command]
    refused(run_cli(*args, "--config", cfg), str(cfg), *needles)
    assert not (tmp_path / "app").exists()


READERS = pytest.mark.parametrize("command", ["config", "parity", "android"])


@READERS
def test_C7_resize_short_not_a_number(person, tmp_path, command):
    """`resize_short: "abc"` was a ValueError traceback (int())."""
    refused_by_every_reader(person, tmp_path, command, {"resize_short: 256": 'resize_short: "abc"'},
                            "resize_short", "'abc'")


@READERS
def test_C10_topk_zero(person, tmp_path, command):
    """`topk: 0`: `config show` accepted it, `parity` crashed (IndexError), `android` wrote the project."""
    refused_by_every_reader(person, tmp_path, command, {"topk: 5": "topk: 0"}, "topk")


@READERS
def test_C12_nan_std(person, tmp_path, command):
    """`std: [.nan, ...]`: parity blamed `op #1 conv2d`, android was a traceback (nan as a Java literal)."""
    refused_by_every_reader(person, tmp_path, command, {"std: [0.229": "std: [.nan"}, "std", "nan")


# C13, C14, P23: numbers on the command line


def test_C13_nan_threshold_never_written(person, tmp_path):
    """`--threshold nan` printed and wrote `"threshold": NaN` (not JSON); android was a traceback."""
    out = tmp_path / "t.json"
    refused(run_cli("config", "show", *PERSON, "--threshold", "nan"), "--threshold", "nan")
    refused(run_cli("config", "export", *PERSON, "--threshold", "nan", "--out", out), "--threshold", "nan")
    assert not out.exists() and not list(tmp_path.iterdir())
    refused(run_cli("android", person, *PERSON, "--threshold", "nan", "--out", tmp_path / "app"), "--threshold")
    assert not (tmp_path / "app").exists()
    # and what is written is JSON: NaN and Infinity never appear, in `show` or in `export`
    proc = run_cli("config", "show", *PERSON, "--threshold", "0.25")
    assert proc.returncode == 0, proc.stderr
    assert strict_json(proc.stdout)["threshold"] == 0.25
    assert run_cli("config", "export", *PERSON, "--out", out).returncode == 0
    strict_json(out.read_text())


def test_C13_nan_outputs_are_written_as_json(person, tmp_path):
    """A model whose outputs are NaN (a conv filter of NaN, as after a diverged training run): parity.json and
    deploy's report.json held the token NaN, which is not JSON; they say null."""
    model = tmp_path / "model"
    shutil.copytree(person, model)
    poison_first_conv(model)
    proc = run_cli("parity", model, *PERSON, "--random", 1, "--report", tmp_path / "rep", "-q")
    assert proc.returncode == 1 and proc.stdout.startswith("FAIL"), proc.stdout + proc.stderr
    strict_json((tmp_path / "rep" / "parity.json").read_text())
    proc = run_cli("deploy", model, *PERSON, "--out", tmp_path / "d", "-q")
    assert proc.returncode == 1 and "NOT READY" in proc.stdout, proc.stdout + proc.stderr
    report = strict_json((tmp_path / "d" / "report.json").read_text())
    assert report["ok"] is False and report["parity"]["ok"] is False


@pytest.mark.parametrize("preset, value", [("pulc-person-exists", "5"), ("pulc-person-exists", "-0.1"),
                                           ("pulc-person-exists", "inf"), ("ssd-mobilenet-300", "1.5")])
def test_C14_threshold_out_of_range(person, tmp_path, preset, value):
    """`--threshold 5` on a probability was READY (the app could never say "someone"); a detector's score too."""
    refused(run_cli("config", "show", "--preset", preset, "--threshold", value), "--threshold", "[0, 1]")
    out = tmp_path / "d"
    refused(run_cli("deploy", person, "--preset", preset, "--threshold", value, "--out", out), "--threshold")
    assert not out.exists()


@pytest.mark.parametrize("option, value", [("--atol", "nan"), ("--atol", "-1"), ("--rtol", "-1"), ("--rtol", "inf")])
def test_P23_nan_tolerance(person, option, value):
    """`--atol nan` was accepted, and then the FAIL blamed `op #1 conv2d`; negative tolerances too. Refused up front
    (no engine ran: no parity progress line)."""
    proc = run_cli("parity", person, *PERSON, "--random", 1, option, value)
    refused(proc, option)
    assert "parity:" not in proc.stderr and not proc.stdout


# C22: a config read once


def test_C22_process_substitution(tmp_path):
    """`--config <(cat good.yaml)` said `/dev/fd/63: expected a mapping`: the pipe was read twice."""
    cfg = config_file(tmp_path)
    assert run_cli("config", "export", *PERSON, "--out", tmp_path / "p.json").returncode == 0
    for source, task in ((cfg, "classify"), (tmp_path / "p.json", "binary")):
        cli = " ".join(shlex.quote(str(a)) for a in (sys.executable, "-m", "lite_tools", "config", "show"))
        proc = subprocess.run(["bash", "-c", f"{cli} --config <(cat {shlex.quote(str(source))})"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert strict_json(proc.stdout)["task"] == task


# C24, C25: config export --out


def test_C24_export_out_is_a_directory(tmp_path):
    """`config export --out DIR` (and a missing parent) was a traceback (IsADirectoryError / FileNotFoundError)."""
    (tmp_path / "cfgdir").mkdir()
    refused(run_cli("config", "export", "--preset", "imagenet-cls", "--out", tmp_path / "cfgdir"),
            str(tmp_path / "cfgdir"), "is a directory")
    assert not list((tmp_path / "cfgdir").iterdir())
    missing = tmp_path / "nope" / "c.json"
    refused(run_cli("config", "export", "--preset", "imagenet-cls", "--out", missing), str(missing),
            "no such directory")
    assert not (tmp_path / "nope").exists()
    # what still works: a symlink is written through (the link kept), a device or a pipe is written in place
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    assert run_cli("config", "export", "--preset", "imagenet-cls", "--out", tmp_path / "link.json").returncode == 0
    assert (tmp_path / "link.json").is_symlink() and strict_json((tmp_path / "real.json").read_text())["topk"] == 5
    cli = " ".join(shlex.quote(str(a)) for a in (sys.executable, "-m", "lite_tools", "config", "export", "--preset",
                                                 "imagenet-cls", "--out", "/dev/stdout"))
    proc = subprocess.run(["bash", "-c", f"{cli} | cat"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and strict_json(proc.stdout.rsplit("wrote", 1)[0])["task"] == "classify"
    assert os.path.islink("/dev/stdout")


@needs_unshare
def test_C24_export_out_read_only(tmp_path):
    """`config export --out` on a read-only mount was an OSError traceback."""
    ro = tmp_path / "ro"
    ro.mkdir()
    proc = run_read_only(ro, "config", "export", "--preset", "imagenet-cls", "--out", ro / "c.json")
    refused(proc, str(ro / "c.json"), "Read-only file system")
    assert not list(ro.iterdir())


def test_C25_export_onto_its_own_input(tmp_path):
    """`config export --config X.yaml --out X.yaml` replaced the user's PaddleClas YAML with JSON. Refused, the
    same file however it is spelt (./X, a symlink), and the --labels file too; the inputs stay byte-identical."""
    cfg = config_file(tmp_path)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"{i} class{i}" for i in range(1000)) + "\n")
    (tmp_path / "link.json").symlink_to(cfg)
    before = (sha(cfg), sha(labels))
    for out in (cfg, f"{tmp_path}/./{cfg.name}", tmp_path / "link.json"):
        refused(run_cli("config", "export", "--config", cfg, "--out", out), "is the input")
    refused(run_cli("config", "export", "--config", cfg, "--labels", labels, "--out", labels), "is the input")
    assert (sha(cfg), sha(labels)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cls.yaml", "labels.txt", "link.json"]  # no temp left
    # written atomically: an existing export is replaced whole, nothing left beside it
    out = tmp_path / "out.json"
    out.write_text("old")
    assert run_cli("config", "export", "--config", cfg, "--out", out).returncode == 0
    assert strict_json(out.read_text())["topk"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cls.yaml", "labels.txt", "link.json", "out.json"]


# P24: parity --report


def test_P24_report_unwritable_fails_fast(person, tmp_path):
    """`--report` naming a file was a traceback after the whole run, and the PASS/FAIL line was lost. Now refused
    before the run; a write that fails after it prints the verdict first, then the one error line."""
    afile = tmp_path / "afile"
    afile.write_text("mine")
    proc = run_cli("parity", person, *PERSON, "--random", 1, "--report", afile)
    refused(proc, str(afile), "is a file")
    assert "parity:" not in proc.stderr and not proc.stdout  # before the run
    assert afile.read_text() == "mine"
    refused(run_cli("parity", person, *PERSON, "--random", 1, "--report", afile / "sub"), "not a directory")
    (tmp_path / "rep" / "parity.json").mkdir(parents=True)  # not a report of ours: refused before the run too
    proc = run_cli("parity", person, *PERSON, "--random", 1, "--report", tmp_path / "rep")
    refused(proc, "parity.json", "is not a lite-tools parity report")
    assert "parity:" not in proc.stderr and not proc.stdout


@needs_unshare
def test_P24_report_write_failing_after_the_run_keeps_the_verdict(person, tmp_path):
    """A report folder that takes the probe but not the report (a one-page tmpfs: parity.json fits, parity.html
    does not): the run happens, its verdict prints, then the one error line."""
    rep = tmp_path / "rep"
    rep.mkdir()
    q = shlex.quote(str(rep))
    cli = " ".join(shlex.quote(str(a)) for a in (sys.executable, "-m", "lite_tools", "parity", person, *PERSON,
                                                 "--random", 1, "--report", rep))
    proc = subprocess.run(["unshare", "-m", "bash", "-c", f"mount -t tmpfs -o size=4k tmpfs {q} && exec {cli}"],
                          capture_output=True, text=True, timeout=600)
    refused(proc, "parity.html", "No space left on device")
    assert proc.stdout.startswith("PASS: 1 image(s)"), proc.stdout


def test_report_never_replaces_an_input_or_a_users_file(person, tmp_path):
    """Re-probe 2026-12-03: `parity --config rep/parity.json --report rep` replaced the user's config with the
    report and said PASS; a parity.json of the user's in the --images folder went the same way. Both are refused
    before the run, inputs untouched; an earlier report of ours there is replaced as before."""
    rep = tmp_path / "rep"
    rep.mkdir()
    config = rep / "parity.json"
    assert run_cli("config", "export", *PERSON, "--out", config).returncode == 0
    before = config.read_bytes()
    proc = run_cli("parity", person, "--config", config, "--random", 1, "--report", rep)
    refused(proc, str(config), "is an input of this run", "--config")
    assert config.read_bytes() == before and not (rep / "parity.html").exists() and not proc.stdout
    linked = tmp_path / "linked"
    linked.mkdir()
    os.link(config, linked / "parity.json")  # a hard link is the same file
    refused(run_cli("parity", person, "--config", config, "--random", 1, "--report", linked), "is an input")
    assert config.read_bytes() == before
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(images / "a.png")
    (images / "parity.json").write_text('{"mine": true}')
    proc = run_cli("parity", person, *PERSON, "--images", images, "--report", images)
    refused(proc, str(images / "parity.json"), "is an input of this run", "--images")
    assert (images / "parity.json").read_text() == '{"mine": true}' and not (images / "parity.html").exists()
    ours = tmp_path / "ours"
    for _ in range(2):  # the second run replaces the first one's report
        proc = run_cli("parity", person, *PERSON, "--random", 1, "--report", ours)
        assert proc.returncode == 0, proc.stderr
    (images / "parity.json").unlink()
    for _ in range(2):  # into the --images folder: its own earlier report there is no input (parity skips it)
        proc = run_cli("parity", person, *PERSON, "--images", images, "--report", images)
        assert proc.returncode == 0, proc.stderr
    assert json.loads((ours / "parity.json").read_text())["format"] == "lite-tools-parity/1"


@needs_unshare
def test_P24_report_read_only_fails_fast(person, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    proc = run_read_only(ro, "parity", person, *PERSON, "--random", 1, "--report", ro / "rep")
    refused(proc, str(ro / "rep"), "Read-only file system")
    assert "parity:" not in proc.stderr and not proc.stdout
    assert not list(ro.iterdir())


# B6, N3: deploy --batch


def test_B6_batch_bad_type_is_a_row_reason(person, tmp_path):
    """`threshold: "high"` was the row `internal error: TypeError: '>=' not supported ...`: now a reason naming
    the key, for each entry with a value of the wrong type."""
    shutil.copytree(person, tmp_path / "person")
    (tmp_path / "batch.yaml").write_text(
        "models:\n"
        "  - {model: person, preset: pulc-person-exists, name: high, threshold: 'high'}\n"
        "  - {model: person, preset: pulc-person-exists, name: fp, fp16: 'yes'}\n"
        "  - {model: person, preset: pulc-person-exists, name: 42}\n")
    proc = run_cli("deploy", "--batch", tmp_path / "batch.yaml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stdout
    rows = {ln.split()[0]: ln for ln in proc.stdout.splitlines()[1:4]}
    assert "ERROR" in rows["high"] and "threshold must be a number in [0, 1], got 'high'" in rows["high"]
    assert "ERROR" in rows["fp"] and "fp16 must be true or false, got 'yes'" in rows["fp"]
    assert "ERROR" in rows["person"] and "name must be a non-empty string, got 42" in rows["person"]
    assert "0/3 READY" in proc.stdout


def test_N3_batch_table_aligned(person, tmp_path):
    """With names of 1-2 characters the `model` header was wider than its column, so the columns did not line up."""
    shutil.copytree(person, tmp_path / "person")
    (tmp_path / "batch.yaml").write_text(
        "models:\n"
        "  - {model: person, preset: pulc-person-exists, name: p}\n"
        "  - {model: person, preset: pulc-person-exists, name: qq, threshold: 7}\n")
    proc = run_cli("deploy", "--batch", tmp_path / "batch.yaml", "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    header = lines[0]
    rows = [ln for ln in lines[1:] if ln.strip() and not ln.startswith(" ")][:2]  # not the lines below a row
    status, report = header.index("status"), header.index("report / reason")
    time_end = header.index("time") + len("time")
    for row in rows:
        assert row[status - 2:status] == "  " and row[status] != " ", (header, row)
        assert row[report - 2:report] == "  " and row[report] != " ", (header, row)
        assert row[time_end - 1] == "s" and row[time_end:time_end + 2] == "  ", (header, row)
    assert rows[0].split()[:2] == ["p", "READY"] and rows[1].split()[:2] == ["qq", "ERROR"]


# H3, N1: version and noise


def test_H3_version():
    from importlib.metadata import version

    from lite_tools import __version__

    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (f"lite-tools {__version__} (paddlelite {version('paddlelite')}, "
                                   f"paddlepaddle {version('paddlepaddle')})")
    assert not proc.stderr


def test_N1_zoo_export_prints_no_glog(tmp_path):
    """A cold `zoo export` printed `I1201 ... program_interpreter.cc:212] New Executor is Running.` on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOG_", "FLAGS_"))}
    env["LITE_TOOLS_CACHE"] = str(tmp_path / "cache")  # a cold cache: the model is built (paddle runs)
    proc = subprocess.run([sys.executable, "-m", "lite_tools", "zoo", "export", "PPLCNet_x0_25", "--out",
                           tmp_path / "m"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert not GLOG_LINE.search(proc.stderr), proc.stderr
    assert proc.stderr == ""
    proc = subprocess.run([sys.executable, "-m", "lite_tools", "inspect", tmp_path / "m"], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0 and not GLOG_LINE.search(proc.stderr), proc.stderr


# Every command: a bad input is one line and exit 2


def subcommands() -> list:
    """Every command the parser has, nested ones (`zoo export`) and positional actions (`config show`) spelt out:
    a new command without a case below fails the walk."""
    from lite_tools.cli import build_parser

    found = []

    def walk(parser, prefix):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in subs:
            for name, child in action.choices.items():
                walk(child, prefix + [name])
        if subs:
            return
        actions = [a for a in parser._actions if not a.option_strings and a.choices]
        if actions:
            found.extend(" ".join(prefix + [c]) for c in actions[0].choices)
        else:
            found.append(" ".join(prefix))
    walk(build_parser(), [])
    return found


def bad_inputs(person, tmp):
    """command -> (argv, path that must not appear): one bad input per command, each a different kind of mistake."""
    cfg_abc = tmp / "abc.yaml"
    cfg_abc.write_text(GOOD_CLS.replace("resize_short: 256", 'resize_short: "abc"'))
    cfg_topk = tmp / "topk0.yaml"
    cfg_topk.write_text(GOOD_CLS.replace("topk: 5", "topk: 0"))
    shitu_binary = tmp / "shitu_binary.yaml"  # PP-ShiTu binary retrieval: refused by name
    shitu_binary.write_text("Global: {}\nRecPreProcess: {}\nIndexProcess: {dist_type: hamming}\n")
    cfg_cls = tmp / "cls.yaml"  # a classifier's config where a gallery needs an embedding one
    cfg_cls.write_text(GOOD_CLS)
    (tmp / "adir").mkdir()
    return {
        "opt": (["opt", tmp / "no-model", "--target", "arm", "--out", tmp / "o"], tmp / "o"),
        "inspect": (["inspect", tmp / "no-model"], None),
        "doctor": (["doctor", "--no-such-option"], None),
        "config show": (["config", "show", "--config", cfg_abc], None),
        "config export": (["config", "export", *PERSON, "--out", tmp / "adir"], None),
        "parity": (["parity", person, *PERSON, "--random", 1, "--atol", "nan", "--report", tmp / "r"], tmp / "r"),
        "android": (["android", person, "--config", cfg_topk, "--out", tmp / "a"], tmp / "a"),
        "flutter": (["flutter", person, *PERSON, "--threshold", "nan", "--out", tmp / "f"], tmp / "f"),
        "deploy": (["deploy", person, *PERSON, "--threshold", "5", "--out", tmp / "d"], tmp / "d"),
        "shitu deploy": (["shitu", "deploy", "--config", shitu_binary, "--gallery", tmp / "no-gallery", "--out",
                          tmp / "s"], tmp / "s"),
        "gallery build": (["gallery", "build", tmp / "adir", "--rec", person, "--config", cfg_cls, "--out",
                           tmp / "g"], tmp / "g"),
        "gallery add": (["gallery", "add", tmp / "no-gallery", tmp / "adir", "--rec", person, "--config", cfg_cls],
                        tmp / "no-gallery"),
        "gallery remove": (["gallery", "remove", tmp / "adir", "--label", "cola"], None),
        "zoo list": (["zoo", "list", "extra"], None),
        "zoo export": (["zoo", "export", "NoSuchNet", "--out", tmp / "z"], tmp / "z"),
    }


@pytest.mark.parametrize("command", subcommands())
def test_every_command_bad_input_one_line(person, tmp_path, command):
    """README: exit codes 0 success, 1 a check did not hold, 2 bad input or a tool failure; errors are one line."""
    readme = (REPO / "README.md").read_text()
    assert "Exit codes: 0 success, 1 a check did not hold, 2 bad input or a tool failure." in readme
    cases = bad_inputs(person, tmp_path)
    assert command in cases, f"`lite-tools {command}` has no bad-input case in bad_inputs()"
    assert sorted(cases) == sorted(subcommands()), "bad_inputs() has a case for a command the parser lacks"
    argv, must_not_exist = cases[command]
    proc = run_cli(*argv)
    refused(proc, code=2)
    assert proc.stderr.strip().splitlines()[-1].startswith("lite-tools: error: "), proc.stderr
    if must_not_exist is not None:
        assert not must_not_exist.exists()
    assert not list((tmp_path / "adir").iterdir())
    assert not proc.stdout

