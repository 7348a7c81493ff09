"""CModel: a converted model, predicting on the host through the C++ runtime."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np
from sklearn.utils.metaestimators import available_if

from ._validation import check_feature_names, check_X
from .codegen.banner import feature_name_lines
from .codegen.render import render

#: One entry point of a generated header: (name, kind, width). kind "label" is
#: ``int32_t name(const float* x)`` (an index into classes[], or +1/-1 for an
#: outlier detector); kind "float" is ``void name(const float* x, float* out)``
#: writing ``width`` values.
CMethod = Tuple[str, str, int]


def _has(method: str) -> Callable[[Any], bool]:
    """Condition for available_if: the converted estimator has ``method``."""
    return lambda model: any(m[0] == method for m in model.c_methods)


class CModel:
    """A scikit-learn model converted to C++.

    Its prediction methods run the runtime's C++ kernels on the same tables
    that :meth:`to_source` writes into the header, and exist exactly where the
    estimator has them, with the same shapes and dtypes.
    """

    def __init__(
        self,
        *,
        name: str,
        estimator_name: str,
        task: str,
        n_features: int,
        classes: Optional[np.ndarray],
        n_outputs: int,
        c_methods: Tuple[CMethod, ...],
        host: Any,
        template: str,
        context: Callable[[], Dict[str, Any]],
        options: Tuple[Tuple[str, str], ...],
        versions: Dict[str, Any],
        allow_nan: bool,
        packed: Any,
        feature_names: Optional[np.ndarray] = None,
    ) -> None:
        self.name = name
        self.estimator_name = estimator_name
        self.task = task
        self.n_features_in_ = n_features
        # As on scikit-learn estimators, the attribute exists only when the
        # estimator was fitted on data with (all-string) column names.
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        self.n_outputs_ = n_outputs
        if classes is not None:
            self.classes_ = classes
        self.c_methods = c_methods
        self.packed = packed
        self._host = host
        self._template = template
        self._context = context
        self._options = options
        self._versions = versions
        self._allow_nan = allow_nan

    def __repr__(self) -> str:
        return f"CModel(name={self.name!r}, estimator={self.estimator_name})"

    def _display_name(self) -> str:
        return f"CModel {self.name!r}"

    def check_input(self, X: Any) -> np.ndarray:
        """X as the float32 matrix the C++ code sees, or a ValueError saying what is wrong.

        The C++ code takes features by position; column names that X carries
        must be the estimator's, in its order. Unlike predict, a plain array
        given to a model fitted with names is not warned about: this is the
        positional interface the devices see.
        """
        fitted = getattr(self, "feature_names_in_", None)
        check_feature_names(X, fitted, self._display_name(), warn=False)
        return check_X(X, self.n_features_in_, self._display_name(), self._allow_nan)

    def _predict_input(self, X: Any) -> np.ndarray:
        """check_input, with scikit-learn's warnings when only X or only the
        estimator has feature names. Called from the predict methods only:
        the warnings point at their caller."""
        fitted = getattr(self, "feature_names_in_", None)
        check_feature_names(X, fitted, self._display_name(), stacklevel=3)
        return check_X(X, self.n_features_in_, self._display_name(), self._allow_nan)

    def raw_outputs(self, method: str, X: Any) -> np.ndarray:
        """What the header's ``method`` returns for each row of X, computed by
        the host runtime: int32 indices for "label" methods, float32 rows
        otherwise. Device results are compared against this."""
        return self._host.run(method, self.check_input(X))

    def predict(self, X: Any) -> np.ndarray:
        """Labels (classifiers) or outputs (regressors), as the estimator's predict."""
        raw = self._host.run("predict", self._predict_input(X))
        if self.task == "classifier":
            return self.classes_.take(raw, axis=0)
        y = raw.astype(np.float64)
        return y.ravel() if self.n_outputs_ == 1 else y

    @available_if(_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), float64."""
        return self._host.run("predict_proba", self._predict_input(X)).astype(np.float64)

    def footprint(self, target: str = "cortex-m0", X: Any = None) -> Any:
        """Flash, static RAM and stack this model adds on a device target,
        measured from linked images (see emlearn_gen.testing.footprint)."""
        from .testing import footprint

        return footprint(self, target, X)

    def to_source(self, *, standalone: bool = False) -> str:
        """Text of the generated header. Same model and options, same bytes.

        With ``standalone=True`` the runtime headers the model needs are
        inlined, so the header compiles with no include path; its C++ API is
        the same.
        """
        context = dict(self._context())
        context.update(
            name=self.name,
            estimator=self.estimator_name,
            options=self._options,
            feature_lines=feature_name_lines(getattr(self, "feature_names_in_", ())),
            **self._versions,
        )
        text = render(self._template, context)
        if standalone:
            from ._paths import get_include
            from .codegen.standalone import make_standalone

            text = make_standalone(text, get_include())
        return text

    def save(self, path: Union[str, "os.PathLike[str]"], *, standalone: bool = False) -> Path:
        """Writes the header to ``path`` and returns the path.

        ``standalone=True`` writes one file that carries the runtime parts the
        model needs (see :meth:`to_source`).
        """
        target = Path(path)
        target.write_text(self.to_source(standalone=standalone), encoding="utf-8", newline="\n")
        return target
