"""Train an activity classifier in Python and make it a MicroPython module.

    python train.py                       # the unix port's build: board/activity.mpy (x64)
    python train.py --arch armv7emsp      # a Cortex-M4F board's build
    python train.py --arch python         # pure Python, for ports without native modules

Writes board/: the module, features.py and main.py (the board's code), and
new windows with the host runtime's decisions, which main.py checks.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

import emlearn_gen
from features import window_features

HERE = Path(__file__).resolve().parent
N_SAMPLES = 32
ACTIVITIES = ("idle", "walking", "running")


def windows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n windows of 32 samples x 3 axes (float32) and their activity: idle
    is gravity and noise, walking and running swing at about 2 and 3 Hz with
    growing amplitude (sampled at 25 Hz)."""
    labels = rng.integers(0, len(ACTIVITIES), n)
    t = np.arange(N_SAMPLES) / 25.0
    out = np.empty((n, N_SAMPLES, 3), dtype=np.float32)
    for i, label in enumerate(labels):
        freq = (0.0, 2.0, 3.0)[label] * rng.uniform(0.8, 1.2)
        amp = (0.02, 0.4, 1.2)[label] * rng.uniform(0.7, 1.3)
        phase = rng.uniform(0, 2 * np.pi, 3)
        swing = amp * np.sin(2 * np.pi * freq * t[:, None] + phase)
        out[i] = swing + np.array([0.0, 0.0, 1.0]) + rng.normal(0, 0.05, (N_SAMPLES, 3))
    return out.reshape(n, -1), np.array(ACTIVITIES)[labels]


def features_of(X: np.ndarray) -> np.ndarray:
    return np.array([window_features([float(v) for v in w]) for w in X])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="x64", help="x64, armv6m, armv7m, armv7emsp or python (default: x64)")
    parser.add_argument("--out", default="board", help="folder to write (default: board)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X_train, y_train = windows(600, rng)
    model = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)
    model.fit(features_of(X_train), y_train)

    cm = emlearn_gen.convert(model, name="activity")
    board = Path(args.out)
    board.mkdir(parents=True, exist_ok=True)
    written = cm.save_micropython(board, arch=args.arch)
    for name in ("features.py", "main.py"):
        shutil.copy(HERE / name, board / name)

    # New windows, and the host runtime's decisions on their features.
    X_new, _ = windows(100, rng)
    X_new.astype("<f4").tofile(board / "windows.bin")
    decisions = cm.predict(features_of(X_new))
    (board / "expected.txt").write_text(" ".join(str(d) for d in decisions) + "\n")
    same = bool(np.array_equal(decisions, model.predict(features_of(X_new))))
    print(f"wrote {', '.join(p.name for p in written)} into {board}/ for {args.arch}")
    print(f"the host runtime decides every new window as scikit-learn: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
