"""Model families. A family is one folder here plus one line below."""

from __future__ import annotations

from ..core.registry import Registry
from . import clusters, linear, mixture, mlp, naive_bayes, neighbors, svm, transforms, trees

REGISTRY = Registry(
    (
        trees.FAMILY,
        linear.FAMILY,
        svm.FAMILY,
        naive_bayes.FAMILY,
        mlp.FAMILY,
        neighbors.FAMILY,
        mixture.FAMILY,
        clusters.FAMILY,
        transforms.FAMILY,
    )
)
