"""Pipelines and feature transforms beyond the catalog: what is refused and
how, NaN through the steps, nested pipelines, and what a pipeline's model
exposes (its steps, its final model, its feature names)."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import RFE, SelectKBest
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import emlearn_gen


@pytest.fixture(scope="module")
def wine():
    return datasets.load_wine(return_X_y=True)


def test_an_unsupported_step_is_named_with_what_is_supported(wine):
    X, y = wine
    pipe = make_pipeline(StandardScaler(), Nystroem(n_components=5, random_state=0), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match=r"Pipeline step 'nystroem' is a Nystroem.*Supported steps: .*StandardScaler"):
        emlearn_gen.convert(pipe)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_model_before_the_last_step_is_refused(wine):
    X, y = wine
    model = LogisticRegression(max_iter=500).fit(X, y)
    scaler = StandardScaler().fit(X)
    # scikit-learn's fit refuses such a pipeline; assembled from fitted parts it exists.
    pipe = Pipeline([("model", model), ("scale", scaler)])
    with pytest.raises(TypeError, match="'model' is a LogisticRegression, a model: only the last step"):
        emlearn_gen.convert(pipe)
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="only the last step of a Pipeline may be a model"):
        emlearn_gen.convert(Pipeline([("scale", scaler), ("model", model), ("forest", forest)]))


def test_rfe_alone_predicts_through_its_estimator_and_is_refused(wine):
    X, y = wine
    rfe = RFE(LinearRegression(), n_features_to_select=4).fit(X, y)
    with pytest.raises(TypeError, match="RFE.*predicts through its own estimator"):
        emlearn_gen.convert(rfe)


@pytest.mark.parametrize(
    "imputer, message",
    [
        (SimpleImputer(missing_values=0.0), r"missing_values=0\.0.*fit the imputer with missing_values=np\.nan"),
        (MissingIndicator(), r"error_on_new=True\) raises.*a device cannot raise"),
    ],
)
def test_missing_values_the_device_cannot_mirror_are_refused(wine, imputer, message):
    X, y = wine
    X = X.copy()
    X[::5, 3] = 0.0
    if imputer.missing_values != 0.0:  # scikit-learn refuses NaN where 0 marks missing values
        X[::7, 2] = np.nan
    with pytest.raises(ValueError, match=message):
        emlearn_gen.convert(imputer.fit(X))


@pytest.mark.filterwarnings("ignore:Skipping features without any observed values")
def test_an_imputer_drops_features_never_seen_as_scikit_learn_does(wine):
    X, y = wine
    X = X.copy()
    X[:, 4] = np.nan
    X[::9, 1] = np.nan
    imputer = SimpleImputer().fit(X)
    cm = emlearn_gen.convert(imputer)
    assert cm.n_outputs_ == X.shape[1] - 1
    np.testing.assert_allclose(cm.transform(X), imputer.transform(X), rtol=1e-6)


def test_nan_flows_through_a_scaler_into_a_tree_but_not_into_a_linear_model(wine):
    X, y = wine
    X = X.copy()
    X[::6, 0] = np.nan
    forest = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)).fit(X, y)
    cm = emlearn_gen.convert(forest)
    assert np.array_equal(cm.predict(X), forest.predict(X))
    complete = ~np.isnan(X).any(axis=1)
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X[complete], y[complete])
    with pytest.raises(ValueError, match="NaN"):
        emlearn_gen.convert(linear).predict(X)
    with pytest.raises(ValueError, match="NaN"):
        linear.predict(X)  # as scikit-learn


def test_nested_pipelines_convert_as_their_flat_steps(wine):
    X, y = wine
    flat = make_pipeline(StandardScaler(), PCA(n_components=4), LogisticRegression(max_iter=500)).fit(X, y)
    nested = Pipeline([("features", Pipeline(flat.steps[:2])), ("model", flat.steps[2][1])])
    a, b = emlearn_gen.convert(flat), emlearn_gen.convert(nested)
    np.testing.assert_array_equal(a.raw_outputs("predict_proba", X), b.raw_outputs("predict_proba", X))
    assert a.steps is not None and b.steps is not None
    np.testing.assert_array_equal(a.steps._tables.tables["params"], b.steps._tables.tables["params"])


def test_a_pipeline_model_exposes_its_steps_and_final_model(wine):
    X, y = wine
    pipe = make_pipeline(MinMaxScaler(), SelectKBest(k=5), LogisticRegression(max_iter=500)).fit(X, y)
    cm = emlearn_gen.convert(pipe, name="wine")
    assert cm.n_features_in_ == X.shape[1]
    assert cm.steps.n_outputs_ == 5 and cm.final_model.n_features_in_ == 5
    features = cm.steps.transform(X)
    np.testing.assert_array_equal(cm.raw_outputs("predict", X), cm.final_model.raw_outputs("predict", features))
    source = cm.to_source()
    assert "constexpr int n_features = 13;" in source
    assert "Steps: MinMaxScaler -> SelectKBest" in source
    assert '#include "emlearn_gen/transforms.hpp"' in source


def test_a_pipeline_keeps_the_column_names_it_was_fitted_with(wine):
    X, y = wine
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(frame, y)
    cm = emlearn_gen.convert(pipe)
    np.testing.assert_array_equal(cm.feature_names_in_, pipe.feature_names_in_)
    assert np.array_equal(cm.predict(frame), pipe.predict(frame))
    with pytest.raises(ValueError, match="feature names"):
        cm.predict(frame[frame.columns[::-1]])


def _on_every_folded_threshold(pipe: Pipeline, X: np.ndarray) -> np.ndarray:
    """Rows of X with one input set to each threshold of the folded trees,
    and to the float32 values just below and above it."""
    from emlearn_gen.families.trees.fold import fold_trees
    from emlearn_gen.families.transforms.convert import convert_transforms

    folded = fold_trees(emlearn_gen.families.REGISTRY.get("trees").to_ir(pipe[-1]), convert_transforms(pipe[:-1]))
    base = np.nan_to_num(X[:3]).astype(np.float32)
    rows = []
    for tree in folded.trees:
        inner = ~tree.is_leaf
        for f, t in zip(tree.feature[inner], tree.threshold[inner].astype(np.float32)):
            for value in (np.nextafter(t, np.float32(-np.inf)), t, np.nextafter(t, np.float32(np.inf))):
                row = base[len(rows) % len(base)].copy()
                row[f] = value
                rows.append(row)
    return np.asarray(rows, dtype=np.float64)


_FOREST = dict(n_estimators=5, max_depth=6, random_state=0)


@pytest.mark.parametrize(
    "pipe, nan",
    [
        (make_pipeline(StandardScaler(), RandomForestClassifier(**_FOREST)), False),
        (make_pipeline(SimpleImputer(strategy="median"), MinMaxScaler(feature_range=(-1, 1), clip=True),
                       SelectKBest(k=6), RandomForestClassifier(**_FOREST)), True),
    ],
    ids=["scaler", "impute-minmax-clip-select"],
)
def test_steps_folded_into_trees_decide_as_scikit_learn_on_every_threshold(wine, pipe, nan):
    """Folding is exact: on float32 inputs at, just below and just above every
    folded threshold (and NaN where the pipeline imputes), labels and
    probabilities are scikit-learn's pipeline's (probabilities as float32
    rounds them)."""
    X, y = wine
    X = X.copy()
    if nan:
        X[::5, 2] = np.nan
    pipe.fit(X, y)
    cm = emlearn_gen.convert(pipe)
    assert cm.steps is None and "folded into the model exactly" in cm.to_source()
    probes = _on_every_folded_threshold(pipe, X)
    if nan:
        probes[::4, 2] = np.nan
    assert np.array_equal(cm.predict(probes), pipe.predict(probes))
    want = pipe.predict_proba(probes).astype(np.float32)
    np.testing.assert_array_equal(cm.raw_outputs("predict_proba", probes), want)


def test_steps_that_mix_features_are_not_folded(wine):
    X, y = wine
    pipe = make_pipeline(StandardScaler(), PCA(n_components=4),
                         RandomForestClassifier(n_estimators=3, random_state=0)).fit(X, y)
    cm = emlearn_gen.convert(pipe)
    assert cm.steps is not None and "folded" not in cm.to_source()


def test_a_leading_selection_shrinks_what_the_header_takes(wine, tmp_path):
    """The header's entry points take the selected columns only (its
    n_features), lists them (input_columns), and select_features() picks them
    from a whole row: compiled, both give the host model's labels."""
    X, y = wine
    pipe = make_pipeline(SelectKBest(k=5), StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    cm = emlearn_gen.convert(pipe, name="wine")
    columns = pipe[0].get_support(indices=True)
    np.testing.assert_array_equal(cm.input_columns, columns)
    assert cm.n_features_in_ == X.shape[1] and cm.n_device_features == 5
    source = cm.to_source()
    assert "constexpr int n_features = 5;" in source and "constexpr int n_row_features = 13;" in source
    (tmp_path / "wine.hpp").write_text(source)
    rows = X[:40].astype(np.float32)
    table = ",\n".join("{" + ", ".join(f"{v!r}f" for v in row.tolist()) + "}" for row in rows)
    (tmp_path / "main.cpp").write_text(
        '#include <stdio.h>\n#include "wine.hpp"\n'
        f"static const float rows[{len(rows)}][13] = {{\n{table}\n}};\n"
        "int main() {\n"
        f"  for (int i = 0; i < {len(rows)}; ++i) {{\n"
        "    float x[wine::n_features];\n"
        "    wine::select_features(rows[i], x);\n"
        "    float picked[wine::n_features];\n"
        "    for (int j = 0; j < wine::n_features; ++j) picked[j] = rows[i][wine::input_columns[j]];\n"
        '    printf("%d %d\\n", (int)wine::predict(x), (int)wine::predict(picked));\n'
        "  }\n}\n"
    )
    exe = tmp_path / "main"
    subprocess.run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", f"-I{emlearn_gen.get_include()}",
                    str(tmp_path / "main.cpp"), "-o", str(exe)], check=True)
    out = np.array([line.split() for line in subprocess.run([str(exe)], check=True, capture_output=True,
                                                                 text=True).stdout.splitlines()], dtype=int)
    want = cm.raw_outputs("predict", rows)
    np.testing.assert_array_equal(out[:, 0], want)
    np.testing.assert_array_equal(out[:, 1], want)


def test_steps_after_a_selection_fold_into_trees_on_the_selected_columns(wine):
    X, y = wine
    pipe = make_pipeline(SelectKBest(k=6), StandardScaler(), RandomForestClassifier(**_FOREST)).fit(X, y)
    cm = emlearn_gen.convert(pipe)
    assert cm.steps is None and cm.n_device_features == 6
    X32 = X.astype(np.float32).astype(np.float64)
    assert np.array_equal(cm.predict(X32), pipe.predict(X32))
