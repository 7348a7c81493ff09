"""The estimator catalog: examples of every supported estimator, declared by
each family (``families/<name>/catalog.py``), shared by the equivalence,
header, device and footprint tests and by the benchmarks.

    for example in catalog.examples():
        est, X_eval = catalog.fitted(example)
        cm = emlearn_gen.convert(est, name="model", **example.options)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from ..core.pipeline import is_composite
from ..core.validation import accepts_nan
from .datasets import DATASETS

#: Rows of an evaluation set: (estimator, X) -> extra rows (e.g. inputs on
#: every threshold of a tree).
Probe = Callable[[Any, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Example:
    """One estimator fitted on one data set.

    ``key`` is unique across the catalog (test ids); ``make`` returns the
    unfitted estimator; ``data`` names a data set of ``datasets.DATASETS``;
    ``probe`` adds rows that stress the family's exactness; ``options`` go to
    ``convert()``; ``devices`` runs it on the emulated devices (level 3);
    ``n_eval`` caps the rows taken from the data set and from the probe;
    ``held_out`` fits on the data set's rows after the first ``n_eval``, so
    that the evaluated rows are new to the model (where training rows sit on
    the decision boundary by construction, as a one-class SVM's margin
    support vectors do, they would all be in the tie zone).
    """

    key: str
    make: Callable[[], Any]
    data: str
    probe: Optional[Probe] = None
    options: Mapping[str, Any] = field(default_factory=dict)
    devices: bool = True
    n_eval: int = 160
    held_out: bool = False


def examples() -> Tuple[Example, ...]:
    """Every family's examples, in registration order."""
    from ..families import REGISTRY

    found: Dict[str, Example] = {}
    for family in REGISTRY.families:
        for example in family.catalog():
            if example.key in found:
                raise ValueError(f"two catalog examples are keyed {example.key!r}")
            found[example.key] = example
    return tuple(found.values())


def example(key: str) -> Example:
    for item in examples():
        if item.key == key:
            return item
    raise KeyError(key)


@lru_cache(maxsize=None)
def _data(name: str) -> Tuple[np.ndarray, np.ndarray]:
    return DATASETS[name]()


@lru_cache(maxsize=None)
def _fitted(key: str) -> Tuple[Any, np.ndarray]:
    item = example(key)
    X, y = _data(item.data)
    with warnings.catch_warnings():
        # Convergence is not what the catalog tests (a model fitted in few
        # iterations is as good a subject for conversion), nor deprecation.
        warnings.simplefilter("ignore")
        est = item.make()
        if item.held_out:
            est.fit(X[item.n_eval :], y[item.n_eval :])
        else:
            est.fit(X, y)
    rows = [np.asarray(X[: item.n_eval], dtype=np.float64)]
    if item.probe is not None:
        rows.append(np.asarray(item.probe(est, X), dtype=np.float64)[: item.n_eval])
    X_eval = np.concatenate(rows)
    if is_composite(est):
        X_eval = X_eval[_accepted_rows(est, X_eval)]
    elif not accepts_nan(est):
        X_eval = X_eval[~np.isnan(X_eval).any(axis=1)]  # scikit-learn refuses them
    return est, X_eval


def _accepted_rows(est: Any, X: np.ndarray) -> np.ndarray:
    """Rows a Pipeline or ColumnTransformer takes, as scikit-learn decides
    row by row (a row with NaN only in imputed columns is taken, one with
    NaN where a step refuses it is not)."""
    method = getattr(est, "predict", None) or est.transform
    ok = np.ones(len(X), dtype=bool)
    for i in np.flatnonzero(np.isnan(X).any(axis=1)):
        try:
            method(X[i : i + 1])
        except ValueError:
            ok[i] = False
    return ok


def fitted(item: Example) -> Tuple[Any, np.ndarray]:
    """(fitted estimator, evaluation rows) of an example; fitted once per
    process. The rows are the data set's first rows plus the probe's, less
    rows with NaN where the estimator does not accept NaN."""
    return _fitted(item.key)
