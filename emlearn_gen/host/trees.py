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
        leaves=packed.leaves.reshape(-1),
        roots=packed.roots,
        n_nodes=packed.n_nodes,
        n_trees=packed.n_trees,
        n_features=packed.n_features,
        leaf_width=packed.leaf_width,
        feature_bits=packed.feature_bits,
        ref_bits=packed.ref_bits,
        thr_bits=packed.thr_bits,
        root_bits=packed.root_bits,
        word_bits=packed.word_bits,
    )


class HostTrees:
    """predict / predict_proba of a packed tree ensemble, as the header computes them."""

    def __init__(self, packed: PackedForest) -> None:
        self._forest = host_forest(packed)

    def mean(self, X32: np.ndarray) -> np.ndarray:
        """The header's float outputs (predict_proba or regressor predict)."""
        return np.asarray(self._forest.mean(X32)).astype(np.float32)

    def predict_index(self, X32: np.ndarray) -> np.ndarray:
        """What the header's classifier predict() returns: an index into classes."""
        return np.asarray(self._forest.argmax(X32))

    def apply(self, X32: np.ndarray) -> np.ndarray:
        return np.asarray(self._forest.apply(X32))
