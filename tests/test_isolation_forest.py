"""IsolationForest: the label threshold on the summed path lengths, options
and refusals (levels 1-3 run from the catalog like every estimator)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.ensemble import IsolationForest

import emlearn_gen
from emlearn_gen.families.trees.isolation import _decision, depth_threshold


@pytest.mark.parametrize("offset", [-0.5, -0.61, -0.4321, -0.9999])
@pytest.mark.parametrize("denominator", [1.0, 7.3, 20 * 12.97, 1e3])
def test_threshold_separates_scikit_learns_decisions(denominator, offset):
    """The threshold is the first float64 sum scikit-learn calls an inlier:
    the float64 just below it is an outlier."""
    t = depth_threshold(denominator, offset)
    below = np.nextafter(t, 0.0)
    assert _decision(np.array([t]), denominator, offset)[0] >= 0
    assert _decision(np.array([below]), denominator, offset)[0] < 0


def test_labels_on_sums_next_to_the_threshold():
    """Rows whose path-length sums straddle the threshold get scikit-learn's
    labels: the training data itself holds many rows on both sides."""
    X, _ = make_blobs(n_samples=600, centers=3, random_state=0)
    X = np.concatenate([X, np.random.default_rng(0).uniform(-12, 12, size=(60, 2))])
    est = IsolationForest(n_estimators=30, contamination=0.1, random_state=0).fit(X)
    cm = emlearn_gen.convert(est)
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    # contamination=0.1 puts the threshold at a training sample's score.
    assert 0 < np.count_nonzero(est.predict(X) == -1) < len(X)


def test_isolation_forest_needs_float64_sums():
    X, _ = make_blobs(n_samples=100, random_state=0)
    est = IsolationForest(n_estimators=5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="float64"):
        emlearn_gen.convert(est, dtype="float32")
    cm = emlearn_gen.convert(est)
    assert cm.options["dtype"] == "float64"
    assert not hasattr(cm, "predict_proba") and hasattr(cm, "score_samples")
    assert cm.predict(X).dtype == est.predict(X).dtype
