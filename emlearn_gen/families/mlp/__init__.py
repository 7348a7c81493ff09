"""Multi-layer perceptrons: dense layers on float32 tables (runtime mlp.hpp
on dense.hpp), scikit-learn's MLPClassifier and MLPRegressor.

    convert.py   fitted estimator -> MLPModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime mlp.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 bound, propagated through the layers
    catalog.py   examples of every estimator and path, for the tests
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence, Tuple

import numpy as np

from ...core.entry_points import INDICATOR, LABEL, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import MLPContract
from .convert import SUPPORTED, convert_mlp
from .ir import ACTIVATIONS, MLPModel

LAYOUT = Layout(
    kernel="mlp",
    tables=(
        Table("weights", "float", "Weights of every layer in turn, one row of the layer's inputs per unit."),
        Table("biases", "float", "Biases of every layer in turn."),
        Table("sizes", "uint32_t", "Widths: n_features, each hidden layer, n_outputs."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_layers", "uint32_t"),
        Field("n_outputs", "uint32_t"),
        Field("max_width", "uint32_t"),
        Field("hidden_activation", "uint8_t"),
        Field("output_activation", "uint8_t"),
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


def pack(ir: MLPModel) -> Packed:
    """The float32 tables and layout fields of a perceptron."""
    return Packed(
        tables={
            "weights": frozen(np.concatenate([w.astype(np.float32).reshape(-1) for w in ir.coefs])),
            "biases": frozen(np.concatenate([b.astype(np.float32) for b in ir.intercepts])),
            "sizes": frozen(np.asarray(ir.sizes, dtype=np.uint32)),
        },
        fields={
            "n_features": ir.n_features,
            "n_layers": ir.n_layers,
            "n_outputs": ir.n_outputs,
            "max_width": ir.max_width,
            "hidden_activation": ACTIVATIONS[ir.hidden_activation],
            "output_activation": ACTIVATIONS[ir.output_activation],
        },
    )


def scratch_buffers(ir: MLPModel, ep: EntryPoint) -> int:
    """Buffers of max_width floats that ``ep`` keeps on the stack (mlp.hpp):
    one per hidden layer, at most two (they alternate); a label's sums take a
    buffer too, as they do not go to `out`."""
    hidden = ir.n_layers - 1
    sums_in_buffer = ep.output != VALUES
    return min(2, hidden + (1 if sums_in_buffer else 0))


class MLPFamily(Family):
    name = "mlp"
    estimators = SUPPORTED
    runtime_header = "mlp.hpp"
    format_version = 1
    template = "families/mlp/model.hpp.j2"
    layout = LAYOUT
    contract = MLPContract()
    options = (Option("dtype", "type of weights and sums: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> MLPModel:
        return convert_mlp(estimator)

    def lower(self, ir: MLPModel, options: Mapping[str, Any]) -> Lowered:
        packed = pack(ir)
        entry_points = _entry_points(ir)
        width = ir.max_width
        buffers = {ep.name: scratch_buffers(ir, ep) for ep in entry_points}
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=entry_points,
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            classes=ir.classes,
            n_outputs=ir.n_outputs if ir.task == "regressor" else None,
            summary=(
                f"layers {'-'.join(map(str, ir.sizes))}: {ir.hidden_activation} hidden, "
                f"{ir.output_activation} output; tables {packed.table_bytes} bytes.",
            ),
            context={"buffers": buffers},
            scratch={
                name: (4 * width * n, f"{n} buffer{'s' if n != 1 else ''} of {4 * width} bytes")
                for name, n in buffers.items()
                if n
            },
            allow_nan=False,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = MLPFamily()
