"""Entry points as data: the one description of what a generated model offers.

An entry point names a C++ function of the generated header and the CModel
method of the same name, with its input and output. Everything that calls or
declares one derives from this description: the header's public API (the
template partial ``core/templates/model.hpp.j2``), CModel's methods, the host
runtime's dispatch, the test harness, the device runner and footprint. No
signature is written out anywhere else.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple

import numpy as np

#: Inputs. "row": ``const float* x``, ``n_features`` values. "stream": a
#: row of a stream, after the caller-owned state the stream keeps between
#: rows (``stream_state& state, const float* x``; core/stream.py): each call
#: depends on the rows fed since ``reset(state)``, in order.
INPUT_ROW = "row"
INPUT_STREAM = "stream"
INPUTS = (INPUT_ROW, INPUT_STREAM)
#: The type of a stream entry point's state, in the model's namespace.
STATE_TYPE = "stream_state"

#: Outputs.
#: "label": ``int32_t name(x)``, an index into ``classes[]``;
#: "outlier": ``int32_t name(x)``, +1 for an inlier, -1 for an outlier;
#: "values": ``void name(x, float* out)`` writing ``width`` floats;
#: "indicator": ``void name(x, int32_t* out)`` writing ``width`` values 0 or
#: 1 (a multi-label classifier's predict: scikit-learn's indicator matrix).
LABEL = "label"
OUTLIER = "outlier"
VALUES = "values"
INDICATOR = "indicator"
OUTPUTS = (LABEL, OUTLIER, VALUES, INDICATOR)
#: Outputs written to ``out``, ``width`` elements a row.
VECTOR_OUTPUTS = (VALUES, INDICATOR)

#: scikit-learn's method names that a CModel may have; each exists on a
#: CModel exactly where its converted estimator has it (``score``: where the
#: estimator's score takes X alone, see estimator_has).
PUBLIC_METHODS = (
    "predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba",
    "decision_function", "score_samples", "transform", "score",
)

#: How CModel.score reduces the per-row values of the entry point that
#: carries ``score``: scikit-learn's unsupervised score(X) is the mean of
#: score_samples (mixtures) or minus the sum of a per-row value (k-means:
#: the squared distance to the nearest centre). Summed in float64.
SCORE_REDUCTIONS: Dict[str, Callable[[np.ndarray], float]] = {
    "mean": lambda values: float(np.mean(values, dtype=np.float64)),
    "-sum": lambda values: -float(np.sum(values, dtype=np.float64)),
}


def estimator_has(estimator: Any, method: str) -> bool:
    """Whether ``estimator`` has the public method ``method`` as CModel
    offers it. For ``score`` that is an unsupervised score(X): one whose
    ``y`` may be left out (mixtures, k-means); a classifier's or
    regressor's score(X, y) needs labels and has no CModel counterpart."""
    if not hasattr(estimator, method):
        return False
    if method != "score":
        return True
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        # Its score(X, y=None) scores with the last step's: unsupervised
        # where that one is.
        last = [step for _, step in estimator.steps if step is not None and not isinstance(step, str)]
        return bool(last) and estimator_has(last[-1], method)
    y = inspect.signature(getattr(estimator, method)).parameters.get("y")
    return y is not None and y.default is not inspect.Parameter.empty


