"""Parse and check a Paddle inference program (`.pdmodel`) and its combined params (`.pdiparams`).

The `.pdmodel` is a serialized `ProgramDesc` protobuf; we load Paddle's generated `framework_pb2` module by path,
so reading a model needs only protobuf, not a full `import paddle` (1 s, and it must not be needed for --help).

The `.pdiparams` written by `paddle.jit.save` is every persistable variable, sorted by name, each as:
u32 LoD-tensor version, u64 LoD level (then that many u64-sized blobs), u32 tensor version, i32 size of a
`VarType.TensorDesc` protobuf, the TensorDesc (data type, dims), then the raw little-endian data.
Walking it against the program tells a truncated file or a params file of another model apart from a good one.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import mmap
import os
import struct
from pathlib import Path

from ..errors import BadInput

# VarType.Type values from framework.proto, and their element sizes.
DTYPES = {0: ("bool", 1), 1: ("int16", 2), 2: ("int32", 4), 3: ("int64", 8), 4: ("float16", 2),
          5: ("float32", 4), 6: ("float64", 8), 20: ("uint8", 1), 21: ("int8", 1), 22: ("bfloat16", 2)}
LOD_TENSOR, FEED_MINIBATCH, FETCH_LIST = 7, 9, 10


@functools.lru_cache(maxsize=1)
def framework_pb2():
    """Paddle's generated protobuf module for ProgramDesc, loaded without importing paddle."""
    spec = importlib.util.find_spec("paddle")
    if spec is None or not spec.submodule_search_locations:
        raise BadInput("paddlepaddle is not installed; run scripts/setup.sh")
    path = Path(list(spec.submodule_search_locations)[0]) / "base" / "proto" / "framework_pb2.py"
    mod_spec = importlib.util.spec_from_file_location("_lite_tools_framework_pb2", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


class TensorInfo(collections.namedtuple("TensorInfo", "name shape dtype")):
    __slots__ = ()  # a namedtuple, not a dataclass: `opt` imports this, and dataclasses costs ~8 ms to import

    def to_json(self):
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


class Program:
    """A parsed ProgramDesc with the facts the tools need."""

    def __init__(self, desc, path: Path):
        self.desc = desc  # framework_pb2.ProgramDesc
        self.path = path

    @property
    def block(self):
        return self.desc.blocks[0]

    def var(self, name: str):
        for block in self.desc.blocks:
            for v in block.vars:
                if v.name == name:
                    return v
        return None

    def _tensor_info(self, name: str) -> TensorInfo:
        v = self.var(name)
        t = v.type.lod_tensor.tensor
        return TensorInfo(name, tuple(int(d) for d in t.dims), DTYPES.get(t.data_type, ("?", 0))[0])

    def _io(self, op_type: str, slot: str, io: str) -> list:
        found = []
        for op in self.block.ops:
            if op.type != op_type:
                continue
            col = next((a.i for a in op.attrs if a.name == "col"), len(found))
            args = next(x.arguments for x in getattr(op, io) if x.parameter == slot)
            found.append((col, args[0]))
        return [self._tensor_info(name) for _, name in sorted(found)]

    @property
    def inputs(self) -> list:
        return self._io("feed", "Out", "outputs")

    @property
    def outputs(self) -> list:
        return self._io("fetch", "X", "inputs")

    def op_types(self) -> list:
        return [op.type for block in self.desc.blocks for op in block.ops]

    def op_histogram(self) -> dict:
        counts = collections.Counter(t for t in self.op_types() if t not in ("feed", "fetch"))
        return dict(sorted(counts.items()))

    def persistable_vars(self) -> list:
        """Variables stored in the params file, in the order `save_combine` writes them (sorted by name)."""
        seen = {}
        for block in self.desc.blocks:
            for v in block.vars:
                if v.persistable and v.type.type not in (FEED_MINIBATCH, FETCH_LIST) and v.name not in seen:
                    seen[v.name] = v
        return [seen[k] for k in sorted(seen)]

    def serialize(self) -> bytes:
        return self.desc.SerializeToString()


def load_program(path: Path) -> Program:
    """Parse `path`; a file that is not a complete inference program is a one-line BadInput."""
    data = Path(path).read_bytes()
    if not data:
        raise BadInput(f"{path}: is empty, not a Paddle program")
    if data.lstrip()[:1] in (b"{", b"["):
        raise BadInput(f"{path}: is JSON (a PIR program from Paddle 3?), not a ProgramDesc; re-export with "
                       "FLAGS_enable_pir_api=0")
    desc = framework_pb2().ProgramDesc()
    try:
        desc.ParseFromString(data)
    except Exception:
        raise BadInput(f"{path}: is not a Paddle program (corrupt or truncated .pdmodel)") from None
    program = Program(desc, Path(path))
    _check_complete(program)
    return program


def _check_complete(program: Program) -> None:
    path = program.path
    if not program.desc.blocks or not program.block.ops:
        raise BadInput(f"{path}: holds no operators (corrupt or truncated .pdmodel)")
    types = program.op_types()
    if "feed" not in types or "fetch" not in types:
        raise BadInput(f"{path}: has no feed/fetch operators: truncated, or a training program rather than "
                       "an inference export (use paddle.jit.save or PaddleClas tools/export_model.py)")
    names = {v.name for block in program.desc.blocks for v in block.vars}
    for block in program.desc.blocks:
        for op in block.ops:
            if not op.type:
                raise BadInput(f"{path}: has an operator without a type (corrupt .pdmodel)")
            for slot in list(op.inputs) + list(op.outputs):
                for arg in slot.arguments:
                    if arg not in names and arg not in ("feed", "fetch"):
                        raise BadInput(f"{path}: operator {op.type} uses undeclared variable {arg!r} "
                                       "(corrupt .pdmodel)")


def check_params(program: Program, param_file: Path) -> dict:
    """Walk `param_file` against the program's persistable variables; return {count, numel, bytes}."""
    return walk_params(program, param_file)[0]


def walk_params(program: Program, param_file: Path, data: bytes | None = None) -> tuple:
    """({count, numel, bytes}, {var name: (data offset, numel, dtype name)}) for a params file of `program`.

    Without `data` the file is mapped, not read: the walk touches only the tensor headers, so checking 40 MB of
    params costs a millisecond instead of reading them all.
    """
    if data is not None:
        return _walk_params(program, param_file, data)
    with open(param_file, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return _walk_params(program, param_file, b"")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return _walk_params(program, param_file, mapped)


def _walk_params(program: Program, param_file: Path, data) -> tuple:
    pb2 = framework_pb2()
    pos, numel_total = 0, 0
    variables = program.persistable_vars()
    layout = {}

    def take(fmt: str):
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(data):
            raise BadInput(f"{param_file}: ends early (truncated .pdiparams)")
        value = struct.unpack_from(fmt, data, pos)
        pos += size
        return value[0]

    for v in variables:
        take("<I")
        for _ in range(take("<Q")):
            pos += take("<Q")
        take("<I")
        desc_size = take("<i")
        if desc_size < 0 or pos + desc_size > len(data):
            raise BadInput(f"{param_file}: ends early or is corrupt at {v.name} (truncated .pdiparams)")
        tdesc = pb2.VarType.TensorDesc()
        try:
            tdesc.ParseFromString(data[pos:pos + desc_size])
        except Exception:
            raise BadInput(f"{param_file}: is corrupt at {v.name} (not the params of this model?)") from None
        pos += desc_size
        want = v.type.lod_tensor.tensor
        if tuple(tdesc.dims) != tuple(want.dims) or tdesc.data_type != want.data_type:
            raise BadInput(f"{param_file}: does not match {program.path.name}: {v.name} is "
                           f"{list(tdesc.dims)} in the params but {list(want.dims)} in the model "
                           "(the two files come from different exports)")
        numel = 1
        for d in tdesc.dims:
            numel *= int(d)
        nbytes = numel * DTYPES.get(tdesc.data_type, ("?", 4))[1]
        if pos + nbytes > len(data):
            raise BadInput(f"{param_file}: ends early inside {v.name} (truncated .pdiparams)")
        layout[v.name] = (pos, numel, DTYPES.get(tdesc.data_type, ("?", 4))[0])
        pos += nbytes
        numel_total += numel
    if pos != len(data):
        raise BadInput(f"{param_file}: has {len(data) - pos} bytes more than {program.path.name} declares "
                       "(the two files come from different exports)")
    return {"count": len(variables), "numel": numel_total, "bytes": len(data)}, layout
