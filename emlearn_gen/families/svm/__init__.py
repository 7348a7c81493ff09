"""Kernel support vector machines (SVC, NuSVC, SVR, NuSVR, OneClassSVM):
libsvm's decisions over support vectors stored once, in float32 or (dtype
"float64") binary64.

    convert.py   fitted estimator -> SVMModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime svm.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 (float64) bound on kernel values and decisions
    catalog.py   examples of every estimator and kernel, for the tests and benchmarks
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ...core.entry_points import LABEL, OUTLIER, VALUES, EntryPoint
from ...core.family import FLOAT64_KERNEL_STACK_BYTES, Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import SVMContract
from .convert import SUPPORTED, convert_svm
from .ir import KERNELS, SVMModel

LAYOUT = Layout(
    kernel="svm",
    tables=(
        Table("support_vectors", "real", "Support vectors, one row of n_features each, grouped by class."),
        Table("dual_coef", "real", "Dual coefficients (libsvm's sv_coef), one row of n_sv per row."),
        Table("intercepts", "real", "Intercept of each decision (libsvm's -rho)."),
        Table("class_start", "uint32_t", "First support vector of each class, then n_sv."),
        Table("params", "real", "gamma, coef0 and OneClassSVM's offset_."),
        Table("prob_a", "real", "Platt scaling of each decision (libsvm's probA), if fitted with probability=True."),
        Table("prob_b", "real", "Platt scaling of each decision (libsvm's probB), if fitted with probability=True."),
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
        Field("real_bits", "uint8_t"),
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


#: The arithmetic of each dtype: numpy type of the tables, bytes per value.
REALS = {"float32": (np.float32, 4), "float64": (np.float64, 8)}


def _pack(ir: SVMModel, dtype: str = "float32") -> Packed:
    """Tables and fields of ``ir`` with real tables of ``dtype``."""
    real = REALS[dtype][0]
    rows, dual_coef, class_start = ir.support_vectors, ir.dual_coef, ir.class_start
    if ir.kernel == "linear":
        # Decisions linear in x: one row of weights per decision (svm.hpp).
        rows = ir.primal_weights()
        dual_coef = np.zeros(0)
        class_start = np.zeros(ir.n_classes + 1)
        class_start[-1] = len(rows)
    return Packed(
        tables={
            "support_vectors": frozen(rows.astype(real).reshape(-1)),
            "dual_coef": frozen(dual_coef.astype(real).reshape(-1)),
            "intercepts": frozen(ir.intercepts.astype(real)),
            "class_start": frozen(class_start.astype(np.uint32)),
            "params": frozen(np.array([ir.gamma, ir.coef0, ir.offset], dtype=real)),
            "prob_a": frozen(np.asarray(ir.prob_a if ir.has_proba else (), dtype=real)),
            "prob_b": frozen(np.asarray(ir.prob_b if ir.has_proba else (), dtype=real)),
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
            "real_bits": 8 * REALS[dtype][1],
        },
        real=dtype,
    )


def _proba_scratch(ir: SVMModel, dtype: str) -> int:
    """Values of svm_proba's scratch (svm.hpp, svm_proba_scratch): the
    coupling's matrix and (Qp), and float64's probabilities before rounding."""
    return (ir.n_classes + (2 if dtype == "float64" else 1)) * ir.n_classes


def _scratch(ir: SVMModel, dtype: str) -> dict:
    """A classifier keeps its pair decisions (for the vote, the one-vs-rest
    values, the probabilities); predict_proba also the coupling's matrix."""
    if ir.task != "classifier":
        return {}
    n = ir.n_decisions
    size = REALS[dtype][1]
    decisions = (size * n, f"{n} decision{'s' if n != 1 else ''} of {size} bytes")
    scratch = {"predict": decisions, "decision_function": decisions}
    if ir.has_proba:
        values = n + _proba_scratch(ir, dtype)
        scratch["predict_proba"] = (size * values, f"{values} values of {size} bytes")
    return scratch


class SVMFamily(Family):
    name = "svm"
    estimators = SUPPORTED
    runtime_header = "svm.hpp"
    format_version = 2
    template = "families/svm/model.hpp.j2"
    layout = LAYOUT
    contract = SVMContract()
    options = (
        Option(
            "dtype",
            "type of support vectors, coefficients and sums: float32 (default), or float64 for exactness "
            "(binary64 as libsvm computes, in software where double has 32 bits, as on AVR; twice the flash)",
            tuple(REALS),
        ),
    )

    def to_ir(self, estimator: Any) -> SVMModel:
        return convert_svm(estimator)

    def lower(self, ir: SVMModel, options: Mapping[str, Any]) -> Lowered:
        dtype = options["dtype"] or "float32"
        packed = _pack(ir, dtype)
        n_dec = ir.n_decisions
        kernel = {"poly": f"poly of degree {ir.degree}",
                  "linear": "linear, stored as the weights of each decision"}.get(ir.kernel, ir.kernel)
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=_entry_points(ir),
            packed=packed,
            options=(("dtype", dtype),),
            classes=ir.classes,
            n_outputs=1 if ir.task == "regressor" else None,
            context={
                "n_decisions": n_dec,
                "proba_scratch": _proba_scratch(ir, dtype),
                "value_type": "emlearn_gen::real64" if dtype == "float64" else "float",
            },
            summary=(
                f"{ir.n_sv} support vector{'s' if ir.n_sv != 1 else ''} of {ir.n_features} features, "
                f"kernel {kernel}, {n_dec} decision{'s' if n_dec != 1 else ''}; tables {packed.table_bytes} bytes.",
            ),
            scratch=_scratch(ir, dtype),
            allow_nan=False,
            kernel_stack_bytes=FLOAT64_KERNEL_STACK_BYTES if dtype == "float64" else None,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = SVMFamily()
