"""Numeric contract of feature transforms (docs/architecture.md).

The runtime computes in float32 with the parameters rounded to float32;
scikit-learn in float64. The bound is carried through the program step by
step with running error analysis: each value is held as the exact result of
scikit-learn's operations on the row (``ref``) and a bound on how far the
runtime's float32 value may lie from it (``err``). An operation's bound is
what its inputs' bounds become through it (with the parameters' rounding to
float32 counted as an input error) plus u times the magnitude of the
rounded result; scikit-learn's own float64 roundings add U64-relative terms.

Where a step decides (Binarizer's threshold, the clip bounds), a value
within its bound of the decision makes every output it may give allowed.
NaN must be where scikit-learn has NaN.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np

from ...core.bounds import EXP_MAX_REL_ERROR, LOG_MAX_REL_ERROR, TINY, U, U64, assert_within
from ...core.family import NumericContract
from .ir import FUNCTIONS, SPLINE_MODES, Step
from .signal import BY_OP as SIGNAL_OPS

_PERIODIC = SPLINE_MODES["periodic"]
_BOUNDED = (SPLINE_MODES["constant"], SPLINE_MODES["linear"])
_LINEAR = SPLINE_MODES["linear"]

# Relative slack for second-order terms and scikit-learn's float64 roundings.
_SLACK = 1.0 + 16 * U
_F64 = 8 * U64


def _f32(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


class Approx:
    """Values of scikit-learn's computation and bounds on the runtime's
    distance from them, elementwise over arrays of one shape."""

    def __init__(self, ref: np.ndarray, err: np.ndarray) -> None:
        self.ref = np.asarray(ref, dtype=np.float64)
        self.err = np.asarray(err, dtype=np.float64)

    @staticmethod
    def param(exact: np.ndarray) -> "Approx":
        """A parameter: scikit-learn's float64 value, the runtime's float32."""
        exact = np.asarray(exact, dtype=np.float64)
        return Approx(exact, np.abs(_f32(exact) - exact))

    def _rounded(self, ref: np.ndarray, err: np.ndarray) -> "Approx":
        # One float32 rounding of a result within err of ref.
        with np.errstate(invalid="ignore", over="ignore"):
            return Approx(ref, (err + U * (np.abs(ref) + err) + TINY + _F64 * np.abs(ref)) * _SLACK)

    def __sub__(self, other: "Approx") -> "Approx":
        return self._rounded(self.ref - other.ref, self.err + other.err)

    def __add__(self, other: "Approx") -> "Approx":
        return self._rounded(self.ref + other.ref, self.err + other.err)

    def __mul__(self, other: "Approx") -> "Approx":
        err = np.abs(self.ref) * other.err + np.abs(other.ref) * self.err + self.err * other.err
        return self._rounded(self.ref * other.ref, err)

    def __truediv__(self, other: "Approx") -> "Approx":
        with np.errstate(divide="ignore", invalid="ignore"):
            q = self.ref / other.ref
            low = np.abs(other.ref) - other.err
            err = np.where(low > 0, (self.err + np.abs(q) * other.err) / low, np.inf)
        return self._rounded(q, err)

    def sqrt(self) -> "Approx":
        r = np.sqrt(np.maximum(self.ref, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.sqrt(np.maximum(self.ref - self.err, 0.0))
            err = np.where(r + low > 0, self.err / (r + low), np.sqrt(self.err))
        return self._rounded(r, np.minimum(err, np.sqrt(self.err)))


def _rowwise(x: Approx, step: Step) -> Approx:
    """The step on its slice of the row, the values around it passed on."""
    end = step.first + step.n_slice
    inside = _operation(Approx(x.ref[:, step.first : end], x.err[:, step.first : end]), step)
    return Approx(
        np.concatenate([x.ref[:, : step.first], inside.ref, x.ref[:, end:]], axis=1),
        np.concatenate([x.err[:, : step.first], inside.err, x.err[:, end:]], axis=1),
    )


def _operation(x: Approx, step: Step) -> Approx:
    n = step.n_slice
    p = step.params
    if step.op == "center_divide":
        return (x - Approx.param(p[:n])) / Approx.param(p[n:])
    if step.op == "multiply_add":
        return x * Approx.param(p[:n]) + Approx.param(p[n:])
    if step.op == "clip":
        lo, hi = Approx.param(p[:1]), Approx.param(p[1:2])
        ref = np.clip(x.ref, lo.ref, hi.ref)
        return Approx(ref, np.maximum(x.err, np.maximum(lo.err, hi.err)))
    if step.op == "impute":
        value = Approx.param(p)
        missing = np.isnan(x.ref)
        return Approx(np.where(missing, value.ref, x.ref), np.where(missing, value.err, x.err))
    if step.op == "select":
        return Approx(x.ref[:, step.indices], x.err[:, step.indices])
    if step.op.startswith("normalize"):
        return x / _norm(x, step.op)
    if step.op == "binarize":
        t = Approx.param(p)
        ref = (x.ref > t.ref).astype(np.float64)
        undecided = np.abs(x.ref - t.ref) <= x.err + t.err
        return Approx(ref, np.where(undecided, 1.0, 0.0))
    if step.op == "missing_flags":
        # NaN is where scikit-learn's is: the flags are exact.
        return Approx(np.isnan(x.ref).astype(np.float64), np.zeros_like(x.ref))
    if step.op == "polynomial":
        return _polynomial(x, step.indices)
    if step.op == "discretize":
        return _discretize(x, step)
    if step.op == "function":
        return _function(x, int(step.indices[0]))
    if step.op == "spline":
        return _spline(x, step)
    if step.op in SIGNAL_OPS:
        # A signal kernel: numpy's float64 features and the kernel's stated
        # bound, the input's bound carried through (signal.py).
        ref, err = SIGNAL_OPS[step.op].bound(x.ref, x.err, step)
        return Approx(ref, err * _SLACK)
    return _project(x, step)


def _polynomial(x: Approx, indices: np.ndarray) -> Approx:
    """Products left to right, one rounding each after the first factor."""
    rows = len(x.ref)
    refs, errs = [], []
    at = 0
    while at < len(indices):
        degree = int(indices[at])
        factors = [int(i) for i in indices[at + 1 : at + 1 + degree]]
        at += 1 + degree
        value = Approx(np.ones(rows), np.zeros(rows))
        for k, i in enumerate(factors):
            factor = Approx(x.ref[:, i], x.err[:, i])
            value = factor if k == 0 else value * factor
        refs.append(value.ref)
        errs.append(value.err)
    return Approx(np.stack(refs, axis=1), np.stack(errs, axis=1))


def _discretize(x: Approx, step: Step) -> Approx:
    """Bins counted on float32 thresholds that decide as scikit-learn's edges
    do for float32 inputs; an input within its error of a threshold may fall
    in any bin that error spans."""
    outs, errs = [], []
    at = 0
    for i, count in enumerate(step.indices):
        t = step.params[at : at + int(count)]
        at += int(count)
        # t is scikit-learn's edge raised to a float32: within one float32 spacing.
        near = x.err[:, i : i + 1] + np.abs(np.spacing(t.astype(np.float32))).astype(np.float64)
        ref = (x.ref[:, i : i + 1] >= t).sum(axis=1).astype(np.float64)
        lo = (x.ref[:, i : i + 1] - near >= t).sum(axis=1)
        hi = (x.ref[:, i : i + 1] + near >= t).sum(axis=1)
        outs.append(ref)
        errs.append(np.maximum(ref - lo, hi - ref).astype(np.float64))
    return Approx(np.stack(outs, axis=1), np.stack(errs, axis=1))


def _const(value: float, rows: int) -> Approx:
    return Approx(np.full(rows, value), np.zeros(rows))


def _param_at(values: np.ndarray, i: int, rows: int) -> Approx:
    """Parameter i as a column of the rows (float32 on the runtime)."""
    p = Approx.param(values[i : i + 1])
    return Approx(np.full(rows, p.ref[0]), np.full(rows, p.err[0]))


def _spline_piece(x: Approx, knots: np.ndarray, piece: int, k: int) -> List[Approx]:
    """The k + 1 splines nonzero on knot interval `piece` at x, through the
    runtime's Cox-de Boor steps (spline_basis): ref is the interval's
    polynomial at scikit-learn's x, err the runtime's distance from it."""
    rows = len(x.ref)
    b = [_const(1.0, rows)] + [_const(0.0, rows) for _ in range(k)]
    for j in range(1, k + 1):
        prev = b[:j]
        b[0] = _const(0.0, rows)
        for i in range(1, j + 1):
            if knots[piece + i] == knots[piece + i - j]:  # a repeated knot: skipped, exactly
                b[i] = _const(0.0, rows)
                continue
            right, left = _param_at(knots, piece + i, rows), _param_at(knots, piece + i - j, rows)
            w = prev[i - 1] / (right - left)
            b[i - 1] = b[i - 1] + w * (right - x)
            b[i] = w * (x - left)
    return b


def _spline_candidates(x: Approx, knots: np.ndarray, k: int) -> List[Tuple[int, np.ndarray]]:
    """(knot interval, rows that may take it): the runtime compares its x with
    the float32 knots, so every interval within x's error may be taken (the
    first and last going on beyond the base knots)."""
    t32 = _f32(knots)
    last = len(knots) - k - 1
    lo, hi = x.ref - x.err, x.ref + x.err
    out = []
    for piece in range(k, last):
        start = -np.inf if piece == k else t32[piece]
        end = np.inf if piece == last - 1 else t32[piece + 1]
        if not start < end:  # between repeated knots: never taken
            continue
        out.append((piece, (hi >= start) & (lo <= end)))
    return out


def _spline_feature(x: Approx, params: np.ndarray, indices: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Bound on |runtime - ref| of one feature's splines (ref: scikit-learn's,
    rows by splines kept): the largest, over the runtime's possible pieces
    (interval, boundary, periodic wrap), of that piece's distance from
    scikit-learn's value plus its own rounding error."""
    k, mode, n_t, n_s, n_kept, n_b = (int(v) for v in indices)
    knots = params[:n_t]
    rows = len(x.ref)
    last = n_t - k - 1
    err = np.zeros((rows, n_kept))

    def take(rows_mask: np.ndarray, values: Dict[int, Approx]) -> None:
        # A piece writes `values` (spline -> value), 0 elsewhere.
        for j in range(n_kept):
            v = values.get(j)
            d = np.abs(ref[:, j]) if v is None else np.abs(v.ref - ref[:, j]) + v.err
            err[:, j] = np.maximum(err[:, j], np.where(rows_mask, d, 0.0))

    def inside(at: Approx, allowed: np.ndarray) -> None:
        for piece, mask in _spline_candidates(at, knots, k):
            mask = mask & allowed
            if not mask.any():
                continue
            values: Dict[int, Approx] = {}
            for i, b in enumerate(_spline_piece(at, knots, piece, k)):
                j = (piece - k + i) % n_s if mode == _PERIODIC else piece - k + i
                values[j] = values[j] + b if j in values else b
            take(mask, values)

    t32 = _f32(knots)
    everywhere = np.ones(rows, dtype=bool)
    if mode in _BOUNDED:
        lo, hi = x.ref - x.err, x.ref + x.err
        for below in (True, False):
            mask = lo < t32[k] if below else hi > t32[last]
            if not mask.any():
                continue
            edge = _param_at(knots, k if below else last, rows)
            first = 0 if below else n_s - n_b
            values: Dict[int, Approx] = {}
            for j in range(n_b):
                at = n_t + (0 if below else 2 * n_b)
                v = _param_at(params, at + j, rows)
                slope = params[at + n_b + j]
                if mode == _LINEAR and slope != 0.0:
                    v = v + (x - edge) * _param_at(params, at + n_b + j, rows)
                values[first + j] = v
            take(mask, values)
        inside(x, (hi >= t32[k]) & (lo <= t32[last]))
    elif mode == _PERIODIC:
        # t0 + (d - q P) with d = x - t0: q may be any floor within the
        # quotient's error, each giving its own point near the interval.
        t0 = _param_at(knots, k, rows)
        period = _param_at(knots, last, rows) - t0
        d = x - t0
        quotient = d / period
        with np.errstate(invalid="ignore"):
            q_lo = np.floor(quotient.ref - quotient.err)
            q_hi = np.floor(quotient.ref + quotient.err)
        for shift in (0.0, 1.0, 2.0):
            q = q_lo + shift
            allowed = q <= q_hi
            if not allowed.any():
                continue
            # q P is rounded by the runtime; q is exact.
            qp = Approx(q, np.zeros(rows)) * period
            inside(t0 + (d - qp), allowed)
        # A quotient too uncertain for three floors bounds nothing.
        with np.errstate(invalid="ignore"):
            err[~(q_hi - q_lo <= 2.0)] = np.inf
    else:
        inside(x, everywhere)
    return err


