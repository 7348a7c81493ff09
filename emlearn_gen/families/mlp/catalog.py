"""Multi-layer perceptrons in the shared test catalog: binary, multi-class
and multi-label classifiers, single- and multi-output regressors, every
hidden activation, none to three hidden layers; int8 weights for each kind
of output, calibrated on their data set; float64 weights for each kind of
output and every squashing activation (small: AVR's binary64 is software)."""

from __future__ import annotations

from sklearn.neural_network import MLPClassifier, MLPRegressor

from ...testing.catalog import Example
from ...testing.datasets import DATASETS


def _classifier(hidden: tuple, activation: str, max_iter: int = 60) -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=max_iter, random_state=0)


def _regressor(hidden: tuple, activation: str, max_iter: int = 60) -> MLPRegressor:
    return MLPRegressor(hidden_layer_sizes=hidden, activation=activation, max_iter=max_iter, random_state=0)


def _int8(data: str):
    """Options of an int8 example: calibrated on the rows of its data set."""
    return {"dtype": "int8", "calibration": DATASETS[data]()[0]}


EXAMPLES = (
    Example("MLPClassifier-binary-relu", lambda: _classifier((16,), "relu"), "breast_cancer"),
    Example("MLPClassifier-binary-logistic-2layers", lambda: _classifier((12, 8), "logistic"), "breast_cancer"),
    Example("MLPClassifier-multiclass-tanh", lambda: _classifier((10,), "tanh"), "wine"),
    Example("MLPClassifier-multiclass-relu-3layers", lambda: _classifier((20, 12, 8), "relu"), "synthetic_classification"),
    Example("MLPClassifier-multiclass-identity", lambda: _classifier((6,), "identity"), "iris"),
    Example("MLPClassifier-binary-no-hidden", lambda: _classifier((), "relu"), "breast_cancer"),
    Example("MLPClassifier-multiclass-no-hidden", lambda: _classifier((), "relu"), "wine"),
    Example("MLPClassifier-multilabel-relu", lambda: _classifier((16,), "relu"), "multilabel"),
    Example("MLPClassifier-multilabel-logistic-2layers", lambda: _classifier((10, 6), "logistic"), "multilabel"),
    Example("MLPClassifier-multilabel-no-hidden", lambda: _classifier((), "tanh"), "multilabel"),
    Example("MLPRegressor-no-hidden", lambda: _regressor((), "relu"), "diabetes"),
    Example("MLPRegressor-relu", lambda: _regressor((16,), "relu"), "diabetes"),
    Example("MLPRegressor-tanh-2layers", lambda: _regressor((12, 6), "tanh"), "synthetic_regression"),
    Example("MLPRegressor-multioutput-logistic", lambda: _regressor((8,), "logistic"), "linnerud"),
    Example("MLPRegressor-multioutput-identity", lambda: _regressor((5,), "identity"), "linnerud"),
    Example("MLPClassifier-binary-int8", lambda: _classifier((12, 8), "relu"), "breast_cancer",
            options=_int8("breast_cancer")),
    Example("MLPClassifier-multiclass-int8", lambda: _classifier((10,), "tanh"), "wine", options=_int8("wine")),
    Example("MLPClassifier-multilabel-int8", lambda: _classifier((16,), "logistic"), "multilabel",
            options=_int8("multilabel")),
    Example("MLPRegressor-multioutput-int8", lambda: _regressor((8,), "relu"), "linnerud", options=_int8("linnerud")),
    Example("MLPClassifier-binary-tanh-float64", lambda: _classifier((6,), "tanh"), "breast_cancer",
            options={"dtype": "float64"}),
    Example("MLPClassifier-multiclass-logistic-2layers-float64", lambda: _classifier((6, 4), "logistic"), "wine",
            options={"dtype": "float64"}),
    Example("MLPClassifier-multilabel-relu-float64", lambda: _classifier((8,), "relu"), "multilabel",
            options={"dtype": "float64"}),
    Example("MLPRegressor-multioutput-tanh-float64", lambda: _regressor((5,), "tanh"), "linnerud",
            options={"dtype": "float64"}),
)
