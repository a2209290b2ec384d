"""Checked values from config files, and the record of where each one came from (`config show`)."""

from __future__ import annotations

import ast
import math
import operator

from ..errors import BadInput

_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


class Origins:
    """(field, origin) pairs, the first origin of a field kept unless a later step replaces it explicitly."""

    def __init__(self):
        self._items = {}

    def add(self, field: str, origin: str) -> None:
        self._items[field] = origin

    def pairs(self) -> tuple:
        return tuple(sorted(self._items.items()))


def fields(path, op: str, params, allowed: set) -> dict:
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise BadInput(f"{path}: {op} expects a mapping of fields, got {type(params).__name__}")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadInput(f"{path}: {op} has unknown field(s) {', '.join(map(str, unknown))} "
                       f"(known: {', '.join(sorted(allowed)) or 'none'})")
    return params


def _arithmetic(node):
    """The numeric expressions PaddleClas `eval`s for NormalizeImage.scale ('1.0/255.0'), without eval."""
    if isinstance(node, ast.Expression):
        return _arithmetic(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_arithmetic(node.operand)
    raise ValueError("not arithmetic")


def number(path, op, field, value) -> float:
    """A finite number, or a string of arithmetic on numbers ('1.0/255.0', '0.00392157')."""
    result = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = _arithmetic(ast.parse(value.strip(), mode="eval"))
        except (ValueError, SyntaxError, ZeroDivisionError, RecursionError):
            result = None
    if result is None or not math.isfinite(result):
        raise BadInput(f"{path}: {op}.{field} is not a finite number: {value!r}")
    return result


def integer(path, op, field, value, minimum=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{path}: {op}.{field} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise BadInput(f"{path}: {op}.{field} must be at least {minimum}, got {value}")
    return value


def triple(path, op, field, value) -> tuple:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise BadInput(f"{path}: {op}.{field} needs 3 values, got {value!r}")
    return tuple(number(path, op, field, v) for v in value)
