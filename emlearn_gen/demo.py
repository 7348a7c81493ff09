"""`emlearn-gen demo`: the whole path on a bundled data set, checked."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from .convert import convert
from .model import CModel


class DemoFailed(Exception):
    """The demo could not do its work; the message is one line saying why."""


def _output_folder(out_dir: Union[str, Path]) -> Path:
    """``out_dir``, created if needed: checked before the model is trained."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise DemoFailed(f"{folder} is a file, not a folder: choose another with --out-dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoFailed(f"cannot create the folder {folder}: {exc.strerror or exc}") from exc
    return folder


def _compile_and_run(cm: CModel, X: np.ndarray, build: Path) -> Optional[Dict[str, np.ndarray]]:
    """What the header compiled with g++ returns for X, or None (with a
    message) when there is no g++. A failed build raises DemoFailed; the
    compiler's full output goes to ``build/build.log``."""
    from .testing import BuildFailed, HostTarget, ToolchainMissing, run_model

    try:
        return run_model(cm, X, HostTarget("g++", "c++11"), workdir=build)
    except ToolchainMissing as exc:
        print(f"skipped compiling the header: {exc}")
        return None
    except BuildFailed as exc:
        # The first line names the step ("compiling with g++ -std=c++11
        # failed (exit 1): <command>"); the rest is the compiler's output.
        text = str(exc)
        summary = text.splitlines()[0].split(": ", 1)[0] if text else type(exc).__name__
        log = build / "build.log"
        try:
            log.write_text(text + "\n", encoding="utf-8")
        except OSError:
            raise DemoFailed(f"checking the compiled header: {summary}") from exc
        raise DemoFailed(f"checking the compiled header: {summary}; the details are in {log}") from exc
    except OSError as exc:
        raise DemoFailed(f"cannot build in {build}: {exc.strerror or exc}") from exc


def run_demo(out_dir: Union[str, Path] = "emlearn_gen_demo", compile_header: bool = True) -> int:
    """Trains, converts, saves and checks a digits classifier; returns an exit
    code (1 when the header disagrees). Raises DemoFailed when it cannot do
    the work: ``out_dir`` is not a usable folder, or the header does not build."""
    folder = _output_folder(out_dir)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_train, y_train)

    cm = convert(forest, name="digits_forest")
    try:
        header = cm.save(folder / "digits_forest.hpp")
    except OSError as exc:
        raise DemoFailed(f"cannot write {folder / 'digits_forest.hpp'}: {exc.strerror or exc}") from exc
    packed = cm.packed

    same_labels = float(np.mean(cm.predict(X_test) == forest.predict(X_test)))
    proba_err = float(np.max(np.abs(cm.predict_proba(X_test) - forest.predict_proba(X_test))))
    print(f"trained RandomForestClassifier(n_estimators=50) on digits: {len(X_train)} samples, 64 features")
    print(f"wrote {header} ({packed.n_nodes} split nodes, {packed.table_bytes} bytes of tables, "
          f"{packed.table_bytes / packed.n_nodes:.2f} bytes per split node)")
    print(f"host runtime vs scikit-learn on {len(X_test)} test samples: "
          f"{same_labels:.1%} identical labels, largest probability difference {proba_err:.2g}")
    ok = same_labels == 1.0 and proba_err < 1e-5

    got = _compile_and_run(cm, X_test, folder / "build") if compile_header else None
    if got is not None:
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
