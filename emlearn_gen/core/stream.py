"""Stream entry points: a model's predictions, row after row, smoothed into
decisions by one of the runtime's post-processing kernels
(runtime/include/emlearn_gen/postprocess.hpp) over a state the caller owns.

``convert(estimator, postprocess=MajorityVote(5))`` gives the model one more
entry point, ``predict_stream``, described like every other
(``EntryPoint(input="stream")``): the header's ``int32_t
predict_stream(stream_state& state, const float* x)`` calls one of the
model's own entry points (its *source*) on the row and then the kernel on
the state; ``reset(state)`` starts a stream. On the host, CModel runs the
source through the host runtime and the same kernel through its binding
(:class:`HostStream`), so host and header compute the same decisions.

Which source each post-processing object reads, and what the stream returns:

=====================  ===================================  ==========================
post-processing        source                               stream result
=====================  ===================================  ==========================
MajorityVote(window)   predict (labels, or +1/-1 outliers)  the vote, of the same kind
MovingAverage,         predict_proba                        argmax of the smoothed
ExponentialSmoothing                                        probabilities (a label)
Hysteresis(low, high)  decision_function, one value:        on: -1 (outlier) / 1
                       an outlier detector's anomaly        (classes[1]); off: +1 / 0
                       score -decision_function, a binary
                       classifier's decision as it is
NOfM(n, m)             predict: an outlier (-1), or a       an event: -1 / 1
                       binary classifier's classes[1]       (classes[1]); else +1 / 0
=====================  ===================================  ==========================

Any other combination is refused with a ValueError saying what would work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from .. import _runtime
from .entry_points import INPUT_STREAM, LABEL, OUTLIER, VALUES, EntryPoint

#: The name of the stream entry point, in the header and on CModel.
STREAM_NAME = "predict_stream"


@dataclass(frozen=True)
class Stream:
    """What a stream entry point does, as data: the post-processing kernel
    (``kind``, a struct of postprocess.hpp, with its parameters), the entry
    point it reads (``source``, ``width`` values a row) and how its result
    becomes the stream's int32 (``output``: label or outlier)."""

    kind: str  # majority_vote, moving_average, exponential_smoothing, hysteresis, n_of_m
    source: str
    width: int
    output: str
    #: The object's parameters, as given (for the banner and repr).
    described: str
    window: int = 0  # majority_vote, moving_average
    n_classes: int = 0  # moving_average, exponential_smoothing
    alpha: float = 0.0  # exponential_smoothing (a float32 value)
    low: float = 0.0  # hysteresis (float32 values)
    high: float = 0.0
    n: int = 0  # n_of_m
    m: int = 0
    #: hysteresis: the score is -decision_function (an outlier detector's
    #: anomaly score, positive where scikit-learn's predict says outlier).
    negate: bool = False
    #: n_of_m: the source's value that counts as positive.
    positive: int = 0
    #: hysteresis and n_of_m: the stream's result when the kernel says
    #: on / an event, and otherwise.
    on: int = 0
    off: int = 0

    @property
    def name(self) -> str:
        return STREAM_NAME

    @property
    def ring_type(self) -> Optional[str]:
        """C++ element type of the ring the state holds (None: no ring)."""
        return {"majority_vote": "int32_t", "moving_average": "float", "exponential_smoothing": "float",
                "n_of_m": "uint8_t"}.get(self.kind)

    @property
    def ring_length(self) -> int:
        """Elements of that ring."""
        return {"majority_vote": self.window, "moving_average": self.window * self.n_classes,
                "exponential_smoothing": self.n_classes, "n_of_m": self.m}.get(self.kind, 0)

    @property
    def ring_bytes(self) -> int:
        size = {"int32_t": 4, "float": 4, "uint8_t": 1}.get(self.ring_type or "", 0)
        return size * self.ring_length

    @property
    def buffer(self) -> Tuple[int, str]:
        """Bytes the stream entry point keeps on the stack beyond its
        source's, and what they are: the source's values where it writes
        floats."""
        if self.kind in ("majority_vote", "n_of_m"):
            return (0, "")
        noun = "score" if self.width == 1 else "probabilities"
        return (4 * self.width, f"{self.width} {noun} of 4 bytes")

    def entry_point(self) -> EntryPoint:
        what = {LABEL: "an index into classes[] (a component or centre where there are none)",
                OUTLIER: "+1 (inlier) or -1 (outlier)"}[self.output]
        return EntryPoint(
            STREAM_NAME, self.output, input=INPUT_STREAM,
            doc=(f"{self.described} over {self.source}() of the rows fed so far, in order, since reset(state): "
                 f"returns {what}."),
        )

    def fingerprint(self) -> Dict[str, Any]:
        """What the header's stream code depends on (core/render.py)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "described"}

    def summary(self) -> str:
        return (f"Stream: predict_stream(state, x) runs {self.described} over {self.source}(); "
                f"stream_state keeps {self.ring_bytes} bytes of ring plus the kernel's counters "
                "(caller-owned, no heap; reset(state) before the first row).")


@dataclass(frozen=True)
class _Model:
    """What choosing a stream needs to know of a model."""

    entry_points: Sequence[EntryPoint]
    task: str
    n_classes: Optional[int]
    #: "<post-processing>: this <estimator>", the start of every refusal.
    what: str

    def find(self, name: str) -> Optional[EntryPoint]:
        return next((ep for ep in self.entry_points if ep.name == name), None)

    def predicts(self, *outputs: str) -> bool:
        predict = self.find("predict")
        return predict is not None and predict.output in outputs


def plan(postprocess: Any, entry_points: Sequence[EntryPoint], task: str, classes: Optional[np.ndarray],
         estimator_name: str) -> Stream:
    """The stream of ``postprocess`` (an object of emlearn_gen.signal's
    post-processing) over a model of these entry points, or a ValueError
    (TypeError for an object of another type) saying what would work."""
    from ..signal.postprocess import ExponentialSmoothing, Hysteresis, MajorityVote, MovingAverage, NOfM

    planners = ((MajorityVote, _vote), (MovingAverage, _smoothing), (ExponentialSmoothing, _smoothing),
                (Hysteresis, _hysteresis), (NOfM, _n_of_m))
    model = _Model(tuple(entry_points), task, None if classes is None else len(classes),
                   f"{type(postprocess).__name__}: this {estimator_name}")
    for kind, planner in planners:
        if isinstance(postprocess, kind):
            return planner(postprocess, model)
    raise TypeError(
        "postprocess must be one of emlearn_gen.signal's MajorityVote, MovingAverage, ExponentialSmoothing, "
        f"Hysteresis or NOfM, got {type(postprocess).__name__}"
    )


def _vote(vote: Any, model: _Model) -> Stream:
    """MajorityVote over predict's labels or +1/-1."""
    predict = model.find("predict")
    if predict is None or predict.output not in (LABEL, OUTLIER):
        returns = "nothing: it has no predict" if predict is None else {VALUES: "values"}.get(predict.output,
                                                                                                predict.output)
        raise ValueError(
            f"{model.what} predicts no labels to vote over (its predict returns {returns}); "
            "MajorityVote needs a classifier, clusterer or outlier detector"
        )
    return Stream("majority_vote", "predict", 1, predict.output, f"MajorityVote(window={vote.window})",
                  window=vote.window)


