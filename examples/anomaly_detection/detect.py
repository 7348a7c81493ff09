"""Anomaly detection on a machine's vibration, from training to the device.

An IsolationForest learns what normal vibration looks like from features of
windows recorded while the machine runs well (here synthetic: RMS, peak,
crest factor and dominant-frequency energy of each window). It is converted
to one C++ header; the host runtime and an emulated Cortex-M4F then flag the
same windows as scikit-learn does.

    python detect.py            # writes vibration_monitor.hpp beside this file
    python detect.py --device   # also runs the header on the emulated Cortex-M4F
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest

import emlearn_gen

FEATURES = ["rms", "peak", "crest_factor", "band_energy"]


def windows(n: int, faulty: bool, rng: np.random.Generator) -> np.ndarray:
    """Features of n vibration windows; a faulty bearing adds impacts:
    higher peaks and crest factor, energy in the fault's frequency band."""
    rms = rng.normal(1.0, 0.05, n)
    peak = rms * rng.normal(1.8, 0.1, n)
    band = rng.normal(0.2, 0.03, n)
    if faulty:
        peak *= rng.uniform(1.6, 2.5, n)
        band += rng.uniform(0.3, 0.6, n)
    return np.column_stack([rms, peak, peak / rms, band])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="store_true", help="run the header on the emulated Cortex-M4F")
    parser.add_argument("--out", default=str(Path(__file__).with_name("vibration_monitor.hpp")))
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    normal = windows(2000, faulty=False, rng=rng)
    detector = IsolationForest(n_estimators=50, contamination=0.01, random_state=0).fit(normal)

    # New windows: mostly normal, some from a failing bearing.
    X = np.concatenate([windows(300, faulty=False, rng=rng), windows(30, faulty=True, rng=rng)])
    cm = emlearn_gen.convert(detector, name="vibration_monitor")
    header = cm.save(args.out)

    want = detector.predict(X)
    got = cm.predict(X)
    print(f"wrote {header}: {cm.estimator_name}, {cm.n_features_in_} features ({', '.join(FEATURES)})")
    print(f"scikit-learn flags {np.count_nonzero(want == -1)} of {len(X)} windows; "
          f"the host runtime flags the same windows: {bool(np.array_equal(got, want))}")
    same = np.array_equal(got, want)
    if args.device:
        from emlearn_gen.testing import run_model

        on_device = run_model(cm, X, "cortex-m4f")["predict"]
        same = same and np.array_equal(on_device, want)
        print(f"the header on the emulated Cortex-M4F flags the same windows: {bool(np.array_equal(on_device, want))}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
