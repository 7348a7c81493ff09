"""`emlearn-gen demo`: the whole path on a bundled data set, checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from .convert import convert


def run_demo(out_dir: str = "emlearn_gen_demo", compile_header: bool = True) -> int:
    """Trains, converts, saves and checks a digits classifier; returns an exit code."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_train, y_train)

    cm = convert(forest, name="digits_forest")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    header = cm.save(folder / "digits_forest.hpp")
    packed = cm.packed

    same_labels = float(np.mean(cm.predict(X_test) == forest.predict(X_test)))
    proba_err = float(np.max(np.abs(cm.predict_proba(X_test) - forest.predict_proba(X_test))))
    print(f"trained RandomForestClassifier(n_estimators=50) on digits: {len(X_train)} samples, 64 features")
    print(f"wrote {header} ({packed.n_nodes} split nodes, {packed.table_bytes} bytes of tables, "
          f"{packed.table_bytes / packed.n_nodes:.2f} bytes per split node)")
    print(f"host runtime vs scikit-learn on {len(X_test)} test samples: "
          f"{same_labels:.1%} identical labels, largest probability difference {proba_err:.2g}")
    ok = same_labels == 1.0 and proba_err < 1e-5

    if compile_header:
        from .testing import HostTarget, ToolchainMissing, run_model

        try:
            got = run_model(cm, X_test, HostTarget("g++", "c++11"), workdir=folder / "build")
        except ToolchainMissing as exc:
            print(f"skipped compiling the header: {exc}")
        else:
            labels_equal = np.array_equal(got["predict"], cm.raw_outputs("predict", X_test))
            proba_bits_equal = np.array_equal(
                got["predict_proba"].view(np.uint32),
                cm.raw_outputs("predict_proba", X_test).view(np.uint32),
            )
            print(f"compiled header (g++ -std=c++11, strict warnings) vs host runtime: labels "
                  f"{'identical' if labels_equal else 'DIFFER'}, probabilities "
                  f"{'bit-identical' if proba_bits_equal else 'DIFFER'}")
            ok = ok and labels_equal and proba_bits_equal
    print("OK: the header agrees with scikit-learn" if ok else "FAILED: see the lines above")
    return 0 if ok else 1
