"""Activity recognition from accelerometer windows, from training to the device.

Windows of 32 samples x 3 axes (1.28 s at 25 Hz; synthetic here: idle,
walking, running) go through window statistics (emlearn_gen.signal.
WindowFeatures: mean, deviation, extremes, RMS, zero crossings, peak-to-peak,
energy of each axis) and, beside them, the spectrum's centroid and dominant
frequency of each axis (SpectralFeatures: a Hann window and an FFT), then a
StandardScaler and a random forest. The whole
Pipeline converts to one C++ header whose predict() takes one raw window; the
host runtime and an emulated Cortex-M4F then decide every window as the
Pipeline does. The header also smooths the stream of decisions: its
predict_stream(state, window) votes over the last 3 windows' activities
(postprocess=MajorityVote(3)), on the host and on the device alike.

    python activity.py               # writes activity_model.hpp beside this file
    python activity.py --device      # also runs the header on the emulated Cortex-M4F
    python activity.py --footprint   # also measures flash, RAM, stack and instructions per window on it
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

import emlearn_gen
from emlearn_gen.signal import MajorityVote, SpectralFeatures, WindowFeatures
from emlearn_gen.testing.datasets import (
    ACTIVITY_CHANNELS,
    ACTIVITY_CLASSES,
    ACTIVITY_RATE,
    ACTIVITY_SAMPLES,
    activity_windows,
)


#: Windows a stream's activity lasts, at least and at most (the stream's
#: windows are consecutive, as a sensor delivers them).
SEGMENT = (30, 80)


def as_stream(y: np.ndarray, seed: int) -> np.ndarray:
    """An order of the windows of labels ``y`` in which each activity lasts
    several consecutive windows, as it does on a sensor: segments of a random
    activity, of SEGMENT windows, while that activity has windows left."""
    rng = np.random.default_rng(seed)
    left = [list(rng.permutation(np.flatnonzero(y == k))) for k in range(len(ACTIVITY_CLASSES))]
    order: list = []
    while any(left):
        k = rng.choice([k for k, rows in enumerate(left) if rows])
        n = int(rng.integers(SEGMENT[0], SEGMENT[1] + 1))
        order += left[k][:n]
        del left[k][:n]
    return np.asarray(order)


def with_knocks(X: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """X with a knock on the sensor in about ``fraction`` of the windows: a
    burst of 1.5 g (standard deviation) on 4 consecutive samples of every
    axis. A forest trained on clean windows misreads some of them; a vote
    over consecutive windows outvotes a lone misreading."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    for i in np.flatnonzero(rng.random(len(X)) < fraction):
        start = int(rng.integers(0, ACTIVITY_SAMPLES - 4))
        X[i].reshape(ACTIVITY_SAMPLES, ACTIVITY_CHANNELS)[start : start + 4] += rng.normal(0.0, 1.5, (4, ACTIVITY_CHANNELS))
    return X


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="store_true", help="run the header on the emulated Cortex-M4F")
    parser.add_argument("--footprint", action="store_true",
                        help="measure flash, RAM, stack and instructions per window on the Cortex-M4F")
    parser.add_argument("--out", default=str(Path(__file__).with_name("activity_model.hpp")))
    args = parser.parse_args()

    X_train, y_train = activity_windows(n_windows=900, seed=1)
    X, y = activity_windows(n_windows=300, seed=2)  # new windows
    order = as_stream(y, seed=3)
    X, y = with_knocks(X[order], 0.1, seed=4), y[order]  # one stream of consecutive windows
    pipeline = Pipeline([
        ("features", FeatureUnion([
            ("statistics", WindowFeatures(ACTIVITY_SAMPLES, ACTIVITY_CHANNELS)),
            ("spectrum", SpectralFeatures(n_fft=ACTIVITY_SAMPLES, sample_rate=ACTIVITY_RATE,
                                          n_channels=ACTIVITY_CHANNELS)),
        ])),
        ("scale", StandardScaler()),
        ("forest", RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)),
    ]).fit(X_train, y_train)

    cm = emlearn_gen.convert(pipeline, name="activity_model", postprocess=MajorityVote(3))
    header = cm.save(args.out)
    n_samples, n_channels = cm.window_shape
    want = pipeline.predict(X)
    got = cm.predict(X)
    # scikit-learn's decisions smoothed by hand with the same vote, as a
    # program would without the header's stream.
    want_smoothed = pipeline.classes_[MajorityVote(3).update(np.searchsorted(pipeline.classes_, want))]
    got_smoothed = cm.predict_stream(X)
    print(f"wrote {header}: predict() takes one window of {n_samples} samples x {n_channels} axes")
    print(f"scikit-learn's accuracy on a stream of new windows: {np.mean(want == y):.3f} "
          f"({', '.join(ACTIVITY_CLASSES)}); voted over 3 windows: {np.mean(want_smoothed == y):.3f}")
    same = bool(np.array_equal(got, want))
    print(f"the host runtime decides every window as scikit-learn: {same}")
    smoothed_same = bool(np.array_equal(got_smoothed, want_smoothed))
    print(f"the host runtime's smoothed decisions are scikit-learn's, voted: {smoothed_same}")
    same = same and smoothed_same
    if args.device:
        from emlearn_gen.testing import run_model

        outputs = run_model(cm, X, "cortex-m4f")  # every window in order, one stream
        device_same = bool(np.array_equal(cm.classes_[outputs["predict"]], want))
        print(f"the header on the emulated Cortex-M4F decides every window as scikit-learn: {device_same}")
        device_smoothed = bool(np.array_equal(cm.classes_[outputs["predict_stream"]], got_smoothed))
        print(f"the header on the emulated Cortex-M4F makes the host's smoothed decisions: {device_smoothed}")
        same = same and device_same and device_smoothed
    if args.footprint:
        from emlearn_gen.testing import count_instructions, footprint

        print(footprint(cm, "cortex-m4f", X))
        count = count_instructions(cm, X[:20], "cortex-m4f", "predict")
        print(f"cortex-m4f: {count.mean:,.0f} instructions per window on average "
              f"({count.min:,} to {count.max:,}; predict on 20 windows)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
