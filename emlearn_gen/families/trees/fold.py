"""A Pipeline's per-feature steps folded into the trees' thresholds.

Scalers (StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler with or
without clip), SimpleImputer and the feature selectors act on each feature
alone, through a non-decreasing function g of it. A split "g(x) <= t" on a
transformed feature is then "x <= x*" on the raw one, where x* is the
largest float32 x for which scikit-learn's own arithmetic decides "left":
found by bisection over the float32 values, with g computed as scikit-learn
computes it (float64 operations in its order, then the trees' float32 cast
of their input). The folded trees decide
exactly as scikit-learn's pipeline does for every input that float32
represents, which is every input a device gets; the device then runs no
steps at all. An imputed NaN goes where its fill value goes.

Programs with other steps (normalizers, projections, binarizers), trees
with categorical splits and histogram gradient boosting (which compares
float64 features) are not folded: the steps run before the trees.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..transforms.ir import TransformProgram
from .ir import Tree, TreeEnsemble

#: Operations of the transforms IR that act on each feature alone.
FOLDABLE = frozenset({"center_divide", "multiply_add", "clip", "impute", "select"})

Op = Tuple[str, Tuple[float, ...]]
_INF_KEY = 0x7F800000  # the ordered key of +inf (and -inf is its negation)


def chains(program: TransformProgram) -> Optional[List[Tuple[int, Tuple[Op, ...]]]]:
    """For each output of the program: the input column it comes from and
    the operations applied to it, in order; None if some step mixes
    features or could decrease (a scale that is not positive)."""
    if any(step.op not in FOLDABLE for step in program.steps):
        return None
    out: List[Tuple[int, Tuple[Op, ...]]] = [(j, ()) for j in range(program.n_features)]
    for step in program.steps:
        if step.op == "select":
            out = [out[int(i)] for i in step.indices]
            continue
        n = step.n_in
        p = step.params
        new = []
        for i, (column, ops) in enumerate(out):
            if step.op in ("center_divide", "multiply_add"):
                args = (float(p[i]), float(p[n + i]))
                scale = args[1] if step.op == "center_divide" else args[0]
                if not scale > 0:
                    return None
            elif step.op == "clip":
                args = (float(p[0]), float(p[1]))
            else:
                args = (float(p[i]),)
            new.append((column, ops + ((step.op, args),)))
        out = new
    return out


def apply(ops: Sequence[Op], x: np.ndarray) -> np.ndarray:
    """scikit-learn's float64 arithmetic of the operations on x."""
    x = np.asarray(x, dtype=np.float64)
    for op, args in ops:
        if op == "center_divide":
            x = (x - args[0]) / args[1]
        elif op == "multiply_add":
            x = x * args[0] + args[1]
        elif op == "clip":
            x = np.clip(x, args[0], args[1])
        else:  # impute
            x = np.where(np.isnan(x), args[0], x)
    return x


def _floats(keys: np.ndarray) -> np.ndarray:
    """float32 values (as float64) of ordered keys: key k >= 0 is the float
    of bits k, k < 0 the negation of the float of bits -k."""
    magnitude = np.abs(keys).astype(np.uint32).view(np.float32).astype(np.float64)
    return np.where(keys < 0, -magnitude, magnitude)


def _left(ops: Sequence[Op], x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whether the split sends x left: g(x), cast to float32 as the trees
    cast their input, at most t."""
    return apply(ops, x).astype(np.float32).astype(np.float64) <= t


def raw_thresholds(ops: Sequence[Op], t: np.ndarray) -> Optional[np.ndarray]:
    """For each threshold t: the largest float32 x with g(x) <= t, or None
    if for some t every x or no x goes left (no threshold on x says that)."""
    t = np.asarray(t, dtype=np.float64)
    lo = np.full(t.shape, -_INF_KEY, dtype=np.int64)
    hi = np.full(t.shape, _INF_KEY, dtype=np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        if not np.all(_left(ops, _floats(lo), t)) or np.any(_left(ops, _floats(hi), t)):
            return None
        # Invariant: lo goes left, hi goes right.
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            left = _left(ops, _floats(mid), t)
            lo = np.where(left, mid, lo)
            hi = np.where(left, hi, mid)
    return _floats(lo)


def fold_trees(ir: TreeEnsemble, program: TransformProgram) -> Optional[TreeEnsemble]:
    """The ensemble on the program's inputs, deciding as the program followed
    by the ensemble does; None where that cannot be done exactly."""
    found = chains(program)
    if found is None or any(c is not None for c in ir.categories) or len(found) != ir.n_features:
        return None
    trees = []
    for tree in ir.trees:
        folded = _fold_tree(tree, found)
        if folded is None:
            return None
        trees.append(folded)
    return dataclasses.replace(ir, n_features=program.n_features, trees=tuple(trees), categories=())


def _fold_tree(tree: Tree, found: Sequence[Tuple[int, Tuple[Op, ...]]]) -> Optional[Tree]:
    inner = np.flatnonzero(~tree.is_leaf)
    feature = tree.feature.copy()
    threshold = tree.threshold.copy()
    missing_left = tree.missing_left.copy()
    for f in np.unique(tree.feature[inner]):
        nodes = inner[tree.feature[inner] == f]
        column, ops = found[int(f)]
        raw = raw_thresholds(ops, tree.threshold[nodes])
        if raw is None:
            return None
        feature[nodes] = column
        threshold[nodes] = raw
        # NaN reaches the split as NaN (missing_left decides), or imputed.
        with np.errstate(invalid="ignore"):
            filled = apply(ops, np.full(len(nodes), np.nan))
        if not np.all(np.isnan(filled)):
            missing_left[nodes] = _left(ops, np.full(len(nodes), np.nan), tree.threshold[nodes])
    return dataclasses.replace(tree, feature=feature, threshold=threshold, missing_left=missing_left)
