"""Class labels a generated classifier can report.

Every label is decided here, at convert(): a label accepted here is written
into the header's ``classes[]`` table and reads back as itself, so saving a
converted model never fails on its labels.
"""

from __future__ import annotations

import numpy as np

#: Integer labels are written as int32_t or int64_t.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_RECODE = "encode the labels before fitting (e.g. sklearn.preprocessing.LabelEncoder, or strings)"


def _check_int_range(labels: np.ndarray, estimator_name: str) -> None:
    """Integer-valued labels (int, uint or float dtype) fit int64."""
    for value in (int(labels.min()), int(labels.max())):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(
                f"{estimator_name} has class label {value}, outside int64's range "
                f"[{INT64_MIN}, {INT64_MAX}]: the header stores integer labels as int64_t; {_RECODE}"
            )


def _check_strings(labels: np.ndarray, estimator_name: str) -> None:
    for label in labels:
        if "\0" in label:
            raise ValueError(
                f"{estimator_name} has class label {label!r} with a NUL character, which ends a "
                "C string: the header would return it cut short. Remove or replace the NUL "
                "characters in the labels before fitting"
            )
        try:
            label.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{estimator_name} has class label {label!r}, which is not valid Unicode "
                f"({exc.reason}) and cannot be written as UTF-8; {_RECODE}"
            ) from None


def check_single_output_classes(classes: object, n_outputs: int, estimator_name: str) -> np.ndarray:
    """Returns ``classes_`` of a single-output classifier, or raises.

    Generated classifiers return an index into a ``classes[]`` table of
    integers (int64 range; bools read back as themselves on the host and as
    0 and 1 in C++) or strings (UTF-8, without NUL); other label types
    cannot be written into C++.
    """
    if n_outputs != 1 or isinstance(classes, list):
        raise ValueError(
            f"{estimator_name} was fitted with {n_outputs} outputs; generated classifiers "
            "predict one label. Fit one classifier per output, or use a regressor."
        )
    labels = np.asarray(classes)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"{estimator_name}.classes_ has shape {labels.shape}; generated classifiers need a "
            "non-empty 1-D array of integer and string labels"
        )
    kind = labels.dtype.kind
    if kind == "b":
        return labels
    if kind in "iu":
        _check_int_range(labels, estimator_name)
        return labels
    if kind == "f":
        if not (np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))):
            raise ValueError(
                f"{estimator_name} has non-integer float class labels {labels[:5].tolist()}; "
                "use integer or string labels (e.g. LabelEncoder) before fitting."
            )
        # Integer-valued floats are exact integers: int() of each is exact.
        _check_int_range(labels, estimator_name)
        return labels
    if kind in "UO" and all(isinstance(c, str) for c in labels):
        _check_strings(labels, estimator_name)
        return labels
    raise ValueError(
        f"{estimator_name} has class labels of type {labels.dtype}; "
        "generated classifiers support integer and string labels."
    )
