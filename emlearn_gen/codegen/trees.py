"""Template context of tree ensembles."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..ir.trees import TreeEnsemble
from ..packing.trees import PackedForest

# float64 tables use the runtime's real64: double, or IEEE binary64 in
# software where double has 32 bits (AVR).
REAL_TYPES = {"float32": "float", "float64": "emlearn_gen::real64"}

#: Bytes of one value of the model's sums (real64 is 8 bytes on every target).
REAL_BYTES = {"float32": 4, "float64": 8}

#: Stack the runtime kernels' own frames may take below an entry point, on top
#: of the entry point's arrays of sums. The most measured at -Os (the
#: footprint program, emlearn_gen.testing.footprint) is 128 bytes on
#: Cortex-M0, 80 on Cortex-M4F and 178 on AVR, where float64 arithmetic runs
#: in software; the rest is margin for other compiler versions.
#: tests/test_stack.py checks the banner against the devices.
KERNEL_STACK_BYTES = 256


def label_type(classes: np.ndarray) -> str:
    lo, hi = int(np.min(classes)), int(np.max(classes))
    return "int32_t" if -(2**31) <= lo and hi < 2**31 else "int64_t"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def tree_summary(packed: PackedForest) -> List[str]:
    sizes = f"tables {packed.table_bytes} bytes"
    if packed.n_nodes:
        per_split = packed.table_bytes / packed.n_nodes
        sizes += f" ({per_split:.2f} per split node, leaves included)."
    else:
        sizes += " (no split nodes: every tree is a single leaf)."
    return [
        f"{_plural(packed.n_trees, 'tree')}, {_plural(packed.n_nodes, 'split node')}, "
        f"{packed.n_leaves} distinct {'leaf' if packed.n_leaves == 1 else 'leaves'};",
        sizes,
    ]


def entry_point_sums(packed: PackedForest, classifier: bool) -> List[Tuple[str, int]]:
    """(entry point, number of sums it keeps on the stack).

    Follows tree_ensemble.hpp.j2: predict() of a classifier sums the classes
    into a local array for argmax; an entry point that writes floats sums in
    the caller's `out` when the sums are float32, and in a local float64
    array (then rounded into `out`) when they are float64.
    """
    width = packed.leaf_width
    local = width if packed.real == "float64" else 0
    if classifier:
        return [("predict", width), ("predict_proba", local)]
    return [("predict", local)]


def entry_point_stack(packed: PackedForest, classifier: bool) -> Dict[str, int]:
    """{entry point: bytes of stack it needs at most}: its sums plus
    KERNEL_STACK_BYTES for the kernel's frames."""
    size = REAL_BYTES[packed.real]
    return {name: n * size + KERNEL_STACK_BYTES for name, n in entry_point_sums(packed, classifier)}


def stack_summary(packed: PackedForest, classifier: bool) -> List[str]:
    """Banner lines stating the stack each entry point needs."""
    size = REAL_BYTES[packed.real]
    stack = entry_point_stack(packed, classifier)
    lines = ["Stack per call, at most (kernel measured at -Os on Cortex-M0, Cortex-M4F and AVR):"]
    for name, n in entry_point_sums(packed, classifier):
        sums = f"{_plural(n, 'sum')} of {size} bytes + " if n else ""
        lines.append(f"{name}() {stack[name]} bytes: {sums}{KERNEL_STACK_BYTES} for the kernel.")
    return lines


def model_fingerprint(
    packed: PackedForest, classifier: bool, classes: Optional[List[Any]], label_type_name: str
) -> str:
    """16 hex digits that identify what a header defines: its tables, their
    layout and types, its labels. Headers of one name and fingerprint are the
    same model (the header's include guard and link-time check rely on it);
    comments (versions, summary) do not count. Deterministic."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode("ascii"))
        digest.update(data)

    layout = {
        "family": "trees",
        "classifier": classifier,
        "real": packed.real,
        "word_bits": packed.word_bits,
        "n_nodes": packed.n_nodes,
        "n_trees": packed.n_trees,
        "n_leaves": packed.n_leaves,
        "n_features": packed.n_features,
        "leaf_width": packed.leaf_width,
        "bits": [packed.feature_bits, packed.ref_bits, packed.thr_bits, packed.root_bits, packed.value_bits],
        "classes": None if classes is None else [str(c) if isinstance(c, str) else c for c in classes],
        "label_type": label_type_name,
    }
    add("layout", json.dumps(layout, sort_keys=True, ensure_ascii=True).encode("ascii"))
    for name in ("nodes", "thresholds", "leaf_values", "leaf_codes", "roots"):
        table = np.asarray(getattr(packed, name))
        # Little-endian bytes: the same fingerprint on every host.
        add(name, np.ascontiguousarray(table, dtype=table.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()[:16]


def tree_context(ir: TreeEnsemble, packed: PackedForest) -> Dict[str, Any]:
    classifier = ir.task == "classifier"
    classes = ir.classes if classifier else None
    string_labels = bool(classifier and np.asarray(classes).dtype.kind in "UO")
    labels = [] if classes is None else [c if string_labels else int(c) for c in classes]
    labels_type = label_type(classes) if classifier and not string_labels else "int32_t"
    return {
        "classifier": classifier,
        "n_features": ir.n_features,
        "leaf_width": ir.leaf_width,
        "classes": labels,
        "string_labels": string_labels,
        "label_type": labels_type,
        "packed": packed,
        "real_type": REAL_TYPES[packed.real],
        "nodes": packed.nodes,
        "roots": packed.roots,
        "thresholds": packed.thresholds if packed.thresholds.size else np.zeros(1, np.float32),
        "thresholds_len": max(1, int(packed.thresholds.size)),
        "leaves": packed.leaf_values,
        "leaves_len": int(packed.leaf_values.size),
        "leaf_codes": packed.leaf_codes,
        "summary": tree_summary(packed) + stack_summary(packed, classifier),
        "fingerprint": model_fingerprint(packed, classifier, labels if classifier else None, labels_type),
    }
