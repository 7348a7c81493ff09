"""Linear models in the shared test catalog: every estimator class, binary,
multi-class and multi-output where scikit-learn allows it, and every loss of
SGDClassifier."""

from __future__ import annotations

from sklearn import linear_model as lm
from sklearn import svm

from ...signal import MovingAverage
from ...testing.catalog import Example

_SGD_LOSSES = (
    "hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
    "squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
)

EXAMPLES = (
    Example("LogisticRegression-binary", lambda: lm.LogisticRegression(max_iter=200), "breast_cancer"),
    Example("LogisticRegression-multinomial", lambda: lm.LogisticRegression(max_iter=500), "wine"),
    Example("LogisticRegressionCV", lambda: lm.LogisticRegressionCV(cv=3, max_iter=200), "iris"),
    # A stream (convert's postprocess): probabilities averaged over the last 4 rows, then argmax.
    Example("LogisticRegression-MovingAverage", lambda: lm.LogisticRegression(max_iter=500), "wine",
            options={"postprocess": MovingAverage(4, 3)}),
    Example("RidgeClassifier", lambda: lm.RidgeClassifier(), "digits"),
    Example("RidgeClassifierCV", lambda: lm.RidgeClassifierCV(), "breast_cancer"),
    Example("Perceptron", lambda: lm.Perceptron(random_state=0), "iris"),
    Example("PassiveAggressiveClassifier", lambda: lm.PassiveAggressiveClassifier(random_state=0), "wine"),
    Example("LinearSVC-binary", lambda: svm.LinearSVC(random_state=0), "breast_cancer"),
    Example("LinearSVC-multiclass", lambda: svm.LinearSVC(random_state=0), "synthetic_classification"),
    *(
        Example(f"SGDClassifier-{loss}-{data}", (lambda loss=loss: lm.SGDClassifier(loss=loss, random_state=0)), data)
        for loss in _SGD_LOSSES
        # Unscaled digits give log_loss scores below -100: float32 sigmoids
        # underflow there unless the runtime rescales them.
        for data in (("synthetic_classification", "breast_cancer", "digits") if loss in ("log_loss", "modified_huber") else ("iris",))
    ),
    Example("LinearRegression", lambda: lm.LinearRegression(), "diabetes"),
    Example("LinearRegression-multioutput", lambda: lm.LinearRegression(), "linnerud"),
    Example("Ridge-multioutput", lambda: lm.Ridge(), "linnerud"),
    Example("RidgeCV", lambda: lm.RidgeCV(), "synthetic_regression"),
    Example("Lasso", lambda: lm.Lasso(alpha=0.1), "diabetes"),
    Example("LassoCV", lambda: lm.LassoCV(cv=3), "synthetic_regression"),
    Example("ElasticNet-multioutput", lambda: lm.ElasticNet(alpha=0.5), "linnerud"),
    Example("ElasticNetCV", lambda: lm.ElasticNetCV(cv=3), "diabetes"),
    Example("Lars", lambda: lm.Lars(), "diabetes"),
    Example("LassoLars", lambda: lm.LassoLars(alpha=0.01), "synthetic_regression"),
    Example("OrthogonalMatchingPursuit", lambda: lm.OrthogonalMatchingPursuit(), "diabetes"),
    Example("SGDRegressor", lambda: lm.SGDRegressor(random_state=0), "diabetes"),
    Example("PassiveAggressiveRegressor", lambda: lm.PassiveAggressiveRegressor(random_state=0), "diabetes"),
    Example("LinearSVR", lambda: svm.LinearSVR(random_state=0), "diabetes"),
    Example("HuberRegressor", lambda: lm.HuberRegressor(max_iter=500), "diabetes"),
    Example("BayesianRidge", lambda: lm.BayesianRidge(), "synthetic_regression"),
    Example("ARDRegression", lambda: lm.ARDRegression(), "diabetes"),
    Example("QuantileRegressor", lambda: lm.QuantileRegressor(alpha=0.01), "diabetes"),
    Example("PoissonRegressor", lambda: lm.PoissonRegressor(), "diabetes"),
    Example("GammaRegressor", lambda: lm.GammaRegressor(), "diabetes"),
    Example("TweedieRegressor-identity", lambda: lm.TweedieRegressor(power=0.0), "diabetes"),
    Example("TweedieRegressor-log", lambda: lm.TweedieRegressor(power=1.5), "diabetes"),
)
