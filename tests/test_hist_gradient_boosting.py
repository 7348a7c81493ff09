"""HistGradientBoostingClassifier and HistGradientBoostingRegressor: what
the catalog's examples do not single out (pandas categorical columns, the
binary label rule, category routing, float64 inputs) and every refusal."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

import emlearn_gen
from emlearn_gen.core.family import Packed
from emlearn_gen.core.host import HostModel

pd = pytest.importorskip("pandas")


def _categorical_data(n=400, seed=0):
    """Column 0 categorical (categories -1, 2, 5.5, 9 and NaN), columns 1
    and 2 numeric, every value exactly a float32."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.choice([-1.0, 2.0, 5.5, 9.0], n),
        rng.normal(size=n),
        rng.integers(0, 4, n).astype(float),
    ]).astype(np.float32).astype(np.float64)
    X[rng.random(n) < 0.1, 0] = np.nan
    y = (np.isin(X[:, 0], [2.0, 9.0]) ^ (X[:, 1] > 0)).astype(int)
    return X, y


def _category_rows(base_row, column, values):
    rows = np.repeat(base_row[None, :], len(values), axis=0)
    rows[:, column] = values
    return rows


def test_known_unseen_and_missing_categories_go_where_sklearn_sends_them():
    X, y = _categorical_data()
    est = HistGradientBoostingClassifier(max_iter=15, categorical_features=[0], random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    unseen = [-2.0, 0.0, -0.0, 2.5, 5.0, 6.0, 100.0, 1e30, -1e-30]
    rows = np.concatenate([_category_rows(X[i], 0, [-1.0, 2.0, 5.5, 9.0, np.nan] + unseen) for i in range(20)])
    np.testing.assert_array_equal(cm.predict(rows), est.predict(rows))
    np.testing.assert_array_equal(cm.decision_function(rows), est.decision_function(rows).astype(np.float32))
    # The categories decide (not a coincidence of the other columns): known
    # categories 2 and 5.5 get different raw scores on the same row.
    raw = est.decision_function(_category_rows(X[0], 0, [2.0, 5.5]))
    assert raw[0] != raw[1]


def test_categorical_splits_are_bitsets_not_chains_of_compares():
    X, y = _categorical_data()
    est = HistGradientBoostingClassifier(max_iter=10, categorical_features=[True, False, False],
                                         random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    sk_splits = sum(int((~p.nodes["is_leaf"].astype(bool)).sum()) for it in est._predictors for p in it)
    sk_categorical = sum(int(p.nodes["is_categorical"].sum()) for it in est._predictors for p in it)
    assert sk_categorical > 0
    assert cm.packed.n_nodes == sk_splits  # one node per split
    assert cm.packed.cat_values.tolist() == [-1.0, 2.0, 5.5, 9.0]


def test_pandas_categorical_columns_take_their_category_values():
    """categorical_features="from_dtype": the device reads the columns in
    the DataFrame's order, a categorical column as its category's value."""
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({
        "a": rng.normal(size=n).astype(np.float32).astype(float),
        "colour": pd.Categorical(rng.choice([3, 1, 8], n)),
        "b": rng.normal(size=n).astype(np.float32).astype(float),
    })
    y = (df["colour"].astype(int) > 2).to_numpy() ^ (df["a"] > 0).to_numpy()
    est = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(df, y)
    assert est.is_categorical_.tolist() == [False, True, False]
    cm = emlearn_gen.convert(est)
    test = pd.DataFrame({
        "a": np.float32(rng.normal(size=8)).astype(float),
        "colour": pd.Categorical([3, 1, 8, 5, np.nan, 3, 1, 0]),  # 5 and 0 unseen
        "b": np.zeros(8),
    })
    np.testing.assert_array_equal(cm.predict(test), est.predict(test))
    plain = np.column_stack([test["a"], test["colour"].astype(float), test["b"]]).astype(np.float32)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(cm.predict(plain), est.predict(test))


def test_string_categories_are_refused_with_what_to_do():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=100), "colour": pd.Categorical(rng.choice(["red", "blue"], 100))})
    est = HistGradientBoostingRegressor(max_iter=3).fit(df, rng.normal(size=100))
    with pytest.raises(ValueError, match=r"categorical feature 'colour' has categories that are not numbers.*"
                                         r"Encode such a column as numbers"):
        emlearn_gen.convert(est)


def test_categories_float32_cannot_hold_are_refused():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.choice([0.1, 0.2, 0.3], 200), rng.normal(size=200)])
    est = HistGradientBoostingRegressor(max_iter=3, categorical_features=[0]).fit(X, rng.normal(size=200))
    with pytest.raises(ValueError, match="categorical feature at index 0 has categories that float32 cannot represent"):
        emlearn_gen.convert(est)


def test_binary_label_is_class_1_only_where_the_raw_score_is_positive():
    """scikit-learn's HistGradientBoostingClassifier predicts class 0 where
    the raw score is exactly 0 (GradientBoostingClassifier predicts 1)."""
    X, y = _categorical_data()
    est = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    est = copy.deepcopy(est)
    est._baseline_prediction = np.zeros_like(est._baseline_prediction)
    for iteration in est._predictors:
        for predictor in iteration:
            predictor.nodes["value"][:] = 0.0
    assert np.all(est.decision_function(X[:5]) == 0)
    cm = emlearn_gen.convert(est)
    np.testing.assert_array_equal(cm.predict(X[:5]), est.predict(X[:5]))
    assert np.all(cm.predict(X[:5]) == est.classes_[0])


