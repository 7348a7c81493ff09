"""The stack each entry point needs, as the generated header's banner states
it, against what the entry points use on the emulated devices (high-water
mark of the footprint program, emlearn_gen.testing.footprint)."""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable, Dict, Tuple

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.covariance import EllipticEnvelope
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.ensemble import AdaBoostRegressor, GradientBoostingClassifier, IsolationForest, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.mixture import GaussianMixture
from sklearn.svm import SVC, NuSVR
from sklearn.naive_bayes import CategoricalNB, GaussianNB
from sklearn.neighbors import KNeighborsClassifier, LocalOutlierFactor, NearestCentroid
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.decomposition import PCA
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler

import emlearn_gen
from emlearn_gen.signal import MFCC, FIRFilter, Hysteresis, MovingAverage, SpectralFeatures, WindowFeatures
from emlearn_gen.core.family import FLOAT64_KERNEL_STACK_BYTES
from emlearn_gen.families import REGISTRY
from emlearn_gen.testing import DEVICE_TARGET_NAMES, BuildCache, footprint
from emlearn_gen.testing.pytest_plugin import require_target

_STACK_LINE = re.compile(
    r"^// (\w+)\(\) (\d+) bytes: (?:(\d+) for (?:the steps|\w+\(\)) \+ )?(?:(\d+) \w+ of (\d+) bytes \+ )?(\d+) for the kernel\.$", re.M
)
KERNEL_STACK_BYTES = REGISTRY.get("trees").kernel_stack_bytes


def stated_stack(source: str, kernel_bytes: int = KERNEL_STACK_BYTES) -> Dict[str, Tuple[int, int]]:
    """{entry point: (bytes stated, bytes of its sums)} from a header's
    banner, whose kernel allowance must be ``kernel_bytes``."""
    banner = source[: source.index("#ifndef")]
    assert "// Stack per call, at most" in banner, banner
    stated = {}
    for name, total, steps, n, size, kernel in _STACK_LINE.findall(banner):
        sums = int(n) * int(size) if n else 0
        before = int(steps) if steps else 0
        assert int(total) == before + sums + int(kernel) == before + sums + kernel_bytes, banner
        stated[name] = (int(total), sums)
    return stated


def _classes(n: int) -> Tuple[np.ndarray, np.ndarray]:
    return make_classification(
        n_samples=max(600, 6 * n), n_features=10, n_informative=8, n_classes=n,
        n_clusters_per_class=1, random_state=n,
    )


