"""The family contract: what one model family declares to plug in.

A family is one unit (``emlearn_gen/families/<name>/``): the estimator
classes it converts, their conversion to its IR, packing into tables
described by its :class:`~emlearn_gen.core.layout.Layout`, its template, its
entry points, options and numeric contract. It registers with one line in
``emlearn_gen/families/__init__.py``; ``convert()``, ``CModel``, the host
runtime, the test harness and the device runner are generic. See
docs/architecture.md for how to add one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from .entry_points import EntryPoint
from .layout import Layout


@dataclass(frozen=True)
class Option:
    """A keyword option of ``convert()`` for one family. ``choices`` lists
    the accepted values; None (the default) lets the family choose per model."""

    name: str
    doc: str
    choices: Tuple[Any, ...] = ()

    def check(self, value: Any) -> Any:
        if value is None or not self.choices or value in self.choices:
            return value
        raise ValueError(
            f"{self.name} must be one of {', '.join(map(repr, self.choices))} or None, got {value!r}"
        )


@dataclass(frozen=True)
class Packed:
    """Tables and layout fields as a family's packing wrote them, per its
    Layout; ``real`` is the model's arithmetic type ("float32"/"float64")."""

    tables: Mapping[str, np.ndarray]
    fields: Mapping[str, int]
    real: str = "float32"

    @property
    def table_bytes(self) -> int:
        return int(sum(a.nbytes for a in self.tables.values()))


@dataclass(frozen=True)
class Lowered:
    """A converted model, ready for the generic layers.

    ``packed`` is the family's own packed object; ``layout_tables()`` of it
    (see :meth:`Family.tables`) feeds the header and the host runtime.
    ``context`` adds the family's template variables; ``summary`` lines go
    into the header's banner; ``options`` are the resolved options, for the
    banner; ``scratch`` gives, per entry point, the bytes of the local arrays
    it keeps on the stack and what they are ("3 sums of 8 bytes"): the banner
    states that plus the family's ``kernel_stack_bytes``; ``report`` is
    what conversion measured (``CModel.report``).
    """

    task: str  # "classifier", "regressor", "outlier_detector", "transformer"
    n_features: int
    entry_points: Tuple[EntryPoint, ...]
    packed: Any
    options: Tuple[Tuple[str, str], ...]
    classes: Optional[np.ndarray] = None
    n_outputs: Optional[int] = None
    context: Mapping[str, Any] = field(default_factory=dict)
    summary: Tuple[str, ...] = ()
    scratch: Mapping[str, Tuple[int, str]] = field(default_factory=dict)
    allow_nan: bool = True  # NaN inputs are meaningful (missing values)
    #: Checks of input values beyond check_X's, on the float32 rows the
    #: kernels see, raising ValueError as scikit-learn's predict does (a
    #: CategoricalNB category it has not seen); None: no such checks.
    check_rows: Optional[Callable[[np.ndarray], None]] = None
    #: Where the header takes only some columns of the row (feature
    #: selection first): those columns, in the order the header takes them,
    #: and the row's width (CModel's n_features_in_, as scikit-learn's).
    input_columns: Optional[np.ndarray] = None
    n_row_features: Optional[int] = None
    #: Where the entry points take one window of sensor data (a signal step
    #: first, e.g. WindowFeatures): (n_samples, n_channels), samples-major,
    #: n_samples * n_channels == n_features; the header states both
    #: constants. None for a row of independent features.
    window: Optional[Tuple[int, int]] = None
    #: What conversion measured or decided that the user should see beside
    #: the banner (e.g. how far quantized weights move the outputs);
    #: ``CModel.report``.
    report: Mapping[str, Any] = field(default_factory=dict)
    #: dtype of the labels of a model without ``classes`` (clusterers, whose
    #: label is the index itself): what scikit-learn's predict returns,
    #: int64 for mixtures (argmax), int32 for k-means.
    label_dtype: str = "int64"
    #: The kernel's stack allowance where it is not the family's
    #: ``kernel_stack_bytes`` (binary64 functions in software: see
    #: FLOAT64_KERNEL_STACK_BYTES); None: the family's.
    kernel_stack_bytes: Optional[int] = None
    #: Where convert() was given ``postprocess``: the stream entry point's
    #: description (core/stream.py's Stream; its EntryPoint is the last of
    #: ``entry_points``). None: no stream.
    stream: Optional[Any] = None


