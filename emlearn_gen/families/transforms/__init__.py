"""Feature transforms: scikit-learn's scalers, imputer, normalizer,
binarizer, discretizer, polynomial and spline features, feature selectors
and linear projections, alone or as a Pipeline
of transformers, run as one program of steps (runtime transforms.hpp).

    convert.py   fitted transformer or Pipeline -> TransformProgram IR (ir.py)
    __init__.py  the family: entry point, packing, layout
    model.hpp.j2 the header's transform() body
    contract.py  the float32 bound, carried through the steps
    catalog.py   examples of every step, for the tests and benchmarks
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Mapping, Sequence

import numpy as np
from sklearn.pipeline import Pipeline

from ...core.entry_points import VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from ...core.pipeline import describe_steps
from ...signal.window_stats import check_windows
from .contract import TransformsContract
from .convert import SUPPORTED, convert_transforms
from .ir import OPS, TransformProgram

LAYOUT = Layout(
    kernel="transforms",
    tables=(
        Table("ops", "uint8_t", "The operation of each step."),
        Table("shapes", "uint32_t", "Per step: outputs, first parameter, first index, slice start, slice length."),
        Table("params", "float", "Every step's parameters (centres, scales, weights...)."),
        Table("indices", "uint32_t", "Selected columns, polynomial factors, thresholds per feature, functions."),
        Table("quadratic", "float", "score_samples (PCA last): the quadratic form's upper triangle, then a constant."),
    ),
    fields=(
        Field("n_steps", "uint32_t"),
        Field("n_features", "uint32_t"),
        Field("n_outputs", "uint32_t"),
        Field("max_width", "uint32_t"),
    ),
)


#: Stack the kernels' own frames may take below an entry point whose
#: program has a spectrum step: the FFT's stages and butterflies (measured on
#: Cortex-M0 at about 410 bytes, soft-float calls included; tests/test_stack.py).
SPECTRUM_KERNEL_STACK_BYTES = 512

#: The most indices a step reads at fixed positions (transforms.hpp: a
#: spline step's six, a spectrum step's seven and its first offset).
FIXED_INDICES = 8


def _padded(values: np.ndarray, at_least: int, dtype: type) -> np.ndarray:
    values = np.asarray(values).astype(dtype)
    return np.concatenate([values, np.zeros(max(0, at_least - values.size), dtype)])


def pack(program: TransformProgram) -> Packed:
    shapes, params, indices = [], [], []
    n_params = n_indices = 0
    for step in program.steps:
        shapes.extend((step.n_out, n_params, n_indices, step.first, step.n_slice))
        params.append(step.params)
        n_params += step.params.size
        indices.append(step.indices)
        n_indices += step.indices.size
    # Padded: g++ -Warray-bounds sees every operation's constant indices in
    # every program (clip's parameter 1, a spectrum step's eight indices), also
    # where no step of that operation runs; validation reads only what steps use.
    params32 = _padded(np.concatenate(params) if params else np.zeros(0), 2, np.float32)
    indices32 = _padded(np.concatenate(indices) if indices else np.zeros(0), FIXED_INDICES, np.uint32)
    return Packed(
        tables={
            "ops": frozen(np.array([OPS[s.op] for s in program.steps], dtype=np.uint8)),
            "shapes": frozen(np.array(shapes, dtype=np.uint32)),
            "params": frozen(params32),
            "indices": frozen(indices32),
            "quadratic": frozen((program.quadratic if program.quadratic is not None else np.zeros(0)).astype(np.float32)),
        },
        fields={
            "n_steps": len(program.steps),
            "n_features": program.n_features,
            "n_outputs": program.n_outputs,
            "max_width": program.max_width,
        },
    )


def nan_policy(allowed: np.ndarray) -> Dict[str, Any]:
    """Lowered's allow_nan and check_rows for inputs whose columns take NaN
    where ``allowed`` says (a step that refuses NaN sees it from the others)."""
    allowed = np.asarray(allowed, dtype=bool)
    if allowed.all() or not allowed.any():
        return {"allow_nan": bool(allowed.any()), "check_rows": None}
    refused = np.flatnonzero(~allowed)

    def check(X32: np.ndarray) -> None:
        bad = np.isnan(X32[:, refused])
        if bad.any():
            row, k = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"Input X contains NaN: X[{row}, {int(refused[k])}]; in that column a step refuses NaN, "
                "as scikit-learn does (impute it first, or pass only the columns that may be missing)"
            )

    return {"allow_nan": True, "check_rows": check}


def _window_nan_check(n_samples: int, n_channels: int) -> Callable[[np.ndarray], None]:
    def check(X32: np.ndarray) -> None:
        if np.isnan(X32).any():  # the common case costs one scan
            check_windows(X32, n_samples, n_channels, what="the model's window")

    return check


def row_checks(program: TransformProgram, allowed: np.ndarray) -> Dict[str, Any]:
    """nan_policy, and the range scikit-learn's SplineTransformer(
    extrapolation="error") demands of its input columns: a float32 value
    beyond the base knots is refused, except the float32 nearest to the end
    knot itself (it is what every value at the end rounds to)."""
    policy = nan_policy(allowed)
    if program.window is not None and not np.any(allowed):
        # A window takes no NaN: refused with the window's own words (which
        # window, sample and channel; impute before windowing).
        policy = {"allow_nan": True, "check_rows": _window_nan_check(*program.window)}
    ranges = program.range_checks()
    if not ranges:
        return policy
    nan_check = policy["check_rows"]
    columns = np.array([c for c, _, _, _ in ranges], dtype=np.int64)
    lows = np.array([lo for _, lo, _, _ in ranges], dtype=np.float32).astype(np.float64)
    highs = np.array([hi for _, _, hi, _ in ranges], dtype=np.float32).astype(np.float64)

    def check(X32: np.ndarray) -> None:
        if nan_check is not None:
            nan_check(X32)
        values = np.asarray(X32, dtype=np.float64)[:, columns]
        bad = (values < lows) | (values > highs)  # NaN is not out of range: the NaN policy judges it
        if bad.any():
            row, k = (int(v) for v in np.argwhere(bad)[0])
            column, lo, hi, source = ranges[k]
            raise ValueError(
                f"X[{row}, {column}] = {float(values[row, k])!r} is beyond the knots [{lo!r}, {hi!r}] of a "
                f"{source}(extrapolation='error'): scikit-learn refuses it. Keep the inputs within the "
                "range it was fitted on, or fit it with another extrapolation"
            )

    return {"allow_nan": policy["allow_nan"], "check_rows": check}


class TransformsFamily(Family):
    name = "transforms"
    estimators = SUPPORTED + (Pipeline,)
    runtime_header = "transforms.hpp"
    format_version = 3
    template = "families/transforms/model.hpp.j2"
    layout = LAYOUT
    contract = TransformsContract()
    options = (Option("dtype", "type of parameters and arithmetic: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> TransformProgram:
        return convert_transforms(estimator)

    def lower(self, ir: TransformProgram, options: Mapping[str, Any]) -> Lowered:
        columns, ir_used = ir.reduced()
        if columns is not None:
            # The header takes the selected columns only; NaN is judged on
            # the whole row, as scikit-learn's selector judges it.
            return dataclasses.replace(
                self.lower(ir_used, options), input_columns=frozen(columns), n_row_features=ir.n_features,
                **row_checks(ir, ~ir.nan_paths()[0]),
            )
        packed = pack(ir)
        n_scratch = ir.n_scratch
        # A MissingIndicator's flags are bool in scikit-learn (the header writes 0 and 1).
        flags_only = ir.steps[-1].op == "missing_flags" and ir.steps[-1].n_slice == ir.n_outputs
        entry_points = [EntryPoint("transform", VALUES, ir.n_outputs, result_dtype="bool" if flags_only else "float64",
                                   doc="The transformed features: writes n_outputs values to `out`.")]
        if ir.quadratic is not None:
            # PCA's score(X) is the mean of its score_samples.
            entry_points.append(EntryPoint("score_samples", VALUES, 1, vector=True, score="mean",
                                           doc="PCA's log-likelihood of the row: writes 1 value to `out`."))
        # Two rows of the widest step's output, between the steps, and the
        # buffers of the signal kernels (an FFT's, a filter's state).
        scratch = {ep.name: (4 * n_scratch, f"{n_scratch} floats of 4 bytes") for ep in entry_points} if n_scratch else {}
        return Lowered(
            task="transformer",
            n_features=ir.n_features,
            entry_points=tuple(entry_points),
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            n_outputs=ir.n_outputs,
            summary=(
                f"{describe_steps(ir)}: {ir.n_features} feature{'s' if ir.n_features != 1 else ''} in, "
                f"{ir.n_outputs} out, "
                f"{len(ir.steps)} step{'s' if len(ir.steps) != 1 else ''}; tables {packed.table_bytes} bytes.",
            ),
            scratch=scratch,
            kernel_stack_bytes=(SPECTRUM_KERNEL_STACK_BYTES if any(s.op == "spectrum" for s in ir.steps)
                                else None),
            context={"n_scratch": n_scratch},
            window=ir.window,
            **row_checks(ir, ~ir.nan_paths()[0]),
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = TransformsFamily()
