"""SVMs that cannot be converted are refused with the reason and what to do;
what the catalog does not show about the svm family's tables."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm

import emlearn_gen


@pytest.fixture(scope="module")
def iris(load_data):
    return load_data("iris")


def test_precomputed_and_callable_kernels_are_refused(iris):
    X, y = iris
    gram = X @ X.T
    with pytest.raises(ValueError, match="kernel 'precomputed'.*needs the training data"):
        emlearn_gen.convert(svm.SVC(kernel="precomputed").fit(gram, y))
    with pytest.raises(ValueError, match="kernel a callable"):
        emlearn_gen.convert(svm.SVR(kernel=lambda a, b: a @ b.T).fit(X, X[:, 0]))


def test_models_fitted_on_sparse_data_are_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"sparse matrix.*X.toarray\(\)"):
        emlearn_gen.convert(svm.SVC().fit(sp.csr_matrix(X), y))


def test_break_ties_with_one_vs_one_is_refused_as_scikit_learn_refuses_predict(iris):
    X, y = iris
    est = svm.SVC(break_ties=True, decision_function_shape="ovo").fit(X, y)
    with pytest.raises(ValueError, match="break_ties must be False"):
        est.predict(X)
    with pytest.raises(ValueError, match="break_ties must be False"):
        emlearn_gen.convert(est)


def test_probability_models_are_refused_until_predict_proba_is_exact(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability is deprecated in scikit-learn 1.9
        est = svm.SVC(probability=True, random_state=0).fit(X, y)
    assert hasattr(est, "predict_proba")
    with pytest.raises(ValueError, match="probability=True.*CalibratedClassifierCV"):
        emlearn_gen.convert(est)


def test_unfitted_and_nan_inputs(iris):
    X, y = iris
    with pytest.raises(ValueError, match="not fitted"):
        emlearn_gen.convert(svm.SVC())
    cm = emlearn_gen.convert(svm.SVC().fit(X, y))
    bad = X[:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cm.predict(bad)


def test_linear_kernels_store_one_row_of_weights_per_decision(iris):
    """Primal storage: tables of n_decisions rows however many support
    vectors the model has."""
    X, y = iris
    est = svm.SVC(kernel="linear", C=0.01).fit(X, y)
    assert len(est.support_vectors_) > 50
    source = emlearn_gen.convert(est).to_source()
    assert f"support_vectors[{3 * X.shape[1]}]" in source  # 3 class pairs
    assert "linear, stored as the weights of each decision" in source
    dual = emlearn_gen.convert(svm.SVC(kernel="poly", degree=1, C=0.01).fit(X, y)).to_source()
    assert _table_bytes(source) * 10 < _table_bytes(dual)


def _table_bytes(source: str) -> int:
    return int(re.search(r"tables (\d+) bytes", source).group(1))


def test_support_vectors_shared_by_class_pairs_are_stored_once(load_data):
    X, y = load_data("wine")
    est = svm.SVC().fit(X, y)
    source = emlearn_gen.convert(est).to_source()
    n_sv, n_features = est.support_vectors_.shape
    assert f"support_vectors[{n_sv * n_features}]" in source
