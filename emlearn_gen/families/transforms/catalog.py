"""Feature transforms in the shared test catalog: every step, its variants,
and Pipelines of them (NaN imputed, selected, projected)."""

from __future__ import annotations

import numpy as np
from sklearn import decomposition as dec
from sklearn import ensemble
from sklearn import feature_selection as fs
from sklearn import impute
from sklearn import linear_model as lm
from sklearn import preprocessing as pp
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
import scipy.signal
from sklearn.pipeline import FeatureUnion, make_pipeline

from ...signal import MFCC, FIRFilter, MelSpectrum, SOSFilter, SpectralFeatures, Spectrum, WindowFeatures
from ...testing.catalog import Example
from ...testing.datasets import ACTIVITY_CHANNELS, ACTIVITY_RATE, ACTIVITY_SAMPLES


def _windows(features: tuple = ("mean", "std", "min", "max", "rms", "zero_crossings", "peak_to_peak",
                                "energy")) -> WindowFeatures:
    return WindowFeatures(ACTIVITY_SAMPLES, ACTIVITY_CHANNELS, features)


def _spectral(cls: type, **params: object) -> object:
    """A spectral transformer of the activity windows: one FFT of all 32
    samples per axis (small enough for AVR)."""
    return cls(n_fft=ACTIVITY_SAMPLES, n_channels=ACTIVITY_CHANNELS, **params)


def _lowpass() -> SOSFilter:
    """A 2nd-order Butterworth low-pass at 5 Hz, from the steady state of
    each window's first sample (no start-up transient from gravity)."""
    sos = scipy.signal.butter(2, 5.0, fs=ACTIVITY_RATE, output="sos")
    return SOSFilter(sos, n_channels=ACTIVITY_CHANNELS, init="steady")


def _decimate() -> FIRFilter:
    """Low-pass FIR and decimation by 2: 16 samples per axis are left."""
    return FIRFilter(scipy.signal.firwin(9, 0.5), decimation=2, n_channels=ACTIVITY_CHANNELS)


def _beyond(est: object, X: np.ndarray) -> np.ndarray:
    """Rows stretched about the middle of the data: beyond the range a
    SplineTransformer's knots span, on both sides, where it extrapolates."""
    middle = (X.max(axis=0) + X.min(axis=0)) / 2
    return middle + 1.6 * (X[::-1] - middle)


# Knots given explicitly, per iris feature (each column ascending, covering its range).
_IRIS_KNOTS = np.array([[4.0, 1.5, 0.5, 0.0], [5.5, 3.0, 3.0, 1.0], [7.0, 4.0, 5.0, 2.0], [8.0, 4.5, 7.0, 2.6]])

