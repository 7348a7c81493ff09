"""Activity recognition from accelerometer windows, from training to the device.

Windows of 32 samples x 3 axes (1.28 s at 25 Hz; synthetic here: idle,
walking, running) go through window statistics (emlearn_gen.signal.
WindowFeatures: mean, deviation, extremes, RMS, zero crossings, peak-to-peak,
energy of each axis), a StandardScaler and a random forest. The whole
Pipeline converts to one C++ header whose predict() takes one raw window; the
host runtime and an emulated Cortex-M4F then decide every window as the
Pipeline does.

    python activity.py               # writes activity_model.hpp beside this file
    python activity.py --device      # also runs the header on the emulated Cortex-M4F
    python activity.py --footprint   # also measures flash, RAM and stack on it
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import emlearn_gen
from emlearn_gen.signal import WindowFeatures
from emlearn_gen.testing.datasets import ACTIVITY_CHANNELS, ACTIVITY_CLASSES, ACTIVITY_SAMPLES, activity_windows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="store_true", help="run the header on the emulated Cortex-M4F")
    parser.add_argument("--footprint", action="store_true", help="measure flash, RAM and stack on the Cortex-M4F")
    parser.add_argument("--out", default=str(Path(__file__).with_name("activity_model.hpp")))
    args = parser.parse_args()

    X_train, y_train = activity_windows(n_windows=900, seed=1)
    X, y = activity_windows(n_windows=300, seed=2)  # new windows
    pipeline = Pipeline([
        ("features", WindowFeatures(ACTIVITY_SAMPLES, ACTIVITY_CHANNELS)),
        ("scale", StandardScaler()),
        ("forest", RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)),
    ]).fit(X_train, y_train)

    cm = emlearn_gen.convert(pipeline, name="activity_model")
    header = cm.save(args.out)
    n_samples, n_channels = cm.window_shape
    want = pipeline.predict(X)
    got = cm.predict(X)
    print(f"wrote {header}: predict() takes one window of {n_samples} samples x {n_channels} axes")
    print(f"scikit-learn's accuracy on new windows: {np.mean(want == y):.3f} "
          f"({', '.join(ACTIVITY_CLASSES)})")
    same = bool(np.array_equal(got, want))
    print(f"the host runtime decides every window as scikit-learn: {same}")
    if args.device:
        from emlearn_gen.testing import run_model

        on_device = run_model(cm, X, "cortex-m4f")["predict"]
        device_same = bool(np.array_equal(on_device, want))
        print(f"the header on the emulated Cortex-M4F decides every window as scikit-learn: {device_same}")
        same = same and device_same
    if args.footprint:
        from emlearn_gen.testing import footprint

        print(footprint(cm, "cortex-m4f", X))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