def _spline(x: Approx, step: Step) -> Approx:
    """scikit-learn's splines (evaluated here as it does, with scipy) and the
    bound on the runtime's distance from them, feature by feature; NaN
    (handle_missing="zeros") gives zeros, exactly."""
    from scipy.interpolate import BSpline

    k, mode, n_t, n_s, n_kept, n_b = (int(v) for v in step.indices)
    per_feature = n_t + 4 * n_b
    refs, errs = [], []
    for i in range(step.n_slice):
        params = step.params[i * per_feature : (i + 1) * per_feature]
        knots = params[:n_t]
        last = n_t - k - 1
        column = x.ref[:, i]
        missing = np.isnan(column)
        raw = np.where(missing, knots[k], column)
        xs = raw
        n_full = n_s + k if mode == _PERIODIC else n_s
        coef = np.eye(n_s)
        if mode == _PERIODIC:
            coef = np.concatenate([coef, coef[:k]])
            xs = knots[k] + (xs - knots[k]) % (knots[last] - knots[k])
        spl = BSpline.construct_fast(knots, coef[:n_full], k, extrapolate=mode not in _BOUNDED)
        ref = np.nan_to_num(spl(xs))
        if mode in _BOUNDED:
            below, above = xs < knots[k], xs > knots[last]
            ref[below | above] = 0.0
            for j in range(n_b):
                base = n_t
                ref[below, j] = params[base + j] + (
                    (xs[below] - knots[k]) * params[base + n_b + j] if mode == _LINEAR else 0.0)
                top = n_s - n_b + j
                ref[above, top] = params[base + 2 * n_b + j] + (
                    (xs[above] - knots[last]) * params[base + 3 * n_b + j] if mode == _LINEAR else 0.0)
        ref = ref[:, :n_kept]
        err = _spline_feature(Approx(raw, np.where(missing, 0.0, x.err[:, i])), params, step.indices, ref)
        ref[missing] = 0.0
        err[missing] = 0.0
        refs.append(ref)
        errs.append(err)
    return Approx(np.concatenate(refs, axis=1), np.concatenate(errs, axis=1))


