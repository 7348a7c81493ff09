"""TreeEnsemble IR -> the bit-packed tables read by runtime/tree_ensemble.hpp.

See the layout comment at the top of tree_ensemble.hpp; this module is its
only writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from ..ir.trees import TreeEnsemble
from .bits import bits_for, pack_fields, word_bits_for

FLAG_LEFT_LEAF = 1
FLAG_RIGHT_LEAF = 2
FLAG_MISSING_LEFT = 4
FLAG_BITS = 3

FLOAT32_MAX = float(np.finfo(np.float32).max)

REAL_DTYPES = {"float32": np.float32, "float64": np.float64}


def round_down_to_float32(threshold: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold.

    For float32 inputs x, ``x <= t`` in float64 (what scikit-learn does) and
    ``x <= round_down_to_float32(t)`` in float32 always agree.
    """
    t = np.asarray(threshold, dtype=np.float64)
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    too_big = f.astype(np.float64) > t
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    return f


@dataclass(frozen=True)
class PackedForest:
    """Tables and layout of a packed tree ensemble (runtime ``forest<Real>``)."""

    nodes: np.ndarray  # uint8 bit string of n_nodes records, padded
    thresholds: np.ndarray  # float32
    leaves: np.ndarray  # real_dtype, shape (n_leaves, leaf_width)
    roots: np.ndarray  # uint8 bit string of n_trees fields, padded
    n_nodes: int
    n_trees: int
    n_features: int
    leaf_width: int
    feature_bits: int
    ref_bits: int
    thr_bits: int
    root_bits: int
    word_bits: int
    real: str  # "float32" or "float64"

    @property
    def record_bits(self) -> int:
        return self.feature_bits + FLAG_BITS + self.ref_bits + self.thr_bits

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.shape[0])

    @property
    def table_bytes(self) -> int:
        """Bytes of model tables, padding included."""
        return int(self.nodes.nbytes + self.thresholds.nbytes + self.leaves.nbytes + self.roots.nbytes)


def _leaf_key(row: np.ndarray) -> bytes:
    return row.tobytes()


class _LeafTable:
    """Distinct leaf rows, laid out so that sibling leaf pairs are adjacent."""

    def __init__(self) -> None:
        self.rows: List[np.ndarray] = []
        self._keys: List[bytes] = []
        self._first: Dict[bytes, int] = {}
        self._pairs: Dict[Tuple[bytes, bytes], int] = {}

    def _append(self, row: np.ndarray, key: bytes) -> int:
        self.rows.append(row)
        self._keys.append(key)
        self._first.setdefault(key, len(self.rows) - 1)
        return len(self.rows) - 1

    def pair(self, left: np.ndarray, right: np.ndarray) -> int:
        kl, kr = _leaf_key(left), _leaf_key(right)
        found = self._pairs.get((kl, kr))
        if found is not None:
            return found
        if self._keys and self._keys[-1] == kl:
            start = len(self.rows) - 1
        else:
            start = self._append(left, kl)
        self._append(right, kr)
        self._pairs[(kl, kr)] = start
        return start

    def single(self, row: np.ndarray) -> int:
        key = _leaf_key(row)
        found = self._first.get(key)
        return found if found is not None else self._append(row, key)


