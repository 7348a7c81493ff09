"""SVMs in the shared test catalog: every estimator class and kernel, binary
and multi-class, one-vs-one and one-vs-rest decisions, break_ties; probe
rows far from the data push kernel values towards 0 and 1 and the
decisions far from the training range. float64 examples of every estimator
class and kernel, on few rows and support vectors (AVR's binary64 is
software)."""

from __future__ import annotations

import numpy as np
from sklearn import svm

from ...signal import NOfM
from ...testing.catalog import Example


def _far(est, X):
    rows = X[:: max(1, len(X) // 12)]
    return np.concatenate([3.0 * rows, -rows, 0.25 * rows, np.zeros((1, X.shape[1]))])


_F64 = {"dtype": "float64"}

EXAMPLES = (
    Example("SVC-rbf-binary", lambda: svm.SVC(), "breast_cancer", _far),
    Example("SVC-rbf-ovr", lambda: svm.SVC(), "wine", _far),
    Example("SVC-rbf-ovo", lambda: svm.SVC(decision_function_shape="ovo"), "iris", _far),
    Example("SVC-break_ties", lambda: svm.SVC(break_ties=True, C=0.5), "synthetic_classification", _far),
    Example("SVC-poly", lambda: svm.SVC(kernel="poly", degree=3, coef0=1.0), "iris", _far),
    Example("SVC-sigmoid", lambda: svm.SVC(kernel="sigmoid", gamma=0.01, coef0=-0.5), "iris", _far),
    Example("SVC-linear", lambda: svm.SVC(kernel="linear"), "synthetic_classification", _far),
    Example("NuSVC", lambda: svm.NuSVC(nu=0.3), "iris", _far),
    Example("NuSVC-poly-binary", lambda: svm.NuSVC(nu=0.2, kernel="poly", degree=2), "breast_cancer", _far),
    # probability=True: Platt scaling and libsvm's pairwise coupling.
    Example("SVC-proba-binary", lambda: svm.SVC(probability=True, random_state=0), "breast_cancer", _far),
    Example("SVC-proba-multiclass", lambda: svm.SVC(probability=True, random_state=0), "iris", _far),
    Example("NuSVC-proba-linear", lambda: svm.NuSVC(nu=0.3, kernel="linear", probability=True, random_state=0),
            "synthetic_classification", _far),
    Example("SVR-rbf", lambda: svm.SVR(C=10.0), "diabetes", _far),
    Example("SVR-linear", lambda: svm.SVR(kernel="linear", C=100.0), "diabetes", _far),
    Example("NuSVR-poly", lambda: svm.NuSVR(kernel="poly", degree=2), "synthetic_regression", _far),
    Example("NuSVR-sigmoid", lambda: svm.NuSVR(kernel="sigmoid", gamma=0.05), "synthetic_regression", _far),
    # Fitted on other rows than those evaluated: a one-class SVM's margin
    # support vectors have decisions of 0 by construction.
    Example("OneClassSVM-rbf", lambda: svm.OneClassSVM(nu=0.1), "synthetic_classification", _far, held_out=True),
    Example("OneClassSVM-poly", lambda: svm.OneClassSVM(kernel="poly", degree=2, nu=0.2), "breast_cancer", _far,
            held_out=True),
    Example("OneClassSVM-linear", lambda: svm.OneClassSVM(kernel="linear", nu=0.3), "wine", _far, held_out=True),
    # A stream (convert's postprocess): an event where 2 of the last 3 rows are outliers.
    Example("OneClassSVM-NOfM", lambda: svm.OneClassSVM(nu=0.1), "wine", _far, held_out=True,
            options={"postprocess": NOfM(2, 3)}),
    # dtype="float64": binary64 kernels, decisions and probabilities. Few rows:
    # every entry point of these costs seconds a row in AVR's simulator.
    Example("SVC-proba-break_ties-float64",
            lambda: svm.SVC(probability=True, break_ties=True, random_state=0), "iris", _far,
            options=_F64, n_eval=12),
    Example("NuSVC-poly-float64", lambda: svm.NuSVC(nu=0.3, kernel="poly", degree=3), "iris", _far,
            options=_F64, n_eval=40),
    Example("SVR-linear-float64", lambda: svm.SVR(kernel="linear", C=100.0), "diabetes", _far,
            options=_F64, n_eval=60),
    Example("NuSVR-sigmoid-float64", lambda: svm.NuSVR(kernel="sigmoid", gamma=0.05, nu=0.05), "diabetes", _far,
            options=_F64, n_eval=40),
    Example("OneClassSVM-rbf-float64", lambda: svm.OneClassSVM(nu=0.1), "iris", _far, held_out=True,
            options=_F64, n_eval=50),
)
