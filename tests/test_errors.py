"""Bad input gets a clear error that says what is wrong and what to do."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.semi_supervised import LabelPropagation
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlearn_gen
from emlearn_gen.core.labels import check_single_output_classes


@pytest.fixture(scope="module")
def iris_model(load_data):
    X, y = load_data("iris")
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        emlearn_gen.convert(DecisionTreeClassifier())


def test_unsupported_estimator_lists_supported():
    with pytest.raises(TypeError) as err:
        emlearn_gen.convert(LabelPropagation())
    message = str(err.value)
    assert "cannot convert LabelPropagation" in message and "LogisticRegression" in message
    for name in ("DecisionTreeClassifier", "RandomForestRegressor", "ExtraTreesClassifier"):
        assert name in message
    assert set(emlearn_gen.supported_estimators()) >= {"DecisionTreeClassifier", "RandomForestClassifier"}


def test_subclass_of_supported_estimator_is_refused(iris_model):
    class Tweaked(DecisionTreeClassifier):
        pass

    with pytest.raises(TypeError, match="Tweaked"):
        emlearn_gen.convert(Tweaked())


@pytest.mark.parametrize(
    "name, reason",
    [
        ("1model", r"not a C\+\+ identifier"),
        ("my-model", r"not a C\+\+ identifier"),
        ("", r"not a C\+\+ identifier"),
        ("model name", r"not a C\+\+ identifier"),
        ("modèle", r"not a C\+\+ identifier"),
        ('x"; system("rm', r"not a C\+\+ identifier"),
        ("class", "keyword"),
        ("namespace", "keyword"),
        ("int", "keyword"),
        ("std", "reserved"),
        ("emlearn_gen", "reserved"),
        ("a__b", "reserved"),
        ("_Model", "reserved"),
        (None, "must be a string"),
        (3, "must be a string"),
    ],
)
def test_bad_names_are_refused(iris_model, name, reason):
    with pytest.raises(ValueError, match=reason):
        emlearn_gen.convert(iris_model, name=name)


def test_bad_dtype_option(iris_model):
    with pytest.raises(ValueError, match="dtype must be one of"):
        emlearn_gen.convert(iris_model, dtype="float16")


def test_wrong_feature_count_like_sklearn(iris_model):
    cm = emlearn_gen.convert(iris_model, name="iris")
    with pytest.raises(ValueError, match="X has 3 features, but CModel 'iris' is expecting 4 features"):
        cm.predict(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros(4), "Expected 2D array"),
        (np.zeros((2, 2, 4)), "dim"),
        (np.zeros((0, 4)), "0 sample"),
        (np.array([[1.0, 2.0, np.inf, 0.0]]), "infinity"),
        (np.array([[1.0, 2.0, 1e300, 0.0]]), "infinity or a value too large"),
        (np.array([["a", "b", "c", "d"]]), "could not convert|numeric"),
        (np.array([[1 + 1j, 0, 0, 0]]), "[Cc]omplex"),
    ],
)
def test_inputs_the_model_cannot_take(iris_model, X, match):
    cm = emlearn_gen.convert(iris_model, name="iris")
    with pytest.raises(ValueError, match=match):
        cm.predict(X)
    # scikit-learn refuses the same input.
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its own float32 cast overflow
        iris_model.predict(X)


def test_sparse_input_is_refused_with_advice(iris_model):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    cm = emlearn_gen.convert(iris_model)
    with pytest.raises(TypeError, match=r"toarray"):
        cm.predict(scipy_sparse.csr_matrix(np.zeros((2, 4))))


def test_multi_output_classifier_is_refused(load_data):
    X, y = load_data("iris")
    est = DecisionTreeClassifier(max_depth=2).fit(X, np.c_[y, y % 2])
    with pytest.raises(ValueError, match="one label"):
        emlearn_gen.convert(est)


def test_label_types_that_cannot_be_written_are_refused():
    # scikit-learn itself refuses continuous labels at fit time; these guard
    # classes_ set by other means.
    with pytest.raises(ValueError, match="integer or string labels"):
        check_single_output_classes(np.array([0.5, 1.5]), 1, "Est")
    with pytest.raises(ValueError, match="integer and string labels"):
        check_single_output_classes(np.array([(1, 2), (3, 4)], dtype=object), 1, "Est")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_leaf_values_beyond_float32_range_are_refused(load_data, dtype):
    X, _ = load_data("iris")
    y = np.where(X[:, 0] > 5.5, 1e39, -1.0)
    est = DecisionTreeRegressor(max_depth=2).fit(X, y)
    with pytest.raises(ValueError, match="float32's range.*rescale"):
        emlearn_gen.convert(est, dtype=dtype)