@dataclass(frozen=True)
class EntryPoint:
    """One function of a generated header.

    ``vector`` says that scikit-learn returns a 1-D array where ``width`` is
    1 (a binary classifier's decision_function, a single-output regressor's
    predict); the C++ function writes one value either way.
    """

    name: str
    output: str
    width: int = 1
    input: str = INPUT_ROW
    vector: bool = False
    doc: str = ""
    #: numpy dtype of scikit-learn's result, for values (a MissingIndicator's
    #: flags are bool; everything else float64).
    result_dtype: str = "float64"
    #: The entry point whose values this one takes the logarithm of, with
    #: the runtime's log_f (see log_of_proba); None for a family's own.
    log_of: Optional[str] = None
    #: A key of SCORE_REDUCTIONS where CModel.score reduces this entry
    #: point's values over the rows (one entry point of a model at most, a
    #: single value per row); None elsewhere.
    score: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"entry point name {self.name!r} is not an identifier")
        if self.output not in OUTPUTS:
            raise ValueError(f"entry point output must be one of {OUTPUTS}, got {self.output!r}")
        if self.input not in INPUTS:
            raise ValueError(f"entry point input must be one of {INPUTS}, got {self.input!r}")
        if self.width < 1 or (self.output not in VECTOR_OUTPUTS and self.width != 1):
            raise ValueError(f"entry point {self.name}: bad width {self.width} for {self.output} output")
        if self.input == INPUT_STREAM and not self.returns_int:
            raise ValueError(f"entry point {self.name}: a stream returns one int32 (label or outlier)")
        if self.log_of is not None and self.output != VALUES:
            raise ValueError(f"entry point {self.name}: only values have a logarithm")
        if self.score is not None and (self.score not in SCORE_REDUCTIONS or self.output != VALUES or self.width != 1):
            raise ValueError(
                f"entry point {self.name}: score must be one of {sorted(SCORE_REDUCTIONS)} on a single value, "
                f"got {self.score!r} on {self.output} of width {self.width}"
            )

    # -- C++ -------------------------------------------------------------

    @property
    def returns_int(self) -> bool:
        """The function returns one int32 (label, outlier)."""
        return self.output in (LABEL, OUTLIER)

    @property
    def out_ctype(self) -> str:
        """Element type of ``out`` for the entry points that write one."""
        return "int32_t" if self.output == INDICATOR else "float"

    @property
    def has_state(self) -> bool:
        """The function takes the state of a stream before the row."""
        return self.input == INPUT_STREAM

    def c_signature(self, name: str = "", scope: str = "") -> str:
        """``int32_t predict(const float* x)``, ``void f(const float* x, float* out)``
        or (indicator) ``void f(const float* x, int32_t* out)``; a stream's
        ``int32_t f(stream_state& state, const float* x)``, the state's type
        prefixed with ``scope`` (``"model::"`` outside the namespace)."""
        fn = name or self.name
        if self.has_state:
            return f"int32_t {fn}({scope}{STATE_TYPE}& state, const float* x)"
        if self.returns_int:
            return f"int32_t {fn}(const float* x)"
        return f"void {fn}(const float* x, {self.out_ctype}* out)"

    def c_call(self, fn: str, x: str = "x", out: str = "out", state: str = "state") -> str:
        """A call expression (int entry points) or statement (the others);
        a stream's takes the state variable ``state`` first."""
        if self.has_state:
            return f"{fn}({state}, {x})"
        return f"{fn}({x})" if self.returns_int else f"{fn}({x}, {out})"

    def c_state(self, scope: str, var: str) -> Tuple[str, str]:
        """(definition of a static state ``var``, the statement that resets
        it) for a stream entry point of the model whose namespace is
        ``scope`` (e.g. "model::"); test programs feed it rows in order."""
        if not self.has_state:
            raise ValueError(f"entry point {self.name} keeps no state")
        return f"static {scope}{STATE_TYPE} {var};", f"{scope}reset({var});"

    # -- Python ----------------------------------------------------------

    @property
    def raw_dtype(self) -> np.dtype:
        """dtype of the host runtime's and the devices' raw results."""
        return np.dtype(np.float32) if self.output == VALUES else np.dtype(np.int32)

    def raw_shape(self, n_rows: int) -> Tuple[int, ...]:
        return (n_rows,) if self.returns_int else (n_rows, self.width)

    def empty(self, n_rows: int = 0) -> np.ndarray:
        return np.zeros(self.raw_shape(n_rows), dtype=self.raw_dtype)

    def host_kind(self) -> Tuple[str, str, int]:
        """(name, kind, width) as the host runtime reports its entry points:
        "int" one int32, "float" width floats, "index" width int32s."""
        if self.has_state:
            raise ValueError(f"{self.name}: a stream runs on the host as its source and a kernel (core/stream.py)")
        kind = "int" if self.returns_int else ("index" if self.output == INDICATOR else "float")
        return (self.name, kind, self.width)


def log_of_proba(entry_points: Sequence[EntryPoint]) -> Tuple[EntryPoint, ...]:
    """The entry points plus ``predict_log_proba`` as the logarithm of
    ``predict_proba``, where a model has the one and not the other: what
    scikit-learn's classifiers do (np.log of predict_proba) wherever a
    family has no log-probabilities of its own (naive Bayes has)."""
    names = {ep.name for ep in entry_points}
    if "predict_proba" not in names or "predict_log_proba" in names:
        return tuple(entry_points)
    proba = next(ep for ep in entry_points if ep.name == "predict_proba")
    derived = EntryPoint(
        "predict_log_proba", VALUES, proba.width, vector=proba.vector,
        doc="Logarithms of the class probabilities (log_f of predict_proba): writes n_classes values to `out`.",
        log_of="predict_proba",
    )
    return tuple(entry_points) + (derived,)


def by_name(entry_points: Iterable[EntryPoint]) -> Dict[str, EntryPoint]:
    found: Dict[str, EntryPoint] = {}
    for ep in entry_points:
        if ep.name in found:
            raise ValueError(f"two entry points are named {ep.name!r}")
        found[ep.name] = ep
    return found


def score_entry(entry_points: Iterable[EntryPoint]) -> Optional[EntryPoint]:
    """The entry point CModel.score reduces, or None; two are an error."""
    found = [ep for ep in entry_points if ep.score is not None]
    if len(found) > 1:
        raise ValueError(f"entry points {[ep.name for ep in found]} all carry a score; one may")
    return found[0] if found else None


def widest(entry_points: Sequence[EntryPoint]) -> int:
    """Floats a buffer needs to hold the output of any of ``entry_points``."""
    return max(ep.width for ep in entry_points)
