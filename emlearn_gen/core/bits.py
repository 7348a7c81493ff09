"""Fixed-width little-endian bit strings, as the runtime's read_bits() reads them."""

from __future__ import annotations

import numpy as np

#: Widest field one runtime read can return: a 64-bit word less 7 bits of
#: misalignment.
MAX_FIELD_BITS = 57


def bits_for(max_value: int) -> int:
    """Number of bits that hold every value in [0, max_value]."""
    if max_value < 0:
        raise ValueError("max_value must be non-negative")
    return int(max_value).bit_length()


def word_bits_for(field_bits: int) -> int:
    """Narrowest runtime word (32 or 64 bits) that reads a field of this width."""
    if field_bits + 7 <= 32:
        return 32
    if field_bits <= MAX_FIELD_BITS:
        return 64
    raise ValueError(f"a {field_bits}-bit table record exceeds the {MAX_FIELD_BITS}-bit maximum")


def packed_size(count: int, width: int, word_bytes: int) -> int:
    """Bytes of a bit string of ``count`` fields that the runtime reads with
    ``word_bytes``-byte loads: the data, plus what a load starting at the
    last field's first byte reaches past it (runtime packed_bytes())."""
    if count == 0:
        return 1  # nothing is read; C++ has no empty arrays
    return max((count * width + 7) // 8, (count - 1) * width // 8 + word_bytes)


def pack_fields(values: np.ndarray, width: int, word_bytes: int) -> np.ndarray:
    """Packs unsigned ``values`` of ``width`` bits each into bytes.

    Value ``i`` occupies bits ``[i*width, (i+1)*width)``, least significant
    bit first. Zero bytes follow up to packed_size(), so that a runtime word
    read starting at any field never runs past the table.
    """
    values = np.asarray(values, dtype=np.uint64)
    if width > 0 and values.size and int(values.max()) >> width:
        raise ValueError(f"a value does not fit in {width} bits")
    size = packed_size(values.size, width, word_bytes)
    out = np.zeros(size, dtype=np.uint8)
    if width == 0 or values.size == 0:
        return out
    shifts = np.arange(width, dtype=np.uint64)
    # A chunk of a multiple of 8 values ends on a byte boundary; chunking keeps
    # the bit matrix small for models of millions of nodes.
    step = 1 << 16
    offset = 0
    for start in range(0, values.size, step):
        part = values[start : start + step]
        bit_matrix = ((part[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.uint8)
        packed = np.packbits(bit_matrix.reshape(-1), bitorder="little")
        out[offset : offset + packed.size] = packed
        offset += packed.size
    return out


def unpack_fields(data: np.ndarray, width: int, count: int) -> np.ndarray:
    """Inverse of pack_fields (used by tests and tools, never by predict)."""
    if width == 0:
        return np.zeros(count, dtype=np.uint64)
    bits = np.unpackbits(np.asarray(data, dtype=np.uint8), bitorder="little")[: count * width]
    weights = np.uint64(1) << np.arange(width, dtype=np.uint64)
    return (bits.reshape(count, width).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