def _function(x: Approx, code: int) -> Approx:
    """numpy's function and the runtime's, with math.hpp's stated errors."""
    name = {v: k for k, v in FUNCTIONS.items()}[code]
    r, e = x.ref, x.err
    with np.errstate(all="ignore"):
        if name in ("log", "log1p"):
            arg = r if name == "log" else 1.0 + r
            arg_err = e if name == "log" else e + U * (np.abs(arg) + e)  # 1 + x is rounded
            ref = np.log(arg)
            low = arg - arg_err
            err = np.where(low > 0, np.log1p(arg_err / np.where(low > 0, low, 1.0)), np.inf)
            err = err + LOG_MAX_REL_ERROR * (np.abs(ref) + err)
            return Approx(ref, err * _SLACK + TINY)
        if name in ("exp", "expm1"):
            ref = np.exp(r)
            err = ref * (np.expm1(e) + EXP_MAX_REL_ERROR * np.exp(e))
            if name == "expm1":
                ref, err = np.expm1(r), err + U * np.abs(np.exp(r) + err - 1.0) + U
            return Approx(ref, err * _SLACK + TINY)
        if name == "sqrt":
            return x.sqrt()
        if name == "absolute":
            return Approx(np.abs(r), e)
        return x * x


def _norm(x: Approx, op: str) -> Approx:
    """The row norm the runtime divides by, as one value per row (n, 1)."""
    n = x.ref.shape[1]
    if op == "normalize_max":
        ref = np.abs(x.ref).max(axis=1, keepdims=True)
        err = x.err.max(axis=1, keepdims=True)
    else:
        total = Approx(np.zeros((len(x.ref), 1)), np.zeros((len(x.ref), 1)))
        for i in range(n):
            xi = Approx(x.ref[:, i : i + 1], x.err[:, i : i + 1])
            term = Approx(np.abs(xi.ref), xi.err) if op == "normalize_l1" else xi * xi
            total = total + term
        ref, err = total.ref, total.err
        if op == "normalize_l2":
            root = Approx(ref, err).sqrt()
            ref, err = root.ref, root.err
    # A zero norm divides by 1 (scikit-learn's _handle_zeros_in_scale); a
    # norm within its bound of 0 could be either.
    zero = ref == 0
    ambiguous = (~zero) & (ref <= err)
    ref = np.where(zero, 1.0, ref)
    err = np.where(ambiguous, np.inf, np.where(zero, 0.0, err))
    return Approx(ref, err)


