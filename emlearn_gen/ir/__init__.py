"""Intermediate representation: what a model computes, as plain numpy arrays.

Converters produce it from fitted estimators; packers turn it into tables.
Nothing here knows about scikit-learn objects or about C++.
"""

from .trees import Tree, TreeEnsemble

__all__ = ["Tree", "TreeEnsemble"]