# name -> (data, estimator, dtype): both sum types, classifiers and regressors,
# many classes, bit-coded and direct leaves, a model without split nodes.
MODELS: Dict[str, Tuple[Callable[[Any], Tuple[np.ndarray, np.ndarray]], Callable[[], Any], str]] = {
    "float64_2_classes": (lambda load: _classes(2), lambda: RandomForestClassifier(5, max_depth=6, random_state=0), "float64"),
    "float64_50_classes": (lambda load: _classes(50), lambda: RandomForestClassifier(3, max_depth=8, random_state=0), "float64"),
    "float64_200_classes": (lambda load: _classes(200), lambda: RandomForestClassifier(2, max_depth=8, random_state=0), "float64"),
    "float32_digits": (lambda load: load("digits"), lambda: RandomForestClassifier(5, max_depth=8, random_state=0), "float32"),
    "float32_regressor": (lambda load: load("linnerud"), lambda: RandomForestRegressor(5, random_state=0), "float32"),
    "float64_regressor": (lambda load: load("nan_regression"), lambda: DecisionTreeRegressor(max_depth=8, random_state=0), "float64"),
    "single_leaf": (lambda load: (np.zeros((8, 3)), np.ones(8)), lambda: DecisionTreeClassifier(), "float64"),
    # Linear models: the scores of predict(), exp in softmax and log links.
    "linear_softmax": (lambda load: load("digits"), lambda: LogisticRegression(max_iter=50), None),
    "linear_poisson": (lambda load: load("diabetes"), lambda: PoissonRegressor(), None),
    # Naive Bayes: the joint log-likelihoods of predict(), log-sum-exp and exp.
    "naive_bayes_gaussian": (lambda load: load("digits"), lambda: GaussianNB(), None),
    "naive_bayes_categorical": (lambda load: load("iris"), lambda: CategoricalNB(), None),
    # Mixtures: the components' log-probabilities of predict() and
    # score_samples(), log-sum-exp and exp; an envelope's quadratic form.
    "mixture_full": (lambda load: load("wine"), lambda: GaussianMixture(4, covariance_type="full", random_state=0), None),
    "elliptic_envelope": (lambda load: load("wine"), lambda: EllipticEnvelope(random_state=0), None),
    # k-means: distances to the centres, no arrays.
    "kmeans": (lambda load: load("wine"), lambda: KMeans(6, n_init=1, random_state=0), None),
    # Perceptrons: two buffers of the widest layer; softmax, tanh, logistic.
    "mlp_softmax": (lambda load: load("digits"), lambda: MLPClassifier(hidden_layer_sizes=(24, 24), activation="tanh", max_iter=20, random_state=0), None),
    "mlp_multilabel": (lambda load: load("multilabel"), lambda: MLPClassifier(hidden_layer_sizes=(20,), activation="logistic", max_iter=20, random_state=0), None),
    "mlp_regressor": (lambda load: load("linnerud"), lambda: MLPRegressor(hidden_layer_sizes=(8, 12, 4), max_iter=20, random_state=0), None),
    # An outlier detector: one float64 sum, then exp.
    "isolation_forest": (lambda load: load("wine"), lambda: IsolationForest(n_estimators=10, random_state=0), None),
    # Boosting: the raw scores of every class as float64 sums, then softmax.
    "gradient_boosting": (lambda load: load("wine"), lambda: GradientBoostingClassifier(n_estimators=5, random_state=0), None),
    # AdaBoost.R2: a value and an index per tree for the weighted median.
    "adaboost_regressor": (lambda load: load("diabetes"), lambda: AdaBoostRegressor(n_estimators=20, random_state=0), None),
    # SVMs: the pair decisions, rbf (exp) and sigmoid (tanh) kernel values.
    "svm_rbf_classes": (lambda load: load("wine"), lambda: SVC(), None),
    "svm_sigmoid_regressor": (lambda load: load("diabetes"), lambda: NuSVR(kernel="sigmoid", gamma=0.05), None),
    # predict_proba: the coupling's matrix beside the decisions.
    "svm_proba": (lambda load: load("wine"), lambda: SVC(probability=True, random_state=0), None),
    # Nearest neighbours: the k best distances and indices, votes; x / std and scores.
    "neighbors_knn": (lambda load: load("iris"), lambda: KNeighborsClassifier(n_neighbors=9, weights="distance"), None),
    "neighbors_lof": (lambda load: load("wine"), lambda: LocalOutlierFactor(n_neighbors=12, novelty=True), None),
    "neighbors_centroid": (lambda load: load("wine"), lambda: NearestCentroid(priors="empirical"), None),
    # Transforms: two rows between the steps; PCA's score_samples.
    "transforms_pca": (lambda load: load("wine"), lambda: make_pipeline(StandardScaler(), PCA(n_components=5)), None),
    # A Pipeline: the steps' features and scratch, then the model's own.
    "pipeline_pca_logistic": (lambda load: load("digits"), lambda: make_pipeline(
        StandardScaler(), PCA(n_components=12), LogisticRegression(max_iter=50)), None),
    # A signal step: window statistics of 32 samples x 3 axes, then a scaler and a forest.
    "pipeline_window_forest": (lambda load: load("activity_windows"), lambda: make_pipeline(
        WindowFeatures(32, 3), StandardScaler(), RandomForestClassifier(5, max_depth=6, random_state=0)), "float32"),
    # Spectral and filter steps: the FFT's buffers and a filter's history
    # as op scratch after the two rows; a FeatureUnion copies the window into each part.
    "pipeline_mfcc_logistic": (lambda load: load("activity_windows"), lambda: make_pipeline(
        MFCC(n_fft=32, n_mels=8, n_mfcc=5, sample_rate=25.0, n_channels=3), StandardScaler(),
        LogisticRegression(max_iter=200)), None),
    "pipeline_fir_window_forest": (lambda load: load("activity_windows"), lambda: make_pipeline(
        FIRFilter([0.25, 0.5, 0.25], decimation=2, n_channels=3), WindowFeatures(16, 3),
        RandomForestClassifier(3, max_depth=4, random_state=0)), "float32"),
    "pipeline_union_forest": (lambda load: load("activity_windows"), lambda: make_pipeline(
        FeatureUnion([("stats", WindowFeatures(32, 3)), ("spec", SpectralFeatures(32, sample_rate=25.0, n_channels=3))]),
        RandomForestClassifier(3, max_depth=4, random_state=0)), "float32"),
    # float64 perceptrons and SVMs: real64 buffers, binary64 tanh, sigmoid,
    # softmax and exp (software on AVR), the binary64 coupling.
    "mlp_float64": (lambda load: load("wine"), lambda: MLPClassifier(hidden_layer_sizes=(8, 6), activation="tanh", max_iter=20, random_state=0), "float64"),
    "mlp_float64_logistic": (lambda load: load("multilabel"), lambda: MLPClassifier(hidden_layer_sizes=(6,), activation="logistic", max_iter=20, random_state=0), "float64"),
    "svm_float64_proba": (lambda load: load("iris"), lambda: SVC(probability=True, random_state=0), "float64"),
    "svm_float64_sigmoid_regressor": (lambda load: load("diabetes"), lambda: NuSVR(kernel="sigmoid", gamma=0.05, nu=0.1), "float64"),
    # Streams: the entry point they call, then the post-processing (a
    # forest's probabilities averaged; an anomaly score's hysteresis).
    "stream_moving_average": (lambda load: load("wine"), lambda: RandomForestClassifier(5, max_depth=6, random_state=0), "float64"),
    "stream_hysteresis": (lambda load: load("wine"), lambda: IsolationForest(n_estimators=10, random_state=0), None),
}

