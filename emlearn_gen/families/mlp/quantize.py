"""int8 weights: one scale per layer, activations and sums in float32.

Each layer's weights W become integers q = round(W / s) in [-127, 127] with
s = max |W| / 127 rounded to float32, so the runtime's weights are s * q
(dense_sums_scaled in dense.hpp). The float32 contract then holds against
scikit-learn's forward pass *on those weights* (:func:`dequantized`);
convert() measures how far they move the outputs from the float32 model on
calibration rows the user gives (core/calibration.py, with INT8 below).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Tuple

import numpy as np

from ...core.calibration import Variant
from .ir import MLPModel

Q_MAX = 127

#: int8 weights in the words of the calibration report and banner.
INT8 = Variant(
    family="mlp models",
    option="int8",
    report_key="weights",
    effect="the int8 weights move",
    head="int8 weights, one scale per layer (activations and sums float32): ",
    against="float32",
    agree_with="the float32 model's",
)


def quantize(ir: MLPModel) -> Tuple[Tuple[np.ndarray, ...], np.ndarray]:
    """(int8 weights of every layer, float32 scale of every layer)."""
    qs, scales = [], []
    for W in ir.coefs:
        largest = float(np.abs(W).max())
        scale = np.float32(largest / Q_MAX)
        if not scale > 0:  # all-zero weights, or a scale below float32's range
            scale = np.float32(1.0) if largest == 0.0 else np.float32(np.finfo(np.float32).smallest_subnormal)
        q = np.clip(np.rint(W / float(scale)), -Q_MAX, Q_MAX).astype(np.int8)
        qs.append(q)
        scales.append(scale)
    return tuple(qs), np.asarray(scales, dtype=np.float32)


def dequantized(ir: MLPModel) -> MLPModel:
    """The model with the weights the runtime uses: scale * q, exact in float64."""
    qs, scales = quantize(ir)
    return replace(ir, coefs=tuple(q.astype(np.float64) * float(s) for q, s in zip(qs, scales)))