#: Stack allowance of kernels that call the binary64 functions (exp_r64,
#: tanh_r64, the soft_double operations beneath them where double has 32
#: bits): float64 perceptrons and SVMs measured at most 282 bytes (AVR, and
#: 280 on Cortex-M0 with libgcc's double) at -Os, checked on the devices
#: (tests/test_stack.py); the rest is margin for other compiler versions.
FLOAT64_KERNEL_STACK_BYTES = 384


class NumericContract(ABC):
    """What a family promises about its outputs, as checks.

    ``assert_matches_sklearn`` is level 1 of the equivalence contract: it
    compares a CModel with its estimator on X, computed side by side, and
    raises AssertionError naming the first broken promise. It returns what
    it measured (for example the tie zone of labels).
    """

    #: One paragraph for docs and reports: what is exact, what is bounded.
    statement: str = ""

    @abstractmethod
    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        ...

    def device_tolerance(self, cm: Any, target: Any) -> float:
        """Absolute bound on |device - host| of continuous outputs; 0.0
        means bit-equal, which every family so far delivers."""
        return 0.0


class Family(ABC):
    """One model family; see the module docstring."""

    #: The family's folder (families/<name>/) and the prefix of its format
    #: macro (EMLEARN_GEN_<NAME>_FORMAT); its layout names its host kernel.
    name: str
    #: scikit-learn classes converted by this family.
    estimators: Tuple[type, ...]
    #: Runtime header the generated header includes (under emlearn_gen/).
    runtime_header: str
    #: Table-format version of that header: generated headers compile against
    #: any runtime whose format for this family is the same, and refuse others.
    format_version: int
    #: Template of the generated header (path under the package).
    template: str
    layout: Layout
    contract: NumericContract
    options: Tuple[Option, ...] = ()
    #: Stack the runtime kernels' own frames may take below an entry point,
    #: beyond its local arrays (``Lowered.scratch``); stated in the banner and
    #: checked on the devices (tests/test_stack.py). Trees measured at most
    #: 178 bytes (AVR, float64 in software), 128 on Cortex-M0, 80 on
    #: Cortex-M4F at -Os; the rest is margin for other compiler versions.
    kernel_stack_bytes: int = 256

    def kernel_stack(self, lowered: Lowered) -> int:
        """The stack allowance of this model's kernel: the lowered model's
        own, else the family's."""
        if lowered.kernel_stack_bytes is not None:
            return lowered.kernel_stack_bytes
        return self.kernel_stack_bytes

    @property
    def format_macro(self) -> str:
        return f"EMLEARN_GEN_{self.name.upper()}_FORMAT"

    def check_options(self, given: Mapping[str, Any]) -> Dict[str, Any]:
        """Validated options, every declared one present (None where not
        given); an unknown name is a TypeError naming the known ones."""
        known = {o.name: o for o in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(sorted(known)) or "none"
            raise TypeError(
                f"convert() got an unknown option {unknown[0]!r} for {self.name} models; "
                f"their options are: {names}"
            )
        try:
            return {name: option.check(given.get(name)) for name, option in known.items()}
        except ValueError as exc:
            raise ValueError(f"{self.name} models: {exc}") from None

    @abstractmethod
    def to_ir(self, estimator: Any) -> Any:
        """The IR of a fitted estimator (validated); reads fitted attributes only."""

    @abstractmethod
    def lower(self, ir: Any, options: Mapping[str, Any]) -> Lowered:
        """IR and resolved options -> packed tables, entry points, context."""

    @abstractmethod
    def tables(self, packed: Any) -> Packed:
        """The layout's tables and host fields of the family's packed object."""

    def fold(self, ir: Any, steps: Any, estimator: Any) -> Optional[Any]:
        """``ir`` with a Pipeline's feature steps (the transforms family's
        program) folded into it, deciding exactly as the steps followed by
        ``estimator`` do for every float32 input; None (the default) to run
        the steps before the model instead."""
        return None

    def file_row_checks(
        self, packed: Packed, entry_points: Sequence[EntryPoint]
    ) -> Optional[Callable[[np.ndarray], None]]:
        """``Lowered.check_rows`` rebuilt from a model file's tables and
        entry points, for a family whose models check input values beyond
        NaN and infinity; None (the default) where there are no such checks
        or the family cannot rebuild them (such a model is not saved to a
        file: core/model_file.py)."""
        return None

    def catalog(self) -> Sequence[Any]:
        """Examples of every estimator class of the family, fitted on data
        that exercises it (``emlearn_gen.testing.catalog.Example``): the
        equivalence (level 1), header (level 2) and device (level 3) tests
        run every one of them."""
        return ()