def _project(x: Approx, step: Step) -> Approx:
    n, k = step.n_slice, step.width
    mean = Approx.param(step.params[:n])
    weights = step.params[n:].reshape(k, n)
    centred = x - Approx(np.broadcast_to(mean.ref, x.ref.shape), np.broadcast_to(mean.err, x.ref.shape))
    refs, errs = [], []
    for j in range(k):
        w = Approx.param(weights[j])
        total = Approx(np.zeros(len(x.ref)), np.zeros(len(x.ref)))
        for i in range(n):
            term = Approx(np.full(len(x.ref), w.ref[i]), np.full(len(x.ref), w.err[i])) * Approx(
                centred.ref[:, i], centred.err[:, i]
            )
            total = total + term
        # scikit-learn computes x C^T - mean C^T: its roundings grow with
        # both products' magnitudes.
        sk = (n + 2) * U64 * (np.abs(x.ref) @ np.abs(weights[j]) + np.abs(mean.ref) @ np.abs(weights[j]))
        refs.append(total.ref)
        errs.append(total.err + 2 * sk)
    return Approx(np.stack(refs, axis=1), np.stack(errs, axis=1))


def transform_bound(program: Any, X: np.ndarray, n_steps: Any = None) -> Approx:
    """scikit-learn's exact results of the program (its first n_steps
    steps) on X and the bound on the runtime's distance from them."""
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        x = Approx(X, np.abs(_f32(X) - X))
    for step in program.steps[:n_steps]:
        x = _rowwise(x, step)
    return x