EXAMPLES = (
    Example("StandardScaler", lambda: pp.StandardScaler(), "wine"),
    Example("StandardScaler-no-mean", lambda: pp.StandardScaler(with_mean=False), "breast_cancer"),
    Example("StandardScaler-nan", lambda: pp.StandardScaler(), "nan_regression"),
    Example("RobustScaler", lambda: pp.RobustScaler(quantile_range=(10.0, 90.0)), "diabetes"),
    Example("MaxAbsScaler", lambda: pp.MaxAbsScaler(), "breast_cancer"),
    # Rows the scaler has not seen go beyond the feature range: clip decides.
    Example("MinMaxScaler-clip", lambda: pp.MinMaxScaler(feature_range=(-1, 1), clip=True), "wine",
            held_out=True, n_eval=60),
    Example("MinMaxScaler", lambda: pp.MinMaxScaler(), "diabetes"),
    Example("Normalizer-l2", lambda: pp.Normalizer(), "wine"),
    Example("Normalizer-l1", lambda: pp.Normalizer(norm="l1"), "iris"),
    Example("Normalizer-max", lambda: pp.Normalizer(norm="max"), "digits"),
    Example("Binarizer", lambda: pp.Binarizer(threshold=7.5), "digits"),
    # 2.9 is no float32, and a value of many iris rows: they stay below it.
    Example("Binarizer-inexact-threshold", lambda: pp.Binarizer(threshold=2.9), "iris"),
    Example("SimpleImputer-mean", lambda: impute.SimpleImputer(), "nan_classification"),
    Example("SimpleImputer-median", lambda: impute.SimpleImputer(strategy="median"), "nan_regression"),
    Example("SimpleImputer-most-frequent", lambda: impute.SimpleImputer(strategy="most_frequent"), "nan_regression"),
    Example("SimpleImputer-constant", lambda: impute.SimpleImputer(strategy="constant", fill_value=-1.5),
            "nan_classification"),
    Example("SimpleImputer-add-indicator", lambda: impute.SimpleImputer(add_indicator=True), "nan_regression"),
    Example("MissingIndicator", lambda: impute.MissingIndicator(features="all"), "nan_classification"),
    Example("MissingIndicator-no-error-on-new",
            lambda: impute.MissingIndicator(error_on_new=False), "nan_regression"),
    Example("PolynomialFeatures", lambda: pp.PolynomialFeatures(degree=2), "iris"),
    Example("PolynomialFeatures-interactions",
            lambda: pp.PolynomialFeatures(degree=3, interaction_only=True, include_bias=False), "diabetes"),
    Example("KBinsDiscretizer-quantile",
            lambda: pp.KBinsDiscretizer(n_bins=5, encode="ordinal", quantile_method="averaged_inverted_cdf"),
            "wine"),
    Example("KBinsDiscretizer-uniform", lambda: pp.KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="uniform"),
            "diabetes"),
    # One per extrapolation; the probe's rows go beyond the knots.
    Example("SplineTransformer-continue", lambda: pp.SplineTransformer(n_knots=4, degree=3, extrapolation="continue"),
            "iris", probe=_beyond),
    Example("SplineTransformer-constant-quantile",
            lambda: pp.SplineTransformer(n_knots=5, degree=2, knots="quantile", extrapolation="constant"),
            "diabetes", probe=_beyond),
    Example("SplineTransformer-linear-no-bias",
            lambda: pp.SplineTransformer(n_knots=5, degree=3, extrapolation="linear", include_bias=False),
            "iris", probe=_beyond),
    Example("SplineTransformer-periodic",
            lambda: pp.SplineTransformer(n_knots=6, degree=3, extrapolation="periodic"), "diabetes", probe=_beyond),
    # scikit-learn refuses rows beyond the knots: the data set's rows only.
    Example("SplineTransformer-error-explicit-knots",
            lambda: pp.SplineTransformer(knots=_IRIS_KNOTS, degree=2, extrapolation="error"), "iris"),
    Example("SplineTransformer-nan-zeros",
            lambda: pp.SplineTransformer(n_knots=4, degree=1, handle_missing="zeros"), "nan_regression"),
    Example("FunctionTransformer-log1p", lambda: pp.FunctionTransformer(np.log1p), "digits"),
    Example("FunctionTransformer-sqrt-nan", lambda: pp.FunctionTransformer(np.sqrt), "f32_nan_classification"),
    Example("FunctionTransformer-clip", lambda: pp.FunctionTransformer(np.clip, kw_args={"a_min": 0.0, "a_max": 0.05}),
            "diabetes"),
    Example("ColumnTransformer",
            lambda: ColumnTransformer([("scale", pp.StandardScaler(), [0, 1, 2]),
                                       ("pca", dec.PCA(n_components=2), [3, 4, 5, 6]),
                                       ("log", pp.FunctionTransformer(np.log1p), [12])],
                                      remainder="passthrough"), "wine"),
    Example("ColumnTransformer-nan-pipelines",
            lambda: ColumnTransformer([("impute", make_pipeline(impute.SimpleImputer(strategy="median"),
                                                                pp.MinMaxScaler()), [0, 2, 4, 6]),
                                       ("drop", "drop", [1]),
                                       ("flags", impute.MissingIndicator(features="all"), [3, 5])],
                                      remainder="drop"), "nan_classification"),
    Example("PCA", lambda: dec.PCA(n_components=5), "wine"),
    Example("PCA-whiten", lambda: dec.PCA(n_components=10, whiten=True, random_state=0), "digits"),
    Example("TruncatedSVD", lambda: dec.TruncatedSVD(n_components=6, random_state=0), "breast_cancer"),
    Example("VarianceThreshold", lambda: fs.VarianceThreshold(threshold=1.0), "digits"),
    Example("SelectKBest", lambda: fs.SelectKBest(k=5), "wine"),
    Example("SelectPercentile", lambda: fs.SelectPercentile(percentile=30), "breast_cancer"),
    Example("SelectFromModel", lambda: fs.SelectFromModel(lm.LogisticRegression(max_iter=300)), "iris"),
    Example("SelectFpr", lambda: fs.SelectFpr(alpha=1e-3), "breast_cancer"),
    Example("SelectFdr", lambda: fs.SelectFdr(alpha=1e-3), "wine"),
    Example("SelectFwe", lambda: fs.SelectFwe(alpha=1e-3), "wine"),
    Example("GenericUnivariateSelect", lambda: fs.GenericUnivariateSelect(mode="k_best", param=4), "iris"),
    Example("SequentialFeatureSelector",
            lambda: fs.SequentialFeatureSelector(lm.LinearRegression(), n_features_to_select=3, cv=2), "diabetes"),
    Example("Pipeline-RFECV-scale",
            lambda: make_pipeline(fs.RFECV(lm.LinearRegression(), cv=2), pp.MaxAbsScaler()), "diabetes"),
    # RFE predicts with its estimator: alone it is a model, in a Pipeline a step.
    Example("Pipeline-RFE-scale",
            lambda: make_pipeline(fs.RFE(lm.LinearRegression(), n_features_to_select=4), pp.StandardScaler()),
            "diabetes"),
    Example("Pipeline-impute-scale-pca",
            lambda: make_pipeline(impute.SimpleImputer(), pp.StandardScaler(), dec.PCA(n_components=4)),
            "nan_classification"),
    Example("Pipeline-scale-select-normalize",
            lambda: make_pipeline(pp.StandardScaler(), fs.SelectKBest(k=6), pp.Normalizer()), "wine"),
    # Steps and a final model: one header, the model's API.
    Example("Pipeline-scale-pca-logistic",
            lambda: make_pipeline(pp.StandardScaler(), dec.PCA(n_components=6), lm.LogisticRegression(max_iter=500)),
            "wine"),
    Example("Pipeline-impute-scale-forest",
            lambda: make_pipeline(impute.SimpleImputer(), pp.StandardScaler(),
                                  ensemble.RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)),
            "nan_classification"),
    Example("Pipeline-scale-tree-nan",
            lambda: make_pipeline(pp.MinMaxScaler(), ensemble.ExtraTreesRegressor(n_estimators=5, max_depth=5,
                                                                                     random_state=0)),
            "nan_regression"),
    Example("Pipeline-columns-polynomial-ridge",
            lambda: make_pipeline(ColumnTransformer([("scale", pp.StandardScaler(), [0, 1, 2, 3]),
                                                     ("bins", pp.KBinsDiscretizer(n_bins=3, encode="ordinal",
                                                                                  strategy="uniform"), [4, 5])]),
                                  pp.PolynomialFeatures(degree=2), lm.Ridge()), "diabetes"),
    # A regressor on a transformed target: its inverse transform after predict.
    Example("TransformedTargetRegressor-scaler",
            lambda: TransformedTargetRegressor(lm.Ridge(), transformer=pp.StandardScaler()), "diabetes"),
    Example("TransformedTargetRegressor-log1p",
            lambda: TransformedTargetRegressor(ensemble.RandomForestRegressor(n_estimators=5, max_depth=5,
                                                                              random_state=0),
                                               func=np.log1p, inverse_func=np.expm1), "diabetes"),
    Example("Pipeline-TransformedTargetRegressor-multioutput",
            lambda: make_pipeline(pp.MinMaxScaler(), TransformedTargetRegressor(
                make_pipeline(pp.StandardScaler(), lm.LinearRegression()), transformer=pp.MinMaxScaler())),
            "linnerud"),
    Example("Pipeline-SplineTransformer-ridge",
            lambda: make_pipeline(pp.SplineTransformer(n_knots=4, degree=3), lm.Ridge()), "diabetes", probe=_beyond),
    # Signal steps: one window of 32 samples x 3 axes per row, its statistics,
    # then the model (the header takes the window).
    Example("WindowFeatures", lambda: _windows(), "activity_windows"),
    Example("Pipeline-WindowFeatures-scale-forest",
            lambda: make_pipeline(_windows(), pp.StandardScaler(),
                                  ensemble.RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
            "activity_windows"),
    Example("Pipeline-WindowFeatures-scale-logistic",
            lambda: make_pipeline(_windows(("mean", "std", "zero_crossings", "peak_to_peak")), pp.StandardScaler(),
                                  lm.LogisticRegression(max_iter=500)),
            "activity_windows"),
    # A scaler before the window: the window reads values with an error of their own.
    Example("Pipeline-scale-WindowFeatures-ridge",
            lambda: make_pipeline(pp.MaxAbsScaler(), _windows(("rms", "energy", "std", "mean")), lm.Ridge()),
            "activity_windows"),
    # Spectral steps on the same windows: an FFT per axis (n_fft 32), then
    # spectra, mel energies, MFCCs or centroid and dominant frequency.
    Example("Spectrum-magnitude-hamming", lambda: _spectral(Spectrum, window="hamming", kind="magnitude"),
            "activity_windows"),
    Example("MelSpectrum-energies",
            lambda: _spectral(MelSpectrum, n_mels=6, sample_rate=ACTIVITY_RATE, log=False), "activity_windows"),
    Example("Pipeline-Spectrum-scale-logistic",
            lambda: make_pipeline(_spectral(Spectrum, kind="log_power"), pp.StandardScaler(),
                                  lm.LogisticRegression(max_iter=500)),
            "activity_windows"),
    Example("Pipeline-MFCC-scale-logistic",
            lambda: make_pipeline(_spectral(MFCC, n_mels=8, n_mfcc=5, sample_rate=ACTIVITY_RATE), pp.StandardScaler(),
                                  lm.LogisticRegression(max_iter=500)),
            "activity_windows"),
    Example("Pipeline-SpectralFeatures-scale-forest",
            lambda: make_pipeline(_spectral(SpectralFeatures, sample_rate=ACTIVITY_RATE), pp.StandardScaler(),
                                  ensemble.RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
            "activity_windows"),
    # Filters on a window: each window filtered from the filter's initial state.
    Example("Pipeline-SOSFilter-WindowFeatures-forest",
            lambda: make_pipeline(_lowpass(), _windows(("mean", "std", "peak_to_peak", "zero_crossings")),
                                  ensemble.RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
            "activity_windows"),
    Example("Pipeline-FIRFilter-WindowFeatures-logistic",
            lambda: make_pipeline(_decimate(), WindowFeatures(ACTIVITY_SAMPLES // 2, ACTIVITY_CHANNELS,
                                                              ("std", "rms", "energy")),
                                  pp.StandardScaler(), lm.LogisticRegression(max_iter=500)),
            "activity_windows"),
    # Window statistics and spectral features of the same window, side by side.
    Example("Pipeline-FeatureUnion-scale-forest",
            lambda: make_pipeline(
                FeatureUnion([("stats", _windows(("mean", "std", "min", "max"))),
                              ("spec", _spectral(SpectralFeatures, sample_rate=ACTIVITY_RATE))]),
                pp.StandardScaler(),
                ensemble.RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
            "activity_windows"),
    Example("Pipeline-select-ridge",
            lambda: make_pipeline(fs.SelectKBest(fs.f_regression, k=5), lm.Ridge()), "diabetes"),
)