def test_float64_inputs_are_decided_as_their_float32_rounding():
    """The device reads float32: a float64 input is the float32 nearest it,
    which may lie on the other side of a threshold (docs: the contract)."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 1))  # float64 values float32 cannot hold
    y = X[:, 0] * 3
    est = HistGradientBoostingRegressor(max_iter=5, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    X32 = X.astype(np.float32).astype(np.float64)
    np.testing.assert_array_equal(cm.predict(X), est.predict(X32).astype(np.float32))


@pytest.mark.parametrize("loss", ["gamma", "poisson"])
def test_log_link_regressors_are_within_the_exp_bound(loss):
    from emlearn_gen.families.trees.contract import exp_link_bound

    X, y = _categorical_data()
    est = HistGradientBoostingRegressor(loss=loss, max_iter=10, random_state=0).fit(X, y + 1.0)
    cm = emlearn_gen.convert(est)
    want = est.predict(X)
    raw = est._raw_predict(X).ravel()
    assert np.all(np.abs(cm.predict(X) - want) <= exp_link_bound(raw, want))
    assert not np.array_equal(want, raw)  # the link is applied


def test_an_unknown_loss_link_is_refused():
    X, y = _categorical_data()
    est = copy.deepcopy(HistGradientBoostingRegressor(max_iter=2).fit(X, y))

    class StrangeLink:
        pass

    class StrangeLoss:
        link = StrangeLink()

    est._loss = StrangeLoss()
    with pytest.raises(ValueError, match="HistGradientBoostingRegressor has a loss whose link emlearn_gen does not know"):
        emlearn_gen.convert(est)


def test_malformed_predictors_are_refused():
    X, y = _categorical_data()
    est = copy.deepcopy(HistGradientBoostingClassifier(max_iter=2, categorical_features=[0]).fit(X, y))
    est._predictors[1] = []
    with pytest.raises(ValueError, match=r"_predictors\[1\] holds 0 trees, not 1"):
        emlearn_gen.convert(est)
    est = copy.deepcopy(HistGradientBoostingClassifier(max_iter=2, categorical_features=[0]).fit(X, y))
    nodes = est._predictors[0][0].nodes
    split = np.flatnonzero(nodes["is_categorical"])[0]
    nodes["bitset_idx"][split] = 99
    with pytest.raises(ValueError, match=r"_predictors\[0\]\[0\]: bitset 99 is not in raw_left_cat_bitsets"):
        emlearn_gen.convert(est)


def _host(cm, **changes):
    family = cm.family
    packed = family.tables(cm.packed)
    tables = {name: np.array(table) for name, table in packed.tables.items()}
    tables.update(changes)
    return HostModel(family.layout, Packed(tables, packed.fields), cm.entry_points)


def test_runtime_refuses_malformed_category_tables():
    X, y = _categorical_data()
    est = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    _host(cm)  # the tables as packed load
    unsorted = np.array(cm.packed.cat_values)[::-1].copy()
    with pytest.raises(ValueError, match="invalid packed forest"):
        _host(cm, cat_values=unsorted)
    with pytest.raises(ValueError, match="invalid packed forest"):
        _host(cm, cat_bits=np.zeros(0, dtype=np.uint8))
    with pytest.raises(ValueError, match="n_cat_values is not the length of cat_values"):
        _host(cm, cat_values=np.array(cm.packed.cat_values)[:-1].copy())


@pytest.mark.parametrize("make", [
    lambda: HistGradientBoostingClassifier(max_iter=8, random_state=0),
    lambda: __import__("sklearn.ensemble", fromlist=["x"]).GradientBoostingClassifier(n_estimators=8, random_state=0),
], ids=["HistGradientBoostingClassifier", "GradientBoostingClassifier"])
def test_multiclass_boosting_stores_one_value_per_leaf(make):
    """Each tree adds to one class: its leaf rows are single values and
    tree_classes names the class; raw scores stay scikit-learn's."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X, y = X[20:].astype(np.float32).astype(np.float64), y[20:]  # unbalanced: a baseline row of 3 non-zeros
    est = make().fit(X, y)
    cm = emlearn_gen.convert(est)
    assert cm.packed.tree_class_bits == 2
    assert cm.packed.leaves.shape[1] == 1
    # The baseline (init) row becomes one single-leaf tree per class.
    assert cm.packed.n_trees == 3 + 3 * 8
    np.testing.assert_array_equal(cm.decision_function(X), est.decision_function(X).astype(np.float32))
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    from emlearn_gen.core.bits import pack_fields

    bad = pack_fields(np.full(cm.packed.n_trees, 3, dtype=np.uint64), 2, cm.packed.word_bits // 8)
    with pytest.raises(ValueError, match="invalid packed forest"):
        _host(cm, tree_classes=bad)  # class 3 of 3
