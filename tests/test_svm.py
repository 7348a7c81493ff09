"""SVMs that cannot be converted are refused with the reason and what to do;
what the catalog does not show about the svm family's tables."""

from __future__ import annotations

import copy
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


def test_two_class_probabilities_come_from_the_coupling_as_scikit_learns_do(load_data):
    """The libsvm scikit-learn builds runs its iterative pairwise coupling
    for two classes too, stopping 1e-3 or so from the Platt sigmoid itself;
    the runtime runs the same iteration and lands where scikit-learn does
    (the catalog checks the derived bound, which allows for the stopping
    rule and so does not tell the two apart)."""
    X, y = load_data("breast_cancer")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability is deprecated in scikit-learn 1.9
        est = svm.SVC(probability=True, random_state=0).fit(X, y)
        f = -est.decision_function(X) * est._probA[0] + est._probB[0]
        want = est.predict_proba(X)
    platt = np.clip(1 / (1 + np.exp(f)), 1e-7, 1 - 1e-7)  # libsvm's P(class 0) of the pair
    got = emlearn_gen.convert(est).predict_proba(X)
    assert np.abs(want[:, 0] - platt).max() > 1e-3
    assert np.abs(got - want).max() < 1e-4


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


# -- float64 -----------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_svc(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability is deprecated in scikit-learn 1.9
        return svm.SVC(probability=True, random_state=0).fit(X, y), X


def test_float64_bound_is_far_tighter_and_catches_a_coefficient_off_by_1e6(iris_svc):
    """binary64 decisions: a dual coefficient changed by 1e-6, which the
    float32 contract cannot see, breaks the float64 contract; the unchanged
    model keeps it with every label equal to scikit-learn's and decisions
    within one float rounding of scikit-learn's."""
    from emlearn_gen.families.svm.contract import FLOAT32, FLOAT64, decisions
    from emlearn_gen.families.svm.convert import convert_svm

    est, X = iris_svc
    X32 = X.astype(np.float32).astype(np.float64)
    ir = convert_svm(est)
    _, B32 = decisions(ir, X32, FLOAT32)
    _, B64 = decisions(ir, X32, FLOAT64)
    assert np.all(B64 < 1e-7 * B32)
    other = copy.deepcopy(est)
    other._dual_coef_[0, 3] += 1e-6
    other.dual_coef_[0, 3] += 1e-6
    cm32 = emlearn_gen.convert(other)
    cm32.family.contract.assert_matches_sklearn(cm32, est, X)
    cm64 = emlearn_gen.convert(other, dtype="float64")
    with pytest.raises(AssertionError, match="differs from scikit-learn"):
        cm64.family.contract.assert_matches_sklearn(cm64, est, X)
    cm = emlearn_gen.convert(est, dtype="float64")
    report = cm.family.contract.assert_matches_sklearn(cm, est, X)
    assert report["label_differences"] == 0
    np.testing.assert_array_equal(cm.predict(X), est.predict(X32))
    np.testing.assert_allclose(cm.decision_function(X), est.decision_function(X32), rtol=2.0**-23, atol=2.0**-149)


def test_float64_probabilities_follow_libsvms_double_coupling(iris_svc):
    """The coupling runs in binary64 as libsvm's does, so the probabilities
    are scikit-learn's rounded to float (within a float ulp), far closer than
    the float32 model's."""
    est, X = iris_svc
    X32 = X.astype(np.float32).astype(np.float64)
    want = est.predict_proba(X32)
    got = emlearn_gen.convert(est, dtype="float64").predict_proba(X)
    np.testing.assert_allclose(got, want, rtol=2.0**-23, atol=2.0**-149)
    assert np.abs(got - want).max() < np.abs(emlearn_gen.convert(est).predict_proba(X) - want).max()


def test_float64_banner_states_binary64_scratch(iris_svc):
    est, _ = iris_svc
    cm = emlearn_gen.convert(est, dtype="float64")
    source = cm.to_source()
    assert "emlearn_gen::real64 dec[3];" in source and "emlearn_gen::real64 coupling[15];" in source
    assert "3 decisions of 8 bytes" in source and "18 values of 8 bytes" in source
    assert "static constexpr uint8_t real_bits = 64u;" in source
    assert cm.options == {"dtype": "float64"}


def test_host_kernel_refuses_real_bits_that_do_not_match_the_tables(iris_svc):
    from emlearn_gen import _runtime

    est, _ = iris_svc
    cm = emlearn_gen.convert(est, dtype="float64")
    fields = {k: int(v) for k, v in cm._tables.fields.items()}
    fields["real_bits"] = 32
    with pytest.raises(ValueError, match="support_vectors"):
        _runtime.HostModel(kernel="svm", tables=dict(cm._tables.tables), fields=fields,
                           entry_points=[("predict", "int", 1)])


def test_an_unknown_dtype_is_refused_with_the_choices(iris_svc):
    est, _ = iris_svc
    with pytest.raises(ValueError, match="dtype must be one of 'float32', 'float64'"):
        emlearn_gen.convert(est, dtype="int8")
