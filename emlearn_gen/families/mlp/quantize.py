"""int8 weights: one scale per layer, activations and sums in float32.

Each layer's weights W become integers q = round(W / s) in [-127, 127] with
s = max |W| / 127 rounded to float32, so the runtime's weights are s * q
(dense_sums_scaled in dense.hpp). The float32 contract then holds against
scikit-learn's forward pass *on those weights* (:func:`dequantized`);
convert() measures how far they move the outputs from the float32 model on
calibration rows the user gives (:func:`measure`).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Dict, Sequence, Tuple

import numpy as np

from ...core.entry_points import EntryPoint
from ...core.family import Packed
from ...core.host import HostModel
from ...core.layout import Layout
from ...core.validation import check_X
from .ir import MLPModel

Q_MAX = 127


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


def measure(
    layout: Layout,
    float_tables: Packed,
    int8_tables: Packed,
    entry_points: Sequence[EntryPoint],
    ir: MLPModel,
    calibration: Any,
) -> Dict[str, Any]:
    """Label agreement and largest output difference of the int8 model
    against the float32 model, both run by the runtime on the calibration
    rows; without rows, a warning and a report saying nothing was measured."""
    if calibration is None:
        warnings.warn(
            "dtype='int8': no calibration data was given, so convert() could not measure how far "
            "the int8 weights move the outputs from the float32 model's. Pass calibration=X (rows "
            "like the inputs the device will see) to have it measured and reported in "
            "CModel.report and the header's banner.",
            UserWarning,
            stacklevel=5,  # measure, lower, convert._lowered, convert, the caller
        )
        return {"weights": "int8", "calibration_rows": 0, "measured": False}
    X32 = check_X(calibration, ir.n_features, "calibration data", allow_nan=False)
    report: Dict[str, Any] = {"weights": "int8", "calibration_rows": int(X32.shape[0]), "measured": True}
    reference = HostModel(layout, float_tables, entry_points)
    quantized = HostModel(layout, int8_tables, entry_points)
    outputs = {ep.name: ep for ep in entry_points}
    if ir.task == "classifier":
        want, got = reference.run("predict", X32), quantized.run("predict", X32)
        same = want == got if want.ndim == 1 else np.all(want == got, axis=1)
        report["label_agreement"] = float(same.mean())
    compared = "predict_proba" if "predict_proba" in outputs else "predict"
    diff = np.abs(reference.run(compared, X32).astype(np.float64) - quantized.run(compared, X32))
    report["compared_output"] = compared
    report["max_output_difference"] = float(diff.max())
    return report


def summary_line(report: Dict[str, Any]) -> str:
    """The banner's line on the quantization."""
    head = "int8 weights, one scale per layer (activations and sums float32): "
    if not report["measured"]:
        return head + "not measured against float32 (no calibration data given)."
    labels = (
        f"labels agree with the float32 model's on {100 * report['label_agreement']:.2f} % of rows, "
        if "label_agreement" in report
        else ""
    )
    return (
        head + f"on {report['calibration_rows']} calibration rows, {labels}"
        f"{report['compared_output']} differs by at most {report['max_output_difference']:.3g}."
    )
