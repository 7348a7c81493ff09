"""Nearest-neighbour models: scikit-learn's KNeighborsClassifier,
KNeighborsRegressor, RadiusNeighborsClassifier, RadiusNeighborsRegressor,
NearestCentroid and LocalOutlierFactor (novelty=True), on float32 or int16
tables of stored points (runtime neighbors.hpp on distance.hpp).

    convert.py   fitted estimator -> NeighborsModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime neighbors.hpp)
    storage.py   int16 storage of the points, and its measured effect
    model.hpp.j2 the header's entry-point bodies
    contract.py  float32 distance bounds per row and point, the tie zone
    catalog.py   examples of every estimator and variant, for the tests
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Tuple

import numpy as np

from ...core.calibration import check_calibration, measure
from ...core.entry_points import LABEL, OUTLIER, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import NeighborsContract, radius_rank
from .convert import SUPPORTED, convert_neighbors
from .ir import KINDS, METRICS, WEIGHTS, NeighborsModel
from .storage import INT16, dequantized, quantize

#: Point storage (runtime neighbors_storage).
STORAGE = {"float32": 0, "int16": 1}

#: The most bytes of scratch (k best distances and indices, votes, x / std)
#: an entry point may keep on its stack: beyond, a small device's stack
#: would overflow. n_neighbors of a few hundred is far beyond useful anyway.
MAX_SCRATCH_BYTES = 4096

LAYOUT = Layout(
    kernel="neighbors",
    tables=(
        Table("points", "float", "float32 storage: the stored rows (training rows, or centroids), row-major."),
        Table("qpoints", "int16_t", "int16 storage: the stored rows as integers q, row-major."),
        Table("qscales", "float", "int16 storage: per feature, the scale of q."),
        Table("qoffsets", "float", "int16 storage: per feature, the offset added to q times the scale."),
        Table("labels", "int16_t", "Classifiers: the class index of each stored row."),
        Table("targets", "float", "Regressors: the targets of each stored row, row-major."),
        Table("kdist", "float", "LocalOutlierFactor: each stored row's distance to its k-th neighbour."),
        Table("lrd", "float", "LocalOutlierFactor: each stored row's local reachability density."),
        Table("scaled_points", "float", "NearestCentroid: the centroids divided by the within-class deviations."),
        Table("stds", "float", "NearestCentroid: the within-class deviation of each feature (1 where 0)."),
        Table("priors", "float", "NearestCentroid: twice the log prior of each class."),
        Table("params", "float", "minkowski p, radius in ranking form, LocalOutlierFactor's offset_."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_points", "uint32_t"),
        Field("n_classes", "uint32_t"),
        Field("n_outputs", "uint32_t"),
        Field("k", "uint32_t"),
        Field("outlier_class", "uint32_t"),
        Field("kind", "uint8_t"),
        Field("metric", "uint8_t"),
        Field("weighting", "uint8_t"),
        Field("storage", "uint8_t"),
        Field("use_priors", "uint8_t"),
    ),
)

_NOUN = {
    "knn_classifier": "k-nearest-neighbour classifier",
    "knn_regressor": "k-nearest-neighbour regressor",
    "radius_classifier": "radius-neighbours classifier",
    "radius_regressor": "radius-neighbours regressor",
    "centroid": "nearest-centroid classifier",
    "lof": "local outlier factor (novelty)",
}
_METRIC_NAME = {"sq_euclidean": "euclidean", "manhattan": "manhattan", "chebyshev": "chebyshev"}


def _entry_points(ir: NeighborsModel) -> Tuple[EntryPoint, ...]:
    if ir.task == "regressor":
        return (
            EntryPoint("predict", VALUES, ir.n_outputs, vector=ir.vector,
                       doc="Predicted outputs: writes n_outputs values to `out`"
                       + (" (NaN where no training row lies within the radius)." if ir.kind == "radius_regressor"
                          else ".")),
        )
    if ir.kind == "lof":
        return (
            EntryPoint("predict", OUTLIER, doc="+1 for an inlier, -1 for an outlier."),
            EntryPoint("decision_function", VALUES, 1, vector=True,
                       doc="score_samples minus offset_: negative for outliers; writes 1 value to `out`."),
            EntryPoint("score_samples", VALUES, 1, vector=True,
                       doc="Opposite of the local outlier factor; writes 1 value to `out`."),
        )
    k = ir.n_classes
    label_doc = "Predicted class: an index into classes[]."
    if ir.kind == "radius_classifier":
        label_doc += (" Without a training row within the radius: the outlier class, or -1 where the model "
                      "has none (scikit-learn raises ValueError there).")
    eps = [EntryPoint("predict", LABEL, doc=label_doc)]
    if ir.kind == "centroid" and ir.has_decision:
        eps.append(EntryPoint("decision_function", VALUES, 1 if k == 2 else k, vector=k == 2,
                              doc="Discriminant scores (two classes: score 1 minus score 0)."))
    if ir.kind != "centroid" or ir.has_decision:
        eps.append(EntryPoint("predict_proba", VALUES, k, doc="Class probabilities: writes n_classes values to `out`."))
    return tuple(eps)


def _lof_refit(ir: NeighborsModel, points: np.ndarray) -> NeighborsModel:
    """The LocalOutlierFactor fitted by scikit-learn on ``points`` (int16
    storage: its k-distances, densities and offset are those of the rows the
    device holds)."""
    from dataclasses import replace

    from sklearn.neighbors import LocalOutlierFactor

    metric = {"sq_euclidean": ("euclidean", 2.0), "manhattan": ("manhattan", 1.0),
              "chebyshev": ("chebyshev", 2.0), "minkowski": ("minkowski", ir.power)}[ir.metric]
    lof = LocalOutlierFactor(n_neighbors=ir.k, metric=metric[0], p=metric[1], novelty=True,
                             contamination=ir.contamination).fit(points)
    # The points stay the original rows: packing quantizes them to ``points`` again.
    return replace(ir, kdist=lof._distances_fit_X_[:, ir.k - 1].copy(), lrd=lof._lrd.copy(),
                   offset=float(lof.offset_))


def pack(ir: NeighborsModel, dtype: str = "float32") -> Packed:
    """The tables and layout fields. A table the model does not use holds
    one zero, as C++ has no empty arrays."""
    zero_f, zero_i = np.zeros(1, dtype=np.float32), np.zeros(1, dtype=np.int16)
    tables: Dict[str, np.ndarray] = {
        name: zero_f for name in ("points", "qscales", "qoffsets", "targets", "kdist", "lrd",
                                  "scaled_points", "stds", "priors")
    }
    tables.update(qpoints=zero_i, labels=zero_i)
    if dtype == "int16":
        q, scale, offset = quantize(ir.points)
        tables.update(qpoints=q.reshape(-1), qscales=scale, qoffsets=offset)
    else:
        tables["points"] = ir.points.astype(np.float32).reshape(-1)
    if ir.labels is not None and ir.kind != "centroid":
        tables["labels"] = ir.labels.astype(np.int16)
    if ir.targets is not None:
        tables["targets"] = ir.targets.astype(np.float32).reshape(-1)
    if ir.kind == "lof":
        tables.update(kdist=ir.kdist.astype(np.float32), lrd=ir.lrd.astype(np.float32))
    if ir.kind == "centroid":
        tables.update(scaled_points=ir.scaled_points.astype(np.float32).reshape(-1),
                      stds=ir.stds.astype(np.float32), priors=ir.log_priors2.astype(np.float32))
    params = np.array([ir.power, radius_rank(ir), ir.offset], dtype=np.float32)
    tables["params"] = params
    return Packed(
        tables={name: frozen(np.ascontiguousarray(a)) for name, a in tables.items()},
        fields={
            "n_features": ir.n_features,
            "n_points": ir.n_points,
            "n_classes": ir.n_classes,
            "n_outputs": ir.n_outputs,
            "k": ir.k,
            "outlier_class": ir.n_classes if ir.outlier_class is None else ir.outlier_class,
            "kind": KINDS[ir.kind],
            "metric": METRICS[ir.metric],
            "weighting": WEIGHTS[ir.weighting],
            "storage": STORAGE[dtype],
            "use_priors": int(ir.use_priors),
        },
    )


def scratch_parts(ir: NeighborsModel, ep: EntryPoint) -> Tuple[Tuple[int, str], ...]:
    """(4-byte words, what) of the arrays ``ep``'s body keeps on the stack
    (model.hpp.j2)."""
    parts = []
    if ir.searches:
        parts.append((2 * ir.k, f"the {ir.k} nearest distances and indices"))
    if ir.kind == "centroid":
        parts.append((ir.n_features, "x / std"))
    if ep.output == LABEL or (ir.kind == "centroid" and ep.name == "decision_function"):
        parts.append((ir.n_classes, f"{ir.n_classes} {'scores' if ir.kind == 'centroid' else 'votes'}"))
    return tuple(parts)


def scratch(ir: NeighborsModel, ep: EntryPoint) -> Tuple[int, str]:
    """(bytes, what) of the arrays ``ep``'s body keeps on the stack: every
    one of 4-byte words (floats and uint32_t indices)."""
    words = sum(n for n, _ in scratch_parts(ir, ep))
    return 4 * words, f"{words} words of 4 bytes"


def _scratch_line(ir: NeighborsModel, entry_points: Sequence[EntryPoint]) -> str:
    described = {}
    for ep in entry_points:
        parts = scratch_parts(ir, ep)
        if parts:
            described[ep.name] = " and ".join(what for _, what in parts)
    return "Stack arrays: " + "; ".join(f"{name}() {what}" for name, what in described.items()) + "."


def _storage_line(ir: NeighborsModel, packed: Packed, dtype: str) -> str:
    rows = "centroids" if ir.kind == "centroid" else "training rows"
    stored = (packed.tables["qpoints"].nbytes + packed.tables["qscales"].nbytes + packed.tables["qoffsets"].nbytes
              if dtype == "int16" else packed.tables["points"].nbytes)
    return (f"Stores {ir.n_points} {rows} of {ir.n_features} features as {dtype}: {stored} bytes of flash "
            f"(tables {packed.table_bytes} bytes in all).")


class NeighborsFamily(Family):
    name = "neighbors"
    estimators = SUPPORTED
    runtime_header = "neighbors.hpp"
    format_version = 1
    template = "families/neighbors/model.hpp.j2"
    layout = LAYOUT
    contract = NeighborsContract()
    options = (
        Option(
            "dtype",
            "storage of the training rows: float32 (default), or int16 with a scale and offset per feature "
            "(half the flash; distances stay float32). NearestCentroid keeps float32 centroids.",
            tuple(STORAGE),
        ),
        Option(
            "calibration",
            "with dtype='int16': rows (n_samples, n_features) on which convert() measures how far int16 "
            "storage moves labels and outputs from float32 storage (CModel.report, banner)",
        ),
    )

    def to_ir(self, estimator: Any) -> NeighborsModel:
        return convert_neighbors(estimator)

    def lower(self, ir: NeighborsModel, options: Mapping[str, Any]) -> Lowered:
        dtype = options["dtype"] or "float32"
        calibration = options["calibration"]
        check_calibration(INT16, dtype, calibration)
        if dtype == "int16" and ir.kind == "centroid":
            raise ValueError(
                "neighbors models: NearestCentroid keeps one centroid per class, not its training rows; "
                "dtype='int16' is for the models that store training rows. Use dtype='float32'"
            )
        entry_points = _entry_points(ir)
        sizes = {ep.name: scratch(ir, ep) for ep in entry_points}
        largest = max(b for b, _ in sizes.values())
        if largest > MAX_SCRATCH_BYTES:
            raise ValueError(
                f"neighbors models: an entry point would keep {largest} bytes of scratch on the stack "
                f"({_scratch_line(ir, entry_points)}), more than the {MAX_SCRATCH_BYTES} emlearn_gen allows; lower "
                "n_neighbors"
            )
        report: Dict[str, Any] = {}
        summary: Tuple[str, ...] = ()
        resolved: Tuple[Tuple[str, str], ...] = (("dtype", dtype),)
        if dtype == "int16":
            stored = dequantized(ir.points)
            ir16 = _lof_refit(ir, stored) if ir.kind == "lof" else ir
            packed = pack(ir16, "int16")
            report, line = measure(INT16, LAYOUT, pack(ir), packed, entry_points, ir.n_features, calibration)
            summary = (line,)
            resolved += (("calibration", f"{report['calibration_rows']} rows"),)
        else:
            packed = pack(ir)
        metric = _METRIC_NAME.get(ir.metric, f"minkowski p={ir.power:g}")
        detail = {
            "knn_classifier": f"k={ir.k}, {ir.weighting} weights",
            "knn_regressor": f"k={ir.k}, {ir.weighting} weights",
            "radius_classifier": f"radius {ir.radius:g}, {ir.weighting} weights",
            "radius_regressor": f"radius {ir.radius:g}, {ir.weighting} weights",
            "centroid": "priors" if ir.use_priors else "nearest centroid",
            "lof": f"k={ir.k}",
        }[ir.kind]
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=entry_points,
            packed=packed,
            options=resolved,
            classes=ir.classes,
            n_outputs=ir.n_outputs if ir.task == "regressor" else None,
            summary=(f"{_NOUN[ir.kind]}, {metric} distance, {detail}.", _storage_line(ir, packed, dtype),
                     _scratch_line(ir, entry_points)) + summary,
            context={"kind": ir.kind},
            scratch={name: size for name, size in sizes.items() if size[0]},
            allow_nan=False,
            check_rows=_outlier_check(packed, entry_points) if ir.kind == "radius_classifier"
            and ir.outlier_class is None else None,
            report=report,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def file_row_checks(self, packed: Packed, entry_points: Sequence[EntryPoint]) -> Any:
        # A radius classifier without an outlier label (its outlier_class
        # field is n_classes) refuses rows without neighbours.
        fields = packed.fields
        if int(fields["kind"]) != KINDS["radius_classifier"] or int(fields["outlier_class"]) != int(fields["n_classes"]):
            return None
        return _outlier_check(packed, entry_points)

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


def _outlier_check(packed: Packed, entry_points: Sequence[EntryPoint]) -> Any:
    """RadiusNeighborsClassifier without outlier_label: rows with no
    training row within the radius raise ValueError, as scikit-learn's
    predict and predict_proba do (the device returns -1 there)."""
    from ...core.host import HostModel

    label_only = tuple(ep for ep in entry_points if ep.name == "predict")
    host = HostModel(LAYOUT, packed, label_only)

    def check(X32: np.ndarray) -> None:
        outliers = np.flatnonzero(host.run("predict", np.ascontiguousarray(X32, dtype=np.float32)) < 0)
        if outliers.size:
            raise ValueError(
                f"No neighbors found for test samples {outliers[:10].tolist()}"
                f"{' ...' if outliers.size > 10 else ''} (rows without a training row within the radius); "
                "scikit-learn raises this too. Use a larger radius, fit with outlier_label, or remove these rows."
            )

    return check


FAMILY = NeighborsFamily()
