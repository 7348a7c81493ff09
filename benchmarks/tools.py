"""The tools compared: how each one turns a fitted estimator into C/C++ source,
and the few lines of glue that expose it to the benchmark drivers.

Every tool is used the way its documentation shows, as an installed package.
The glue gives all of them the same entry points (C linkage):

    int32_t bench_predict(const void* x);             // class index (classifiers)
    void    bench_outputs(const void* x, float* out);  // probabilities or regression outputs
    void    bench_decision(const void* x, double* out); // decision_function, where the tool has it

(decision values go out as double so that a tool computing in double is not
judged by a float32 rounding of its result).

``x`` points to the input in the type the tool's generated code takes
(``in_type``), so that no conversion is measured as part of a tool.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np


class NotApplicable(Exception):
    """The tool cannot convert this model; the message says why."""


@dataclass(frozen=True)
class ModelInfo:
    task: str  # "classifier", "regressor" or "outlier_detector"
    n_features: int
    n_classes: int  # 0 for regressors
    family: str


@dataclass
class Generated:
    """What a tool produced for one model, written to a folder."""

    glue: str  # file name of the translation unit that includes the model
    lang: str  # "c" or "c++"
    in_type: str  # "float", "double" or "int16_t"
    has_predict: bool
    outputs: str  # "proba", "votes", "regression", "score" (score_samples), "" (none)
    n_out: int
    decision: int = 0  # width of bench_decision's output: scikit-learn's decision_function (0: none)
    include_dirs: List[str] = field(default_factory=list)
    convert_s: float = 0.0
    source_bytes: int = 0
    notes: List[str] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    generate: Callable[[Any, ModelInfo, Path], Generated]
    version: Callable[[], str]
    ours: bool = False
    only_task: Optional[str] = None  # measured on this task only
    only_family: Optional[str] = None  # measured on this model family only
    also_families: Tuple[str, ...] = ()  # ... and on these families, any task


# --------------------------------------------------------------------- ours


def _ours_version() -> str:
    import emlearn_gen

    return emlearn_gen.__version__


def ours_options(tool_key: str) -> Dict[str, str]:
    """The convert() options a row of ours is measured with; the Python API
    measurements (run.py) use the same.

    ``emlearn_gen`` is every family's defaults, i.e. what
    ``emlearn_gen.convert(est)`` gives (tree classifiers: float64 leaves,
    tree regressors and linear models: float32). The ``_f32`` and ``_f64``
    tools are the trees' other dtype beside it, in rows of their own; ``_f64``
    is also the perceptrons' and SVMs' binary64 variant.
    """
    if tool_key.endswith("_f64"):
        return {"dtype": "float64"}
    if tool_key.endswith("_f32"):
        return {"dtype": "float32"}
    return {}


def _selected(name: str) -> List[str]:
    """Glue lines that replace the row ``name`` by the columns the model takes."""
    return [
        "  float selected[model::n_features];",
        f"  model::select_features(static_cast<const float*>({name}), selected);",
        f"  {name} = selected;",
    ]


def _model_file_sizes(cm: Any) -> Dict[str, Any]:
    """The model file's bytes (docs/model-file.md) beside the bytes of the
    packed tables it holds; nothing for a model a file cannot hold (a
    Pipeline with steps, a target transform, selected columns)."""
    try:
        data = cm.to_model_file()
    except ValueError:
        return {}
    tables = cm.family.tables(cm.packed).tables
    return {"file_bytes": len(data), "file_table_bytes": sum(int(t.nbytes) for t in tables.values())}


def _gen_ours(est: Any, info: ModelInfo, out: Path, tool_key: str = "emlearn_gen") -> Generated:
    import emlearn_gen

    t0 = time.perf_counter()
    try:
        cm = emlearn_gen.convert(est, name="model", **ours_options(tool_key))
    except TypeError as exc:
        raise NotApplicable(f"not supported yet ({type(est).__name__})") from exc
    text = cm.to_source()
    convert_s = time.perf_counter() - t0
    (out / "model.hpp").write_text(text, encoding="utf-8")

    methods = {ep.name: ep for ep in cm.entry_points}
    has_predict = "predict" in methods and methods["predict"].returns_int
    if "predict_proba" in methods:
        out_call, outputs, n_out = "model::predict_proba(in, out);", "proba", methods["predict_proba"].width
    elif "predict" in methods and not methods["predict"].returns_int:
        out_call, outputs, n_out = "model::predict(in, out);", "regression", methods["predict"].width
    elif "score_samples" in methods:  # outlier detectors: predict is +1/-1
        out_call, outputs, n_out = "model::score_samples(in, out);", "score", methods["score_samples"].width
    else:
        out_call, outputs, n_out = "(void)in; (void)out;", "", 1
    decision = methods["decision_function"].width if "decision_function" in methods else 0
    # A model that selects features takes those columns of the benchmark's rows.
    selects = cm.input_columns is not None
    glue = [
        "#include <stdint.h>",
        '#include "model.hpp"',
        'extern "C" int32_t bench_predict(const void* x);',
        'extern "C" void bench_outputs(const void* x, float* out);',
        'extern "C" void bench_decision(const void* x, double* out);',
        "int32_t bench_predict(const void* x) {",
        *(_selected("x") if has_predict and selects else []),
        "  return model::predict(static_cast<const float*>(x));" if has_predict else "  (void)x; return 0;",
        "}",
        "void bench_outputs(const void* x, float* out) {",
        *(_selected("x") if selects else []),
        "  const float* in = static_cast<const float*>(x);",
        f"  {out_call}",
        "}",
    ]
    if decision:
        glue += [
            "void bench_decision(const void* x, double* out) {",
            *(_selected("x") if selects else []),
            f"  float scores[{decision}];",
            "  model::decision_function(static_cast<const float*>(x), scores);",
            f"  for (int i = 0; i < {decision}; ++i) out[i] = scores[i];",
            "}",
        ]
    glue.append("")
    (out / "glue.cpp").write_text("\n".join(glue), encoding="utf-8")
    packed = getattr(cm, "packed", None)
    extra: Dict[str, Any] = {}
    if packed is not None and hasattr(packed, "n_nodes"):
        # A tree of a few splits is written out as if/else code (trees'
        # inline.py): its tables stay in the header, but no code reads them.
        inline = cm._lowered.context.get("inline") is not None
        extra = {"n_nodes": int(packed.n_nodes), "table_bytes": int(packed.table_bytes),
                 "inline_code": inline, "sums_dtype": str(packed.real)}
    extra.update(_model_file_sizes(cm))
    return Generated(
        glue="glue.cpp", lang="c++", in_type="float", has_predict=has_predict, outputs=outputs,
        n_out=n_out, decision=decision, include_dirs=[emlearn_gen.get_include()], convert_s=convert_s,
        source_bytes=len(text.encode()), extra=extra,
    )


# ------------------------------------------------------------------ emlearn

_EMLEARN_TREES = {
    "RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier",
    "RandomForestRegressor", "ExtraTreesRegressor", "DecisionTreeRegressor",
}


def _emlearn_version() -> str:
    from importlib.metadata import version

    return version("emlearn")


def _emlearn_include() -> str:
    import emlearn.common

    return emlearn.common.get_include_dir()


@contextlib.contextmanager
def _emlearn_scratch_in(folder: Path) -> Iterator[None]:
    """emlearn's converters for k-NN (and others that test-compile the
    model) build it under "tmp" in the current folder, with object files at
    paths relative to it: the conversion runs in the tool's own output folder
    instead, so a benchmark run leaves nothing in the checkout. The folder
    is absolute (run.main resolves the work folder), and the device builds
    running meanwhile in other threads use absolute paths only."""
    with contextlib.chdir(Path(folder).resolve()):
        yield


def _emlearn_quadratic_glue(est: Any, nf: int) -> Optional[Tuple[List[str], str, int, List[str]]]:
    """Glue lines, output kind, output width and notes for emlearn's
    elliptic envelope and Gaussian mixtures (both take float features and
    have a +1/-1 or component label); None for other models."""
    kind = type(est).__name__
    if kind == "EllipticEnvelope":
        # eml_elliptic_envelope_predict returns 1 for an outlier, and the
        # squared Mahalanobis distance, whose negation is score_samples.
        return [
            "int32_t bench_predict(const void* x) {",
            "  float dist = 0.0f;",
            f"  return eml_elliptic_envelope_predict(&m_classifier, (const float*)x, {nf}, &dist) ? -1 : 1;",
            "}",
            "void bench_outputs(const void* x, float* out) {",
            "  float dist = 0.0f;",
            f"  eml_elliptic_envelope_predict(&m_classifier, (const float*)x, {nf}, &dist);",
            "  out[0] = -dist;",
            "}",
            "",
        ], "score", 1, []
    if kind in ("GaussianMixture", "BayesianGaussianMixture"):
        k = int(est.n_components)
        return [
            "void bench_outputs(const void* x, float* out) {",
            f"  float log_prob[{k}], score;",
            f"  m_predict_proba((const float*)x, {nf}, log_prob, &score, out);",
            "}",
            "int32_t bench_predict(const void* x) {",
            f"  float proba[{k}];",
            "  bench_outputs(x, proba);",
            "  int32_t best = 0;",
            f"  for (int32_t i = 1; i < {k}; ++i) if (proba[i] > proba[best]) best = i;",
            "  return best;",
            "}",
            "",
        ], "proba", k, ["predict is the argmax of emlearn's probabilities (emlearn has no predict for mixtures)"]
    return None

def _gen_emlearn(variant: str) -> Callable[[Any, ModelInfo, Path], Generated]:
    """variant: "default" (emlearn.convert(est)), "float" (dtype="float"),
    "loadable" (method="loadable": node tables walked by eml_trees.h)."""

    def generate(est: Any, info: ModelInfo, out: Path) -> Generated:
        import emlearn

        kind = type(est).__name__
        is_tree = kind in _EMLEARN_TREES
        if variant != "default" and not is_tree:
            raise NotApplicable(f"emlearn has no '{variant}' option for {kind}")
        kwargs: Dict[str, Any] = {}
        if variant == "float":
            kwargs["dtype"] = "float"
        elif variant == "loadable":
            kwargs["method"] = "loadable"
        elif kind == "EllipticEnvelope":
            kwargs["method"] = "inline"  # its converter has no default method
        t0 = time.perf_counter()
        try:
            with _emlearn_scratch_in(out):
                model = emlearn.convert(est, **kwargs)
            text = model.save(name="m")
        except (ValueError, AssertionError, NotImplementedError, AttributeError, TypeError) as exc:
            raise NotApplicable(f"{type(exc).__name__}: {str(exc).strip()[:160]}") from exc
        convert_s = time.perf_counter() - t0
        (out / "model.h").write_text(text, encoding="utf-8")
        quadratic = _emlearn_quadratic_glue(est, info.n_features)
        if quadratic is not None:
            glue, outputs, n_out, notes = quadratic
            (out / "glue.c").write_text("\n".join(['#include <stdint.h>', '#include "model.h"', ""] + glue),
                                        encoding="utf-8")
            return Generated(
                glue="glue.c", lang="c", in_type="float", has_predict=True, outputs=outputs, n_out=n_out,
                include_dirs=[_emlearn_include()], convert_s=convert_s, source_bytes=len(text.encode()),
                notes=notes,
            )

        if is_tree:
            in_type = getattr(model, "dtype", "float")
        elif kind == "KNeighborsClassifier":
            in_type = "int16_t"  # eml_neighbors.h: int16 rows, integer distances
        else:
            in_type = "float"  # nets and Gaussian NB take float features
        nf, nc = info.n_features, info.n_classes
        lines = ["#include <stdint.h>", '#include "model.h"', ""]
        has_predict, outputs, n_out = False, "", 1
        if kind == "KNeighborsClassifier":
            # The training rows are cast to int16 (emlearn's converter truncates
            # them); every row's distance goes to a caller buffer, then sorted.
            has_predict = True
            n_items = int(est.n_samples_fit_)
            lines += [
                f"static EmlNeighborsDistanceItem bench_distances[{n_items}];",
                "int32_t bench_predict(const void* x) {",
                "  int16_t label = -1;",
                f"  eml_neighbors_predict(&m, (const int16_t*)x, {nf}, bench_distances, {n_items}, &label);",
                "  return label;",
                "}",
                "void bench_outputs(const void* x, float* out) { (void)x; (void)out; }",
                "",
            ]
        elif info.task == "classifier":
            has_predict = True
            lines += [
                "int32_t bench_predict(const void* x) {",
                f"  return m_predict((const {in_type}*)x, {nf});",
                "}",
            ]
            if is_tree:
                outputs, n_out = ("votes" if getattr(model, "leaf_bits", 0) == 0 else "proba"), nc
                body = f"  m_predict_proba((const {in_type}*)x, {nf}, out, {nc});"
            elif kind.startswith("MLP"):
                outputs, n_out = "proba", nc
                body = f"  m_regress((const {in_type}*)x, {nf}, out, {nc});"
            else:
                body = "  (void)x; (void)out;"
        else:
            outputs, n_out = "regression", 1
            body = f"  out[0] = m_predict((const {in_type}*)x, {nf});"
            lines += ["int32_t bench_predict(const void* x) { (void)x; return 0; }"]
        if kind != "KNeighborsClassifier":
            lines += ["void bench_outputs(const void* x, float* out) {", body, "}", ""]
        (out / "glue.c").write_text("\n".join(lines), encoding="utf-8")
        notes = []
        if in_type == "int16_t":
            notes.append("features cast to int16_t (emlearn's own wrapper does the same)")
        return Generated(
            glue="glue.c", lang="c", in_type=in_type, has_predict=has_predict, outputs=outputs,
            n_out=n_out, include_dirs=[_emlearn_include()], convert_s=convert_s,
            source_bytes=len(text.encode()), notes=notes,
        )

    return generate


# ------------------------------------------------------------------- m2cgen


def _m2cgen_version() -> str:
    import m2cgen

    return m2cgen.__version__


_M2CGEN_SCALAR = re.compile(r"double\s+score\s*\(\s*double\s*\*\s*input\s*\)")


def _gen_m2cgen(est: Any, info: ModelInfo, out: Path) -> Generated:
    import m2cgen

    t0 = time.perf_counter()
    try:
        text = m2cgen.export_to_c(est)
    except NotImplementedError as exc:
        raise NotApplicable(f"NotImplementedError: {exc}") from exc
    except RecursionError as exc:
        raise NotApplicable(
            "RecursionError while generating code (a deeply nested expression: deep trees, many support vectors)"
        ) from exc
    convert_s = time.perf_counter() - t0
    (out / "model.c").write_text(text, encoding="utf-8")
    # score() returns one double (regressors, binary linear classifiers: the
    # decision value) or writes n to its second argument.
    scalar = _M2CGEN_SCALAR.search(text) is not None
    lines = ["#include <stdint.h>", '#include "model.c"', ""]
    decision = 0
    if info.task == "classifier" and scalar:
        # Binary linear classifier: score is decision_function, > 0 is classes_[1].
        lines += [
            "int32_t bench_predict(const void* x) { return score((double*)x) > 0.0 ? 1 : 0; }",
            "void bench_outputs(const void* x, float* out) { (void)x; (void)out; }",
            "void bench_decision(const void* x, double* out) { out[0] = score((double*)x); }",
            "",
        ]
        has_predict, outputs, n_out, decision = True, "", 1, 1
    elif info.task == "classifier":
        nc = info.n_classes
        # Linear classifiers' score() is decision_function; trees' is predict_proba.
        linear = info.family == "linear"
        lines += [
            "int32_t bench_predict(const void* x) {",
            f"  double o[{nc}];",
            "  score((double*)x, o);",
            "  int32_t best = 0;",
            f"  for (int32_t i = 1; i < {nc}; ++i) if (o[i] > o[best]) best = i;",
            "  return best;",
            "}",
        ]
        if linear:
            lines += [
                "void bench_decision(const void* x, double* out) { score((double*)x, out); }",
                "void bench_outputs(const void* x, float* out) { (void)x; (void)out; }",
            ]
        else:
            lines += [
                "void bench_outputs(const void* x, float* out) {",
                f"  double o[{nc}];",
                "  score((double*)x, o);",
                f"  for (int i = 0; i < {nc}; ++i) out[i] = (float)o[i];",
                "}",
            ]
        lines += [
            "",
        ]
        has_predict = True
        if linear:
            outputs, n_out, decision = "", 1, nc
        else:
            outputs, n_out = "proba", nc
    else:
        lines += [
            "int32_t bench_predict(const void* x) { (void)x; return 0; }",
            "void bench_outputs(const void* x, float* out) { out[0] = (float)score((double*)x); }",
            "",
        ]
        has_predict, outputs, n_out = False, "regression", 1
    (out / "glue.c").write_text("\n".join(lines), encoding="utf-8")
    notes = ["takes double features; predict is the argmax of its score() output"]
    if decision:
        notes = ["takes double features; score() is decision_function, predict its argmax (binary: > 0)"]
    return Generated(
        glue="glue.c", lang="c", in_type="double", has_predict=has_predict, outputs=outputs,
        n_out=n_out, decision=decision, convert_s=convert_s, source_bytes=len(text.encode()), notes=notes,
    )


# --------------------------------------------------------------- micromlgen


def _micromlgen_version() -> str:
    from importlib.metadata import version

    return version("micromlgen")


_MICROMLGEN_CLASS = re.compile(r"^\s*class\s+(\w+)\s*\{", re.MULTILINE)


def _gen_micromlgen(est: Any, info: ModelInfo, out: Path) -> Generated:
    from micromlgen import port

    t0 = time.perf_counter()
    try:
        text = port(est, classname="BenchModel")
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise NotApplicable(f"{type(exc).__name__}: {str(exc).strip()[:160]}") from exc
    convert_s = time.perf_counter() - t0
    (out / "model.h").write_text(text, encoding="utf-8")
    # Some ports ignore classname (LinearRegression is always named so).
    found = _MICROMLGEN_CLASS.search(text)
    if found is None:
        raise NotApplicable("no class in micromlgen's output")
    call = "bench_model.predict(const_cast<float*>(static_cast<const float*>(x)))"
    lines = [
        "#include <stdint.h>",
        '#include "model.h"',
        'extern "C" int32_t bench_predict(const void* x);',
        'extern "C" void bench_outputs(const void* x, float* out);',
        f"static Eloquent::ML::Port::{found.group(1)} bench_model;",
    ]
    if info.task == "classifier":
        lines += [
            f"int32_t bench_predict(const void* x) {{ return {call}; }}",
            "void bench_outputs(const void* x, float* out) { (void)x; (void)out; }",
        ]
        has_predict, outputs, n_out = True, "", 1
    else:
        lines += [
            "int32_t bench_predict(const void* x) { (void)x; return 0; }",
            f"void bench_outputs(const void* x, float* out) {{ out[0] = {call}; }}",
        ]
        has_predict, outputs, n_out = False, "regression", 1
    (out / "glue.cpp").write_text("\n".join(lines + [""]), encoding="utf-8")
    notes = ["no predict_proba in the generated class"] if info.task == "classifier" else []
    return Generated(
        glue="glue.cpp", lang="c++", in_type="float", has_predict=has_predict, outputs=outputs,
        n_out=n_out, convert_s=convert_s, source_bytes=len(text.encode()), notes=notes,
    )


TOOLS: Dict[str, Tool] = {
    t.key: t
    for t in (
        Tool("emlearn_gen", "emlearn-gen (ours)", _gen_ours, _ours_version, ours=True),
        Tool("emlearn_gen_f32", "emlearn-gen (ours, dtype=float32)",
             lambda est, info, out: _gen_ours(est, info, out, "emlearn_gen_f32"), _ours_version, ours=True,
             only_task="classifier", only_family="trees"),
        Tool("emlearn_gen_f64", "emlearn-gen (ours, dtype=float64)",
             lambda est, info, out: _gen_ours(est, info, out, "emlearn_gen_f64"), _ours_version, ours=True,
             only_task="regressor", only_family="trees", also_families=("mlp", "svm")),
        Tool("emlearn", "emlearn (default: inline, int16)", _gen_emlearn("default"), _emlearn_version),
        Tool("emlearn_float", "emlearn (dtype=float)", _gen_emlearn("float"), _emlearn_version),
        Tool("emlearn_loadable", "emlearn (method=loadable, int16)", _gen_emlearn("loadable"), _emlearn_version),
        Tool("m2cgen", "m2cgen", _gen_m2cgen, _m2cgen_version),
        Tool("micromlgen", "micromlgen", _gen_micromlgen, _micromlgen_version),
    )
}


PACKAGES = {"emlearn_gen": "emlearn-gen", "emlearn": "emlearn", "m2cgen": "m2cgen", "micromlgen": "micromlgen"}


def tool_versions() -> Dict[str, str]:
    """Installed version of each compared package."""
    found = {}
    for key, package in PACKAGES.items():
        try:
            found[package] = TOOLS[key].version()
        except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
            found[package] = f"not installed ({type(exc).__name__})"
    return found


def _child(conn: Any, tool_key: str, est: Any, info: ModelInfo, out: Path) -> None:
    try:
        conn.send(("ok", TOOLS[tool_key].generate(est, info, out)))
    except NotApplicable as exc:
        conn.send(("na", str(exc)))
    except ImportError as exc:
        conn.send(("na", f"not installed: {exc}"))
    except BaseException as exc:  # noqa: BLE001 - reported as the tool's failure
        conn.send(("na", f"{type(exc).__name__}: {str(exc).strip()[:200]}"))
        traceback.print_exc()
    finally:
        conn.close()


def generate(tool_key: str, est: Any, info: ModelInfo, out: Path, timeout: float) -> Generated:
    """Runs a tool's conversion in a forked process (so that a hang or a crash
    of a peer is reported, not fatal) and times it there.

    Raises NotApplicable with the reason when the tool cannot convert.
    """
    out.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, tool_key, est, info, out))
    proc.start()
    child.close()
    result: Optional[Any] = None
    if parent.poll(timeout):
        try:
            result = parent.recv()
        except EOFError:
            result = None
    proc.join(5 if result is not None else 0.1)
    if proc.is_alive():
        proc.kill()
        proc.join()
        if result is None:
            raise NotApplicable(f"conversion did not finish within {timeout:.0f} s")
    if result is None:
        raise NotApplicable(f"conversion crashed (exit code {proc.exitcode})")
    status, payload = result
    if status != "ok":
        raise NotApplicable(payload)
    return payload


def labels_to_index(classes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.searchsorted(classes, labels)
