"""The mlp family beyond the catalog: what convert() refuses, that the
numeric contract's bound is tight enough to catch a wrong weight, and the
scratch the banner states."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import emlearn_gen
from emlearn_gen.families.mlp.contract import FLOAT32, FLOAT64, forward_bounds
from emlearn_gen.families.mlp.convert import convert_mlp


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def wine_mlp():
    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return _fit(MLPClassifier(hidden_layer_sizes=(9, 7), activation="tanh", max_iter=200, random_state=0), X, y), X


def test_an_unknown_activation_is_refused_with_the_supported_ones(wine_mlp):
    est, _ = wine_mlp
    changed = copy.deepcopy(est)
    changed.activation = "softplus"
    with pytest.raises(ValueError, match="activation 'softplus'.*identity, logistic, tanh, relu"):
        emlearn_gen.convert(changed, name="m")


def test_non_finite_weights_are_refused(wine_mlp):
    est, _ = wine_mlp
    diverged = copy.deepcopy(est)
    diverged.coefs_[1][0, 0] = np.nan
    with pytest.raises(ValueError, match="layer 1: weights and intercepts must be finite"):
        emlearn_gen.convert(diverged, name="m")


def test_weights_beyond_float32_are_refused(wine_mlp):
    est, _ = wine_mlp
    huge = copy.deepcopy(est)
    huge.intercepts_[0][2] = 1e39
    with pytest.raises(ValueError, match="beyond float32's range"):
        emlearn_gen.convert(huge, name="m")


def test_the_bound_catches_one_weight_off_by_a_thousandth(wine_mlp):
    """The contract's bound is derived from the weights, not loose: a model
    with one hidden weight changed by 1e-3 breaks it."""
    est, X = wine_mlp
    z, E = forward_bounds(convert_mlp(est), X)
    assert np.all(E < 1e-4 * (1.0 + np.abs(z)))
    other = copy.deepcopy(est)
    other.coefs_[1][3, 0] += 1e-3
    cm = emlearn_gen.convert(other, name="m")
    with pytest.raises(AssertionError, match="differs from scikit-learn"):
        cm.family.contract.assert_matches_sklearn(cm, est, X)
    # ... and the unchanged model keeps it, labels identical.
    cm = emlearn_gen.convert(est, name="m")
    report = cm.family.contract.assert_matches_sklearn(cm, est, X)
    assert report["label_differences"] == 0
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))


def test_hidden_layers_follow_sklearns_forward_pass(wine_mlp):
    """The last layer's sums equal scikit-learn's forward pass (its softmax
    input) within the bound, layer by layer in scikit-learn's order."""
    est, X = wine_mlp
    a = X
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        a = np.tanh(a @ W + b)
    want = a @ est.coefs_[-1] + est.intercepts_[-1]
    z, _ = forward_bounds(convert_mlp(est), X)
    np.testing.assert_allclose(z, want, rtol=1e-12, atol=1e-12)


def test_banner_states_two_buffers_of_the_widest_layer(wine_mlp):
    est, _ = wine_mlp
    cm = emlearn_gen.convert(est, name="m")
    source = cm.to_source()
    assert "// predict() 328 bytes: 2 buffers of 36 bytes + 256 for the kernel." in source
    assert "float a[9];" in source and "float b[9];" in source
    assert cm.stated_stack == {"predict": 328, "predict_proba": 328, "predict_log_proba": 328}


def test_a_model_without_hidden_layers_keeps_no_buffer_for_its_outputs():
    X, y = load_iris(return_X_y=True)
    est = _fit(MLPRegressor(hidden_layer_sizes=(), max_iter=50, random_state=0), X[:, :3], X[:, 3])
    cm = emlearn_gen.convert(est, name="m")
    assert cm.stated_stack == {"predict": 256}
    assert "float a[" not in cm.to_source()
    np.testing.assert_allclose(cm.predict(X[:, :3]), est.predict(X[:, :3]), rtol=1e-5, atol=1e-5)


def test_an_unknown_dtype_is_refused_with_the_choices(wine_mlp):
    est, _ = wine_mlp
    with pytest.raises(ValueError, match="dtype must be one of 'float32', 'int8', 'float64'"):
        emlearn_gen.convert(est, name="m", dtype="float16")


# -- float64 weights --------------------------------------------------------


def test_float64_bound_is_far_tighter_and_catches_a_weight_off_by_1e6(wine_mlp):
    """The float64 contract's bound on the sums is binary64's, some 10^7
    times below float32's, and on the outputs little more than their
    rounding to float: a weight changed by 1e-6 (which the float32 contract
    cannot see) breaks it, while the unchanged model keeps it with every
    label equal to scikit-learn's."""
    est, X = wine_mlp
    X32 = X.astype(np.float32).astype(np.float64)
    ir = convert_mlp(est)
    _, E32 = forward_bounds(ir, X32, FLOAT32)
    _, E64 = forward_bounds(ir, X32, FLOAT64)
    assert np.all(E64 < 1e-7 * E32)
    other = copy.deepcopy(est)
    other.coefs_[1][3, 0] += 1e-6
    cm_other = emlearn_gen.convert(other, name="m", dtype="float64")
    with pytest.raises(AssertionError, match="differs from scikit-learn"):
        cm_other.family.contract.assert_matches_sklearn(cm_other, est, X)
    emlearn_gen.convert(other, name="m").family.contract.assert_matches_sklearn(
        emlearn_gen.convert(other, name="m"), est, X
    )
    cm = emlearn_gen.convert(est, name="m", dtype="float64")
    report = cm.family.contract.assert_matches_sklearn(cm, est, X)
    assert report["label_differences"] == 0
    np.testing.assert_array_equal(cm.predict(X), est.predict(X32))
    # The outputs are scikit-learn's (on the float rows) rounded to float,
    # give or take one float ulp.
    want = est.predict_proba(X32)
    np.testing.assert_allclose(cm.predict_proba(X), want, rtol=2.0**-23, atol=2.0**-149)


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_float64_regressor_outputs_are_sklearns_rounded_to_float(activation):
    """Squashing hidden layers in binary64 (tanh_r64, sigmoid_r64): each
    output within one float rounding of scikit-learn's, far inside float32's
    own error on the same model."""
    X, y = load_iris(return_X_y=True)
    est = _fit(MLPRegressor(hidden_layer_sizes=(7, 5), activation=activation, max_iter=300, random_state=0),
               X[:, :3], X[:, 3])
    X32 = X[:, :3].astype(np.float32).astype(np.float64)
    want = est.predict(X32)
    got = emlearn_gen.convert(est, name="m", dtype="float64").predict(X32)
    np.testing.assert_allclose(got, want, rtol=2.0**-24 * 1.01, atol=2.0**-149)
    assert np.abs(got - want).max() <= np.abs(emlearn_gen.convert(est, name="m").predict(X32) - want).max()