def _column(a: Approx, j: int) -> Approx:
    return Approx(a.ref[:, j], a.err[:, j])


def score_bound(program: Any, X: np.ndarray) -> np.ndarray:
    """Bound on |runtime - scikit-learn| of PCA's score_samples: the
    quadratic form of transforms_score_samples, carried as the steps are."""
    last = program.steps[-1]
    n = last.n_in
    x = transform_bound(program, X, len(program.steps) - 1)
    mean = Approx.param(last.params[:n])
    rows = len(x.ref)
    d = [_column(x, i) - Approx(np.full(rows, mean.ref[i]), np.full(rows, mean.err[i])) for i in range(n)]
    q = Approx.param(program.quadratic)
    k = 0
    total = Approx(np.zeros(rows), np.zeros(rows))
    sk = np.zeros(rows)
    for i in range(n):
        inner = Approx(np.zeros(rows), np.zeros(rows))
        for j in range(i, n):
            inner = inner + Approx(np.full(rows, q.ref[k]), np.full(rows, q.err[k])) * d[j]
            sk += np.abs(q.ref[k] * d[i].ref * d[j].ref)
            k += 1
        total = total + d[i] * inner
    c = Approx(np.full(rows, q.ref[k]), np.full(rows, q.err[k]))
    # scikit-learn's precision and its products are float64 roundings of
    # the same quantities: a few U64 of every term.
    return (total + c).err + 4 * (n + 4) * U64 * (sk + np.abs(c.ref))


def assert_same_nan(what: str, got: np.ndarray, want: np.ndarray) -> None:
    bad = np.isnan(got) != np.isnan(want)
    if np.any(bad):
        flat = int(np.flatnonzero(bad.reshape(-1))[0])
        raise AssertionError(f"{what}: NaN at flat index {flat} in one of runtime ({got.flat[flat]!r}) "
                             f"and scikit-learn ({want.flat[flat]!r}) only")


class TransformsContract(NumericContract):
    statement = (
        "float32 arithmetic, parameters rounded to float32. Every output within a bound carried "
        "through the steps by running error analysis (one rounding per operation, the inputs' and "
        "parameters' errors propagated); decisions (Binarizer, clip) free within their bound; "
        "NaN where scikit-learn has NaN."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_transforms

        program = convert_transforms(estimator)
        X = np.asarray(X, dtype=np.float64)
        want = np.asarray(estimator.transform(X), dtype=np.float64)
        got = cm.transform(X)
        assert_same_nan("transform", got, want)
        exact = transform_bound(program, X)
        bound = exact.err
        finite = ~np.isnan(want)
        report: Dict[str, Any] = {"n_samples": len(X)}
        report["max_abs_diff"] = assert_within(
            "transform", np.where(finite, got, 0.0), np.where(finite, want, 0.0), np.where(finite, bound, 0.0)
        )
        if any(step.op in SIGNAL_OPS for step in program.steps):
            # A signal step's scikit-learn transform is the runtime's own
            # kernel: held against numpy's float64 features as well.
            report["max_abs_diff_float64"] = assert_within(
                "transform (against float64)", np.where(finite, got, 0.0), np.where(finite, exact.ref, 0.0),
                np.where(finite, bound, 0.0),
            )
        if program.quadratic is not None:
            want_scores = np.asarray(estimator.score_samples(X), dtype=np.float64)
            bound = score_bound(program, X)
            report["max_score_diff"] = assert_within("score_samples", cm.score_samples(X), want_scores, bound)
            # score is their mean, summed in float64: within the mean bound.
            assert_within("score", np.array([cm.score(X)]), np.array([estimator.score(X)]),
                          np.array([bound.mean() * (1 + 4 * U64 * len(X)) + 4 * U64 * np.abs(want_scores).mean()]))
        return report


__all__: List[str] = ["TransformsContract", "transform_bound", "Approx"]
