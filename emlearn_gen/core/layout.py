"""Table layouts: the one description of a family's packed tables.

A layout names a family's tables (with their C++ element types) and its
layout fields (counts, widths). From it come the tables and constants of the
generated header (``core/templates/layout.j2``) and the arguments of the host
runtime's kernel, which reads each table and field by name and refuses any it
does not know or that is missing; the runtime's C++ descriptor is compiled
against the generated constants. So packing, header, binding and kernel are
checked against this one description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

#: C++ element types of tables, with the numpy dtypes that hold them. "real"
#: is the model's arithmetic type: float, or emlearn_gen::real64 (double, or
#: binary64 in software where double has 32 bits).
_TABLE_TYPES = {
    "uint8_t": (np.dtype(np.uint8),),
    "int8_t": (np.dtype(np.int8),),
    "int16_t": (np.dtype(np.int16),),
    "uint32_t": (np.dtype(np.uint32),),
    "float": (np.dtype(np.float32),),
    "real": (np.dtype(np.float32), np.dtype(np.float64)),
}
_FIELD_TYPES = {"uint8_t": 2**8 - 1, "uint16_t": 2**16 - 1, "uint32_t": 2**32 - 1}


@dataclass(frozen=True)
class Table:
    name: str
    ctype: str  # a key of _TABLE_TYPES
    doc: str = ""

    def __post_init__(self) -> None:
        if self.ctype not in _TABLE_TYPES:
            raise ValueError(f"table {self.name}: unknown element type {self.ctype!r}")


@dataclass(frozen=True)
class Field:
    """A layout constant. ``length_of`` names a table whose length the field
    is: its element count, 0 for an empty table, although the header
    declares such a table with one element (C++ has no empty arrays), so
    that a kernel which tells "no table" by a zero length reads the same in
    the header as in the host runtime. Such fields exist only in the
    header; the host runtime takes the table's own length."""

    name: str
    ctype: str  # a key of _FIELD_TYPES
    length_of: Optional[str] = None

    def __post_init__(self) -> None:
        if self.ctype not in _FIELD_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.ctype!r}")


@dataclass(frozen=True)
class Layout:
    """Tables and fields of one family's runtime descriptor; ``kernel`` is
    the name its host kernel is registered under."""

    kernel: str
    tables: Tuple[Table, ...]
    fields: Tuple[Field, ...]

    def host_fields(self) -> Tuple[Field, ...]:
        return tuple(f for f in self.fields if f.length_of is None)

    def check(self, tables: Mapping[str, np.ndarray], fields: Mapping[str, int]) -> None:
        """Raises ValueError unless ``tables`` and ``fields`` are exactly
        this layout's, with the declared element types and ranges."""
        want_tables = {t.name for t in self.tables}
        want_fields = {f.name for f in self.host_fields()}
        if set(tables) != want_tables:
            raise ValueError(f"{self.kernel}: tables {sorted(tables)} do not match the layout {sorted(want_tables)}")
        if set(fields) != want_fields:
            raise ValueError(f"{self.kernel}: fields {sorted(fields)} do not match the layout {sorted(want_fields)}")
        for table in self.tables:
            array = tables[table.name]
            if array.ndim != 1 or array.dtype not in _TABLE_TYPES[table.ctype]:
                raise ValueError(f"{self.kernel}: table {table.name} must be a 1-D array of {table.ctype}")
        for field in self.host_fields():
            value = fields[field.name]
            if not 0 <= int(value) <= _FIELD_TYPES[field.ctype]:
                raise ValueError(f"{self.kernel}: field {field.name} = {value} does not fit {field.ctype}")

    def header_fields(self, tables: Mapping[str, np.ndarray], fields: Mapping[str, int]) -> Dict[str, int]:
        """Every field's value as the header states it."""
        out: Dict[str, int] = {}
        for field in self.fields:
            if field.length_of is None:
                out[field.name] = int(fields[field.name])
            else:
                out[field.name] = int(tables[field.length_of].size)
        return out


def header_length(array: np.ndarray) -> int:
    """Elements a header declares for a table: C++ has no empty arrays."""
    return max(1, int(array.size))


def table_ctype(table: Table, real: str) -> str:
    """The C++ element type of ``table`` in a model whose real type is ``real``."""
    if table.ctype != "real":
        return table.ctype
    return "float" if real == "float32" else "emlearn_gen::real64"


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only, C-contiguous copy's view: packed tables cannot be changed
    after the host runtime has validated its copy of them."""
    out = np.ascontiguousarray(array)
    if out is array:
        out = out.copy()
    out.flags.writeable = False
    return out
