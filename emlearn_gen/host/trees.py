"""Host-side tree ensembles."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _runtime
from ..packing.trees import PackedForest


def host_forest(packed: PackedForest) -> Any:
    """The runtime forest over ``packed``'s tables (validated by the runtime)."""
    cls = _runtime.ForestFloat32 if packed.real == "float32" else _runtime.ForestFloat64
    return cls(
        nodes=packed.nodes,
        thresholds=packed.thresholds,
        leaves=packed.leaf_values,
        leaf_codes=packed.leaf_codes,
        roots=packed.roots,
        n_nodes=packed.n_nodes,
        n_leaves=packed.n_leaves,
        n_trees=packed.n_trees,
        n_features=packed.n_features,
        leaf_width=packed.leaf_width,
        feature_bits=packed.feature_bits,
        ref_bits=packed.ref_bits,
        thr_bits=packed.thr_bits,
        root_bits=packed.root_bits,
        value_bits=packed.value_bits,
        word_bits=packed.word_bits,
    )


class HostTrees:
    """The entry points of a generated tree-ensemble header, run on the host."""

    def __init__(self, packed: PackedForest, classifier: bool) -> None:
        self._forest = host_forest(packed)
        self._classifier = classifier

    def run(self, method: str, X32: np.ndarray) -> np.ndarray:
        if method == "predict" and self._classifier:
            return np.asarray(self._forest.argmax(X32), dtype=np.int32)
        if method == "predict" or (method == "predict_proba" and self._classifier):
            # The header narrows double sums to float the same way.
            return np.asarray(self._forest.mean(X32)).astype(np.float32)
        raise AttributeError(f"tree ensembles have no {method}")

    def apply(self, X32: np.ndarray) -> np.ndarray:
        """Leaf row reached in each tree, shape (n_samples, n_trees)."""
        return np.asarray(self._forest.apply(X32))
