"""Gaussian mixtures and elliptic envelopes: quadratic forms of x minus a
mean with a factor of a precision matrix, in float32.

    convert.py   fitted estimator -> MixtureModel IR (ir.py), packed factors
    __init__.py  the family: entry points, packing, layout (runtime mixture.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 bound on quadratic forms, carried to the outputs
    catalog.py   examples of every estimator and covariance type
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ...core.entry_points import LABEL, OUTLIER, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import MixtureContract
from .convert import SUPPORTED, convert_mixture, packed_factors
from .ir import COVARIANCES, MixtureModel

LAYOUT = Layout(
    kernel="mixture",
    tables=(
        Table("means", "float", "Per component and feature: the mean (envelope: location_)."),
        Table("precisions", "float", "The precision factors in scikit-learn's shape: upper triangles column by "
              "column (full: per component; tied: one), vectors (diag), one value per component (spherical)."),
        Table("constants", "float", "Per component, added to -Q/2: log weight + log-determinant - n/2 log 2 pi "
              "(envelope: offset_, subtracted from -Q)."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_components", "uint32_t"),
        Field("covariance", "uint8_t"),
        Field("envelope", "uint8_t"),
    ),
)


def _entry_points(ir: MixtureModel) -> tuple:
    if ir.kind == "envelope":
        return (
            EntryPoint("predict", OUTLIER, doc="-1 for an outlier, +1 for an inlier, as scikit-learn decides."),
            EntryPoint("decision_function", VALUES, 1, vector=True,
                       doc="Decision: writes 1 value to `out`, score_samples - offset_ (negative for outliers)."),
            EntryPoint("score_samples", VALUES, 1, vector=True,
                       doc="Score: writes 1 value to `out`, minus the squared Mahalanobis distance."),
        )
    k = ir.n_components
    return (
        EntryPoint("predict", LABEL, doc="Most likely component: an index 0 .. n_components - 1."),
        EntryPoint("predict_proba", VALUES, k,
                   doc=f"Posterior probability of each component: writes {k} values to `out`."),
        # score = mean of score_samples over rows (CModel.score).
        EntryPoint("score_samples", VALUES, 1, vector=True, score="mean",
                   doc="Log-likelihood of x under the mixture: writes 1 value to `out`."),
    )


class MixtureFamily(Family):
    name = "mixture"
    estimators = SUPPORTED
    runtime_header = "mixture.hpp"
    format_version = 1
    template = "families/mixture/model.hpp.j2"
    layout = LAYOUT
    contract = MixtureContract()
    options = (Option("dtype", "type of tables and sums: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> MixtureModel:
        return convert_mixture(estimator)

    def lower(self, ir: MixtureModel, options: Mapping[str, Any]) -> Lowered:
        packed = Packed(
            tables={
                "means": frozen(ir.means.astype(np.float32).reshape(-1)),
                "precisions": frozen(packed_factors(ir).astype(np.float32)),
                "constants": frozen(ir.constants.astype(np.float32)),
            },
            fields={
                "n_features": ir.n_features,
                "n_components": ir.n_components,
                "covariance": COVARIANCES[ir.covariance],
                "envelope": int(ir.kind == "envelope"),
            },
        )
        k = ir.n_components
        envelope = ir.kind == "envelope"
        # predict() and score_samples() keep the weighted log-probabilities
        # of the components for the argmax and the log-sum-exp.
        scratch = {} if envelope else {
            name: (4 * k, f"{k} score{'s' if k != 1 else ''} of 4 bytes")
            for name in ("predict", "score_samples")
        }
        what = "elliptic envelope (Mahalanobis distance)" if envelope else \
            f"{k} component{'s' if k != 1 else ''}, {ir.covariance} covariance"
        return Lowered(
            task="outlier_detector" if envelope else "clusterer",
            n_features=ir.n_features,
            entry_points=_entry_points(ir),
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            summary=(f"{what} of {ir.n_features} features; tables {packed.table_bytes} bytes.",),
            scratch=scratch,
            allow_nan=False,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = MixtureFamily()
