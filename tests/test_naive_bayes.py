"""Naive Bayes models beyond the catalog: inputs scikit-learn refuses or
treats specially at predict time, and models the conversion refuses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn import naive_bayes as nb

import emlearn_gen
from emlearn_gen.testing.reference import assert_matches_sklearn

METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")


@pytest.fixture(scope="module")
def iris():
    return datasets.load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def categorical(iris):
    X, y = iris
    est = nb.CategoricalNB().fit(X, y)
    return est, emlearn_gen.convert(est)


@pytest.mark.parametrize("method", METHODS)
def test_categorical_unseen_category_is_refused_as_scikit_learn_refuses_it(categorical, method):
    est, cm = categorical
    X = np.array([[5.0, 3.0, 1.0, 0.0], [float(est.n_categories_[0]), 3.0, 1.0, 0.0]])
    with pytest.raises(IndexError):
        getattr(est, method)(X)
    # An IndexError as scikit-learn's, and a ValueError as every input error.
    with pytest.raises(IndexError, match=r"X\[1, 0\].*categories 0 to 7"):
        getattr(cm, method)(X)
    with pytest.raises(ValueError, match="min_categories"):
        getattr(cm, method)(X.tolist())  # the path for other containers
    with pytest.raises(ValueError, match="categories 0 to"):
        cm.raw_outputs(method, X)


def test_categorical_negative_values_are_refused_with_scikit_learns_message(categorical):
    est, cm = categorical
    X = np.array([[5.0, 3.0, 1.0, -1.0]])
    with pytest.raises(ValueError, match="Negative values in data passed to CategoricalNB") as sk:
        est.predict(X)
    with pytest.raises(ValueError) as ours:
        cm.predict(X)
    assert str(ours.value) == str(sk.value)


def test_categorical_values_are_truncated_as_scikit_learn_casts_them(categorical):
    """scikit-learn casts X to int: -0.5 is category 0 and 2.99 category 2."""
    est, cm = categorical
    X = np.array([[-0.5, 2.99, 1.7, 0.2], [7.9, 0.0, 6.999, 2.5], [4.5, 2.0, 3.0, -0.99]])
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    assert_matches_sklearn(cm, est, X)


@pytest.mark.parametrize("make", [nb.MultinomialNB, nb.ComplementNB, lambda: nb.BernoulliNB(binarize=None)])
def test_negative_inputs_are_taken_where_scikit_learn_takes_them(make):
    """MultinomialNB, ComplementNB and BernoulliNB refuse negative X in fit,
    not in predict: the converted model computes the same formula there."""
    X, y = datasets.load_digits(return_X_y=True)
    if isinstance(make(), nb.BernoulliNB):
        X = (X > 8).astype(np.float64)
    est = make().fit(X, y)
    cm = emlearn_gen.convert(est)
    rows = -np.random.default_rng(0).random((40, X.shape[1])) * 3
    est.predict(rows)  # scikit-learn takes them
    assert_matches_sklearn(cm, est, rows)


def test_zero_prior_class_has_probability_zero_as_in_scikit_learn(iris):
    X, y = iris
    est = nb.GaussianNB(priors=[0.0, 0.6, 0.4]).fit(X, y)
    cm = emlearn_gen.convert(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scikit-learn's log(0)
        report = assert_matches_sklearn(cm, est, X)
        assert np.all(est.predict_proba(X)[:, 0] == 0.0)
    assert report["label_differences"] == 0
    assert np.all(cm.predict_proba(X)[:, 0] == 0.0)
    assert np.all(cm.predict_joint_log_proba(X)[:, 0] == -np.inf)
    assert 0 not in cm.predict(X)


def test_binarize_threshold_decides_as_scikit_learn_on_inputs_equal_to_it(iris):
    """2.9 is no float32. scikit-learn compares float32 inputs with
    float32(2.9) and float64 inputs with 2.9: the runtime's threshold,
    float32(2.9), binarizes both as scikit-learn, so rows equal to it in
    either type are outside the tie zone."""
    X, y = iris
    est = nb.BernoulliNB(binarize=2.9).fit(X, y)
    cm = emlearn_gen.convert(est)
    assert np.any(X == 2.9)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(cm.predict(X32), est.predict(X32))
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    assert assert_matches_sklearn(cm, est, X)["tie_zone"] == 0


def test_binarize_threshold_ties_on_float64_inputs_are_counted(iris):
    """A float64 value just above a threshold that is no float32 rounds to
    the threshold's float32: such rows are in the tie zone, and only they
    may differ."""
    X, y = iris
    est = nb.BernoulliNB(binarize=2.9).fit(X, y)
    cm = emlearn_gen.convert(est)
    X = X.copy()
    X[:5, 1] = np.nextafter(2.9, np.inf)  # float32(2.9) > 2.9: rounds to it
    report = assert_matches_sklearn(cm, est, X)
    assert report["tie_zone"] == 5
    assert report["label_differences"] <= report["tie_zone"]


def test_bernoulli_without_binarize_on_counts_is_refused():
    X, y = datasets.load_digits(return_X_y=True)
    est = nb.BernoulliNB(binarize=None).fit(X, y)
    with pytest.raises(ValueError, match="binarize=None on features that are not 0 or 1"):
        emlearn_gen.convert(est)


def test_unsmoothed_zero_counts_are_refused():
    X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = nb.MultinomialNB(alpha=0.0, force_alpha=True).fit(X, [0, 0, 1])
    with pytest.raises(ValueError, match="refit with alpha > 0"):
        emlearn_gen.convert(est)


def test_zero_variance_is_refused():
    X = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0], [1.0, 7.0]])
    est = nb.GaussianNB(var_smoothing=0.0).fit(X, [0, 0, 1, 1])
    with pytest.raises(ValueError, match="var_smoothing"):
        emlearn_gen.convert(est)


def test_categorical_min_categories_gives_columns_to_unseen_categories(iris):
    """Categories below min_categories but never seen in fit have columns
    (smoothed counts of 0): scikit-learn predicts them, and so does the model."""
    X, y = iris
    est = nb.CategoricalNB(min_categories=[10, 10, 10, 10]).fit(X, y)
    cm = emlearn_gen.convert(est)
    X_new = np.array([[9.0, 9.0, 9.0, 9.0], [0.0, 0.0, 0.0, 0.0]])
    assert_matches_sklearn(cm, est, X_new)
    with pytest.raises(IndexError):
        cm.predict([[10.0, 0.0, 0.0, 0.0]])


def test_categorical_value_rounded_to_the_next_category_is_in_the_tie_zone(iris):
    """float32 rounds 2.9999999999 up to 3.0, another category than
    scikit-learn's int(2.9999999999) = 2: no claim on that row, counted."""
    X, y = iris
    est = nb.CategoricalNB().fit(X, y)
    cm = emlearn_gen.convert(est)
    rows = np.array([[5.0, 2.9999999999, 1.0, 0.0], [5.0, 3.0, 1.0, 0.0]])
    report = assert_matches_sklearn(cm, est, rows)
    assert report["tie_zone"] == 1


def test_contract_holds_where_probabilities_underflow_and_bounds_overflow(load_data):
    """GaussianNB on digits: near-constant pixels give joint log-likelihoods
    so large that the probability bound overflows, where scikit-learn's
    probabilities underflow to 0; the contract then claims nothing there
    (0 * inf was NaN, and the check failed on identical zeros)."""
    X, y = load_data("digits")
    est = nb.GaussianNB().fit(X, y)
    proba = est.predict_proba(X[:200])
    assert np.any(proba == 0)
    report = assert_matches_sklearn(emlearn_gen.convert(est), est, X[:200])
    assert report["label_differences"] == 0
