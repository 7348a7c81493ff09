"""C++ literals for generated code. Every value that reaches a template goes
through here, so that it reads back bit-exact and cannot inject code."""

from __future__ import annotations

from typing import Iterable, List

import numpy as np


def float_literal(value: float, real: str = "float32") -> str:
    """A C++ literal that reads back to exactly ``value`` as float or double.

    Uses the shortest round-trip decimal digits (hex floats are not C++11).
    """
    if real == "float32":
        v = np.float32(value)
        suffix = "f"
        digits = np.format_float_scientific(v, unique=True, trim="-")
    elif real == "float64":
        v = np.float64(value)
        suffix = ""
        digits = np.format_float_scientific(v, unique=True, trim="-")
    else:
        raise ValueError(f"unknown real type {real!r}")
    if np.isnan(v):
        raise ValueError("NaN cannot appear in a model table")
    if np.isinf(v):
        inf = "INFINITY" if real == "float32" else "HUGE_VAL"
        return f"-{inf}" if v < 0 else inf
    mantissa, _, exponent = digits.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    exp = int(exponent) if exponent else 0
    text = f"{mantissa}e{exp}" if exp else mantissa
    return text + suffix


def int_literal(value: int) -> str:
    """A C++ integer literal; int64 values get a suffix so they keep their type."""
    v = int(value)
    if -(2**31) < v < 2**31:
        return str(v)
    if v == -(2**63):
        # 9223372036854775808 fits no signed type, so -INT64_C(9223372036854775808)
        # does not compile; INT64_MIN is written as its own standard expression.
        return "(-INT64_C(9223372036854775807) - 1)"
    if -(2**63) < v < 2**63:
        return f"INT64_C({v})"
    raise ValueError(f"integer {v} does not fit in int64")


def string_literal(text: str) -> str:
    """A C++ narrow string literal of the UTF-8 bytes of ``text``.

    Everything but plain printable ASCII is written as an octal escape, so no
    label can end the literal, start a comment or form a trigraph.
    """
    if "\0" in text:
        # It would end the string in C: refuse rather than write a label
        # that reads back cut short (labels are checked at convert()).
        raise ValueError(f"string {text!r} contains a NUL character")
    out = ['"']
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if 0x20 <= byte < 0x7F and ch not in '"\\?':
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    out.append('"')
    return "".join(out)


def wrap(items: Iterable[str], per_line: int, indent: str = "    ") -> str:
    """Joins literals with commas, ``per_line`` to a line."""
    items = list(items)
    lines: List[str] = []
    for start in range(0, len(items), per_line):
        lines.append(indent + ", ".join(items[start : start + per_line]) + ",")
    return "\n".join(lines)


def byte_array_body(data: np.ndarray) -> str:
    return wrap((f"0x{b:02x}" for b in np.asarray(data, dtype=np.uint8).tolist()), 16)


def float64_entry(value: float) -> str:
    """A real64 table entry: the bit pattern (for software binary64) and the
    literal (for hardware double), through the runtime's EMLEARN_GEN_F64."""
    bits = int(np.float64(value).view(np.uint64))
    return f"EMLEARN_GEN_F64(0x{bits:016x}ull, {float_literal(value, 'float64')})"


def real_array_body(data: np.ndarray, real: str) -> str:
    flat = np.asarray(data).reshape(-1)
    if real == "float64":
        return wrap((float64_entry(v) for v in flat.tolist()), 2)
    return wrap((float_literal(v, real) for v in flat.tolist()), 6)
