"""How the stored points are kept: float32 (default), or int16 integers q
with a float32 scale and offset per feature, read back as
rounded(q * scale) + offset (runtime neighbors.hpp, scaled_rows).

The int16 points the runtime computes with are exactly the float32 values
:func:`dequantized` returns (numpy's float32 product and sum round as the
runtime's do), so the float32 contract holds against scikit-learn fitted on
those rows; convert() measures how far they move the outputs from the
float32 model on calibration rows the user gives (:func:`measure`).
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, Sequence, Tuple

import numpy as np

from ...core.entry_points import EntryPoint
from ...core.family import Packed
from ...core.host import HostModel
from ...core.layout import Layout
from ...core.validation import check_X

#: int16 codes run from -Q_MAX - 1 to Q_MAX.
Q_MAX = 2**15 - 1
_LEVELS = 2**16 - 1


def quantize(points: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int16 codes (n_points, n_features), float32 scale and offset per
    feature): each feature's range [lo, hi] spread over the 65536 codes,
    the offset its midpoint's code 0."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    scale = ((hi - lo) / _LEVELS).astype(np.float32)
    # A constant feature (or a range below float32's resolution) keeps code 0.
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    offset = ((lo + hi) / 2).astype(np.float32)
    q = np.rint((points - offset.astype(np.float64)) / scale.astype(np.float64))
    q = np.clip(q, -Q_MAX - 1, Q_MAX).astype(np.int16)
    return q, scale, offset


def dequantized(points: np.ndarray) -> np.ndarray:
    """The points the runtime computes with under int16 storage, float64
    holding float32 values: rounded(q * scale) + offset in float32."""
    q, scale, offset = quantize(points)
    product = q.astype(np.float32) * scale[None, :]
    return (product + offset[None, :]).astype(np.float64)


def measure(
    layout: Layout,
    float_tables: Packed,
    int16_tables: Packed,
    entry_points: Sequence[EntryPoint],
    n_features: int,
    calibration: Any,
) -> Dict[str, Any]:
    """Label agreement and largest output difference of the int16 model
    against the float32 model, both run by the runtime on the calibration
    rows; without rows, a warning and a report saying nothing was measured."""
    if calibration is None:
        warnings.warn(
            "dtype='int16': no calibration data was given, so convert() could not measure how far "
            "int16 storage of the training rows moves the outputs from the float32 model's. Pass "
            "calibration=X (rows like the inputs the device will see) to have it measured and reported "
            "in CModel.report and the header's banner.",
            UserWarning,
            stacklevel=5,  # measure, lower, convert._lowered, convert, the caller
        )
        return {"points": "int16", "calibration_rows": 0, "measured": False}
    X32 = check_X(calibration, n_features, "calibration data", allow_nan=False)
    report: Dict[str, Any] = {"points": "int16", "calibration_rows": int(X32.shape[0]), "measured": True}
    reference = HostModel(layout, float_tables, entry_points)
    quantized = HostModel(layout, int16_tables, entry_points)
    names = {ep.name: ep for ep in entry_points}
    if names["predict"].output != "values":
        report["label_agreement"] = float(np.mean(reference.run("predict", X32) == quantized.run("predict", X32)))
    compared = next(n for n in ("predict_proba", "score_samples", "decision_function", "predict") if n in names)
    if names[compared].output == "values":
        with np.errstate(invalid="ignore"):
            diff = np.abs(reference.run(compared, X32).astype(np.float64) - quantized.run(compared, X32))
        both_nan = np.isnan(diff)
        report["compared_output"] = compared
        report["max_output_difference"] = float(np.max(np.where(both_nan, 0.0, diff))) if diff.size else 0.0
    return report


def summary_line(report: Dict[str, Any]) -> str:
    """The banner's line on int16 storage."""
    head = "training rows stored as int16 with a scale and offset per feature: "
    if not report["measured"]:
        return head + "not measured against float32 storage (no calibration data given)."
    parts = []
    if "label_agreement" in report:
        parts.append(f"labels agree with float32 storage on {100 * report['label_agreement']:.2f} % of rows")
    if "compared_output" in report:
        parts.append(f"{report['compared_output']} differs by at most {report['max_output_difference']:.3g}")
    return head + f"on {report['calibration_rows']} calibration rows, " + ", ".join(parts) + "."
