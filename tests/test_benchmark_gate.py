"""The benchmark's quick run fails on a fidelity regression of the isolation
forest row: a label that is not scikit-learn's, or a score beyond the trees
family's bound, in the compiled header's results.

The compiled header is real; the regression is injected into what it
returned (benchmarks.native.run_host), as a broken kernel would return it.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

# benchmarks/ sits beside tests/ in the checkout and is not installed: appended
# to the path, it is found while emlearn_gen stays the one already imported.
sys.path.append(str(Path(__file__).resolve().parent.parent))
bench_run = pytest.importorskip(
    "benchmarks.run", reason="the benchmark needs its requirements: pip install -r benchmarks/requirements.txt"
)

MODEL = "iforest100_outliers16"

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")


def _quick_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Any], Any],
               model: str = MODEL) -> int:
    real = bench_run.native.run_host

    def run_host(*args: Any, **kwargs: Any) -> Any:
        return damage(real(*args, **kwargs))

    monkeypatch.setattr(bench_run.native, "run_host", run_host)
    # valgrind's count and the device builds do not judge fidelity: left out for speed.
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "valgrind" else which(name, *a, **k))
    return bench_run.main(["--quick", "--models", model, "--tools", "emlearn_gen", "--no-footprint",
                           "--out", str(tmp_path)])


def _flip_one_label(res: Any) -> Any:
    labels = res.labels.copy()
    labels[0] = -labels[0]
    return dataclasses.replace(res, labels=labels)


def _next_component(res: Any) -> Any:
    """A Gaussian mixture's first label moved to another of its 3 components."""
    labels = res.labels.copy()
    labels[0] = (labels[0] + 1) % 3
    return dataclasses.replace(res, labels=labels)


def _scores_off_by_1e_4(res: Any) -> Any:
    return dataclasses.replace(res, outputs=res.outputs * np.float32(1.0001))


def test_quick_run_passes_on_the_isolation_forest_as_compiled(tmp_path, monkeypatch):
    assert _quick_run(tmp_path, monkeypatch, lambda res: res) == 0
    rows = bench_run.report.load_csv(tmp_path / "results.csv")
    (row,) = [r for r in rows if r["tool"] == "emlearn_gen"]
    assert row["labels_equal_pct"] == 100.0 and row["contract"] == "kept" and row["api_contract"] == "kept"


@pytest.mark.parametrize("damage", [_flip_one_label, _scores_off_by_1e_4], ids=["label", "score"])
def test_quick_run_fails_on_an_isolation_forest_fidelity_regression(tmp_path, monkeypatch, damage):
    assert _quick_run(tmp_path, monkeypatch, damage) == 1
    rows = bench_run.report.load_csv(tmp_path / "results.csv")
    (row,) = [r for r in rows if r["tool"] == "emlearn_gen"]
    assert str(row["contract"]).startswith("broken")
    assert row["api_contract"] == "kept"  # CModel itself was not damaged


@pytest.mark.parametrize(
    "model, damage",
    [("gmm_full_outliers16", _next_component), ("envelope_outliers16", _flip_one_label),
     ("envelope_outliers16", _scores_off_by_1e_4)],
    ids=["mixture-label", "envelope-label", "envelope-score"],
)
def test_quick_run_fails_on_a_mixture_fidelity_regression(tmp_path, monkeypatch, model, damage):
    """The Gaussian mixture and elliptic envelope rows are judged by the
    mixture family's float32 contract on the compiled header's results."""
    assert _quick_run(tmp_path, monkeypatch, lambda res: res, model) == 0
    assert _quick_run(tmp_path / "damaged", monkeypatch, damage, model) == 1
    rows = bench_run.report.load_csv(tmp_path / "damaged" / "results.csv")
    (row,) = [r for r in rows if r["tool"] == "emlearn_gen"]
    assert str(row["contract"]).startswith("broken")
    assert row["api_contract"] == "kept"


def test_a_merge_of_a_merge_names_every_run_its_kept_rows_come_from():
    first = {"mode": "full", "date": "d1", "source_tree": "aaa", "elapsed_s": 1600.0}
    second = {"mode": "full", "date": "d2", "source_tree": "bbb", "elapsed_s": 30.0,
              "merged": {"models": ["m1"], "runs": [first]}}
    kept = [{"model": "m1", "measured_at": "aaa"}, {"model": "m2", "measured_at": "bbb (ccc at the end of that run)"}]
    assert bench_run.kept_runs(second, kept) == [first, {k: second[k] for k in bench_run.RUN_KEYS}]
    # A run none of whose rows is kept is not named.
    assert bench_run.kept_runs(second, kept[1:]) == [{k: second[k] for k in bench_run.RUN_KEYS}]
    # An environment written before runs were listed holds its one run inline.
    older = {**second, "merged": {"models": ["m1"], **first}}
    assert bench_run.kept_runs(older, kept) == [first, {k: second[k] for k in bench_run.RUN_KEYS}]


def test_paired_timings_take_their_repeats_in_turns():
    """CModel's and scikit-learn's timings alternate after each is
    calibrated, so that a drift in the machine's speed reaches both."""
    from benchmarks.pyspeed import per_call_pair

    calls = []
    first, second = per_call_pair(lambda: calls.append("ours"), lambda: calls.append("sklearn"), 0.0, repeats=3)
    # Each: one call to warm up and one to calibrate; then two repeats in turns.
    assert calls == ["ours", "ours", "sklearn", "sklearn", "ours", "sklearn", "ours", "sklearn"]
    assert first > 0.0 and second > 0.0


def test_boosted_flash_per_split_is_held_against_the_forest_of_its_shape_in_its_dtype():
    """The target line compares a boosted model with its twin forest's row in
    the boosted model's dtype (the forest's default or its other dtype), and
    says "not met" once the boosted model takes more than 1.1x."""
    from benchmarks.models import SHAPE_TWINS
    from benchmarks.report import TARGETS, target_lines

    boosted, forest = SHAPE_TWINS[1]
    limit = TARGETS["boosted_bytes_per_split_vs_forest"]

    def rows(boosted_m4f: float) -> list:
        common = {"family": "trees", "task": "regressor", "status": "ok"}
        return [
            {**common, "family": "boosting", "model": boosted, "tool": "emlearn_gen", "sums_dtype": "float64",
             "m0_bytes_per_split": 20.0, "m4f_bytes_per_split": boosted_m4f},
            # The forest's default row is float32 and must not be the one compared.
            {**common, "model": forest, "tool": "emlearn_gen", "sums_dtype": "float32",
             "m0_bytes_per_split": 10.0, "m4f_bytes_per_split": 10.0},
            {**common, "model": forest, "tool": "emlearn_gen_f64", "sums_dtype": "float64",
             "m0_bytes_per_split": 20.0, "m4f_bytes_per_split": 20.0},
        ]

    def line(boosted_m4f: float) -> str:
        found = [l for l in target_lines(rows(boosted_m4f)) if l.startswith(f"- Flash per split node of {boosted}")]
        assert len(found) == 1, found
        return found[0]

    assert ": met (M0 20.00 against 20.00 (1.00x), M4F 18.00 against 20.00 (0.90x))" in line(18.0)
    assert ": **not met** (" in line(20.0 * limit + 0.5)
