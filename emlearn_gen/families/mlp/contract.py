"""Numeric contract of multi-layer perceptrons (docs/architecture.md, "Numeric contract").

The runtime computes each layer as the linear family computes its scores
(float32 weights, each product rounded, summed in index order, the bias
last), so the linear bound holds for every layer's sums given its inputs;
what is new is that a layer's inputs are the previous layer's float32
activations, which carry an error of their own. For one sample, with a_l
scikit-learn's float64 activations of layer l (a_0 = x), e_l a bound on
|runtime's - a_l| (e_0 = 0: the rounding of x to float32 is in gamma), W_l
the weights as (units, inputs) and n_l the inputs of layer l:

    z_l = W_l a_l + b_l                                 (scikit-learn's sums)
    E_l = (1 + u) |W_l| e_l                             (the inputs' error)
        + gamma(n_l + 3) ((1 + u) |W_l| (|a_l| + e_l) + |b_l|)   (roundings)
        + (n_l + 1) 2**-149                             (underflow)

bounds |runtime's sums - z_l|; |W_l| (1 + u) bounds the float32 weights.
Hidden activations carry E_l to e_{l+1}:

* identity, relu (1-Lipschitz, exact): e = E;
* tanh (1-Lipschitz; the runtime's tanh_f within TANH_MAX_REL_ERROR):
  e = min(E, 2) + TANH_MAX_REL_ERROR (|tanh z| + E);
* logistic (1/4-Lipschitz; sigmoid_f within SIGMOID_MAX_REL_ERROR where
  normal, 2**-149 below): e = E / 4 + SIGMOID_MAX_REL_ERROR (s(z) + E / 4) + 2**-149.

The last layer's sums z are within E of scikit-learn's; the outputs carry it
through out_activation_ with the link bounds of core/bounds.py (identity:
E; logistic: the binary sigmoid bound per output; softmax: the softmax
bound). Labels are decided on the sums: a binary or multi-label output is 1
where its sum is > 0 (scikit-learn: logistic output > 0.5), a multi-class
label is the first largest sum (scikit-learn: argmax of the softmax). The
tie zone: binary and multi-label rows with some |z| <= E + 2**-52 (float64's
logistic rounds to 0.5 there), multi-class rows whose two best sums lie
within the sum of their bounds + 2**-52 (1 + |best|) (float64's softmax
rounds such a difference away). A label may differ from scikit-learn's only
there; those rows are counted and reported.

With dtype="int8" the runtime's weights are scale * q (quantize.py), exact in
float64; everything above then holds against scikit-learn's forward pass on
those weights (a copy of the estimator holding them), which is what the
contract checks. How far they move the outputs from the float32 model is
measured at conversion, on calibration rows (CModel.report).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import (
    SIGMOID_MAX_REL_ERROR, TANH_MAX_REL_ERROR, TINY, U, assert_within, check_labels, gamma, proba_bound,
)
from ...core.family import NumericContract
from .quantize import dequantized

#: Differences float64's own logistic and softmax round away.
_FLOAT64_TIE = 2.0**-52



def _hidden(activation: str, z: np.ndarray, E: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(scikit-learn's activations of the sums z, bound on the runtime's)."""
    with np.errstate(over="ignore"):
        if activation == "identity":
            return z, E
        if activation == "relu":
            return np.maximum(z, 0.0), E
        if activation == "tanh":
            a = np.tanh(z)
            return a, np.minimum(E, 2.0) + TANH_MAX_REL_ERROR * (np.abs(a) + E)
        if activation == "logistic":
            a = 1.0 / (1.0 + np.exp(-z))
            return a, E / 4 + SIGMOID_MAX_REL_ERROR * (a + E / 4) + TINY
    raise ValueError(f"unknown activation {activation!r}")


def forward_bounds(ir: Any, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(scikit-learn's float64 sums of the last layer (n, n_outputs), bound
    on |runtime's sums - them|), by the propagation in the module docstring."""
    a = np.asarray(X, dtype=np.float64)
    e = np.zeros_like(a)
    z = E = a
    with np.errstate(over="ignore", invalid="ignore"):
        for layer, (W, b) in enumerate(zip(ir.coefs, ir.intercepts)):
            absW = np.abs(W).T * (1.0 + U)
            n_in = W.shape[1]
            z = a @ W.T + b
            E = e @ absW + gamma(n_in + 3) * ((np.abs(a) + e) @ absW + np.abs(b)) + (n_in + 1) * TINY
            if layer + 1 < ir.n_layers:
                a, e = _hidden(ir.hidden_activation, z, E)
    return z, E


def _tie_zone(ir: Any, z: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Rows whose label (or, multi-label, some label) rounding could decide."""
    if ir.output_activation == "logistic":
        return np.any(np.abs(z) <= E + _FLOAT64_TIE, axis=1)
    order = np.argsort(-z, axis=1, kind="stable")
    rows = np.arange(len(z))
    first, second = order[:, 0], order[:, 1]
    gap = z[rows, first] - z[rows, second]
    return gap <= E[rows, first] + E[rows, second] + _FLOAT64_TIE * (1.0 + np.abs(z[rows, first]))


def _proba_bound(ir: Any, z: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Bound on every predict_proba value (or multi-label output)."""
    if ir.output_activation == "softmax":
        return proba_bound("softmax", z, E)
    if ir.multilabel:
        columns = [proba_bound("logistic", z[:, [k]], E[:, [k]])[:, 1] for k in range(z.shape[1])]
        return np.stack(columns, axis=1)
    return proba_bound("logistic", z, E)


def _with_weights(estimator: Any, ir: Any) -> Any:
    """A copy of ``estimator`` whose layers hold the weights of ``ir``."""
    twin = copy.deepcopy(estimator)
    twin.coefs_ = [np.ascontiguousarray(W.T) for W in ir.coefs]
    return twin


class MLPContract(NumericContract):
    statement = (
        "float32 arithmetic, every layer summed as the linear family sums its scores. The last "
        "layer's sums lie within a bound propagated through the layers from the weights (each "
        "layer's rounding gamma(n+3) (|W| |a| + |b|), earlier errors through |W| and the "
        "activations' slopes and the runtime's tanh/sigmoid error); outputs within that bound "
        "carried through out_activation_; labels identical outside the tie zone."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_mlp

        ir = convert_mlp(estimator)
        report: Dict[str, Any] = {"n_samples": len(X)}
        if cm.options.get("dtype") == "int8":
            ir = dequantized(ir)
            estimator = _with_weights(estimator, ir)
            report["reference"] = "scikit-learn's forward pass on the int8 weights"
        X = np.asarray(X, dtype=np.float64)
        z, E = forward_bounds(ir, X)
        if ir.task == "regressor":
            want = np.asarray(estimator.predict(X), dtype=np.float64)
            report["max_abs_diff"] = assert_within("predict", cm.predict(X), want, E[:, 0] if ir.vector else E)
            return report
        report.update(check_labels(estimator.predict(X), cm.predict(X), _tie_zone(ir, z, E)))
        want = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        report["max_proba_diff"] = assert_within("predict_proba", cm.predict_proba(X), want, _proba_bound(ir, z, E))
        return report
