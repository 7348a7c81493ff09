"""Stream entry points (convert's ``postprocess``, core/stream.py): the
model's results on rows fed in order, post-processed on a caller-owned state.
The host's predict_stream against emlearn_gen.signal's objects run by hand
on the model's outputs; the header's against the host (compiled, with the
state static or on the stack, copied between calls); what is refused."""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.ensemble import IsolationForest, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

import emlearn_gen
from emlearn_gen.signal import ExponentialSmoothing, Hysteresis, MajorityVote, MovingAverage, NOfM
from emlearn_gen.testing import AVR, STRICT_FLAGS, AvrTarget, DoesNotFit, assert_device_matches, footprint, run_model
from emlearn_gen.testing.pytest_plugin import require_target


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def forest(wine):
    X, y = wine
    return RandomForestClassifier(n_estimators=6, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def logistic(wine):
    """A Pipeline: the stream runs the steps, the model, then the smoothing."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(*wine)


@pytest.fixture(scope="module")
def isolation(wine):
    return IsolationForest(n_estimators=10, random_state=0).fit(wine[0])


def _shuffled(X: np.ndarray) -> np.ndarray:
    """Rows in an order where classes change often: smoothing has work."""
    return X[np.random.default_rng(0).permutation(len(X))]


def test_majority_vote_is_the_signal_object_on_predict(wine, forest):
    X = _shuffled(wine[0])
    cm = emlearn_gen.convert(forest, postprocess=MajorityVote(5))
    index = np.searchsorted(forest.classes_, cm.predict(X)).astype(np.int32)
    want = forest.classes_[MajorityVote(5).update(index)]
    got = cm.predict_stream(X)
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, cm.predict(X))  # the vote changed something
    # scikit-learn's own labels, voted the same way: the forest agrees exactly.
    sk_index = np.searchsorted(forest.classes_, forest.predict(X)).astype(np.int32)
    np.testing.assert_array_equal(got, forest.classes_[MajorityVote(5).update(sk_index)])


@pytest.mark.parametrize("smoother", [MovingAverage(4, 3), ExponentialSmoothing(0.25, 3)], ids=["moving", "exponential"])
def test_smoothing_is_the_signal_object_on_predict_proba_then_argmax(wine, logistic, smoother):
    X, y = wine
    cm = emlearn_gen.convert(logistic, postprocess=smoother)
    rows = _shuffled(X)
    fresh = MovingAverage(4, 3) if isinstance(smoother, MovingAverage) else ExponentialSmoothing(0.25, 3)
    want = logistic.classes_[np.argmax(fresh.update(cm.predict_proba(rows).astype(np.float32)), axis=1)]
    np.testing.assert_array_equal(cm.predict_stream(rows), want)


def test_hysteresis_switches_on_the_anomaly_score(wine, isolation):
    X = _shuffled(wine[0])
    cm = emlearn_gen.convert(isolation, postprocess=Hysteresis(-0.01, 0.02))
    on = Hysteresis(-0.01, 0.02).update((-cm.decision_function(X)).astype(np.float32))
    got = cm.predict_stream(X)
    np.testing.assert_array_equal(got, np.where(on, -1, 1))
    assert got.dtype == np.int64 and set(np.unique(got)) == {-1, 1}
    # An outlier by scikit-learn's predict is a score above 0: above high it switches on.
    assert np.all(got[isolation.decision_function(X) < -0.02] == -1)


def test_n_of_m_counts_outliers_and_binary_classes(wine):
    X = _shuffled(wine[0])
    svm = OneClassSVM(nu=0.2, gamma="scale").fit(X)
    cm = emlearn_gen.convert(svm, postprocess=NOfM(2, 3))
    np.testing.assert_array_equal(cm.predict_stream(X), np.where(NOfM(2, 3).update(cm.predict(X) == -1), -1, 1))
    Xi, yi = load_iris(return_X_y=True)
    binary = RandomForestClassifier(n_estimators=4, random_state=0).fit(Xi, np.where(yi == 2, "virginica", "other"))
    cb = emlearn_gen.convert(binary, postprocess=NOfM(2, 4))
    event = NOfM(2, 4).update(cb.predict(Xi) == binary.classes_[1])
    np.testing.assert_array_equal(cb.predict_stream(Xi), binary.classes_[event.astype(int)])


def test_stream_object_feeds_rows_in_blocks_and_resets(wine, forest):
    X = _shuffled(wine[0])
    cm = emlearn_gen.convert(forest, postprocess=MajorityVote(7))
    whole = cm.predict_stream(X)
    stream = cm.stream()
    blocks = [stream.update(X[:1]), stream.update(X[1:50]), stream.update(X[50:])]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    stream.reset()
    np.testing.assert_array_equal(stream.update(X[100:]), cm.predict_stream(X[100:]))


def test_models_without_postprocess_have_no_stream(forest):
    cm = emlearn_gen.convert(forest)
    assert not hasattr(cm, "predict_stream") and not hasattr(cm, "stream")
    assert "stream_state" not in cm.to_source()


def test_header_streams_match_the_host_runtime(wine, forest, logistic, isolation):
    """Every kind of post-processing, compiled with the strict flags by g++
    and clang++: the test program feeds the rows in order through one static
    state from reset."""
    X = _shuffled(wine[0])[:60]
    for est, post in ((forest, MajorityVote(4)), (logistic, MovingAverage(3, 3)),
                      (logistic, ExponentialSmoothing(0.5, 3)), (isolation, Hysteresis(-0.01, 0.01)),
                      (isolation, NOfM(2, 5))):
        cm = emlearn_gen.convert(est, name="stream_model", postprocess=post)
        assert_device_matches(cm, X, targets=["host", "host-clang++"])


_STACK_MAIN = r"""
#include <stdio.h>
#include "stream_model.hpp"
#include "rows.hpp"

int main() {
  stream_model::stream_state state;   // on the stack: reset() is all it needs
  stream_model::reset(state);
  for (int i = 0; i < n_rows; ++i) {
    // A copy carries on where the original was: the state has no pointer
    // into itself that a copy would leave behind.
    stream_model::stream_state copy = state;
    printf("%ld\n", static_cast<long>(stream_model::predict_stream(copy, rows[i])));
    state = copy;
  }
  printf("bytes %u\n", static_cast<unsigned>(sizeof(stream_model::stream_state)));
  return 0;
}
"""


def test_state_on_the_stack_and_copied_keeps_the_stream(wine, forest, tmp_path):
    X = _shuffled(wine[0]).astype(np.float32)
    cm = emlearn_gen.convert(forest, name="stream_model", postprocess=MajorityVote(6))
    cm.save(tmp_path / "stream_model.hpp")
    rows = ",\n".join("{" + ", ".join(f"{v!r}f" for v in row.tolist()) + "}" for row in X)
    (tmp_path / "rows.hpp").write_text(
        f"static const int n_rows = {len(X)};\nstatic const float rows[{len(X)}][{X.shape[1]}] = {{\n{rows}\n}};\n"
    )
    (tmp_path / "main.cpp").write_text(_STACK_MAIN)
    subprocess.run(["g++", "-std=c++11", *STRICT_FLAGS, "-I", emlearn_gen.get_include(), "-I", str(tmp_path),
                    str(tmp_path / "main.cpp"), "-o", str(tmp_path / "main")], check=True, capture_output=True)
    out = subprocess.run([str(tmp_path / "main")], check=True, capture_output=True, text=True).stdout.split("\n")
    got = np.array([int(v) for v in out[: len(X)]])
    np.testing.assert_array_equal(forest.classes_[got], cm.predict_stream(X))
    # The ring of 6 labels and the vote's counters: no more.
    assert 6 * 4 < int(out[len(X)].split()[1]) <= 6 * 4 + 4 * 8


def test_state_and_parameters_are_part_of_the_model_identity(forest):
    five = emlearn_gen.convert(forest, name="m", postprocess=MajorityVote(5)).to_source()
    three = emlearn_gen.convert(forest, name="m", postprocess=MajorityVote(3)).to_source()
    plain = emlearn_gen.convert(forest, name="m").to_source()
    guard = [src.split("#ifndef ")[1].split("\n")[0] for src in (five, three, plain)]
    assert len(set(guard)) == 3


def test_refused_combinations_say_what_works(wine, forest, isolation):
    X, y = wine
    regressor = RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="no labels to vote over"):
        emlearn_gen.convert(regressor, postprocess=MajorityVote(3))
    with pytest.raises(ValueError, match="no class probabilities to smooth.*MajorityVote"):
        emlearn_gen.convert(isolation, postprocess=MovingAverage(3, 1))
    with pytest.raises(ValueError, match="3 probabilities per row.*n_classes=3"):
        emlearn_gen.convert(forest, postprocess=MovingAverage(3, 2))
    with pytest.raises(ValueError, match="no single score to switch on"):
        emlearn_gen.convert(forest, postprocess=Hysteresis(0.0, 1.0))
    with pytest.raises(ValueError, match="no yes/no event to count"):
        emlearn_gen.convert(forest, postprocess=NOfM(2, 3))
    with pytest.raises(TypeError, match="postprocess must be one of"):
        emlearn_gen.convert(forest, postprocess="majority")


def test_model_files_refuse_a_stream(forest):
    cm = emlearn_gen.convert(forest, postprocess=MajorityVote(3))
    with pytest.raises(ValueError, match="stream entry point.*save a header instead"):
        cm.to_model_file()


def test_banner_states_the_stream_and_its_stack(forest):
    cm = emlearn_gen.convert(forest, name="m", postprocess=MovingAverage(4, 3))
    source = cm.to_source()
    assert "// Stream: predict_stream(state, x) runs MovingAverage(window=4, n_classes=3) then argmax" in source
    assert "48 bytes of ring" in source
    # The source's stack plus its 3 probabilities.
    assert cm.stated_stack["predict_stream"] == cm.stated_stack["predict_proba"] + 12


@pytest.mark.parametrize("target", ["cortex-m4f", "avr"])
def test_footprint_counts_the_state_in_static_ram(wine, forest, target, emlearn_build_cache):
    """The footprint program keeps each stream's state static: the image's
    RAM grows by the ring and the kernel's counters, and the stream's stack
    is measured like every entry point's."""
    require_target(target)
    X = wine[0][:6]
    plain = footprint(emlearn_gen.convert(forest, name="m"), target, X, cache=emlearn_build_cache)
    cm = emlearn_gen.convert(forest, name="m", postprocess=MovingAverage(8, 3))
    streamed = footprint(cm, target, X, cache=emlearn_build_cache)
    ring = 8 * 3 * 4
    assert ring < streamed.ram - plain.ram <= ring + 32, (streamed, plain)
    assert 0 < streamed.stack_by_method["predict_stream"] <= cm.stated_stack["predict_stream"]


class _SmallObjectsAvr(AvrTarget):
    """The AVR target with room for a few rows per image."""

    def max_object_bytes(self) -> int:
        return 4 * 13 * 10


def test_a_stream_longer_than_one_avr_image_is_refused(wine, forest, emlearn_build_cache):
    """AVR images hold their rows: a stream split over images would restart
    from reset in each, so it is refused, saying what to do."""
    require_target("avr")
    cm = emlearn_gen.convert(forest, name="m", postprocess=MajorityVote(3))
    target = _SmallObjectsAvr(**{f.name: getattr(AVR, f.name) for f in dataclasses.fields(AVR)})
    with pytest.raises(DoesNotFit, match="rows of the stream of m do not fit one image.*fewer rows"):
        run_model(cm, wine[0][:30], target, cache=emlearn_build_cache)
    # Rows that fit one image run as one stream.
    got = run_model(cm, wine[0][:10], target, cache=emlearn_build_cache)
    np.testing.assert_array_equal(got["predict_stream"], cm.raw_outputs("predict_stream", wine[0][:10]))
