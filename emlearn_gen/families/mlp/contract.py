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

With dtype="float64" the weights, sums and activations are binary64
(runtime float64.hpp: tanh_r64, sigmoid_r64, softmax_r64 on exp_r64) and
only the outputs are rounded to float, once. The entry points take float
rows, so the contract is stated against scikit-learn on those rows (x
rounded to float32, as CModel.predict passes it): e_0 = 0 and the weights
are scikit-learn's own (no (1 + u) factor). scikit-learn computes in binary64
too, with its own roundings in an order of its own (BLAS), so each layer's
rounding term counts both sides, gamma(2 n_l + 4) with u = U64 = 2**-53, and
each function both the runtime's stated error and SKLEARN_F64_FUNCTION_ERROR
(core/bounds.py):

    E_l = |W_l| e_l + gamma64(2 n_l + 4) (|W_l| (|a_l| + e_l) + |b_l|) + (n_l + 1) 2**-1074

* tanh: e = min(E, 2) + (TANH_R64_MAX_REL_ERROR + s) (|tanh z| + E);
* logistic: e = E / 4 + (SIGMOID_R64_MAX_REL_ERROR + s) (s(z) + E / 4) + 2**-1074;

the output links take the bounds of core/bounds.py with u = 2 U64 (the
runtime's roundings and scikit-learn's) and exp_r64's error plus
scikit-learn's, and every output one more rounding, to float
(float32_output). The tie zone is as above with these E.

With dtype="int8" the runtime's weights are scale * q (quantize.py), exact in
float64; everything above then holds against scikit-learn's forward pass on
those weights (a copy of the estimator holding them), which is what the
contract checks. How far they move the outputs from the float32 model is
measured at conversion, on calibration rows (CModel.report).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import (
    EXP_R64_MAX_REL_ERROR, SIGMOID_MAX_REL_ERROR, SIGMOID_R64_MAX_REL_ERROR, SKLEARN_F64_FUNCTION_ERROR,
    TANH_MAX_REL_ERROR, TANH_R64_MAX_REL_ERROR, TINY, U, U64, assert_within, check_labels, float32_output, gamma,
    proba_bound,
)
from ...core.family import NumericContract
from .quantize import dequantized

#: Differences float64's own logistic and softmax round away.
_FLOAT64_TIE = 2.0**-52
#: The smallest binary64 subnormal: a binary64 result's absolute underflow.
_TINY64 = 2.0**-1074


@dataclass(frozen=True)
class Arithmetic:
    """What the runtime's arithmetic contributes to the bound: the weights'
    rounding (relative), each layer's rounding terms, the hidden activations'
    relative errors (with scikit-learn's own, for binary64) and underflow."""

    weight_rounding: float
    tanh_error: float
    sigmoid_error: float
    tiny: float
    binary64: bool

    def layer_rounding(self, n_in: int) -> float:
        # float32: n products and sums, the bias and x's rounding to float;
        # binary64: those of the runtime and of scikit-learn's own sums.
        return gamma(2 * n_in + 4, U64) if self.binary64 else gamma(n_in + 3)


FLOAT32 = Arithmetic(U, TANH_MAX_REL_ERROR, SIGMOID_MAX_REL_ERROR, TINY, binary64=False)
FLOAT64 = Arithmetic(
    0.0, TANH_R64_MAX_REL_ERROR + SKLEARN_F64_FUNCTION_ERROR, SIGMOID_R64_MAX_REL_ERROR + SKLEARN_F64_FUNCTION_ERROR,
    _TINY64, binary64=True,
)


def _hidden(
    activation: str, z: np.ndarray, E: np.ndarray, arith: Arithmetic = FLOAT32
) -> Tuple[np.ndarray, np.ndarray]:
    """(scikit-learn's activations of the sums z, bound on the runtime's)."""
    with np.errstate(over="ignore"):
        if activation == "identity":
            return z, E
        if activation == "relu":
            return np.maximum(z, 0.0), E
        if activation == "tanh":
            a = np.tanh(z)
            return a, np.minimum(E, 2.0) + arith.tanh_error * (np.abs(a) + E)
        if activation == "logistic":
            a = 1.0 / (1.0 + np.exp(-z))
            return a, E / 4 + arith.sigmoid_error * (a + E / 4) + arith.tiny
    raise ValueError(f"unknown activation {activation!r}")


def forward_bounds(ir: Any, X: np.ndarray, arith: Arithmetic = FLOAT32) -> Tuple[np.ndarray, np.ndarray]:
    """(scikit-learn's float64 sums of the last layer (n, n_outputs), bound
    on |runtime's sums - them|), by the propagation in the module docstring."""
    a = np.asarray(X, dtype=np.float64)
    e = np.zeros_like(a)
    z = E = a
    with np.errstate(over="ignore", invalid="ignore"):
        for layer, (W, b) in enumerate(zip(ir.coefs, ir.intercepts)):
            absW = np.abs(W).T * (1.0 + arith.weight_rounding)
            n_in = W.shape[1]
            z = a @ W.T + b
            rounding = arith.layer_rounding(n_in) * ((np.abs(a) + e) @ absW + np.abs(b))
            E = e @ absW + rounding + (n_in + 1) * arith.tiny
            if layer + 1 < ir.n_layers:
                a, e = _hidden(ir.hidden_activation, z, E, arith)
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


def _proba_bound(ir: Any, z: np.ndarray, E: np.ndarray, arith: Arithmetic = FLOAT32) -> np.ndarray:
    """Bound on every predict_proba value (or multi-label output)."""
    link: Dict[str, float] = {}
    if arith.binary64:
        # The runtime's roundings and scikit-learn's (u doubled), both exps.
        link = {"u": 2 * U64, "e": EXP_R64_MAX_REL_ERROR + SKLEARN_F64_FUNCTION_ERROR}
    if ir.output_activation == "softmax":
        return proba_bound("softmax", z, E, **link)
    if ir.multilabel:
        columns = [proba_bound("logistic", z[:, [k]], E[:, [k]], **link)[:, 1] for k in range(z.shape[1])]
        return np.stack(columns, axis=1)
    return proba_bound("logistic", z, E, **link)


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
        "carried through out_activation_; labels identical outside the tie zone. dtype='float64': the "
        "same in binary64 (gamma with u = 2**-53, counting scikit-learn's own roundings) against "
        "scikit-learn on the float32 rows, plus one rounding of each output to float."
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
        arith = FLOAT32
        if cm.options.get("dtype") == "float64":
            # The rows as the model reads them (float): the contract is
            # exactness for those, not for digits float32 cannot hold.
            X = X.astype(np.float32).astype(np.float64)
            arith = FLOAT64
            report["reference"] = "scikit-learn on the rows rounded to float32, as the model reads them"
        z, E = forward_bounds(ir, X, arith)
        if ir.task == "regressor":
            want = np.asarray(estimator.predict(X), dtype=np.float64)
            bound = E[:, 0] if ir.vector else E
            if arith.binary64:
                bound = float32_output(want, bound)
            report["max_abs_diff"] = assert_within("predict", cm.predict(X), want, bound)
            return report
        report.update(check_labels(estimator.predict(X), cm.predict(X), _tie_zone(ir, z, E)))
        want = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        bound = _proba_bound(ir, z, E, arith)
        if arith.binary64:
            bound = float32_output(want, bound)
        report["max_proba_diff"] = assert_within("predict_proba", cm.predict_proba(X), want, bound)
        return report
