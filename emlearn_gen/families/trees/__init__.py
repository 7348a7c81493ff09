"""Decision trees and forests of them: one kernel walking compact tables.

    convert.py   fitted estimator -> TreeEnsemble IR (ir.py)
    pack.py      IR -> bit-packed tables (layout below; runtime tree_ensemble.hpp)
    inline.py    a single tree of a few splits as if/else code, from its tables
    model.hpp.j2 the header's tables and entry-point bodies
    contract.py  what matches scikit-learn, and how closely
    catalog.py   examples of every estimator, for the tests and benchmarks
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ...core.entry_points import LABEL, OUTLIER, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table
from .context import REAL_TYPES, tree_scratch, tree_summary
from .contract import TreeContract
from . import hgb
from .convert import SUPPORTED, convert_trees
from .fold import fold_trees
from .inline import inline_tree
from .ir import BOOST_LINKS, TreeEnsemble
from .pack import REAL_DTYPES, PackedForest, float32_sums_fit, pack_trees

LAYOUT = Layout(
    kernel="trees",
    tables=(
        Table("nodes", "uint8_t", "Split nodes in pre-order: fixed-width bit records."),
        Table("thresholds", "float", "Thresholds, rounded down to float32."),
        Table("leaves", "real", "Leaf rows, or the distinct leaf values (value_bits > 0)."),
        Table("leaf_codes", "uint8_t", "Per leaf value, its index into leaves (value_bits > 0)."),
        Table("roots", "uint8_t", "Root of each tree: a node, or n_nodes + a leaf."),
        Table("real_constants", "real", "Isolation forests: the sum below which x is an outlier; AdaBoost: the weights' sum."),
        Table("float_constants", "float", "Isolation forests: the score's scale (ln 2 / denominator) and offset."),
        Table("cat_values", "float", "Categorical features: each one's sorted category values."),
        Table("cat_starts", "uint8_t", "Categorical features: where each feature's categories start in cat_values."),
        Table("cat_bits", "uint8_t", "Categorical splits: one bit per category, set where it goes left."),
        Table("tree_classes", "uint8_t", "Sparse leaf rows: the class each tree adds its leaf value to."),
        Table("leaf_classes", "uint8_t", "Class votes: the class each leaf row votes for (one-hot rows)."),
        Table("leaf_starts", "uint8_t", "Entry rows: the first entry of each leaf row in leaf_entries."),
        Table("leaf_entries", "uint8_t", "Entry rows: each leaf row's nonzero values (value index, class, last flag)."),
        Table("leaf_fixed", "int16_t", "Entry rows: each leaf value's summand in the approximate class sums."),
    ),
    fields=(
        Field("n_nodes", "uint32_t"),
        Field("n_thresholds", "uint32_t", length_of="thresholds"),
        Field("n_leaves", "uint32_t"),
        Field("n_values", "uint32_t", length_of="leaves"),
        Field("n_fixed", "uint32_t", length_of="leaf_fixed"),
        Field("n_trees", "uint32_t"),
        Field("n_features", "uint32_t"),
        Field("leaf_width", "uint16_t"),
        Field("feature_bits", "uint8_t"),
        Field("ref_bits", "uint8_t"),
        Field("thr_bits", "uint8_t"),
        Field("root_bits", "uint8_t"),
        Field("value_bits", "uint8_t"),
        Field("word_bits", "uint8_t"),
        Field("real_bits", "uint8_t"),
        Field("outlier", "uint8_t"),
        Field("boost", "uint8_t"),
        Field("n_cat_values", "uint32_t"),  # 0 (no categorical features) or cat_values' length
        Field("cat_start_bits", "uint8_t"),
        Field("tree_class_bits", "uint8_t"),
        Field("leaf_class_bits", "uint8_t"),  # 0: leaf rows of values; else class votes
        Field("record_bytes", "uint8_t"),  # 0: bit-packed records; else bytes per record
        Field("entry_class_bits", "uint8_t"),  # 0: rows of leaf_width values; else entry rows
        Field("start_bits", "uint8_t"),
        Field("nonnegative_thresholds", "uint8_t"),  # 1: no threshold has its sign bit set
    ),
)


def _boosted_entry_points(ir: TreeEnsemble) -> tuple:
    """Gradient boosting: raw scores (decision_function), labels decided on
    them, probabilities through the loss's link; regressors' raw score."""
    width = ir.boost.n_decision
    if ir.task == "regressor":
        return (EntryPoint("predict", VALUES, 1, vector=True, doc="Predicted output: writes 1 value to `out`."),)
    return (
        EntryPoint("predict", LABEL, doc="Predicted class: an index into classes[]."),
        EntryPoint("decision_function", VALUES, width, vector=width == 1,
                   doc="Raw scores: writes n_decision values to `out` (binary: >= 0 means classes[1])."),
        EntryPoint("predict_proba", VALUES, ir.boost.n_classes,
                   doc="Class probabilities: writes n_classes values to `out`."),
    )


class TreesFamily(Family):
    name = "trees"
    estimators = SUPPORTED
    runtime_header = "tree_ensemble.hpp"
    # 2: the outlier score's tables (isolation forests). 3: categorical
    # splits (bitsets), the links of histogram gradient boosting and sparse
    # leaf rows (multi-class boosting). 4: class votes (leaf_classes).
    # 5: whole-byte records (record_bytes). 6: entry rows (leaf_starts,
    # leaf_entries, entry_class_bits, start_bits). 7: nonnegative_thresholds,
    # leaf_fixed.
    format_version = 7
    template = "families/trees/model.hpp.j2"
    layout = LAYOUT
    contract = TreeContract()
    options = (
        Option(
            "dtype",
            "type of leaf values and of their sums: float64 (default for classifiers) repeats "
            "scikit-learn's float64 arithmetic; float32 (default for regressors) halves their flash",
            tuple(REAL_DTYPES),
        ),
    )

    def to_ir(self, estimator: Any) -> TreeEnsemble:
        return convert_trees(estimator)

    def fold(self, ir: TreeEnsemble, steps: Any, estimator: Any) -> Optional[TreeEnsemble]:
        # Histogram gradient boosting compares the float64 features on
        # thresholds that are float64 too: folded, its splits would decide
        # on inputs the device does not see. The other trees cast their
        # inputs to float32, which folding reproduces exactly.
        if isinstance(estimator, hgb.SUPPORTED):
            return None
        return fold_trees(ir, steps)

    def lower(self, ir: TreeEnsemble, options: Mapping[str, Any]) -> Lowered:
        classifier = ir.task == "classifier"
        outlier = ir.task == "outlier_detector"
        # float64 for classifiers (scikit-learn's rounding, so its tie-breaks),
        # isolation forests and boosted models (scikit-learn's float64 sums,
        # so its labels and raw scores); float32 for forest regressors, unless
        # their sums could overflow.
        regressor32 = ir.task == "regressor" and ir.boost is None and float32_sums_fit(ir)
        dtype = options["dtype"] or ("float32" if regressor32 else "float64")
        packed = pack_trees(ir, real=dtype)
        if ir.boost is not None:
            entry_points = _boosted_entry_points(ir)
        elif outlier:
            entry_points = (
                EntryPoint("predict", OUTLIER, doc="-1 for an outlier, +1 for an inlier, as scikit-learn decides."),
                EntryPoint("score_samples", VALUES, 1, vector=True,
                           doc="scikit-learn's score_samples: writes 1 value to `out` (lower: more abnormal)."),
                EntryPoint("decision_function", VALUES, 1, vector=True,
                           doc="scikit-learn's decision_function: writes 1 value to `out` (< 0: an outlier)."),
            )
        elif classifier:
            entry_points = (
                EntryPoint("predict", LABEL, doc="Predicted class: an index into classes[]."),
                EntryPoint(
                    "predict_proba", VALUES, ir.leaf_width,
                    doc="Class probabilities: writes n_classes values to `out`. NaN in `x` marks a missing value.",
                ),
            )
        else:
            entry_points = (
                EntryPoint(
                    "predict", VALUES, ir.leaf_width, vector=ir.leaf_width == 1,
                    doc="Predicted outputs: writes n_outputs values to `out`. NaN in `x` marks a missing value.",
                ),
            )
        # A very small tree costs less as if/else code than as tables and
        # the kernel (inline.py).
        inline = inline_tree(packed, ir.task)
        return Lowered(
            task=ir.task,
            n_features=ir.n_features,
            entry_points=entry_points,
            packed=packed,
            options=(("dtype", dtype),),
            classes=ir.classes,
            n_outputs=ir.leaf_width if ir.task == "regressor" else None,
            context={"real_type": REAL_TYPES[dtype], "inline": inline},
            summary=tree_summary(packed, inline is not None),
            scratch={} if inline is not None else tree_scratch(
                packed, classifier, outlier or ir.boost is not None,
                median=ir.boost is not None and ir.boost.link == "median"),
        )

    @staticmethod
    def boost_link_name(packed: PackedForest) -> str:
        """The boosted model's link ("" for forests)."""
        return {v: k for k, v in BOOST_LINKS.items()}.get(packed.boost, "")

    def tables(self, packed: PackedForest) -> Packed:
        return Packed(
            tables={
                "nodes": packed.nodes,
                "thresholds": packed.thresholds,
                "leaves": packed.leaf_values,
                "leaf_codes": packed.leaf_codes,
                "roots": packed.roots,
                "real_constants": packed.real_constants,
                "float_constants": packed.float_constants,
                "cat_values": packed.cat_values,
                "cat_starts": packed.cat_starts,
                "cat_bits": packed.cat_bits,
                "tree_classes": packed.tree_classes,
                "leaf_classes": packed.leaf_classes,
                "leaf_starts": packed.leaf_starts,
                "leaf_entries": packed.leaf_entries,
                "leaf_fixed": packed.leaf_fixed,
            },
            fields={
                "n_nodes": packed.n_nodes,
                "n_leaves": packed.n_leaves,
                "n_trees": packed.n_trees,
                "n_features": packed.n_features,
                "leaf_width": packed.leaf_width,
                "feature_bits": packed.feature_bits,
                "ref_bits": packed.ref_bits,
                "thr_bits": packed.thr_bits,
                "root_bits": packed.root_bits,
                "value_bits": packed.value_bits,
                "word_bits": packed.word_bits,
                "real_bits": 32 if packed.real == "float32" else 64,
                "outlier": int(packed.float_constants.size > 0),
                "boost": packed.boost,
                "n_cat_values": int(packed.cat_values.size),
                "cat_start_bits": packed.cat_start_bits,
                "tree_class_bits": packed.tree_class_bits,
                "leaf_class_bits": packed.leaf_class_bits,
                "record_bytes": packed.record_bytes,
                "entry_class_bits": packed.entry_class_bits,
                "start_bits": packed.start_bits,
                "nonnegative_thresholds": packed.nonnegative_thresholds,
            },
            real=packed.real,
        )

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = TreesFamily()
