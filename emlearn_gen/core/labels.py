"""Class labels a generated classifier can report."""

from __future__ import annotations

import numpy as np


def check_single_output_classes(classes: object, n_outputs: int, estimator_name: str) -> np.ndarray:
    """Returns ``classes_`` of a single-output classifier, or raises.

    Generated classifiers return an index into a ``classes[]`` table of
    integers or strings; other label types cannot be written into C++.
    """
    if n_outputs != 1 or isinstance(classes, list):
        raise ValueError(
            f"{estimator_name} was fitted with {n_outputs} outputs; generated classifiers "
            "predict one label. Fit one classifier per output, or use a regressor."
        )
    labels = np.asarray(classes)
    if labels.dtype.kind in "biu":
        return labels
    if labels.dtype.kind == "f":
        if np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            return labels
        raise ValueError(
            f"{estimator_name} has non-integer float class labels {labels[:5].tolist()}; "
            "use integer or string labels (e.g. LabelEncoder) before fitting."
        )
    if labels.dtype.kind in "UO" and all(isinstance(c, str) for c in labels):
        return labels
    raise ValueError(
        f"{estimator_name} has class labels of type {labels.dtype}; "
        "generated classifiers support integer and string labels."
    )