def _smoothing(smoother: Any, model: _Model) -> Stream:
    """MovingAverage or ExponentialSmoothing of predict_proba, then argmax:
    only where predict is that argmax (a single-label classifier or a
    mixture; a multi-label perceptron's probabilities are per label)."""
    proba = model.find("predict_proba")
    if proba is None or not model.predicts(LABEL):
        raise ValueError(
            f"{model.what} has no class probabilities to smooth (predict_proba of a single-label classifier or "
            "mixture); use MajorityVote on its labels, or Hysteresis on an anomaly score"
        )
    if smoother.n_classes != proba.width:
        raise ValueError(
            f"{model.what} has {proba.width} probabilities per row, but {type(smoother).__name__} was made for "
            f"n_classes={smoother.n_classes}; make it with n_classes={proba.width}"
        )
    from ..signal.postprocess import MovingAverage

    if isinstance(smoother, MovingAverage):
        return Stream("moving_average", "predict_proba", proba.width, LABEL,
                      f"MovingAverage(window={smoother.window}, n_classes={smoother.n_classes}) then argmax",
                      window=smoother.window, n_classes=proba.width)
    return Stream("exponential_smoothing", "predict_proba", proba.width, LABEL,
                  f"ExponentialSmoothing(alpha={smoother.alpha!r}, n_classes={smoother.n_classes}) then argmax",
                  alpha=float(np.float32(smoother.alpha)), n_classes=proba.width)


def _hysteresis(switch: Any, model: _Model) -> Stream:
    """Hysteresis on an outlier detector's anomaly score (-decision_function:
    on means outlier, and the switch starts off) or on a binary classifier's
    decision_function (on means classes[1])."""
    decision = model.find("decision_function")
    described = f"Hysteresis(low={switch.low!r}, high={switch.high!r})"
    thresholds = dict(low=float(np.float32(switch.low)), high=float(np.float32(switch.high)))
    if decision is not None and decision.width == 1:
        if model.task == "outlier_detector" and model.predicts(OUTLIER):
            return Stream("hysteresis", "decision_function", 1, OUTLIER,
                          described + " on the anomaly score -decision_function", negate=True, on=-1, off=1,
                          **thresholds)
        if model.predicts(LABEL) and model.n_classes == 2:
            return Stream("hysteresis", "decision_function", 1, LABEL, described + " on decision_function",
                          on=1, off=0, **thresholds)
    raise ValueError(
        f"{model.what} has no single score to switch on: Hysteresis needs an outlier detector (it switches on the "
        "anomaly score -decision_function) or a binary classifier with a decision_function; "
        "use MajorityVote or MovingAverage for other classifiers"
    )


