"""IR of multi-layer perceptrons: a chain of dense layers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Tuple

import numpy as np

#: Activation codes of the runtime (dense.hpp, dense_activation), by
#: scikit-learn's names.
ACTIVATIONS = {"identity": 0, "relu": 1, "logistic": 2, "tanh": 3, "softmax": 4}
#: scikit-learn's hidden activations (MLP*.activation).
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


@dataclass(frozen=True)
class MLPModel:
    """``coefs[l]`` (units of layer l + 1, units of layer l) and
    ``intercepts[l]``, float64: scikit-learn's coefs_[l] transposed, so each
    row is one unit's weights. ``output_activation`` is scikit-learn's
    out_activation_: "identity" (regressors), "logistic" (binary and
    multi-label classifiers, ``multilabel`` telling them apart) or "softmax"
    (multi-class). ``vector``: scikit-learn returns 1-D predictions."""

    task: Literal["classifier", "regressor"]
    coefs: Tuple[np.ndarray, ...]
    intercepts: Tuple[np.ndarray, ...]
    hidden_activation: str
    output_activation: str
    vector: bool = False
    multilabel: bool = False
    classes: Optional[np.ndarray] = None

    @property
    def n_features(self) -> int:
        return int(self.coefs[0].shape[1])

    @property
    def n_layers(self) -> int:
        return len(self.coefs)

    @property
    def n_outputs(self) -> int:
        return int(self.coefs[-1].shape[0])

    @property
    def sizes(self) -> Tuple[int, ...]:
        """Widths: n_features, each hidden layer, n_outputs."""
        return (self.n_features,) + tuple(int(c.shape[0]) for c in self.coefs)

    @property
    def max_width(self) -> int:
        """The widest hidden or output layer: the floats of each scratch buffer."""
        return max(self.sizes[1:])

    @property
    def n_classes(self) -> int:
        return 0 if self.classes is None else len(self.classes)

    def validate(self) -> None:
        if self.task not in ("classifier", "regressor"):
            raise ValueError(f"unknown task {self.task!r}")
        if not self.coefs or len(self.coefs) != len(self.intercepts):
            raise ValueError("an MLP needs one intercept vector per weight matrix, and at least one layer")
        width = self.coefs[0].shape[1] if self.coefs[0].ndim == 2 else 0
        for layer, (w, b) in enumerate(zip(self.coefs, self.intercepts)):
            if w.ndim != 2 or w.shape[0] < 1 or w.shape[1] != width or width < 1:
                raise ValueError(f"layer {layer}: weights of shape {w.shape} do not follow a layer of {width} units")
            if b.shape != (w.shape[0],):
                raise ValueError(f"layer {layer}: {b.shape} intercepts for {w.shape[0]} units")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise ValueError(f"layer {layer}: weights and intercepts must be finite (the fit may have diverged)")
            limit = float(np.finfo(np.float32).max)
            if np.abs(w).max() > limit or np.abs(b).max() > limit:
                raise ValueError(f"layer {layer}: a weight or intercept lies beyond float32's range (3.4e38)")
            width = w.shape[0]
        if sum(w.size for w in self.coefs) >= 2**32 or sum(b.size for b in self.intercepts) >= 2**32:
            raise ValueError("the model has 2**32 weights or more, beyond the runtime's 32-bit offsets")
        if self.hidden_activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"hidden activation {self.hidden_activation!r} is not one of {', '.join(HIDDEN_ACTIVATIONS)}"
            )
        if self.task == "regressor":
            if self.output_activation != "identity":
                raise ValueError(f"a regressor's output activation must be identity, not {self.output_activation!r}")
            return
        if self.output_activation not in ("logistic", "softmax"):
            raise ValueError(f"a classifier's output activation must be logistic or softmax, not {self.output_activation!r}")
        if self.classes is None:
            raise ValueError("a classifier needs its classes")
        if self.multilabel:
            if self.output_activation != "logistic" or self.n_classes != self.n_outputs:
                raise ValueError("a multi-label classifier needs one logistic output per label")
        elif self.output_activation == "logistic" and (self.n_outputs != 1 or self.n_classes != 2):
            raise ValueError("a binary classifier needs one logistic output and two classes")
        elif self.output_activation == "softmax" and (self.n_outputs < 2 or self.n_classes != self.n_outputs):
            raise ValueError("a multi-class classifier needs one softmax output per class")
