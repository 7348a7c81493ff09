"""Kernel support vector machines (SVC, NuSVC, SVR, NuSVR, OneClassSVM):
libsvm's decisions over support vectors stored once, in float32.

    convert.py   fitted estimator -> SVMModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime svm.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 bound on kernel values and decisions
    catalog.py   examples of every estimator and kernel, for the tests and benchmarks
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ...core.entry_points import LABEL, OUTLIER, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import SVMContract
from .convert import SUPPORTED, convert_svm
from .ir import KERNELS, SVMModel

LAYOUT = Layout(
    kernel="svm",
    tables=(
        Table("support_vectors", "float", "Support vectors, one row of n_features each, grouped by class."),
        Table("dual_coef", "float", "Dual coefficients (libsvm's sv_coef), one row of n_sv per row."),
        Table("intercepts", "float", "Intercept of each decision (libsvm's -rho)."),
        Table("class_start", "uint32_t", "First support vector of each class, then n_sv."),
        Table("params", "float", "gamma, coef0 and OneClassSVM's offset_."),
        Table("prob_a", "float", "Platt scaling of each decision (libsvm's probA), if fitted with probability=True."),
        Table("prob_b", "float", "Platt scaling of each decision (libsvm's probB), if fitted with probability=True."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_sv", "uint32_t"),
        Field("n_classes", "uint32_t"),
        Field("degree", "uint32_t"),
        Field("kernel", "uint8_t"),
        Field("ovr", "uint8_t"),
        Field("break_ties", "uint8_t"),
        Field("has_proba", "uint8_t"),
    ),
)


def _entry_points(ir: SVMModel) -> tuple:
    if ir.task == "regressor":
        return (EntryPoint("predict", VALUES, 1, vector=True, doc="Predicted output: writes 1 value to `out`."),)
    if ir.task == "outlier_detector":
        return (
            EntryPoint("predict", OUTLIER, doc="-1 for an outlier, +1 for an inlier, as scikit-learn decides."),
            EntryPoint("decision_function", VALUES, 1, vector=True,
                       doc="Decision: writes 1 value to `out` (negative for outliers)."),
            EntryPoint("score_samples", VALUES, 1, vector=True,
                       doc="Score: writes 1 value to `out`, the decision plus offset_."),
        )
    shape = "one-vs-rest values" if ir.ovr else "class-pair decisions"
    points = (
        EntryPoint("predict", LABEL, doc="Predicted class: an index into classes[]."),
        EntryPoint("decision_function", VALUES, ir.decision_width, vector=ir.n_classes == 2,
                   doc="Decision: writes 1 value to `out` (> 0 means classes[1])." if ir.n_classes == 2
                   else f"Decision: writes n_decision {shape} to `out`."),
    )
    if ir.has_proba:
        points += (EntryPoint("predict_proba", VALUES, ir.n_classes,
                              doc="Class probabilities (Platt scaling, pairwise coupling): writes n_classes values."),)
    return points


def _pack(ir: SVMModel) -> Packed:
    rows, dual_coef, class_start = ir.support_vectors, ir.dual_coef, ir.class_start
    if ir.kernel == "linear":
        # Decisions linear in x: one row of weights per decision (svm.hpp).
        rows = ir.primal_weights()
        dual_coef = np.zeros(0)
        class_start = np.zeros(ir.n_classes + 1)
        class_start[-1] = len(rows)
    return Packed(
        tables={
            "support_vectors": frozen(rows.astype(np.float32).reshape(-1)),
            "dual_coef": frozen(dual_coef.astype(np.float32).reshape(-1)),
            "intercepts": frozen(ir.intercepts.astype(np.float32)),
            "class_start": frozen(class_start.astype(np.uint32)),
            "params": frozen(np.array([ir.gamma, ir.coef0, ir.offset], dtype=np.float32)),
            "prob_a": frozen(np.asarray(ir.prob_a if ir.has_proba else (), dtype=np.float32)),
            "prob_b": frozen(np.asarray(ir.prob_b if ir.has_proba else (), dtype=np.float32)),
        },
        fields={
            "n_features": ir.n_features,
            "n_sv": len(rows),
            "n_classes": ir.n_classes,
            "degree": ir.degree,
            "kernel": KERNELS[ir.kernel],
            "ovr": int(ir.ovr),
            "break_ties": int(ir.break_ties),
            "has_proba": int(ir.has_proba),
        },
    )


def _scratch(ir: SVMModel) -> dict:
    """A classifier keeps its pair decisions (for the vote, the one-vs-rest
    values, the probabilities); predict_proba also the coupling's matrix."""
    if ir.task != "classifier":
        return {}
    n = ir.n_decisions
    decisions = (4 * n, f"{n} decision{'s' if n != 1 else ''} of 4 bytes")
    scratch = {"predict": decisions, "decision_function": decisions}
    if ir.has_proba:
        floats = n + (ir.n_classes + 1) * ir.n_classes
        scratch["predict_proba"] = (4 * floats, f"{floats} floats of 4 bytes")
    return scratch


class SVMFamily(Family):
    name = "svm"
    estimators = SUPPORTED
    runtime_header = "svm.hpp"
    format_version = 1
    template = "families/svm/model.hpp.j2"
    layout = LAYOUT
    contract = SVMContract()
    options = (Option("dtype", "type of support vectors, coefficients and sums: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> SVMModel:
        return convert_svm(estimator)

    def lower(self, ir: SVMModel, options: Mapping[str, Any]) -> Lowered:
        packed = _pack(ir)
        n_dec = ir.n_decisions
        kernel = {"poly": f"poly of degree {ir.degree}",
                  "linear": "linear, stored as the weights of each decision"}.get(ir.kernel, ir.kernel)
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=_entry_points(ir),
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            classes=ir.classes,
            n_outputs=1 if ir.task == "regressor" else None,
            context={"n_decisions": n_dec, "proba_scratch": (ir.n_classes + 1) * ir.n_classes},
            summary=(
                f"{ir.n_sv} support vector{'s' if ir.n_sv != 1 else ''} of {ir.n_features} features, "
                f"kernel {kernel}, {n_dec} decision{'s' if n_dec != 1 else ''}; tables {packed.table_bytes} bytes.",
            ),
            scratch=_scratch(ir),
            allow_nan=False,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = SVMFamily()
