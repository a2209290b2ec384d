"""The compatibility pass on the wire bytes (lite_tools.model.wire_compat, what `opt` stages its optimizer's job
from) against the protobuf pass (lite_tools.model.compat) it stands in for: byte for byte the same program and
the same records, on real zoo exports and on programs built with Paddle's own framework_pb2 for the edge cases."""

from __future__ import annotations

import pytest

from lite_tools.model import compat, files, program as programs, wire_compat
from lite_tools.model.program import LOD_TENSOR, Program


def both(data: bytes, path="x.pdmodel"):
    """(wire bytes, wire records, protobuf bytes, protobuf records) of one serialized program."""
    desc = programs.framework_pb2().ProgramDesc()
    desc.ParseFromString(data)
    program = Program(desc, path)
    records = compat.restore_xshape(program)
    wire, wire_records = wire_compat.restore_xshape(data)
    return wire, wire_records, program.serialize(), records


@pytest.mark.parametrize("name", ["PULC_person_exists", "SSD_MobileNetV1_300", "SSD_MobileNetV1_300_ppdet"])
def test_zoo_exports_patch_the_same(zoo_dir, name):
    data = files.locate(zoo_dir(name)).model_file.read_bytes()
    wire, wire_records, reference, records = both(data)
    assert records, "the export has no op the pass patches: the comparison would prove nothing"
    assert wire_records == records
    assert wire == reference


def _var(block, name, dims, dtype=5):
    v = block.vars.add()
    v.name = name
    v.type.type = LOD_TENSOR
    v.type.lod_tensor.tensor.data_type = dtype
    v.type.lod_tensor.tensor.dims.extend(dims)
    return v


def _op(block, kind, x, out, xshape=None):
    op = block.ops.add()
    op.type = kind
    slot = op.inputs.add()
    slot.parameter, slot.arguments[:] = "X", [x]
    slot = op.outputs.add()
    slot.parameter, slot.arguments[:] = "Out", [out]
    if xshape is not None:
        slot = op.outputs.add()
        slot.parameter, slot.arguments[:] = "XShape", xshape
    attr = op.attrs.add()
    attr.name, attr.type, attr.i = "axis", 0, 1
    return op


def test_edge_cases_patch_the_same():
    """An empty XShape slot, one already filled, a name taken (suffixes), an X declared in no block, a negative
    dim (ten-byte varint), an int64 X, a second block, and ops the pass never touches."""
    desc = programs.framework_pb2().ProgramDesc()
    b0 = desc.blocks.add()
    b0.idx, b0.parent_idx = 0, -1
    _var(b0, "x", [-1, 3, 224, 224])
    _var(b0, "x.xshape_restored", [1])
    _var(b0, "ids", [-1, 7], dtype=3)
    _op(b0, "reshape2", "x", "r")
    _op(b0, "transpose2", "x", "t", xshape=[])
    _op(b0, "squeeze2", "x", "s", xshape=["already"])
    _op(b0, "relu", "x", "y")
    _op(b0, "unsqueeze2", "nowhere", "u")
    _op(b0, "flatten_contiguous_range", "ids", "f")
    b1 = desc.blocks.add()
    b1.idx, b1.parent_idx = 1, 0
    _op(b1, "reshape2", "x", "r1")
    desc.version.version = 0
    wire, wire_records, reference, records = both(desc.SerializeToString())
    assert [r["output"] for r in records] == ["r", "t", "u", "f", "r1"]
    assert wire_records == records
    assert wire == reference


def test_a_program_without_such_ops_is_returned_as_it_is():
    desc = programs.framework_pb2().ProgramDesc()
    block = desc.blocks.add()
    block.idx, block.parent_idx = 0, -1
    _var(block, "x", [1, 3])
    _op(block, "relu", "x", "y")
    data = desc.SerializeToString()
    assert wire_compat.restore_xshape(data) == (data, [])


def test_bytes_beyond_the_wire_pass_are_refused_not_guessed():
    """A wire type protobuf retired (groups) is a WireError, which makes opt fall back to the protobuf pass."""
    with pytest.raises(wire_compat.WireError):
        wire_compat.restore_xshape(b"\x0b" + b"reshape2")


def test_opt_falls_back_when_the_wire_pass_disagrees(zoo_dir, tmp_path, monkeypatch):
    """A wire pass that patched nothing (a fault put in on purpose) disagrees with the protobuf pass's records:
    opt stops the children it fed and runs the ordinary way, and its .nb is the one a normal run makes."""
    from lite_tools import opt

    model = zoo_dir("PULC_person_exists")
    options = opt.OptOptions(targets=("x86",), name="m", use_cache=False)  # no cache: the early path
    normal = opt.optimize(model, tmp_path / "normal", options)
    monkeypatch.setattr(wire_compat, "restore_xshape", lambda data: (data, []))
    fell_back = opt.optimize(model, tmp_path / "fell_back", options)
    assert normal["compat_fixes"] and fell_back["compat_fixes"] == normal["compat_fixes"]
    # x86: Lite's optimizer segfaults on the unpatched program, so a run fed the faulty bytes could not pass
    assert fell_back["targets"]["x86"]["sha256"] == normal["targets"]["x86"]["sha256"]
    assert not [p for p in (tmp_path / "fell_back").iterdir() if p.name.startswith(".lite-tools")]
