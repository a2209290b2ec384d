"""compat.restore_xshape done on the protobuf wire bytes, without importing google.protobuf.

Why: `opt` hands its optimizer child the patched program as early as it can, since the child then sits idle until
it gets it. Importing protobuf and Paddle's framework_pb2 costs ~30 ms, all of it on that critical path (the
child waited 34-63 ms for SSD here). This pass makes the same edit on the bytes in ~2 ms; the full parse (for the
checks and the manifest) then runs while the optimizer does. opt compares the two passes' records and falls back
to the protobuf pass when they differ, and tests hold the two programs equal on every zoo model.

Only what the pass needs is decoded (ProgramDesc.blocks -> BlockDesc.vars / .ops -> OpDesc.type / .inputs /
.outputs -> VarDesc.name / .type.lod_tensor.tensor); every other byte is copied as it is. New fields are appended
where protobuf itself would write them, so a canonical file comes out byte for byte as the protobuf pass writes it.
"""

from __future__ import annotations

from .compat import XSHAPE_OPS
from .program import LOD_TENSOR


class WireError(ValueError):
    """Bytes this reader does not handle: the caller uses the protobuf pass instead."""


def _varint(data: bytes, pos: int) -> tuple:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("bad varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 as protobuf writes it: negatives take ten bytes
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _scan(data: bytes, start: int = 0, end: int | None = None):
    """(field number, wire type, value, field start, field end) for each field of the message in data[start:end].
    For length-delimited fields `value` is the payload's (start, end), not a copy: most are skipped unread."""
    pos, end = start, len(data) if end is None else end
    while pos < end:
        first = pos
        b = data[pos]
        if b < 0x80:  # one-byte keys: every field number below 16
            key, pos = b, pos + 1
        else:
            key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 2:
            b = data[pos] if pos < end else 0x80
            if b < 0x80:
                n, pos = b, pos + 1
            else:
                n, pos = _varint(data, pos)
            value, pos = (pos, pos + n), pos + n
        elif wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 5:
            value, pos = None, pos + 4
        else:
            raise WireError(f"wire type {wire}")
        if pos > end:
            raise WireError("truncated")
        yield number, wire, value, first, pos


def _fields(data: bytes):
    """(field number, wire type, value, raw bytes of the whole field) for each field of one message (copies)."""
    for number, wire, value, first, last in _scan(data):
        if wire == 2:
            value = data[value[0]:value[1]]
        yield number, wire, value, data[first:last]


def _ld(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _str(data: bytes) -> str:
    return data.decode("utf-8")


def _slots(raw_vars) -> list:
    """OpDesc.Var entries as [(parameter, [arguments])]."""
    slots = []
    for raw in raw_vars:
        parameter, arguments = "", []
        for number, wire, value, _ in _fields(raw):
            if number == 1 and wire == 2:
                parameter = _str(value)
            elif number == 2 and wire == 2:
                arguments.append(_str(value))
        slots.append((parameter, arguments))
    return slots


def _tensor_of(var_raw: bytes) -> tuple:
    """(data_type, dims) of a VarDesc's lod_tensor.tensor; protobuf's defaults (0, []) when it has none."""
    for number, wire, value, _ in _fields(var_raw):
        if number == 2 and wire == 2:  # type: VarType
            for n2, w2, v2, _ in _fields(value):
                if n2 == 3 and w2 == 2:  # lod_tensor
                    for n3, w3, v3, _ in _fields(v2):
                        if n3 == 1 and w3 == 2:  # tensor: TensorDesc
                            dtype, dims = 0, []
                            for n4, w4, v4, _ in _fields(v3):
                                if n4 == 1 and w4 == 0:
                                    dtype = v4
                                elif n4 == 2 and w4 == 0:
                                    dims.append(v4 - (1 << 64) if v4 >= 1 << 63 else v4)
                                elif n4 == 2:
                                    raise WireError("packed dims")
                            return dtype, dims
    return 0, []


def _new_var(name: str, dtype: int, dims: list) -> bytes:
    """VarDesc{name, type {type: LOD_TENSOR, lod_tensor {tensor {data_type, dims}}}, persistable: false}, in the
    field order protobuf itself writes."""
    tensor = _encode_varint(1 << 3) + _encode_varint(dtype) + b"".join(
        _encode_varint(2 << 3) + _encode_varint(d) for d in dims)
    var_type = _encode_varint(1 << 3) + _encode_varint(LOD_TENSOR) + _ld(3, _ld(1, tensor))
    return _ld(1, name.encode("utf-8")) + _ld(2, var_type) + _encode_varint(3 << 3) + _encode_varint(0)


def _type_of(data: bytes, start: int, end: int) -> str:
    for number, wire, value, _, _ in _scan(data, start, end):
        if number == 3 and wire == 2:
            return data[value[0]:value[1]].decode("utf-8")
    return ""


def _name_of(data: bytes, start: int, end: int) -> str:
    for number, wire, value, _, _ in _scan(data, start, end):
        if number == 1 and wire == 2:
            return data[value[0]:value[1]].decode("utf-8")
    return ""


def restore_xshape(data: bytes) -> tuple:
    """(patched program bytes, records as compat.restore_xshape returns them) for a serialized ProgramDesc."""
    wanted = tuple(t.encode() for t in XSHAPE_OPS)
    if not any(t in data for t in wanted):
        return data, []  # no op the pass touches: the bytes as they are
    blocks = list(_scan(data))
    var_spans = []  # per block: [(name, (start, end))]
    for number, wire, value, _, _ in blocks:
        spans = []
        if number == 1 and wire == 2:
            for n, w, v, _, _ in _scan(data, *value):
                if n == 3 and w == 2:
                    spans.append((_name_of(data, *v), v))
        var_spans.append(spans)
    all_vars = {}  # name -> raw VarDesc, first block first (Program.var's lookup order)
    for spans in var_spans:
        for name, (a, b) in spans:
            all_vars.setdefault(name, (a, b))
    records, out = [], bytearray()
    for (number, wire, value, first, last), spans in zip(blocks, var_spans):
        if not (number == 1 and wire == 2):
            out += data[first:last]
            continue
        declared = {name for name, _ in spans}
        block, new_vars, changed, after_vars = [], [], False, None  # chunks of the new BlockDesc
        for n, w, v, f0, f1 in _scan(data, *value):
            if n <= 3:  # idx, parent_idx, vars: the new vars go after them, before the ops
                after_vars = len(block) + 1
            if not (n == 4 and w == 2) or _type_of(data, *v) not in XSHAPE_OPS:
                block.append(data[f0:f1])
                continue
            op_bytes = data[v[0]:v[1]]
            op_fields = list(_fields(op_bytes))
            op_type = next(_str(v2) for n2, w2, v2, _ in op_fields if n2 == 3 and w2 == 2)
            outputs = _slots([v2 for n2, w2, v2, _ in op_fields if n2 == 2 and w2 == 2])
            if any(p == "XShape" and args for p, args in outputs):
                block.append(data[f0:f1])
                continue
            inputs = _slots([v2 for n2, w2, v2, _ in op_fields if n2 == 1 and w2 == 2])
            x_name = next(args[0] for p, args in inputs if p == "X")
            name, suffix = f"{x_name}.xshape_restored", 0
            while name in declared:
                suffix += 1
                name = f"{x_name}.xshape_restored_{suffix}"
            if x_name in all_vars:
                a, b = all_vars[x_name]
                dtype, dims = _tensor_of(data[a:b])
            else:
                dtype, dims = 5, []  # as compat does for an undeclared X
            new_vars.append(_new_var(name, dtype, [0] + dims))
            declared.add(name)
            op, placed, after_outputs = [], False, None
            for n2, w2, v2, raw2 in op_fields:
                if n2 <= 2:
                    after_outputs = len(op) + 1
                if not placed and n2 == 2 and w2 == 2 and _slots([v2])[0] == ("XShape", []):
                    op.append(_ld(2, v2 + _ld(2, name.encode("utf-8"))))  # the empty slot gets the argument
                    placed = True
                else:
                    op.append(raw2)
            if not placed:  # a new last outputs slot, before `type`, as protobuf writes fields in number order
                at = 0 if after_outputs is None else after_outputs
                op.insert(at, _ld(2, _ld(1, b"XShape") + _ld(2, name.encode("utf-8"))))
            block.append(_ld(4, b"".join(op)))
            changed = True
            records.append({"op": op_type, "output": next(args[0] for p, args in outputs if p == "Out")})
        if not changed:
            out += data[first:last]
            continue
        # right after the block's last var: where protobuf, writing fields in number order, puts vars.add()'s
        at = 0 if after_vars is None else after_vars
        block[at:at] = [_ld(3, var) for var in new_vars]
        out += _ld(1, b"".join(block))
    return bytes(out), records
