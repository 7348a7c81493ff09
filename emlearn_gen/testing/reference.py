"""Equivalence with scikit-learn (level 1): a CModel against its estimator,
computed side by side, by the numeric contract of the model's family
(``emlearn_gen/families/<family>/contract.py``; docs/architecture.md)."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np


def assert_matches_sklearn(cmodel: Any, estimator: Any, X: Any) -> Dict[str, Any]:
    """Asserts that the CModel's outputs agree with the estimator's on X as
    its family's numeric contract promises; returns what was measured."""
    return cmodel.family.contract.assert_matches_sklearn(cmodel, estimator, np.asarray(X))
