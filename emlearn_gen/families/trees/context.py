"""Template context of tree ensembles: what the header says about the model."""

from __future__ import annotations

from typing import Tuple

from .pack import PackedForest

# float64 tables use the runtime's real64: double, or IEEE binary64 in
# software where double has 32 bits (AVR).
REAL_TYPES = {"float32": "float", "float64": "emlearn_gen::real64"}


def tree_summary(packed: PackedForest) -> Tuple[str, ...]:
    per_split = packed.table_bytes / packed.n_nodes if packed.n_nodes else float("nan")
    return (
        f"{packed.n_trees} tree{'s' if packed.n_trees != 1 else ''}, {packed.n_nodes} split nodes, "
        f"{packed.n_leaves} distinct leaves;",
        f"tables {packed.table_bytes} bytes ({per_split:.2f} per split node, leaves included).",
    )
