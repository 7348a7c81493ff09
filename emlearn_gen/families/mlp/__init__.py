"""Multi-layer perceptrons: dense layers on float32, int8 or float64 tables
(runtime mlp.hpp on dense.hpp), scikit-learn's MLPClassifier and
MLPRegressor.

    convert.py   fitted estimator -> MLPModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime mlp.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 (float64) bound, propagated through the layers
    catalog.py   examples of every estimator and path, for the tests
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Tuple

import numpy as np

from ...core.calibration import check_calibration, measure
from ...core.entry_points import INDICATOR, LABEL, VALUES, EntryPoint
from ...core.family import FLOAT64_KERNEL_STACK_BYTES, Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import MLPContract
from .convert import SUPPORTED, convert_mlp
from .ir import ACTIVATIONS, MLPModel
from .quantize import INT8, quantize

#: Weight storage (runtime mlp.hpp, mlp_weights).
WEIGHT_TYPES = {"float32": 0, "int8": 1, "float64": 2}

LAYOUT = Layout(
    kernel="mlp",
    tables=(
        Table("weights", "real", "Weights of every layer in turn, one row of the layer's inputs per unit."),
        Table("qweights", "int8_t", "int8 weights (times the layer's scale), laid out as weights."),
        Table("scales", "float", "Scale of each layer's int8 weights."),
        Table("biases", "real", "Biases of every layer in turn."),
        Table("sizes", "uint32_t", "Widths: n_features, each hidden layer, n_outputs."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_layers", "uint32_t"),
        Field("n_outputs", "uint32_t"),
        Field("max_width", "uint32_t"),
        Field("hidden_activation", "uint8_t"),
        Field("output_activation", "uint8_t"),
        Field("weight_type", "uint8_t"),
    ),
)


def _entry_points(ir: MLPModel) -> Tuple[EntryPoint, ...]:
    if ir.task == "regressor":
        return (
            EntryPoint("predict", VALUES, ir.n_outputs, vector=ir.vector,
                       doc="Predicted outputs: writes n_outputs values to `out`."),
        )
    if ir.multilabel:
        return (
            EntryPoint("predict", INDICATOR, ir.n_outputs,
                       doc="Predicted labels: writes n_classes values to `out`, 1 where label k is predicted, else 0."),
            EntryPoint("predict_proba", VALUES, ir.n_outputs,
                       doc="Probability of each label: writes n_classes values to `out`."),
        )
    return (
        EntryPoint("predict", LABEL, doc="Predicted class: an index into classes[]."),
        EntryPoint("predict_proba", VALUES, ir.n_classes,
                   doc="Class probabilities: writes n_classes values to `out`."),
    )


def pack(ir: MLPModel, dtype: str = "float32") -> Packed:
    """The tables and layout fields of a perceptron with float32, int8 or
    float64 weights (float64: weights and biases in binary64, the model's
    real type). The weight table a model does not use holds one zero, as C++
    has no empty arrays."""
    real = np.float64 if dtype == "float64" else np.float32
    unused = {"float": np.zeros(1, dtype=np.float32), "int8": np.zeros(1, dtype=np.int8)}
    if dtype == "int8":
        qs, scales = quantize(ir)
        weights, qweights = unused["float"], np.concatenate([q.reshape(-1) for q in qs])
    else:
        weights = np.concatenate([w.astype(real).reshape(-1) for w in ir.coefs])
        qweights, scales = unused["int8"], unused["float"]
    return Packed(
        tables={
            "weights": frozen(weights),
            "qweights": frozen(qweights),
            "scales": frozen(scales),
            "biases": frozen(np.concatenate([b.astype(real) for b in ir.intercepts])),
            "sizes": frozen(np.asarray(ir.sizes, dtype=np.uint32)),
        },
        fields={
            "n_features": ir.n_features,
            "n_layers": ir.n_layers,
            "n_outputs": ir.n_outputs,
            "max_width": ir.max_width,
            "hidden_activation": ACTIVATIONS[ir.hidden_activation],
            "output_activation": ACTIVATIONS[ir.output_activation],
            "weight_type": WEIGHT_TYPES[dtype],
        },
        real="float64" if dtype == "float64" else "float32",
    )


def scratch_buffers(ir: MLPModel, ep: EntryPoint, dtype: str = "float32") -> int:
    """Buffers of max_width values that ``ep`` keeps on the stack (mlp.hpp):
    one per hidden layer, at most two (they alternate); a label's sums take a
    buffer too, as they do not go to `out`, and so do every entry point's
    with float64 weights (binary64 outputs, rounded to float `out` at the end)."""
    hidden = ir.n_layers - 1
    sums_in_buffer = ep.output != VALUES or dtype == "float64"
    return min(2, hidden + (1 if sums_in_buffer else 0))


class MLPFamily(Family):
    name = "mlp"
    estimators = SUPPORTED
    runtime_header = "mlp.hpp"
    format_version = 2
    template = "families/mlp/model.hpp.j2"
    layout = LAYOUT
    contract = MLPContract()
    options = (
        Option(
            "dtype",
            "type of weights: float32 (default); int8 with one scale per layer (a quarter of the "
            "flash; activations and sums stay float32); or float64 for exactness (weights, sums and "
            "activations in binary64, in software where double has 32 bits, as on AVR; twice the "
            "flash of float32)",
            tuple(WEIGHT_TYPES),
        ),
        Option(
            "calibration",
            "with dtype='int8': rows (n_samples, n_features) on which convert() measures how far the "
            "int8 weights move labels and outputs from the float32 model (CModel.report, banner)",
        ),
    )

    def to_ir(self, estimator: Any) -> MLPModel:
        return convert_mlp(estimator)

    def lower(self, ir: MLPModel, options: Mapping[str, Any]) -> Lowered:
        dtype = options["dtype"] or "float32"
        calibration = options["calibration"]
        check_calibration(INT8, dtype, calibration)
        entry_points = _entry_points(ir)
        packed = pack(ir, dtype)
        report: Dict[str, Any] = {}
        summary: Tuple[str, ...] = ()
        resolved: Tuple[Tuple[str, str], ...] = (("dtype", dtype),)
        if dtype == "int8":
            report, line = measure(INT8, LAYOUT, pack(ir), packed, entry_points, ir.n_features, calibration)
            summary = (line,)
            resolved += (("calibration", f"{report['calibration_rows']} rows"),)
        width = ir.max_width
        value_bytes = 8 if dtype == "float64" else 4
        buffers = {ep.name: scratch_buffers(ir, ep, dtype) for ep in entry_points}
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=entry_points,
            packed=packed,
            options=resolved,
            classes=ir.classes,
            n_outputs=ir.n_outputs if ir.task == "regressor" else None,
            summary=(
                f"layers {'-'.join(map(str, ir.sizes))}: {ir.hidden_activation} hidden, "
                f"{ir.output_activation} output; tables {packed.table_bytes} bytes.",
            )
            + summary,
            context={"buffers": buffers, "value_type": "emlearn_gen::real64" if dtype == "float64" else "float"},
            scratch={
                name: (value_bytes * width * n, f"{n} buffer{'s' if n != 1 else ''} of {value_bytes * width} bytes")
                for name, n in buffers.items()
                if n
            },
            allow_nan=False,
            report=report,
            kernel_stack_bytes=FLOAT64_KERNEL_STACK_BYTES if dtype == "float64" else None,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = MLPFamily()
