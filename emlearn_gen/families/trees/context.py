"""Template context of tree ensembles: what the header says about the model."""

from __future__ import annotations

from typing import Dict, Tuple

from .pack import PackedForest

# float64 tables use the runtime's real64: double, or IEEE binary64 in
# software where double has 32 bits (AVR).
REAL_TYPES = {"float32": "float", "float64": "emlearn_gen::real64"}


#: Bytes of one value of the model's sums (real64 is 8 bytes on every target).
REAL_BYTES = {"float32": 4, "float64": 8}


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun}{'es' if noun.endswith('s') else 's'}"


def tree_summary(packed: PackedForest, inline: bool = False) -> Tuple[str, ...]:
    sizes = f"tables {packed.table_bytes} bytes"
    if packed.n_nodes:
        sizes += f" ({packed.table_bytes / packed.n_nodes:.2f} per split node, leaves included)."
    else:
        sizes += " (no split nodes: every tree is a single leaf)."
    lines = (
        f"{_plural(packed.n_trees, 'tree')}, {_plural(packed.n_nodes, 'split node')}, "
        f"{packed.n_leaves} distinct {'leaf' if packed.n_leaves == 1 else 'leaves'};",
        sizes,
    )
    if inline:
        lines += ("The entry points run the tree as if/else code, smaller than the tables and their kernel.",)
    return lines


def tree_scratch(
    packed: PackedForest, classifier: bool, outlier: bool = False, median: bool = False
) -> Dict[str, Tuple[int, str]]:
    """Local arrays of each entry point (model.hpp.j2): predict() of a
    classifier sums the classes for argmax (counts their votes, with class
    votes, as predict_proba() does too); an entry point writing floats
    sums in the caller's `out` when the sums are float32, and in a local
    float64 array (then rounded into `out`) when they are float64."""
    size = REAL_BYTES[packed.real]
    width = packed.leaf_width
    sums = (width * size, f"{_plural(width, 'sum')} of {size} bytes")
    local = sums if packed.real == "float64" else (0, "")
    if median:
        # AdaBoostRegressor: every tree's value and its place in the order.
        return {"predict": (packed.n_trees * (size + 4), f"{_plural(packed.n_trees, 'value')} of {size + 4} bytes")}
    if outlier:
        return {name: sums for name in ("predict", "score_samples", "decision_function")}
    if packed.leaf_class_bits:
        votes = (width * 4, f"{_plural(width, 'vote')} of 4 bytes")
        return {"predict": votes, "predict_proba": votes}
    if classifier and packed.real == "float64" and packed.entry_class_bits:
        # predict(): per class a sum and a 4-byte count (forest_label's approximate sum).
        label = (width * (size + 4), f"{_plural(width, 'class')} of {size + 4} bytes")
        return {"predict": label, "predict_proba": local}
    if classifier:
        return {"predict": sums, "predict_proba": local}
    return {"predict": local}
