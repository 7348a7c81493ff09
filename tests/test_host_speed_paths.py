"""The host's fast paths give the results and errors of the general ones.

CModel's prediction methods take the common input (a 2-D C-contiguous
float32 or float64 ndarray of the model's width) through one C++ call that
checks and runs it; the trees' host kernel walks batches over its own
expanded copy of the tables, several rows per tree at a time; ``n_jobs``
splits a batch over threads. Every result must stay bit-identical to the
general path: the Python checks (check_X) and, for trees, the single-row
kernel: the header's own walk, or for models whose trees are all shallow the
host's level-order walk, which the compiled header is checked against.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import emlearn_gen
from emlearn_gen import model as model_module
from emlearn_gen.core.validation import check_X
from emlearn_gen.families.trees import FAMILY as TREES
from emlearn_gen.testing import catalog

TREE_EXAMPLES = tuple(TREES.catalog())
# Boosted models and isolation forests sum in float64 only.
BOTH_DTYPES = tuple(e for e in TREE_EXAMPLES if not e.key.startswith(("Gradient", "HistGradient", "AdaBoost", "Isolation")))
FORESTS = tuple(e for e in BOTH_DTYPES if "Forest" in e.key or "Trees" in e.key)
VALUE_METHODS = ("predict", "predict_proba")


def _converted(example, **options):
    est, X = catalog.fitted(example)
    return est, emlearn_gen.convert(est, name="model", **{**example.options, **options}), X


def _batch(X: np.ndarray, n_rows: int, seed: int = 0) -> np.ndarray:
    """``n_rows`` rows from X, perturbed so they do not repeat; NaN stays NaN."""
    rng = np.random.default_rng(seed)
    rows = X[np.arange(n_rows) % len(X)].astype(np.float64)
    rows = rows * (1.0 + 1e-3 * rng.standard_normal(rows.shape))
    rows[: len(X)] = X[: min(len(X), n_rows)]  # the probe's exact threshold rows too
    big = np.finfo(np.float32).max
    return np.ascontiguousarray(np.clip(rows, -big, big), dtype=np.float32)  # NaN stays


def _single_rows(cm, method: str, X: np.ndarray) -> np.ndarray:
    """raw_outputs row by row: the single-row kernel (the header's own walk,
    or the level-order walk of models whose trees all have one)."""
    return np.concatenate([cm.raw_outputs(method, X[i : i + 1]) for i in range(len(X))])


def _bits(a: np.ndarray) -> np.ndarray:
    """Floats as their bit patterns (NaN and -0.0 compared exactly); other arrays as they are."""
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


def _methods(cm):
    """The entry points whose rows are independent: a stream's result
    depends on the rows before it (tests/test_stream.py)."""
    return [ep.name for ep in cm.entry_points if not ep.has_state]


@pytest.mark.parametrize(
    "example, dtype",
    [(e, d) for e in BOTH_DTYPES for d in ("float32", "float64")]
    + [(e, "float64") for e in TREE_EXAMPLES if e not in BOTH_DTYPES],
    ids=lambda v: v if isinstance(v, str) else v.key,
)
def test_tree_batch_kernel_equals_the_single_row_kernel(example, dtype):
    """Batches walk the host's expanded node table with interleaved rows; a
    single row walks the header's bit records, or the level-order copy of
    trees that are all shallow (checked against the compiled header below).
    Same bits on every row, NaN and inputs on every threshold included."""
    _, cm, X = _converted(example, dtype=dtype)
    X32 = _batch(X, 700)
    for method in _methods(cm):
        batch = cm.raw_outputs(method, X32)
        np.testing.assert_array_equal(_bits(batch), _bits(_single_rows(cm, method, X32)))


@pytest.mark.parametrize("example", FORESTS, ids=[e.key for e in FORESTS])
def test_results_do_not_depend_on_n_jobs(example):
    est, cm, X = _converted(example)
    X32 = _batch(X, 3000)  # enough rows for 7 threads of a few hundred
    assert cm.n_jobs == 1
    results = {}
    for n_jobs in (1, 2, 7):
        cm.n_jobs = n_jobs
        results[n_jobs] = {m: getattr(cm, m)(X32) for m in VALUE_METHODS if hasattr(cm, m)}
        results[n_jobs]["raw"] = cm.raw_outputs("predict", X32)
    for n_jobs in (2, 7):
        for method, want in results[1].items():
            got = results[n_jobs][method]
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=method)
    if hasattr(est, "classes_"):  # labels equal scikit-learn's (its outputs differ by the contract)
        np.testing.assert_array_equal(results[7]["predict"], est.predict(X32))


@pytest.mark.parametrize("value, want", [(None, 1), (1, 1), (3, 3), (np.int64(2), 2), (-1, os.cpu_count() or 1)])
def test_n_jobs_is_read_as_scikit_learn_reads_it(value, want):
    _, cm, _ = _converted(FORESTS[0])
    cm.n_jobs = value
    assert cm.n_jobs == want


@pytest.mark.parametrize("value", [0, 1.5, "2", True])
def test_bad_n_jobs_is_refused(value):
    _, cm, _ = _converted(FORESTS[0])
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        cm.n_jobs = value
    assert cm.n_jobs == 1


def _refuse_check_X(*args, **kwargs):
    raise AssertionError("check_X ran on an input the fast path takes")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 5])
def test_common_input_takes_one_call(monkeypatch, dtype, n_rows):
    """A C-contiguous float32/float64 ndarray of the right width skips the
    Python checks (the fast path does them), with the same results."""
    est, cm, X = _converted(catalog.example("RandomForestClassifier"))
    X = np.ascontiguousarray(X[:n_rows], dtype=dtype)
    want = {m: getattr(cm, m)(np.asfortranarray(X)) for m in VALUE_METHODS}  # general path
    monkeypatch.setattr(model_module, "check_X", _refuse_check_X)
    for method, expected in want.items():
        np.testing.assert_array_equal(getattr(cm, method)(X), expected)


ONE_CALL_KEYS = ("RandomForestRegressor", "LinearRegression-multioutput", "LogisticRegression-binary",
                 "IsolationForest", "GradientBoostingClassifier-multiclass", "KMeans", "StandardScaler",
                 "MissingIndicator")


@pytest.mark.parametrize("key", ONE_CALL_KEYS)
@pytest.mark.parametrize("n_rows", [1, 70])
def test_one_call_results_have_scikit_learns_dtype_and_shape(monkeypatch, key, n_rows):
    """Where the C++ call shapes the result (labels, int64 +1/-1 flags,
    float64 values, 1-D where scikit-learn's are), it equals the general
    path's (a Fortran-ordered copy of the rows takes check_X, run and
    _shaped) in dtype, shape and bits, for every method; the methods it does
    not shape (logarithms, labels of clusterers, flags) still take the
    general path, with the same results."""
    est, cm, X = _converted(catalog.example(key))
    X = np.ascontiguousarray(np.nan_to_num(X[:n_rows]), dtype=np.float32)
    methods = [m for m in ("predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples",
                           "transform") if hasattr(cm, m)]
    want = {m: getattr(cm, m)(np.asfortranarray(X)) for m in methods}
    served = {m for m in methods if m in cm._one_call}
    assert bool(served) == (key != "MissingIndicator")  # bool flags: the general path only
    checked = []
    real_check_X = model_module.check_X
    monkeypatch.setattr(model_module, "check_X", lambda *a, **k: checked.append(1) or real_check_X(*a, **k))
    for method in methods:
        del checked[:]
        got = getattr(cm, method)(X)
        assert got.dtype == want[method].dtype and got.shape == want[method].shape, method
        np.testing.assert_array_equal(_bits(got), _bits(want[method]), err_msg=method)
        assert bool(checked) == (method not in served), method


def test_logarithms_have_no_one_call_form():
    _, cm, _ = _converted(catalog.example("LogisticRegression-binary"))
    with pytest.raises(ValueError, match="logarithms"):
        cm._host.one_call("predict_log_proba", False)


def _inputs_to_compare(n_features: int) -> list:
    """Inputs on which the fast and the general path must agree: float64
    values that round (halfway cases, subnormals, the edge of float32's
    range), and layouts the fast path leaves to check_X."""
    rng = np.random.default_rng(1)
    base = rng.standard_normal((6, n_features)) * 10.0
    halfway = np.float64(1.0) + np.float64(2.0**-24)  # rounds to even: 1.0
    base[0, :] = halfway
    base[1, :] = 1e-45  # float32 subnormal
    base[2, :] = np.nextafter(np.float64(np.finfo(np.float32).max), 0.0)  # rounds to FLT_MAX, not inf
    base[3, :] = -7e-46  # rounds to -0.0
    base[4, :] = np.nan
    return [
        base,
        base.astype(np.float32),
        np.asfortranarray(base),
        base[:, ::-1].copy()[:, ::-1],  # non-contiguous view
        base.astype(">f8"),  # byte-swapped
        base[5:].astype(np.float16),
        np.rint(base[5:]).astype(np.int64),
        np.ascontiguousarray(base[:1]),
        np.frombuffer(b"\0" + base.tobytes(), dtype=np.float64, offset=1).reshape(base.shape),  # unaligned
    ]


@pytest.mark.parametrize("key", ["RandomForestClassifier", "RandomForestRegressor"])
def test_fast_path_equals_check_X(key):
    est, cm, _ = _converted(catalog.example(key))
    for X in _inputs_to_compare(cm.n_features_in_):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            X32 = check_X(X, cm.n_features_in_, "m", allow_nan=cm._lowered.allow_nan)
        for method in _methods(cm):
            got = getattr(cm, method)(X)
            raw = cm._host.run(method, X32)
            want = cm.classes_.take(raw) if raw.dtype.kind == "i" else raw.astype(np.float64).reshape(got.shape)
            np.testing.assert_array_equal(got, want, err_msg=f"{method} on {X.dtype} {X.flags['C_CONTIGUOUS']}")


def _message(fn, X) -> str:
    with pytest.raises(ValueError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fn(X)
    return str(info.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e300, np.nan])
def test_refused_values_have_the_general_message(dtype, bad):
    """Infinity (also from float64 overflow) and, where the family takes no
    NaN, NaN: refused with exactly check_X's message, which is
    scikit-learn's."""
    for key in ("RandomForestClassifier", "LogisticRegression-multinomial"):
        _, cm, X = _converted(catalog.example(key))
        if bad == 1e300 and dtype == np.float32:
            continue  # not a float32 value
        X = np.ascontiguousarray(np.nan_to_num(X[:3]), dtype=dtype)
        X[1, 0] = bad
        if np.isnan(bad) and cm._lowered.allow_nan:
            cm.predict(X)  # a missing value, taken
            continue
        want = _message(lambda A: check_X(A, cm.n_features_in_, cm._display_name(), cm._lowered.allow_nan), X)
        assert _message(cm.predict, X) == want
        assert "infinity" in want or "NaN" in want