def pack_trees(ir: TreeEnsemble, real: str = "float32") -> PackedForest:
    """Packs a validated TreeEnsemble into runtime tables."""
    if real not in REAL_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(REAL_DTYPES)}, got {real!r}")
    real_dtype = REAL_DTYPES[real]

    features: List[int] = []
    flags: List[int] = []
    refs: List[int] = []
    thresholds: List[np.ndarray] = []
    roots: List[int] = []
    root_leaves: List[Tuple[int, int]] = []  # (tree index, leaf row) for trees that are one leaf
    leaves = _LeafTable()

    # Leaf references are resolved as they are met; right-child offsets once
    # the left subtree has been numbered.
    for tree_index, tree in enumerate(ir.trees):
        leaf_values = tree.value[tree.is_leaf]
        if np.any(np.abs(leaf_values) > FLOAT32_MAX):
            raise ValueError(
                f"tree {tree_index} has a leaf value of {np.abs(leaf_values).max():.3g}, beyond "
                "float32's range (3.4e38), so the header's float outputs cannot hold it: "
                "rescale the targets before fitting"
            )
        values = tree.value.astype(real_dtype)
        thr32 = round_down_to_float32(tree.threshold)
        left, right = tree.children_left, tree.children_right
        is_leaf = tree.is_leaf
        if is_leaf[0]:
            roots.append(-1)
            root_leaves.append((tree_index, leaves.single(values[0])))
            continue
        base = len(features)
        roots.append(base)
        # Pre-order numbering of inner nodes: node, left subtree, right subtree.
        order: List[int] = []
        stack = [0]
        while stack:
            node = stack.pop()
            order.append(node)
            if not is_leaf[right[node]]:
                stack.append(int(right[node]))
            if not is_leaf[left[node]]:
                stack.append(int(left[node]))
        position = {node: base + i for i, node in enumerate(order)}
        for node in order:
            l, r = int(left[node]), int(right[node])
            lleaf, rleaf = bool(is_leaf[l]), bool(is_leaf[r])
            flag = (FLAG_LEFT_LEAF if lleaf else 0) | (FLAG_RIGHT_LEAF if rleaf else 0)
            if tree.missing_left[node]:
                flag |= FLAG_MISSING_LEFT
            if lleaf and rleaf:
                ref = leaves.pair(values[l], values[r])
            elif lleaf:
                ref = leaves.single(values[l])
            elif rleaf:
                ref = leaves.single(values[r])
            else:
                ref = position[r] - position[node]
            features.append(int(tree.feature[node]))
            flags.append(flag)
            refs.append(ref)
        thresholds.append(thr32[order])

    n_nodes = len(features)
    for tree_index, leaf in root_leaves:
        roots[tree_index] = n_nodes + leaf

    feature_arr = np.asarray(features, dtype=np.uint64)
    flag_arr = np.asarray(flags, dtype=np.uint64)
    ref_arr = np.asarray(refs, dtype=np.uint64)
    thr_arr = np.concatenate(thresholds) if thresholds else np.zeros(0, dtype=np.float32)

    feature_bits = bits_for(ir.n_features - 1)
    ref_bits = bits_for(int(ref_arr.max()) if n_nodes else 0)
    base_bits = feature_bits + FLAG_BITS + ref_bits

    # Either every node carries its own float32 threshold, or it indexes a
    # table of the distinct ones (integer-valued features repeat thresholds a
    # lot); keep whichever is smaller.
    distinct, thr_index = np.unique(thr_arr, return_inverse=True)
    thr_bits_indexed = max(1, bits_for(len(distinct) - 1)) if n_nodes else 0
    inline_bytes = 4 * n_nodes + (n_nodes * base_bits + 7) // 8
    indexed_bytes = 4 * len(distinct) + (n_nodes * (base_bits + thr_bits_indexed) + 7) // 8
    if n_nodes and indexed_bytes < inline_bytes:
        thr_bits = thr_bits_indexed
        threshold_table = distinct.astype(np.float32)
        thr_field = thr_index.astype(np.uint64).reshape(-1)
    else:
        thr_bits = 0
        threshold_table = thr_arr.astype(np.float32)
        thr_field = np.zeros(n_nodes, dtype=np.uint64)

    record_bits = base_bits + thr_bits
    records = (
        feature_arr
        | (flag_arr << np.uint64(feature_bits))
        | (ref_arr << np.uint64(feature_bits + FLAG_BITS))
        | (thr_field << np.uint64(base_bits))
    )
    root_arr = np.asarray(roots, dtype=np.uint64)
    root_bits = bits_for(int(root_arr.max()))
    word_bits = max(word_bits_for(record_bits), word_bits_for(root_bits))
    if n_nodes * record_bits >= 2**32 or len(roots) * root_bits >= 2**32:
        raise ValueError("model tables exceed 512 MiB, the runtime's addressing limit")

    leaf_rows = np.asarray(leaves.rows, dtype=real_dtype).reshape(-1, ir.leaf_width)
    return PackedForest(
        nodes=pack_fields(records, record_bits),
        thresholds=np.ascontiguousarray(threshold_table, dtype=np.float32),
        leaves=np.ascontiguousarray(leaf_rows),
        roots=pack_fields(root_arr, root_bits),
        n_nodes=n_nodes,
        n_trees=len(ir.trees),
        n_features=ir.n_features,
        leaf_width=ir.leaf_width,
        feature_bits=feature_bits,
        ref_bits=ref_bits,
        thr_bits=thr_bits,
        root_bits=root_bits,
        word_bits=word_bits,
        real=real,
    )