def _n_of_m(detector: Any, model: _Model) -> Stream:
    """NOfM of an outlier detector's outliers, or of a binary classifier's
    classes[1]."""
    described = f"NOfM(n={detector.n}, m={detector.m})"
    if model.predicts(OUTLIER):
        return Stream("n_of_m", "predict", 1, OUTLIER, described + " of outliers", n=detector.n, m=detector.m,
                      positive=-1, on=-1, off=1)
    if model.predicts(LABEL) and model.n_classes == 2:
        return Stream("n_of_m", "predict", 1, LABEL, described + " of classes[1]", n=detector.n, m=detector.m,
                      positive=1, on=1, off=0)
    raise ValueError(
        f"{model.what} has no yes/no event to count: NOfM needs an outlier detector (outliers are the events) or a "
        "binary classifier (classes[1] is the event); use MajorityVote for other classifiers"
    )


def attach(lowered: Any, postprocess: Any, estimator_name: str) -> Any:
    """``lowered`` (core.family.Lowered) with the stream of ``postprocess``:
    its entry point last, its stack (the source's plus the source's values
    where they are floats) and its banner line."""
    if postprocess is None:
        return lowered
    stream = plan(postprocess, lowered.entry_points, lowered.task, lowered.classes, estimator_name)
    scratch = dict(lowered.scratch)
    scratch[STREAM_NAME] = stream.buffer
    return dataclasses.replace(
        lowered,
        entry_points=tuple(lowered.entry_points) + (stream.entry_point(),),
        stream=stream,
        scratch=scratch,
        summary=tuple(lowered.summary) + (stream.summary(),),
    )


class HostStream:
    """A stream on the host: the model's source entry point on each row,
    then the runtime's post-processing kernel (its binding) on the state this
    object keeps. ``update(X)`` takes rows in order and returns the stream's
    result after each; ``reset()`` starts over. What the header's
    ``predict_stream`` computes, row for row."""

    def __init__(self, cm: Any, stream: Stream) -> None:
        self._cm = cm
        self._stream = stream
        self._kernel = _kernel(stream)

    def reset(self) -> None:
        self._kernel.reset()

    def update_raw(self, source: np.ndarray) -> np.ndarray:
        """The stream's raw int32 results on the source's raw results
        (int32 labels or +1/-1, or float32 rows of ``width`` values)."""
        s = self._stream
        if s.kind == "majority_vote":
            return np.asarray(self._kernel.update(np.ascontiguousarray(source, dtype=np.int32)), dtype=np.int32)
        if s.kind in ("moving_average", "exponential_smoothing"):
            smoothed = self._kernel.update(np.ascontiguousarray(source, dtype=np.float32))
            # The first of equal maxima, as the runtime's argmax and numpy's.
            return np.argmax(smoothed, axis=1).astype(np.int32)
        if s.kind == "hysteresis":
            score = np.ascontiguousarray(source, dtype=np.float32).reshape(-1)
            on = self._kernel.update(-score if s.negate else score)
        else:
            on = self._kernel.update((np.asarray(source).reshape(-1) == s.positive).astype(np.uint8))
        return np.where(np.asarray(on, dtype=bool), s.on, s.off).astype(np.int32)

    def update(self, X: Any) -> np.ndarray:
        """Feeds the rows of X (2-D, in order) and returns the stream's
        result after each, as CModel.predict_stream returns it."""
        cm = self._cm
        raw = self.update_raw(cm._run(self._stream.source, cm.check_input(X)))
        return cm._shaped(cm._entries[STREAM_NAME], raw)


def _kernel(stream: Stream) -> Any:
    """The binding of the stream's post-processing kernel, reset."""
    if stream.kind == "majority_vote":
        return _runtime.postprocess_majority_vote(stream.window)
    if stream.kind == "moving_average":
        return _runtime.postprocess_moving_average(stream.window, stream.n_classes)
    if stream.kind == "exponential_smoothing":
        return _runtime.postprocess_exponential_smoothing(np.float32(stream.alpha), stream.n_classes)
    if stream.kind == "hysteresis":
        return _runtime.postprocess_hysteresis(np.float32(stream.low), np.float32(stream.high))
    return _runtime.postprocess_n_of_m(stream.n, stream.m)
