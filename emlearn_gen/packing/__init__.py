"""Packing: IR -> flat tables. The same tables feed the generated header and
the host runtime, so the two cannot drift."""

from .trees import PackedForest, pack_trees, round_down_to_float32

__all__ = ["PackedForest", "pack_trees", "round_down_to_float32"]
