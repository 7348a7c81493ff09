"""Column names: kept from the estimator, checked on every predict method as
scikit-learn checks them, and listed in the header's banner."""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable, List, Tuple

import numpy as np
import pytest
from firmware_support import require_tool
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen.testing import HostTarget, run_model

pd = pytest.importorskip("pandas")

COLUMNS = list("abcd")


@pytest.fixture(scope="module")
def frame(load_data):
    X, y = load_data("iris")
    return pd.DataFrame(X, columns=COLUMNS), y


def _models(frame) -> List[Tuple[Any, Any]]:
    """(estimator fitted on the DataFrame, its CModel) for a classifier and a regressor."""
    df, y = frame
    clf = RandomForestClassifier(n_estimators=5, random_state=0).fit(df, y)
    reg = RandomForestRegressor(n_estimators=5, random_state=0).fit(df, y.astype(float))
    return [(clf, emlearn_gen.convert(clf, name="named")), (reg, emlearn_gen.convert(reg, name="named"))]


def _predict_methods(est: Any) -> List[str]:
    return [m for m in ("predict", "predict_proba") if hasattr(est, m)]


def _outcome(call: Callable[[], Any]) -> Tuple[str, str, List[str]]:
    """(error type, error message, warning messages) of a call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except (ValueError, TypeError) as exc:
            return type(exc).__name__, str(exc), [f"{w.category.__name__}: {w.message}" for w in caught]
    return "", "", [f"{w.category.__name__}: {w.message}" for w in caught]


def _require_gxx() -> None:
    require_tool("g++", "g++")


def _same_outcome(est: Any, cm: Any, method: str, X: Any) -> Tuple[str, str, List[str]]:
    """Asserts that CModel does what scikit-learn does on X, naming itself
    where scikit-learn names the estimator class; returns the outcome."""
    want = _outcome(lambda: getattr(est, method)(X))
    got = _outcome(lambda: getattr(cm, method)(X))
    rename = lambda text: text.replace(type(est).__name__, "CModel 'named'")  # noqa: E731
    assert got == (want[0], rename(want[1]), [rename(w) for w in want[2]])
    return got


def test_feature_names_are_kept(frame, load_data):
    for est, cm in _models(frame):
        np.testing.assert_array_equal(cm.feature_names_in_, est.feature_names_in_)
    X, y = load_data("iris")
    plain = emlearn_gen.convert(DecisionTreeClassifier(max_depth=2).fit(X, y))
    assert not hasattr(plain, "feature_names_in_")


@pytest.mark.parametrize(
    "columns",
    [list("dcba"), list("abdc"), list("abce"), ["a", "b", "c", "d_renamed"]],
    ids=["reversed", "swapped", "unseen", "renamed"],
)
def test_different_or_reordered_names_raise_like_sklearn(frame, columns):
    df, _ = frame
    X = df[columns] if sorted(columns) == COLUMNS else df.set_axis(columns, axis=1)
    for est, cm in _models(frame):
        for method in _predict_methods(est):
            error, message, _ = _same_outcome(est, cm, method, X)
            assert error == "ValueError" and "The feature names should match those" in message
            # The positional interface (what devices are fed) refuses it too.
            with pytest.raises(ValueError, match="The feature names should match"):
                cm.raw_outputs(method, X)


def test_array_given_to_a_model_fitted_with_names_warns_like_sklearn(frame):
    df, _ = frame
    for est, cm in _models(frame):
        for method in _predict_methods(est):
            _, _, warned = _same_outcome(est, cm, method, df.to_numpy())
            assert warned == ["UserWarning: X does not have valid feature names, but CModel 'named' was fitted with feature names"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                np.testing.assert_array_equal(getattr(cm, method)(df.to_numpy()), getattr(cm, method)(df))


def test_frame_given_to_a_model_fitted_without_names_warns_like_sklearn(frame):
    df, y = frame
    est = RandomForestClassifier(n_estimators=5, random_state=0).fit(df.to_numpy(), y)
    cm = emlearn_gen.convert(est, name="named")
    for method in _predict_methods(est):
        _, _, warned = _same_outcome(est, cm, method, df)
        assert warned == ["UserWarning: X has feature names, but CModel 'named' was fitted without feature names"]


def test_matching_frame_predicts_like_sklearn_without_warnings(frame):
    df, _ = frame
    for est, cm in _models(frame):
        for method in _predict_methods(est):
            assert _same_outcome(est, cm, method, df) == ("", "", [])
            np.testing.assert_allclose(getattr(cm, method)(df), getattr(est, method)(df), rtol=1e-6, atol=1e-6)


def test_non_string_column_names_are_treated_like_sklearn(frame):
    df, _ = frame
    est, cm = _models(frame)[0]
    mixed = df.set_axis(["a", "b", 2, "d"], axis=1)
    error, _, _ = _same_outcome(est, cm, "predict", mixed)
    assert error == "TypeError"
    integers = df.set_axis([0, 1, 2, 3], axis=1)  # not names to scikit-learn: a warning
    assert _same_outcome(est, cm, "predict", integers)[2]


def test_device_path_takes_plain_arrays_without_warning(frame):
    """run_model feeds the header float32 rows by position; warnings are errors here."""
    df, _ = frame
    est, cm = _models(frame)[0]
    _require_gxx()
    got = run_model(cm, df.to_numpy()[:20], HostTarget("g++"))
    np.testing.assert_array_equal(cm.classes_[got["predict"]], est.predict(df[:20]))


def test_banner_lists_feature_names(frame):
    _, cm = _models(frame)[0]
    assert "// Features (x[0] to x[3]): a, b, c, d\n" in cm.to_source()


def _banner(source: str) -> List[str]:
    return source[: source.index("#ifndef")].splitlines()


def test_long_feature_lists_are_wrapped_and_shortened():
    rng = np.random.default_rng(0)
    names = [f"accelerometer_axis_{i}_window_mean" for i in range(300)] + ["x" * 500]
    X = rng.normal(size=(60, len(names)))
    est = DecisionTreeClassifier(max_depth=3, random_state=0).fit(pd.DataFrame(X, columns=names), X[:, 0] > 0)
    banner = _banner(emlearn_gen.convert(est, name="wide").to_source())
    features = [line for line in banner if re.match(r"// (Features|  )", line)]
    assert 1 < len(features) <= 6
    assert all(len(line) <= 100 for line in banner)
    assert features[0].startswith("// Features (x[0] to x[300]): accelerometer_axis_0_window_mean,")
    shown = sum(line.count("accelerometer_axis_") for line in features)
    assert features[-1].endswith(f"... and {len(names) - shown} more")


def test_feature_names_cannot_break_out_of_the_comment(tmp_path):
    """Names are any strings: newlines, backslashes, comment markers, non-ASCII."""
    names = ["line\nbreak", "ends with \\", "*/ #error injected", "température"]
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4))
    est = DecisionTreeClassifier(max_depth=3, random_state=0).fit(pd.DataFrame(X, columns=names), X[:, 0] > 0)
    cm = emlearn_gen.convert(est, name="odd_names")
    banner = _banner(cm.to_source())
    assert all(line == "" or line.startswith("//") for line in banner)
    assert "// Features (x[0] to x[3]): line?break, ends with /, */ #error injected, temp?rature" in banner
    _require_gxx()
    got = run_model(cm, X, HostTarget("g++"), workdir=tmp_path)
    np.testing.assert_array_equal(cm.classes_[got["predict"]], est.predict(pd.DataFrame(X, columns=names)))