def test_float64_banner_states_buffers_of_binary64_values(wine_mlp):
    est, _ = wine_mlp
    cm = emlearn_gen.convert(est, name="m", dtype="float64")
    source = cm.to_source()
    assert "emlearn_gen::real64 a[9];" in source and "emlearn_gen::real64 b[9];" in source
    # The kernel's allowance is binary64's (soft_double on AVR nests deeper).
    assert "// predict() 528 bytes: 2 buffers of 72 bytes + 384 for the kernel." in source
    assert cm.options == {"dtype": "float64"}


def test_float64_host_kernel_refuses_float_tables_for_float64_weights(wine_mlp):
    """The weight type and the tables' element type must agree: float64
    weights in a float table would be read as binary64."""
    from emlearn_gen import _runtime

    est, _ = wine_mlp
    cm = emlearn_gen.convert(est, name="m", dtype="float64")
    tables = dict(cm._tables.tables)
    tables["weights"] = tables["weights"].astype(np.float32)
    tables["biases"] = tables["biases"].astype(np.float32)
    with pytest.raises(ValueError, match="weights"):
        _runtime.HostModel(
            kernel="mlp", tables=tables, fields={k: int(v) for k, v in cm._tables.fields.items()},
            entry_points=[("predict", "int", 1)],
        )


# -- int8 weights -----------------------------------------------------------


def test_int8_reports_agreement_with_float32_on_the_calibration_rows(wine_mlp):
    est, X = wine_mlp
    cm8 = emlearn_gen.convert(est, name="m", dtype="int8", calibration=X)
    cm32 = emlearn_gen.convert(est, name="m")
    report = cm8.report
    assert report["calibration_rows"] == len(X) and report["measured"]
    assert report["label_agreement"] == np.mean(cm8.predict(X) == cm32.predict(X))
    assert report["max_output_difference"] == np.abs(cm8.predict_proba(X) - cm32.predict_proba(X)).max()
    assert 0 < report["max_output_difference"] < 0.5
    assert cm8.options == {"dtype": "int8", "calibration": f"{len(X)} rows"}
    assert f"on {len(X)} calibration rows, labels agree with the float32 model's on" in cm8.to_source()
    assert cm32.report == {}


def test_int8_weights_are_a_quarter_of_the_flash_and_within_127(wine_mlp):
    est, X = wine_mlp
    cm8 = emlearn_gen.convert(est, name="m", dtype="int8", calibration=X)
    q = cm8.packed.tables["qweights"]
    assert q.dtype == np.int8 and np.abs(q.astype(int)).max() == 127
    assert q.size == sum(w.size for w in est.coefs_)
    assert cm8.packed.tables["scales"].shape == (len(est.coefs_),)
    cm32 = emlearn_gen.convert(est, name="m")
    weights32 = cm32.packed.tables["weights"].nbytes
    assert q.nbytes * 4 == weights32
    # The contract holds against scikit-learn on the int8 weights.
    report = cm8.family.contract.assert_matches_sklearn(cm8, est, X)
    assert report["label_differences"] <= report["tie_zone"] <= 1


def test_int8_without_calibration_warns_and_says_so(wine_mlp):
    est, _ = wine_mlp
    with pytest.warns(UserWarning, match="no calibration data was given.*calibration=X") as caught:
        cm = emlearn_gen.convert(est, name="m", dtype="int8")
    # It points at the call of convert(), not inside emlearn_gen.
    assert caught[0].filename == __file__
    assert cm.report == {"weights": "int8", "calibration_rows": 0, "measured": False}
    assert "not measured against float32 (no calibration data given)" in cm.to_source()


def test_calibration_is_refused_without_int8_or_with_the_wrong_width(wine_mlp):
    est, X = wine_mlp
    with pytest.raises(ValueError, match="calibration data is used only with dtype='int8'"):
        emlearn_gen.convert(est, name="m", calibration=X)
    with pytest.raises(ValueError, match="calibration data.*13 features"):
        emlearn_gen.convert(est, name="m", dtype="int8", calibration=X[:, :5])


def test_uint32_tables_are_written_as_unsigned_literals():
    """Layer widths are a uint32_t table: values from 2**31 on are no int
    literals, and a braced initializer refuses the narrowing."""
    from emlearn_gen.core import render

    body = render.table_body(np.array([3, 2**31 + 5, 2**32 - 1], dtype=np.uint32), "uint32_t")
    assert body.split() == ["3u,", "2147483653u,", "4294967295u,"]
