"""Level 1 for every estimator of every family, from the shared catalog: the
host runtime against scikit-learn, by the family's numeric contract; and the
family contract itself (registration, entry points, layouts, formats)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

import emlearn_gen
from emlearn_gen import _runtime
from emlearn_gen.core.entry_points import PUBLIC_METHODS, estimator_has
from emlearn_gen.core.pipeline import flat_steps
from emlearn_gen.families import REGISTRY
from emlearn_gen.testing import catalog
from emlearn_gen.testing.reference import assert_matches_sklearn

EXAMPLES = catalog.examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_example_matches_sklearn(example):
    est, X = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="model", **example.options)
    report = assert_matches_sklearn(cm, est, X)
    # Labels may differ only inside the tie zone, and the tie zone is rare.
    assert report.get("label_differences", 0) <= report.get("tie_zone", 0)
    assert report.get("tie_zone", 0) <= max(1, len(X) // 100), report


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_methods_exist_exactly_where_sklearn_has_them(example):
    est, X = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="model", **example.options)
    X = X[:20]
    for method in PUBLIC_METHODS:
        assert hasattr(cm, method) == estimator_has(est, method), method
        if estimator_has(est, method):
            with np.errstate(divide="ignore"):  # np.log of a probability of 0
                want, got = np.asarray(getattr(est, method)(X)), np.asarray(getattr(cm, method)(X))
            assert got.shape == want.shape, (method, got.shape, want.shape)
            assert got.dtype.kind == np.asarray(want).dtype.kind, (method, got.dtype, want.dtype)


def test_log_proba_methods_exist_only_with_their_entry_point():
    """predict_log_proba and predict_joint_log_proba are CModel methods where
    the model has those entry points, and missing (with scikit-learn's
    AttributeError) elsewhere."""
    est, X = catalog.fitted(catalog.example("GaussianNB-iris"))
    cm = emlearn_gen.convert(est)
    np.testing.assert_allclose(cm.predict_log_proba(X[:5]), est.predict_log_proba(X[:5]), rtol=1e-4, atol=1e-3)
    assert cm.predict_joint_log_proba(X[:5]).shape == (5, len(est.classes_))
    # A classifier without probabilities has neither; one with them (and no
    # joint log-likelihoods in scikit-learn) has predict_log_proba only.
    ridge = emlearn_gen.convert(catalog.fitted(catalog.example("RidgeClassifier"))[0])
    logistic = emlearn_gen.convert(catalog.fitted(catalog.example("LogisticRegression-binary"))[0])
    for cm, method in ((ridge, "predict_log_proba"), (ridge, "predict_joint_log_proba"),
                       (logistic, "predict_joint_log_proba")):
        assert not hasattr(cm, method)
        with pytest.raises(AttributeError, match=method):
            getattr(cm, method)
    assert hasattr(logistic, "predict_log_proba")


def test_log_proba_is_log_f_of_predict_proba_where_the_family_has_none():
    """Derived predict_log_proba: the runtime's log_f of predict_proba's
    float32 values, bit for bit (so the header and devices, which run the
    same log_f, agree), -inf where a probability is 0 as np.log gives."""
    est, X = catalog.fitted(catalog.example("RandomForestClassifier"))
    cm = emlearn_gen.convert(est)
    raw = cm.raw_outputs("predict_proba", X)
    assert np.any(raw == 0)
    log = cm.raw_outputs("predict_log_proba", X)
    np.testing.assert_array_equal(log, _runtime.log_f(raw))
    assert np.array_equal(np.isneginf(log), raw == 0)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(log[raw > 0], np.log(raw[raw > 0].astype(np.float64)), rtol=1e-6)


def test_every_supported_estimator_is_in_the_catalog():
    covered = set()
    for example in EXAMPLES:
        est, _ = catalog.fitted(example)
        covered.add(type(est).__name__)
        if isinstance(est, Pipeline):  # its steps and final model are covered too
            covered.update(type(step).__name__ for _, step in flat_steps(est))
    assert covered == set(emlearn_gen.supported_estimators())


def test_families_and_runtime_kernels_agree():
    """Every family's kernel is in the compiled runtime, with the table
    format the family's headers check."""
    formats = _runtime.kernel_formats()
    assert sorted(formats) == sorted(f.layout.kernel for f in REGISTRY.families)
    for family in REGISTRY.families:
        assert formats[family.layout.kernel] == family.format_version, family.name


def test_unknown_option_names_the_options_of_the_family():
    est, _ = catalog.fitted(catalog.example("LinearRegression"))
    with pytest.raises(TypeError, match="unknown option 'colour'.*dtype"):
        emlearn_gen.convert(est, colour="red")
    with pytest.raises(ValueError, match="linear models: dtype must be one of 'float32'"):
        emlearn_gen.convert(est, dtype="float64")


def test_host_model_refuses_tables_that_do_not_match_the_layout():
    from emlearn_gen.core.family import Packed
    from emlearn_gen.core.host import HostModel

    est, _ = catalog.fitted(catalog.example("LinearRegression"))
    cm = emlearn_gen.convert(est)
    family = cm.family
    packed = family.tables(cm.packed)
    with pytest.raises(ValueError, match="do not match the layout"):
        HostModel(family.layout, Packed({"weights": packed.tables["weights"]}, packed.fields), cm.entry_points)
    short = dict(packed.tables, weights=packed.tables["weights"][:-1])
    with pytest.raises(ValueError, match="invalid linear model"):
        HostModel(family.layout, Packed(short, packed.fields), cm.entry_points)


def test_packed_tables_are_read_only():
    est, X = catalog.fitted(catalog.example("LogisticRegression-multinomial"))
    cm = emlearn_gen.convert(est)
    before = cm.predict_proba(X)
    with pytest.raises(ValueError, match="read-only"):
        cm.packed.tables["weights"][:] = 0.0
    np.testing.assert_array_equal(cm.predict_proba(X), before)


def test_linear_models_refuse_nan_like_sklearn():
    est, X = catalog.fitted(catalog.example("LinearRegression"))
    cm = emlearn_gen.convert(est)
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.predict(X)
    with pytest.raises(ValueError, match="NaN"):
        cm.predict(X)
