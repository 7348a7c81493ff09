"""Template context of tree ensembles."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..ir.trees import TreeEnsemble
from ..packing.trees import PackedForest

# float64 tables use the runtime's real64: double, or IEEE binary64 in
# software where double has 32 bits (AVR).
REAL_TYPES = {"float32": "float", "float64": "emlearn_gen::real64"}


def label_type(classes: np.ndarray) -> str:
    lo, hi = int(np.min(classes)), int(np.max(classes))
    return "int32_t" if -(2**31) <= lo and hi < 2**31 else "int64_t"


def tree_summary(packed: PackedForest) -> List[str]:
    per_split = packed.table_bytes / packed.n_nodes if packed.n_nodes else float("nan")
    return [
        f"{packed.n_trees} tree{'s' if packed.n_trees != 1 else ''}, {packed.n_nodes} split nodes, "
        f"{packed.n_leaves} distinct leaves;",
        f"tables {packed.table_bytes} bytes ({per_split:.2f} per split node, leaves included).",
    ]


def tree_context(ir: TreeEnsemble, packed: PackedForest) -> Dict[str, Any]:
    classifier = ir.task == "classifier"
    classes = ir.classes if classifier else None
    string_labels = bool(classifier and np.asarray(classes).dtype.kind in "UO")
    return {
        "classifier": classifier,
        "n_features": ir.n_features,
        "leaf_width": ir.leaf_width,
        "classes": [] if classes is None else [c if string_labels else int(c) for c in classes],
        "string_labels": string_labels,
        "label_type": label_type(classes) if classifier and not string_labels else "int32_t",
        "packed": packed,
        "real_type": REAL_TYPES[packed.real],
        "nodes": packed.nodes,
        "roots": packed.roots,
        "thresholds": packed.thresholds if packed.thresholds.size else np.zeros(1, np.float32),
        "thresholds_len": max(1, int(packed.thresholds.size)),
        "leaves": packed.leaf_values,
        "leaves_len": int(packed.leaf_values.size),
        "leaf_codes": packed.leaf_codes,
        "summary": tree_summary(packed),
    }
