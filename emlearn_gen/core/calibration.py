"""Measuring a model's reduced-precision variant (a perceptron's int8
weights, nearest neighbours' int16 rows) against the same model in float32,
both run by the host runtime on calibration rows the user passes to
convert(): how often labels agree and the largest difference of one output.
The result goes to CModel.report and the header's banner; without rows, a
warning says that nothing was measured."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Dict, Sequence, Tuple

import numpy as np

from .entry_points import VALUES, EntryPoint
from .family import Packed
from .host import HostModel
from .layout import Layout
from .validation import check_X

#: The outputs compared, the first one a model has.
_COMPARED = ("predict_proba", "score_samples", "decision_function", "predict")


@dataclass(frozen=True)
class Variant:
    """What a family's reduced-precision option is, in the report's and
    the banner's words."""

    family: str  # "mlp models"
    option: str  # the option value that takes calibration: "int8"
    report_key: str  # the report's first entry, e.g. "weights": "int8"
    effect: str  # "the int8 weights move": what is measured
    head: str  # the banner line's beginning
    against: str  # "float32": what it is not measured against
    agree_with: str  # "the float32 model's": whose labels they agree with


def check_calibration(variant: Variant, dtype: str, calibration: Any) -> None:
    """Calibration rows only with the option that uses them."""
    if calibration is not None and dtype != variant.option:
        raise ValueError(
            f"{variant.family}: calibration data is used only with dtype='{variant.option}' (to measure "
            f"its effect); drop it, or pass dtype='{variant.option}'"
        )


def measure(
    variant: Variant,
    layout: Layout,
    reference: Packed,
    reduced: Packed,
    entry_points: Sequence[EntryPoint],
    n_features: int,
    calibration: Any,
) -> Tuple[Dict[str, Any], str]:
    """(the report, its banner line). Called from a family's lower(): the
    warning points at the caller of convert()."""
    if calibration is None:
        warnings.warn(
            f"dtype='{variant.option}': no calibration data was given, so convert() could not measure how "
            f"far {variant.effect} the outputs from the float32 model's. Pass calibration=X (rows like the "
            "inputs the device will see) to have it measured and reported in CModel.report and the "
            "header's banner.",
            UserWarning,
            stacklevel=5,  # measure, lower, convert._lowered, convert, the caller
        )
        report: Dict[str, Any] = {variant.report_key: variant.option, "calibration_rows": 0, "measured": False}
        return report, f"{variant.head}not measured against {variant.against} (no calibration data given)."
    X32 = check_X(calibration, n_features, "calibration data", allow_nan=False)
    report = {variant.report_key: variant.option, "calibration_rows": int(X32.shape[0]), "measured": True}
    float32 = HostModel(layout, reference, entry_points)
    variant_model = HostModel(layout, reduced, entry_points)
    names = {ep.name: ep for ep in entry_points}
    parts = []
    if names["predict"].output != VALUES:
        want, got = float32.run("predict", X32), variant_model.run("predict", X32)
        same = want == got if want.ndim == 1 else np.all(want == got, axis=1)  # multi-label rows
        report["label_agreement"] = float(same.mean())
        parts.append(f"labels agree with {variant.agree_with} on {100 * report['label_agreement']:.2f} % of rows")
    compared = next(name for name in _COMPARED if name in names)
    if names[compared].output == VALUES:
        with np.errstate(invalid="ignore"):
            diff = np.abs(float32.run(compared, X32).astype(np.float64) - variant_model.run(compared, X32))
        report["compared_output"] = compared
        report["max_output_difference"] = float(np.max(np.where(np.isnan(diff), 0.0, diff))) if diff.size else 0.0
        parts.append(f"{compared} differs by at most {report['max_output_difference']:.3g}")
    return report, f"{variant.head}on {report['calibration_rows']} calibration rows, " + ", ".join(parts) + "."