#: The post-processing of the stream models above (convert's postprocess).
POSTPROCESS: Dict[str, Callable[[], Any]] = {
    "stream_moving_average": lambda: MovingAverage(4, 3),
    "stream_hysteresis": lambda: Hysteresis(-0.01, 0.01),
}


@pytest.fixture(scope="module")
def cache(emlearn_build_cache: BuildCache) -> BuildCache:
    return emlearn_build_cache


@pytest.mark.parametrize("target", DEVICE_TARGET_NAMES)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_banner_states_the_stack_entry_points_use(model, target, load_data, cache):
    """Every entry point uses at most the stack the banner states, and at
    least the sums it says it keeps there."""
    require_target(target)
    data, factory, dtype = MODELS[model]
    X, y = data(load_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)  # SVC(probability=True), deprecated in 1.9
        est = factory().fit(X, y)
    options: Dict[str, Any] = {"dtype": dtype} if dtype else {}
    if model in POSTPROCESS:
        options["postprocess"] = POSTPROCESS[model]()
    cm = emlearn_gen.convert(est, name="stack_model", **options)
    # Kernels on software binary64 get a larger allowance than the rest.
    dense_float64 = dtype == "float64" and cm.family.name in ("mlp", "svm")
    stated = stated_stack(cm.to_source(), FLOAT64_KERNEL_STACK_BYTES if dense_float64 else KERNEL_STACK_BYTES)
    assert set(stated) == {ep.name for ep in cm.entry_points}
    assert {name: total for name, (total, _) in stated.items()} == cm.stated_stack
    used = footprint(cm, target, X[:4], cache=cache).stack_by_method
    for name, (total, sums) in stated.items():
        assert sums <= used[name] <= total, (name, used[name], stated[name])


def test_classifier_banner_counts_the_bytes_of_each_class(load_data):
    """predict() of a classifier keeps the class sums and nothing more; with
    float64 entry rows, a 4-byte approximate sum per class beside each."""
    X, y = _classes(50)
    est = RandomForestClassifier(2, max_depth=4, random_state=0).fit(X, y)
    assert emlearn_gen.convert(est, name="many").packed.entry_class_bits
    for dtype, size in (("float64", 12), ("float32", 4)):
        source = emlearn_gen.convert(est, name="many", dtype=dtype).to_source()
        stated = stated_stack(source)
        assert stated["predict"] == (50 * size + KERNEL_STACK_BYTES, 50 * size)
        assert f"50 {'classes' if dtype == 'float64' else 'sums'} of {size} bytes" in source
        # float32 probabilities are summed in the caller's buffer.
        assert stated["predict_proba"][1] == (400 if dtype == "float64" else 0)
