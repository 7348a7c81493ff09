"""Centroid clusterings (KMeans, MiniBatchKMeans): squared euclidean
distances to the centres in float32 (runtime distance.hpp).

    convert.py   fitted estimator -> ClustersModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime clusters.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 bound on squared distances, carried to the outputs
    catalog.py   examples of both estimators
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ...core.entry_points import LABEL, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import ClustersContract
from .convert import SUPPORTED, convert_clusters
from .ir import ClustersModel

LAYOUT = Layout(
    kernel="clusters",
    tables=(Table("centers", "float", "The cluster centres, one row of n_features values each."),),
    fields=(Field("n_features", "uint32_t"), Field("n_clusters", "uint32_t")),
)


def _entry_points(ir: ClustersModel) -> tuple:
    k = ir.n_clusters
    return (
        EntryPoint("predict", LABEL, doc="Cluster of x: the index of its nearest centre, 0 .. n_clusters - 1."),
        EntryPoint("transform", VALUES, k, doc=f"Euclidean distance to each centre: writes {k} values to `out`."),
        # Not a scikit-learn method (no CModel method of this name):
        # KMeans.score is minus the sum of these over the rows (CModel.score).
        EntryPoint("nearest_sq_distance", VALUES, 1, vector=True, score="-sum",
                   doc="Squared euclidean distance to the nearest centre (the row's inertia): writes 1 value "
                   "to `out`."),
    )


class ClustersFamily(Family):
    name = "clusters"
    estimators = SUPPORTED
    runtime_header = "clusters.hpp"
    format_version = 1
    template = "families/clusters/model.hpp.j2"
    layout = LAYOUT
    contract = ClustersContract()
    options = (Option("dtype", "type of tables and sums: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> ClustersModel:
        return convert_clusters(estimator)

    def lower(self, ir: ClustersModel, options: Mapping[str, Any]) -> Lowered:
        packed = Packed(
            tables={"centers": frozen(ir.centers.astype(np.float32).reshape(-1))},
            fields={"n_features": ir.n_features, "n_clusters": ir.n_clusters},
        )
        k = ir.n_clusters
        return Lowered(
            task="clusterer",
            n_features=ir.n_features,
            entry_points=_entry_points(ir),
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            summary=(f"{k} centre{'s' if k != 1 else ''} of {ir.n_features} features; "
                     f"tables {packed.table_bytes} bytes.",),
            allow_nan=False,
            label_dtype="int32",  # scikit-learn's k-means labels
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = ClustersFamily()
