"""Very small single trees as if/else code (model.hpp.j2).

The table kernel costs a fixed amount of code on every target: the record
decoding, the walk loop and, for float64 sums, the software double routines
of the leaf additions and of to_float. For a tree of a few splits that code
outweighs the tables many times over, and if/else code that compares the
features on the same thresholds takes less flash than tables and kernel
together. So a single tree of at most MAX_INLINE_NODES splits (by the type
of its sums), whose leaf rows fit as floats, is written out as code: the
walk of its packed records (the very records, thresholds and missing-value
flags the host runtime walks), each split one call of the runtime's
detail::split_left_by_bits. What each leaf gives is computed here as the kernels
compute it, so the header's results are the host's bit for bit:

* a tree's sums start at +0 and add its one leaf row, so the sums are the
  row (with -0 as +0), and the mean is the sum (divided by one tree);
* predict() of a classifier is the first largest sum (argmax_of_mean with
  one tree), a constant per leaf, returned by the code itself;
* predict_proba() and a regressor's predict() write the sums rounded to
  float (to_float), a row per leaf in a float table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from ...core.bits import unpack_fields
from .pack import FLAG_BITS, FLAG_LEFT_LEAF, FLAG_MISSING_LEFT, FLAG_RIGHT_LEAF, REAL_DTYPES, PackedForest

#: The most split nodes a tree written out as code may have, by the type of
#: its sums. A split written out costs 20 to 45 bytes of code (its compare
#: and branch, and the return of the leaf it adds; Cortex-M0, Cortex-M4F,
#: AVR), in tables 3 to 6 bytes and a leaf row; the table kernel beside the
#: tables costs 1 to 5 KB with float64 sums (software double on every one of
#: them) but only 130 to 450 bytes with float32 sums on the Cortex-M4F,
#: where code took more flash than tables and kernel from 6 splits on
#: (classifiers, every entry point linked) and from 8 (regressors). Measured
#: at -Os with emlearn_gen.testing.footprint; the benchmark's "Fixed code
#: per target" table shows the kernel's share.
MAX_INLINE_NODES = {"float64": 15, "float32": 5}

#: The least the table kernel costs beside its tables (float32 sums, on the
#: Cortex-M4F): the float rows of the leaves (InlineTree.outputs) may take at
#: most this much more than the leaf tables they stand in for, so that rows
#: of many classes do not outgrow what the kernel would cost.
MIN_KERNEL_BYTES = 128


@dataclass(frozen=True)
class Split:
    """A split node: left where x[feature] <= threshold (split_left_by_bits)."""

    feature: int
    threshold: np.float32
    missing_left: bool
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Leaf:
    """What the walk returns: a leaf row's index, or a label."""

    value: int


Node = Union[Split, Leaf]


@dataclass(frozen=True)
class InlineTree:
    """A tree written out as code: the walk to each leaf row (leaf_walk),
    the walk to each label (label_walk, classifiers; subtrees of one label
    folded into it) and what each leaf row writes (outputs, float32, shape
    (n_leaves, width))."""

    leaf_walk: Node
    label_walk: Optional[Node]
    outputs: np.ndarray

    @property
    def width(self) -> int:
        return int(self.outputs.shape[1])


def inline_tree(packed: PackedForest, task: str) -> Optional[InlineTree]:
    """The code form of ``packed`` if it is a single, very small tree of a
    classifier or regressor (no boosting, outlier scores or categorical
    splits) whose leaf rows as floats take little more than its leaf
    tables; None otherwise."""
    plain = (
        packed.n_trees == 1 and packed.boost == 0 and packed.float_constants.size == 0
        and packed.cat_values.size == 0 and packed.tree_class_bits == 0
    )
    if not plain or packed.n_nodes > MAX_INLINE_NODES[packed.real] or task not in ("classifier", "regressor"):
        return None
    sums = _leaf_sums(packed)
    outputs = sums.astype(np.float32)
    if outputs.nbytes > _leaf_table_bytes(packed) + MIN_KERNEL_BYTES:
        return None
    walk = _walk(packed)
    label_walk = _fold(_relabel(walk, np.argmax(sums, axis=1))) if task == "classifier" else None
    return InlineTree(leaf_walk=walk, label_walk=label_walk, outputs=outputs)


def _leaf_table_bytes(packed: PackedForest) -> int:
    """Bytes of the tables that hold the leaf rows."""
    codes = packed.leaf_codes.nbytes if packed.value_bits else 0
    votes = packed.leaf_classes.nbytes if packed.leaf_class_bits else 0
    return int(packed.leaf_values.nbytes + codes + votes)


def _leaf_sums(packed: PackedForest) -> np.ndarray:
    """Each leaf row as the sums of a one-tree model hold it: +0 plus the
    row, in the model's real type (class votes: one-hot rows)."""
    real = REAL_DTYPES[packed.real]
    if packed.leaf_class_bits:
        classes = unpack_fields(packed.leaf_classes, packed.leaf_class_bits, packed.n_leaves).astype(np.int64)
        rows = np.zeros((packed.n_leaves, packed.leaf_width), dtype=real)
        rows[np.arange(packed.n_leaves), classes] = 1
    else:
        rows = np.asarray(packed.leaves, dtype=real).reshape(packed.n_leaves, packed.leaf_width)
    return real(0) + rows


def _walk(packed: PackedForest) -> Node:
    """The tree of the packed records (layout: tree_ensemble.hpp)."""
    root = int(unpack_fields(packed.roots, packed.root_bits, 1)[0])
    if root >= packed.n_nodes:
        return Leaf(root - packed.n_nodes)
    records = [int(r) for r in packed.records()]
    feature_mask = (1 << packed.feature_bits) - 1
    ref_shift = packed.feature_bits + FLAG_BITS
    ref_mask = (1 << packed.ref_bits) - 1
    thr_shift = ref_shift + packed.ref_bits

    def node(index: int) -> Node:
        record = records[index]
        flags = (record >> packed.feature_bits) & 7
        ref = (record >> ref_shift) & ref_mask
        thr = record >> thr_shift if packed.thr_bits else index
        left_leaf, right_leaf = bool(flags & FLAG_LEFT_LEAF), bool(flags & FLAG_RIGHT_LEAF)
        if left_leaf and right_leaf:
            left: Node = Leaf(ref)
            right: Node = Leaf(ref + 1)
        elif left_leaf:
            left, right = Leaf(ref), node(index + 1)
        elif right_leaf:
            left, right = node(index + 1), Leaf(ref)
        else:
            left, right = node(index + 1), node(index + ref)
        return Split(
            feature=record & feature_mask,
            threshold=np.float32(packed.thresholds[thr]),
            missing_left=bool(flags & FLAG_MISSING_LEFT),
            left=left,
            right=right,
        )

    return node(root)


def _relabel(node: Node, labels: np.ndarray) -> Node:
    """``node`` with each leaf row replaced by its label."""
    if isinstance(node, Leaf):
        return Leaf(int(labels[node.value]))
    return Split(node.feature, node.threshold, node.missing_left, _relabel(node.left, labels),
                 _relabel(node.right, labels))


def _fold(node: Node) -> Node:
    """``node`` with every split whose two sides give one same label
    replaced by that label: every input reaching it gets it."""
    if isinstance(node, Leaf):
        return node
    left, right = _fold(node.left), _fold(node.right)
    if isinstance(left, Leaf) and left == right:
        return left
    return Split(node.feature, node.threshold, node.missing_left, left, right)