def test_plain_array_on_a_model_fitted_with_names_still_warns():
    pd = pytest.importorskip("pandas")
    est, _, X = _converted(catalog.example("RandomForestClassifier"))
    X = np.nan_to_num(X[:4])
    names = [f"f{i}" for i in range(X.shape[1])]
    named = type(est)(**est.get_params()).fit(pd.DataFrame(X, columns=names), est.predict(X))
    cm = emlearn_gen.convert(named)
    with pytest.warns(UserWarning, match="does not have valid feature names") as record:
        cm.predict(np.ascontiguousarray(X, dtype=np.float32))
    assert record[0].filename == __file__  # points at the caller
    frame = pd.DataFrame(X, columns=names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(cm.predict(frame), named.predict(frame))


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 7, 9]),
        np.array(["b", "a", "c"]),
        np.array(["b", "a", "c"], dtype=object),
        np.array([True, False, True]),
    ],
    ids=["int", "str", "object", "bool"],
)
def test_labels_come_back_as_scikit_learn_returns_them(labels):
    """The fast path copies labels in C++ (any dtype but object; object
    labels go through classes_.take): same values and dtype either way."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4)).astype(np.float32)
    y = labels[rng.integers(0, 3, 300)]
    est = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    for rows in (X[:1], X):
        got, want = cm.predict(rows), est.predict(rows)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# The batch kernel's layouts and paths: trees of depth <= 12 that padding
# at most quadruples are walked in level order, 8 rows in step, the others
# by 64 lanes that refill as their rows reach leaves; blocks of rows hold
# 64 to 1024 rows; the missing-value test runs only in blocks with a NaN.
# Sizes below, at and above each of these counts.
BATCH_SIZES = (1, 2, 7, 8, 9, 63, 64, 65, 129, 1100, 2300)


def _chain_regressor(n_splits: int):
    """A tree that is a chain: on x = 0, 1, ... with targets growing
    fourfold, every split sets the largest sample apart, so the tree has as
    many levels as splits (a complete tree of that depth pads 2^d - 1 nodes)."""
    from sklearn.tree import DecisionTreeRegressor

    X = np.arange(n_splits + 1, dtype=np.float32).reshape(-1, 1)
    y = 4.0 ** np.arange(n_splits + 1)
    est = DecisionTreeRegressor(random_state=0).fit(X, y)
    assert est.get_depth() == n_splits
    return est, np.linspace(-1.0, n_splits + 1.0, 97, dtype=np.float32).reshape(-1, 1)


def _noisy_rows(n_rows: int, n_features: int, nan_share: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features)).astype(np.float32)
    X[rng.random(X.shape) < nan_share] = np.nan
    return X


def _layout_models():
    """(id, fitted estimator, rows near its training data) for each path of the batch kernel."""
    from sklearn.ensemble import GradientBoostingClassifier, IsolationForest, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    X = _noisy_rows(3000, 6, 0.1, seed=5)
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 > 0.7).astype(int) + (np.nan_to_num(X[:, 2]) > 1.0)
    y_random = np.random.default_rng(6).integers(0, 3, len(X))  # deep trees of unlike path lengths
    Xc = np.nan_to_num(X)
    return [
        ("level-nan", DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y), X),
        ("pure-forest-lanes-nan", _pure_leaves(RandomForestClassifier(n_estimators=6, random_state=0).fit(X, y_random)),
         X),
        # Every feature a candidate at each split: the first feature's two
        # thresholds alone, trees of depth 2 (level order).
        ("pure-forest-level-nan", _pure_leaves(RandomForestClassifier(n_estimators=5, max_features=None,
                                                                      random_state=0).fit(X, _thirds(X))), X),
        ("lanes-nan", DecisionTreeClassifier(random_state=0).fit(X, y_random), X),
        ("forest-nan", RandomForestClassifier(n_estimators=6, max_depth=7, min_samples_leaf=3,
                                              random_state=0).fit(X, y_random), X),
        ("chain-level", *_chain_regressor(3)),
        ("chain-lanes", *_chain_regressor(9)),
        ("boosted-sparse-rows", GradientBoostingClassifier(n_estimators=7, max_depth=2, random_state=0).fit(Xc, y),
         Xc),
        ("isolation", IsolationForest(n_estimators=9, random_state=0).fit(Xc), Xc),
        *_one_tree_models(X, y_random),
    ]


def _thirds(X: np.ndarray) -> np.ndarray:
    """Three classes from the first feature alone (NaN as 0): two splits
    of it make pure leaves."""
    return np.digitize(np.nan_to_num(X[:, 0]), [-0.5, 0.5])


def _pure_leaves(forest):
    """The forest, checked to have pure leaves only: each of its leaf rows
    holds one class, which the batch kernel adds as one value (the other
    sums' zeros left out)."""
    for tree in forest.estimators_:
        leaves = tree.tree_.children_left == -1
        shares = tree.tree_.value[leaves, 0, :]
        assert ((shares == 0) | (shares == 1)).all() and (shares.sum(axis=1) == 1).all()
    return forest


def _one_tree_models(X: np.ndarray, y_random: np.ndarray):
    """Models of one tree, whose batch results the kernel looks up per leaf
    (each leaf's result computed once from its sums), beside the decision
    trees above: several outputs per row, a root that is a leaf, and an
    outlier score. (Boosted models have a tree for their initial value
    besides their stages.)"""
    from sklearn.ensemble import IsolationForest
    from sklearn.tree import DecisionTreeRegressor

    Xc = np.nan_to_num(X)
    two_outputs = np.column_stack([np.nan_to_num(X[:, 0]) * 3.0, y_random - 0.5]).astype(np.float64)
    return [
        ("one-tree-two-outputs-nan", DecisionTreeRegressor(max_depth=12, random_state=0).fit(X, two_outputs), X),
        ("one-tree-constant", DecisionTreeRegressor().fit(Xc, np.full(len(Xc), 2.5)), Xc),
        ("one-tree-isolation", IsolationForest(n_estimators=1, random_state=0).fit(Xc), Xc),
    ]


@pytest.mark.parametrize("key, est, X", _layout_models(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_batch_size_and_layout_equals_the_single_row_kernel(key, est, X):
    """Level-order and lane walks, NaN rows (with NaN-free blocks beside
    them), single-leaf and chain trees, sparse rows: each row's results in
    a batch of any size equal the single-row walk, bit for bit,
    and the labels equal scikit-learn's."""
    cm = emlearn_gen.convert(est)
    rows = _batch(X, max(BATCH_SIZES), seed=7)
    for method in _methods(cm):
        want = _single_rows(cm, method, rows)
        for n in BATCH_SIZES:
            got = cm.raw_outputs(method, rows[:n])
            np.testing.assert_array_equal(_bits(got), _bits(want[:n]), err_msg=f"{method}, {n} rows")
    if hasattr(est, "classes_") or key == "isolation":
        np.testing.assert_array_equal(cm.predict(rows), est.predict(rows))


def _level_order_models():
    """(id, fitted estimator, rows) of models of several trees that are all
    shallow enough for level order, whose single rows take the host's
    level-order walk: leaf rows of one value in sums per class (boosting),
    of one value in one sum (isolation), of a class row (a forest), of one
    class (a forest of pure leaves), with and without NaN."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    X = _noisy_rows(3000, 6, 0.1, seed=5)
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 > 0.7).astype(int) + (np.nan_to_num(X[:, 2]) > 1.0)
    by_key = {key: (key, est, rows) for key, est, rows in _layout_models()}
    return [
        by_key["boosted-sparse-rows"],
        by_key["isolation"],
        by_key["pure-forest-level-nan"],
        ("hgb-level-nan", HistGradientBoostingClassifier(max_iter=6, max_depth=3, random_state=0).fit(X, y), X),
        ("forest-level-nan", RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y), X),
    ]


@pytest.mark.parametrize("key, est, X", _level_order_models(), ids=lambda v: v if isinstance(v, str) else "")
def test_one_row_of_level_order_trees_equals_the_compiled_header(key, est, X, emlearn_build_cache):
    """One row of these models walks the host's level-order copy of the
    trees rather than the header's records: the header compiled with the
    host's g++, given the same rows one at a time, returns the same labels
    and bits, NaN rows and rows on thresholds included."""
    from emlearn_gen.testing import assert_device_matches

    cm = emlearn_gen.convert(est)
    rows = _batch(X, 24, seed=9)
    assert np.isnan(rows).any() == key.endswith("-nan")
    for i in range(len(rows)):
        (report,) = assert_device_matches(cm, rows[i : i + 1], targets=["host"], cache=emlearn_build_cache).values()
        assert report.n_samples == 1 and report.label_differences == 0 and report.tolerance == 0.0
        assert report.bit_equal and all(report.bit_equal.values()), (i, report)


@pytest.mark.parametrize("key, est, X", _layout_models(), ids=lambda v: v if isinstance(v, str) else "")
def test_threads_give_the_results_of_one(key, est, X):
    """n_jobs splits a batch into contiguous parts of at least 256 rows, each
    in blocks and groups of its own: every row's result stays the same."""
    cm = emlearn_gen.convert(est)
    rows = _batch(X, 2300, seed=8)
    want = {m: cm.raw_outputs(m, rows) for m in _methods(cm)}
    for n_jobs in (2, 3, 8):
        cm.n_jobs = n_jobs
        for method, expected in want.items():
            np.testing.assert_array_equal(_bits(cm.raw_outputs(method, rows)), _bits(expected), err_msg=method)


def test_a_single_tree_gives_the_same_bits_on_any_number_of_threads_with_nan():
    """A decision tree's batch through the public methods (the one C++ call
    that checks, scans and runs blocks of rows on n_jobs threads): NaN rows
    in a few blocks only, so that blocks with and without the missing-value
    test run side by side; float32 and float64 input. Every n_jobs gives the
    bits of n_jobs=1 and of the header's single-row walk, and scikit-learn's
    labels."""
    from sklearn.tree import DecisionTreeClassifier

    X = _noisy_rows(4000, 120, 0.05, seed=11)  # wide rows: blocks of a few hundred
    y = np.random.default_rng(12).integers(0, 4, len(X))  # deep, of unlike path lengths
    est = DecisionTreeClassifier(random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    rows = np.nan_to_num(_batch(X, 3000, seed=13))
    rows[1200:1260] = X[:60]  # NaN here only
    raw = {m: _single_rows(cm, m, rows) for m in _methods(cm)}
    want = {m: getattr(cm, m)(np.asfortranarray(rows)) for m in VALUE_METHODS}  # the general path
    np.testing.assert_array_equal(_bits(cm.raw_outputs("predict_proba", rows)), _bits(raw["predict_proba"]))
    np.testing.assert_array_equal(want["predict"], est.predict(rows))
    np.testing.assert_array_equal(cm.classes_.take(raw["predict"]), want["predict"])
    for n_jobs in (1, -1, 3):
        cm.n_jobs = n_jobs
        for dtype in (np.float32, np.float64):
            for method, expected in want.items():
                got = getattr(cm, method)(rows.astype(dtype))
                assert got.dtype == expected.dtype
                np.testing.assert_array_equal(_bits(got), _bits(expected), err_msg=f"{method}, n_jobs={n_jobs}")
