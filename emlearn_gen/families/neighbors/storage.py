"""How the stored points are kept: float32 (default), or int16 integers q
with a float32 scale and offset per feature, read back as
rounded(q * scale) + offset (runtime neighbors.hpp, scaled_rows).

The int16 points the runtime computes with are exactly the float32 values
:func:`dequantized` returns (numpy's float32 product and sum round as the
runtime's do), so the float32 contract holds against scikit-learn fitted on
those rows; convert() measures how far they move the outputs from the
float32 model on calibration rows the user gives (core/calibration.py,
with INT16 below).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ...core.calibration import Variant


#: int16 codes run from -Q_MAX - 1 to Q_MAX.
Q_MAX = 2**15 - 1
_LEVELS = 2**16 - 1

#: int16 rows in the words of the calibration report and banner.
INT16 = Variant(
    family="neighbors models",
    option="int16",
    report_key="points",
    effect="int16 storage of the training rows moves",
    head="training rows stored as int16 with a scale and offset per feature: ",
    against="float32 storage",
    agree_with="float32 storage",
)


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
