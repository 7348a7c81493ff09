"""Linear models: scores = W x + b on float32 tables, then a link.

    convert.py   fitted estimator -> LinearModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime linear.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 bound on scores, carried through each link
    catalog.py   examples of every estimator, for the tests and benchmarks
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ...core.entry_points import LABEL, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import LinearContract
from .convert import SUPPORTED, convert_linear
from .ir import LINKS, LinearModel

LAYOUT = Layout(
    kernel="linear",
    tables=(
        Table("weights", "float", "Weights, one row of n_features per score."),
        Table("intercepts", "float", "Intercept of each score."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_scores", "uint32_t"),
        Field("link", "uint8_t"),
    ),
)


def _entry_points(ir: LinearModel) -> tuple:
    if ir.task == "regressor":
        return (
            EntryPoint("predict", VALUES, ir.n_scores, vector=ir.vector,
                       doc="Predicted outputs: writes n_outputs values to `out`."),
        )
    points = [
        EntryPoint("predict", LABEL, doc="Predicted class: an index into classes[]."),
        EntryPoint("decision_function", VALUES, ir.n_scores, vector=ir.vector,
                   doc="Scores: writes n_decision values to `out` (binary: > 0 means classes[1])."),
    ]
    if ir.has_proba:
        points.append(EntryPoint("predict_proba", VALUES, ir.n_classes,
                                 doc="Class probabilities: writes n_classes values to `out`."))
    return tuple(points)


class LinearFamily(Family):
    name = "linear"
    estimators = SUPPORTED
    runtime_header = "linear.hpp"
    format_version = 1
    template = "families/linear/model.hpp.j2"
    layout = LAYOUT
    contract = LinearContract()
    options = (Option("dtype", "type of weights and sums: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> LinearModel:
        return convert_linear(estimator)

    def lower(self, ir: LinearModel, options: Mapping[str, Any]) -> Lowered:
        packed = Packed(
            tables={
                "weights": frozen(ir.coef.astype(np.float32).reshape(-1)),
                "intercepts": frozen(ir.intercept.astype(np.float32)),
            },
            fields={"n_features": ir.n_features, "n_scores": ir.n_scores, "link": LINKS[ir.link]},
        )
        entry_points = _entry_points(ir)
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=entry_points,
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            classes=ir.classes,
            n_outputs=ir.n_scores if ir.task == "regressor" else None,
            summary=(
                f"{ir.n_scores} score{'s' if ir.n_scores != 1 else ''} of {ir.n_features} features, "
                f"link {ir.link}; tables {packed.table_bytes} bytes.",
            ),
            # A classifier's predict() keeps its scores for the argmax.
            scratch={"predict": (4 * ir.n_scores, f"{ir.n_scores} score{'s' if ir.n_scores != 1 else ''} of 4 bytes")}
            if ir.task == "classifier"
            else {},
            allow_nan=False,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = LinearFamily()
