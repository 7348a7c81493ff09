"""SplineTransformer beyond the catalog: what is refused and how, the rows
extrapolation="error" refuses as scikit-learn does, NaN, and the bound near
knots and far beyond them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

import emlearn_gen
from emlearn_gen.families.transforms.contract import TransformsContract, transform_bound
from emlearn_gen.families.transforms.convert import convert_transforms


@pytest.fixture(scope="module")
def iris():
    X, y = datasets.load_iris(return_X_y=True)
    return X, y


def _near_knots(est: SplineTransformer) -> np.ndarray:
    """Rows at every base knot and one float32 step either side of it."""
    k = est.degree
    columns = []
    for spl in est.bsplines_:
        base = np.asarray(spl.t[k : len(spl.t) - k], dtype=np.float32)
        columns.append(np.concatenate([base, np.nextafter(base, np.float32(-np.inf)),
                                       np.nextafter(base, np.float32(np.inf))]))
    return np.stack(columns, axis=1).astype(np.float64)


@pytest.mark.parametrize("extrapolation", ["continue", "constant", "linear", "periodic", "error"])
@pytest.mark.parametrize("knots", ["uniform", "quantile"])
def test_splines_near_knots_and_beyond_them_are_within_the_bound(iris, extrapolation, knots):
    X, _ = iris
    est = SplineTransformer(n_knots=5, degree=3, knots=knots, extrapolation=extrapolation).fit(X)
    rows = _near_knots(est)
    if extrapolation != "error":
        # Far beyond the knots: periodic wraps many periods, the others extrapolate.
        rows = np.concatenate([rows, X * 7.5 - 20.0, -X])
    else:
        rows = rows[(rows >= X.min(axis=0)).all(axis=1) & (rows <= X.max(axis=0)).all(axis=1)]
    report = TransformsContract().assert_matches_sklearn(emlearn_gen.convert(est), est, rows)
    assert report["n_samples"] == len(rows)
    # The bound is a bound, not a blanket: small inside the knots.
    inside = rows[(rows >= X.min(axis=0)).all(axis=1) & (rows <= X.max(axis=0)).all(axis=1)]
    assert transform_bound(convert_transforms(est), inside).err.max() < 1e-4


def test_extrapolation_error_refuses_the_rows_scikit_learn_refuses(iris):
    X, y = iris
    est = SplineTransformer(n_knots=4, degree=2, extrapolation="error").fit(X)
    cm = emlearn_gen.convert(est)
    np.testing.assert_allclose(cm.transform(X), est.transform(X), atol=1e-5)
    for i, row in enumerate((X[:1] * 0.5, X[:1] * 2.0)):
        with pytest.raises(ValueError, match="beyond the limits of the knots"):
            est.transform(row)
        with pytest.raises(ValueError, match=r"X\[0, 0\] = .* is beyond the knots .*extrapolation='error'"):
            cm.transform(row)
    # The same in a Pipeline ending in a model: the steps check the raw rows.
    pipe = make_pipeline(SplineTransformer(n_knots=4, degree=2, extrapolation="error"), Ridge()).fit(X, y)
    cp = emlearn_gen.convert(pipe)
    np.testing.assert_allclose(cp.predict(X), pipe.predict(X), atol=1e-4)
    with pytest.raises(ValueError, match="is beyond the knots"):
        cp.predict(X * 2.0)


def test_extrapolation_error_in_a_column_transformer_checks_its_own_columns(iris):
    X, _ = iris
    ct = ColumnTransformer([("splines", SplineTransformer(n_knots=4, extrapolation="error"), [3, 1])],
                           remainder="passthrough").fit(X)
    cm = emlearn_gen.convert(ct)
    np.testing.assert_allclose(cm.transform(X), ct.transform(X), atol=1e-5)
    beyond = X[:2].copy()
    beyond[1, 0] = 100.0  # passed through: any value goes
    np.testing.assert_allclose(cm.transform(beyond), ct.transform(beyond), atol=1e-5)
    beyond[1, 1] = 100.0  # the splines' second column
    with pytest.raises(ValueError, match="beyond the limits of the knots"):
        ct.transform(beyond)
    with pytest.raises(ValueError, match=r"X\[1, 1\] = 100\.0 is beyond the knots"):
        cm.transform(beyond)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SplineTransformer(degree=4), r"degree=4\): the device evaluates splines of degree up to 3"),
        (lambda: SplineTransformer(sparse_output=True), r"sparse_output=True\): the device writes dense rows"),
        (lambda: SplineTransformer(degree=1, extrapolation="linear"),
         r"extrapolation='linear', degree=1\) on 4 features: scikit-learn extrapolates every feature after"),
        (lambda: make_pipeline(StandardScaler(), SplineTransformer(extrapolation="error")),
         r"extrapolation='error'\) reads values an earlier step computes"),
    ],
)
def test_splines_the_device_cannot_mirror_are_refused(iris, make, message):
    X, _ = iris
    with pytest.raises(ValueError, match=message):
        emlearn_gen.convert(make().fit(X))


def test_linear_extrapolation_of_degree_one_on_one_feature_is_scikit_learns(iris):
    X, _ = iris
    est = SplineTransformer(n_knots=4, degree=1, extrapolation="linear").fit(X[:, :1])
    rows = np.concatenate([X[:, :1], X[:, :1] * 3 - 10])
    TransformsContract().assert_matches_sklearn(emlearn_gen.convert(est), est, rows)


def test_knots_apart_in_float64_but_not_in_float32_are_refused():
    X = 1e6 + np.linspace(0.0, 0.02, 30)[:, None]
    with pytest.raises(ValueError, match="knots of feature 0 are not distinct in float32.*rescale"):
        emlearn_gen.convert(SplineTransformer(n_knots=5).fit(X))


def test_nan_gives_zeros_or_is_refused_as_scikit_learn_does(iris):
    X, _ = iris
    rows = X[:10].copy()
    rows[::3, 1] = np.nan
    zeros = SplineTransformer(n_knots=4, handle_missing="zeros").fit(X)
    got = emlearn_gen.convert(zeros).transform(rows)
    np.testing.assert_allclose(got, zeros.transform(rows), atol=1e-5)
    assert np.all(got[::3, 6:12] == 0.0)
    refusing = SplineTransformer(n_knots=4).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        emlearn_gen.convert(refusing).transform(rows)
