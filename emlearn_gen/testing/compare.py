"""Level 3 of the equivalence contract: outputs of a target against the host
runtime (CModel.raw_outputs).

Labels must be identical. Continuous outputs must be bit-identical wherever
the target computes with the model's own float widths: on the host, on
Cortex-M0 (IEEE soft float), on Cortex-M4F (single-precision FPU, built with
-ffp-contract=off) and on AVR for float32 models (avr-libc's float
arithmetic rounds like IEEE binary32).

float64 models are bit-identical too, AVR included: where ``double`` has 32
bits the runtime computes binary64 in software (runtime float64.hpp).

A model family whose code cannot be bit-equal on some target states an
absolute bound for it with a ``device_tolerance(target)`` method on its
CModel. Labels can then differ only where the host's two best class scores
are within twice that bound of each other (the tie zone): outside it they
must be identical, inside it the target's label must be one of the tied
classes, and the zone is counted in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np

U32 = 2.0**-24


@dataclass
class MatchReport:
    """What a comparison found, per target."""

    target: str
    n_samples: int
    tolerance: float  # absolute bound on continuous outputs; 0.0 means bit-equal
    max_abs_diff: Dict[str, float] = field(default_factory=dict)
    bit_equal: Dict[str, bool] = field(default_factory=dict)  # per float entry point
    tie_zone: int = 0  # rows whose host scores are tied within the tolerance
    label_differences: int = 0  # rows with another label (all inside the tie zone)


def device_tolerance(cm: Any, target: Any) -> float:
    """Absolute bound on |target - host| for continuous outputs (0.0: the
    outputs must be bit-equal). A model family can state its own bound with a
    ``device_tolerance(target)`` method on its CModel."""
    hook = getattr(cm, "device_tolerance", None)
    if callable(hook):
        return float(hook(target))
    return 0.0


def _scores_for_labels(cm: Any, host: Dict[str, np.ndarray]) -> Optional[np.ndarray]:
    """Host scores whose argmax is the label: a float entry point with one
    value per class."""
    n_classes = len(getattr(cm, "classes_", ()))
    for name in ("predict_proba", "decision_function"):
        for ep in cm.entry_points:
            if ep.name == name and not ep.returns_int and ep.width == n_classes and n_classes > 1:
                return host[ep.name]
    return None


def _first_difference(want: np.ndarray, have: np.ndarray, bad: np.ndarray) -> str:
    where = np.argwhere(bad)
    first = tuple(where[0].tolist())
    return f"first at {list(first)}: host {want[first]!r} vs target {have[first]!r}"


def compare_outputs(cm: Any, target: Any, X32: np.ndarray, got: Dict[str, np.ndarray]) -> MatchReport:
    """Checks ``got`` (outputs of ``target``) against the host runtime on X32;
    raises AssertionError naming the first difference."""
    name = getattr(target, "name", str(target))
    tol = device_tolerance(cm, target)
    report = MatchReport(target=name, n_samples=int(X32.shape[0]), tolerance=tol)
    host = {ep.name: cm.raw_outputs(ep.name, X32) for ep in cm.entry_points}
    for ep in cm.entry_points:
        method = ep.name
        want, have = host[method], got[method]
        if want.shape != have.shape or want.dtype != have.dtype:
            raise AssertionError(
                f"{name}: {method} returned {have.dtype}{have.shape}, the host runtime {want.dtype}{want.shape}"
            )
        if not ep.returns_int:
            report.bit_equal[method] = bool(np.array_equal(want.view(np.uint32), have.view(np.uint32)))
            if tol == 0.0:
                bad = want.view(np.uint32) != have.view(np.uint32)
                what = "is not bit-equal to"
            else:
                with np.errstate(invalid="ignore"):
                    bad = ~(np.abs(have.astype(np.float64) - want.astype(np.float64)) <= tol)
                bad &= ~(np.isnan(want) & np.isnan(have))
                bad &= ~(np.isinf(want) & (have == want))  # log_f(0) = -inf on both sides
                what = f"differs by more than {tol:.3g} from"
            with np.errstate(invalid="ignore"):
                diff = np.abs(have.astype(np.float64) - want.astype(np.float64))
            report.max_abs_diff[method] = float(np.nanmax(diff)) if diff.size else 0.0
            if np.any(bad):
                raise AssertionError(
                    f"{name}: {method} {what} the host runtime on {int(bad.sum())} of {bad.size} values; "
                    + _first_difference(want, have, bad)
                )
            continue
        bad = want != have
        scores = _scores_for_labels(cm, host) if tol > 0.0 else None
        if scores is not None:
            s = scores.astype(np.float64)
            best = s.max(axis=1)
            tied = s >= (best - 2.0 * tol)[:, None]
            report.tie_zone = int(np.count_nonzero(tied.sum(axis=1) > 1))
            report.label_differences = int(np.count_nonzero(bad))
            # A different label is allowed only for a class tied with the best.
            in_range = (have >= 0) & (have < s.shape[1])
            ok_label = np.zeros_like(bad)
            ok_label[in_range] = tied[np.flatnonzero(in_range), have[in_range]]
            bad &= ~ok_label
        if np.any(bad):
            raise AssertionError(
                f"{name}: {method} differs from the host runtime on {int(bad.sum())} of {bad.size} rows; "
                + _first_difference(want, have, bad)
            )
    return report
