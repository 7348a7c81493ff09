"""Side-by-side benchmark of emlearn-gen, its peers and scikit-learn.

    python -m benchmarks.run --full     # every model; writes benchmarks/results/
    python -m benchmarks.run --quick    # small models, for CI; benchmarks/results/quick/

Exit status: 0 when every tool that could convert a model was measured; 1 when
emlearn-gen crashed, fell below 100 % label agreement with scikit-learn on a
tree model, broke the trees family's contract on a boosted model or an
isolation forest (labels, raw scores, score_samples), or broke the float32
contract of a linear model (a label differing outside the tie zone, an
output beyond the bound): a fidelity regression. Slow numbers never fail the
run.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from sklearn.pipeline import Pipeline
import sklearn

from . import devcount
from . import models as M
from . import native
from . import report
from . import sigkernels
from .micropython import micropython_measure
from .pyspeed import api_speed
from .fidelity import CompiledModel, Reference, check_contract, compare, linear_tie_zone, task_of
from .tools import TOOLS, ModelInfo, NotApplicable, generate, ours_options, tool_versions

HERE = Path(__file__).resolve().parent


def _profile(quick: bool) -> Dict[str, Any]:
    if quick:
        return dict(convert_timeout=120.0, compile_timeout=180.0, callgrind_rows=40, device_rows=10,
                    api_batch_rows=2000, api_min_time=0.05, max_source_mb=8.0, large_devices=None)
    # Peers' code for 100+ full-depth trees takes minutes per compile: for
    # large models, sources over 1 MiB are built for the Cortex-M0 only (the
    # "does it fit" question), and sources over max_source_mb not at all.
    return dict(convert_timeout=600.0, compile_timeout=300.0, callgrind_rows=200, device_rows=20,
                api_batch_rows=20000, api_min_time=0.2, max_source_mb=16.0, large_devices=("m0",))


def tree_members(est: Any) -> List[Tuple[Any, Optional[np.ndarray]]]:
    """The decision trees of a tree model, each with the feature columns it
    reads (None: all of them, in order), or [] for other models. Forests and
    isolation forests list ``estimators_``, boosting its stages x classes."""
    members = getattr(est, "estimators_", None)
    if members is None:
        return [(est, None)] if hasattr(est, "tree_") else []
    members = list(np.ravel(np.asarray(members, dtype=object)))
    if not all(hasattr(m, "tree_") for m in members):
        return []
    # IsolationForest indexes each tree's columns only when the trees see a
    # subset of the features (scikit-learn's _compute_chunked_score_samples).
    features = getattr(est, "estimators_features_", None)
    subset = features is not None and int(getattr(est, "_max_features", est.n_features_in_)) != est.n_features_in_
    return [(m, np.asarray(features[i]) if subset else None) for i, m in enumerate(members)]


def tree_stats(est: Any, X: np.ndarray) -> Dict[str, float]:
    """Split nodes of a tree model and the split nodes a sample visits on
    average: for every tree, the nodes on the sample's decision path in
    scikit-learn's own tree (``tree_.decision_path``), less the leaf."""
    if isinstance(est, Pipeline):
        # The final model on the steps' features (folded steps decide alike).
        return tree_stats(est[-1], est[:-1].transform(X))
    members = tree_members(est)
    if not members:
        return {}
    trees = [m.tree_ for m, _ in members]
    n_split = int(sum(t.node_count - t.n_leaves for t in trees))
    stats: Dict[str, float] = {"n_trees": len(trees), "n_split_nodes": n_split}
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    visited = 0
    for tree, (_, columns) in zip(trees, members):
        rows = X32 if columns is None else np.ascontiguousarray(X32[:, columns])
        visited += tree.decision_path(rows).nnz - rows.shape[0]
    stats["splits_visited"] = visited / X32.shape[0]
    return stats


def linear_stats(est: Any) -> Dict[str, float]:
    """Weights and intercepts of a linear model: what its tables hold."""
    if getattr(est, "coef_", None) is None:
        return {}
    return {"n_weights": int(np.size(est.coef_) + np.size(getattr(est, "intercept_", 0.0)))}


def reference_rows(spec: M.ModelSpec, X: np.ndarray) -> np.ndarray:
    """The rows scikit-learn's reference results are computed on.

    Linear models fitted on float32 keep float32 coefficients, and
    scikit-learn then computes float32 inputs in float32 through BLAS, itself
    rounded in an unspecified order. The same rows as float64 give the
    model's exact result, the one the float32 contract bounds. Pipelines'
    steps likewise compute float32 inputs in float32 in scikit-learn; on
    float64 they compute what the contracts (and folding) are stated for.
    Trees compare their float32 thresholds either way.
    """
    return X.astype(np.float64) if spec.family in ("linear", "pipeline") else X


def measure_model(spec: M.ModelSpec, data: M.Dataset, tools: List[str], devices: List[native.Device],
                  work: Path, prof: Dict[str, Any], pool: ThreadPoolExecutor, baselines: Any,
                  log: Any) -> List[Dict[str, Any]]:
    t0 = time.perf_counter()
    est = M.fit(spec, data)
    fit_s = time.perf_counter() - t0
    X = data.X_test
    task = task_of(est)
    ref = Reference.of(est, reference_rows(spec, X))
    info = ModelInfo(task=task, n_features=X.shape[1], n_classes=len(ref.classes) if ref.classes is not None else 0,
                     family=spec.family)
    X_speed = X[: prof["callgrind_rows"]]
    stats = {**tree_stats(est, X_speed), **(linear_stats(est) if spec.family == "linear" else {})}
    common = {
        "model": spec.key, "dataset": spec.dataset, "family": spec.family, "description": spec.description,
        "estimator": type(est).__name__, "task": task, "n_features": X.shape[1], "n_test": X.shape[0],
        "integer_features": data.integer_valued, "fit_s": fit_s,
        "sklearn_test_accuracy": test_accuracy(est, X, data.y_test), "max_depth": max_depth(est), **stats,
    }
    log(f"[{spec.key}] fitted in {fit_s:.1f} s; {stats.get('n_split_nodes', '-')} split nodes")
    rows: List[Dict[str, Any]] = []
    pending = []
    for key in tools:
        tool = TOOLS[key]
        restricted = (tool.only_task and tool.only_task != task) or (
            tool.only_family and tool.only_family != spec.family
        )
        if restricted and spec.family not in tool.also_families:
            continue
        row: Dict[str, Any] = {**common, "tool": key, "tool_label": tool.label, "ours": tool.ours, "status": "ok"}
        rows.append(row)
        folder = work / spec.key / key
        try:
            gen = generate(key, est, info, folder, prof["convert_timeout"])
        except NotApplicable as exc:
            row["status"] = f"n/a: {exc}"
            log(f"[{spec.key}] {key}: n/a ({exc})")
            continue
        row.update(convert_s=gen.convert_s, source_bytes=gen.source_bytes, in_type=gen.in_type,
                   output_kind=gen.outputs or "none", notes="; ".join(gen.notes), **gen.extra)
        if gen.source_bytes > prof["max_source_mb"] * 2**20:
            row["status"] = (f"n/a: generated source is {gen.source_bytes / 2**20:.0f} MiB; not compiled "
                             f"(this run compiles sources up to {prof['max_source_mb']:g} MiB)")
            log(f"[{spec.key}] {key}: {row['status']}")
            continue
        # Fidelity and instruction counts from the compiled code on the host.
        try:
            build = native.build_host(folder, gen, X.shape[1], prof["compile_timeout"])
            row["host_compile_s"] = build.compile_s
            results = native.run_host(folder, build, X, gen, prof["compile_timeout"])
            row.update(compare(task, ref, results, gen.outputs))
            if spec.family == "linear" and task == "classifier":
                row.update(linear_tie_zone(est, X, ref, results))
            if shutil.which("valgrind"):
                ir = native.callgrind_instructions(folder, build, X_speed, gen, prof["compile_timeout"] * 2)
                row["instr_per_pred"] = ir
                if stats.get("splits_visited"):
                    row["instr_per_split_visited"] = ir / stats["splits_visited"]
        except native.ToolFailed as exc:
            row["status"] = f"n/a: {exc}"
            log(f"[{spec.key}] {key}: {exc}")
            continue
        if tool.ours:
            import emlearn_gen

            cm = emlearn_gen.convert(est, name="model", **ours_options(key))
            host = cm.predict(X)
            if task in ("classifier", "outlier_detector", "clusterer"):
                row["api_labels_equal_pct"] = 100.0 * float(np.mean(host == ref.predict))
            else:
                row["api_max_output_err"] = float(np.max(np.abs(host - ref.predict)))
            X_ref = reference_rows(spec, X)
            if spec.family == "pipeline":
                # The pipeline's contract on the host model; the compiled
                # header must give the host model's results bit for bit.
                row.update(check_same_as_host(CompiledModel(X, ref, results, like=cm), cm, X))
                row.update(check_contract(cm.contract, cm, est, X_ref, prefix="api_"))
            elif spec.family in CONTRACT_FAMILIES:
                # The family's numeric contract, on the compiled header's
                # results and on the host model (CModel.predict and friends).
                row.update(check_contract(cm.contract, CompiledModel(X, ref, results, like=cm), est, X))
                row.update(check_contract(cm.contract, cm, est, X, prefix="api_"))
            # Batch throughput on rows that never repeat (models.throughput_rows),
            # timed on idle cores: after the device builds of the tools before.
            batch = M.throughput_rows(data, prof["api_batch_rows"])
            wait([fut for _, _, fut in pending])
            row.update(api_speed(cm, est, X[:1], batch, prof["api_min_time"]))
            if key == "emlearn_gen":
                # MicroPython: module sizes per arch, RAM and time on the unix port.
                row.update(micropython_measure(cm, est, X, prof["api_min_time"]))
        log(f"[{spec.key}] {key}: equal {row.get('labels_equal_pct', float('nan')):.2f}%  "
            f"instr/pred {row.get('instr_per_pred', float('nan')):.0f}  convert {gen.convert_s:.2f} s  "
            f"compile {row.get('host_compile_s', float('nan')):.2f} s")
        if spec.footprint:
            for dev in devices:
                if (spec.large and prof["large_devices"] and dev.key not in prof["large_devices"]
                        and gen.source_bytes > 2**20 and not tool.ours):
                    row[f"{dev.key}_note"] = ("sources over 1 MiB of large models are built for the Cortex-M0 "
                                              "only (compile time)")
                    continue
                X_device = X[: device_rows(row.get("instr_per_pred"), prof["device_rows"])]
                pending.append((row, dev, pool.submit(
                    device_measure, dev, folder, gen, X_device, baselines, prof["compile_timeout"])))
    for row, dev, fut in pending:
        try:
            fp, ir = fut.result()
        except native.ToolFailed as exc:
            row[f"{dev.key}_note"] = str(exc)
            log(f"[{spec.key}] {row['tool']} {dev.key}: {exc}")
            continue
        if isinstance(ir, float):
            n_rows = device_rows(row.get("instr_per_pred"), prof["device_rows"])
            row[f"{dev.key}_instr_per_pred"] = ir
            row["device_instr_rows"] = n_rows
            if "splits_visited" in stats:
                # The split nodes visited on the rows the device ran.
                row["splits_visited_device"] = tree_stats(est, X[:n_rows])["splits_visited"]
                row[f"{dev.key}_instr_per_split_visited"] = ir / row["splits_visited_device"]
        elif ir:
            row[f"{dev.key}_instr_note"] = ir
            log(f"[{spec.key}] {row['tool']} {dev.key} instructions: {ir}")
        row[f"{dev.key}_flash"] = fp.flash
        row[f"{dev.key}_ram"] = fp.ram
        row[f"{dev.key}_image_flash"] = fp.image_flash
        row[f"{dev.key}_image_ram"] = fp.image_ram
        row[f"{dev.key}_compile_s"] = fp.compile_s
        row[f"{dev.key}_fits"] = (not fp.overflow and fp.image_flash <= dev.flash_limit
                                  and fp.image_ram <= dev.ram_limit)
        if fp.overflow:
            row[f"{dev.key}_overflow"] = fp.overflow
        if row.get("n_split_nodes"):
            row[f"{dev.key}_bytes_per_split"] = fp.flash / row["n_split_nodes"]
        if row.get("n_weights"):
            row[f"{dev.key}_bytes_per_weight"] = fp.flash / row["n_weights"]
    if not spec.footprint:
        for row in rows:
            if row["status"] == "ok":
                row["footprint_note"] = "not built: larger than every target's flash"
    return rows


#: Families whose rows of ours are judged by the family's own numeric
#: contract (on the compiled header and on CModel), not by labels alone.
#: Families whose outputs are judged by their float32 contract (a tie zone).
FLOAT32_FAMILIES = ("linear", "mlp", "naive_bayes", "svm", "neighbors", "mixture", "pipeline")
CONTRACT_FAMILIES = FLOAT32_FAMILIES + ("boosting", "anomaly")


def check_same_as_host(compiled: Any, cm: Any, X: np.ndarray) -> Dict[str, Any]:
    """"contract": "kept" if the compiled header's predict (and
    predict_proba, where it ran) equal the host model's bit for bit."""
    pairs = [("predict", compiled.predict(X), cm.predict(X))]
    if hasattr(cm, "predict_proba") and compiled._res.outputs is not None:
        pairs.append(("predict_proba", compiled.predict_proba(X), cm.predict_proba(X)))
    for method, got, want in pairs:
        if not np.array_equal(got, want):
            return {"contract": f"broken: the compiled header's {method} differs from the host model's"}
    return {"contract": "kept"}


def test_accuracy(est: Any, X: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's score on the test set; for an outlier detector, the
    share of test rows whose +1/-1 label is the true one."""
    if task_of(est) == "outlier_detector":
        return float(np.mean(est.predict(X) == y))
    if task_of(est) == "clusterer":
        return float("nan")  # no labels to score against (score(X) is a log-likelihood)
    return float(est.score(X, y))


def max_depth(est: Any) -> Optional[int]:
    """The max_depth parameter (None: unlimited, or no such parameter)."""
    depth = est.get_params().get("max_depth") if hasattr(est, "get_params") else None
    return int(depth) if isinstance(depth, (int, np.integer)) else None


#: Host instructions (callgrind) over all the rows a device runs: qemu's
#: one-line-per-instruction trace of a Cortex-M0 emulating float64 in
#: software runs up to ~8x the host's count, and it is counted in Python.
DEVICE_TRACE_BUDGET = 800_000


def device_rows(host_instr_per_pred: Any, limit: int) -> int:
    """Test rows whose predictions are counted on the devices: ``limit``, or
    fewer (at least one) for models whose predictions are long."""
    per = float(host_instr_per_pred or 0.0)
    if per <= 0.0:
        return limit
    return max(1, min(limit, int(DEVICE_TRACE_BUDGET // per)))


def device_measure(dev: native.Device, folder: Path, gen: Any, X_device: np.ndarray, baselines: Any,
                   timeout: float) -> Tuple[native.Footprint, Any]:
    """Footprint on ``dev``, then (on the devices qemu emulates) instructions
    per prediction over the rows of X_device, run from the same model object.
    Returns (footprint, instructions or the reason they were not counted)."""
    fp = native.footprint(dev, folder, gen, X_device.shape[1], baselines, timeout)
    if not devcount.available(dev):
        return fp, ""
    if fp.overflow:
        return fp, "the image does not fit the device"
    try:
        return fp, devcount.instructions(dev, folder, gen, X_device, timeout * 2)
    except native.ToolFailed as exc:
        return fp, str(exc)


def environment(quick: bool, devices: List[native.Device]) -> Dict[str, Any]:
    env = {
        "mode": "quick" if quick else "full",
        "date": time.strftime("%Y-%m-%d"),
        "cpu": native.cpu_model(),
        "nproc": native.n_cpus(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "tools": tool_versions(),
        "compilers": {
            "g++": native.tool_version(["g++", "--version"]),
            "gcc": native.tool_version(["gcc", "--version"]),
            "valgrind": native.tool_version(["valgrind", "--version"]),
            **{d.cxx: native.tool_version([d.cxx, "--version"]) for d in devices},
        },
    }
    env["source_tree"] = source_tree()
    return env


def source_tree() -> str:
    """The commit the package under test was measured at, and whether its
    sources differed from that commit."""
    import subprocess

    root = HERE.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=30, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "emlearn_gen", "runtime", "templates",
                                "bindings"], cwd=root, capture_output=True, text=True, timeout=30,
                               check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" with uncommitted changes to the package" if dirty else "")


def regressions(rows: List[Dict[str, Any]]) -> List[str]:
    """Real breakage of our tool on a model family it converts: a crash, or
    results that break the family's promise. Trees: labels that are not all
    equal to scikit-learn's, or (float64 option) regression outputs that are
    not scikit-learn's float64 result rounded to float32; boosted trees: the
    same, their raw scores being scikit-learn's float64 sums. Linear models,
    perceptrons, naive Bayes, SVMs and nearest neighbours: their family's float32 contract (the
    float64 one in perceptrons' and SVMs' dtype=float64 rows), on the
    compiled header and on CModel (labels differ only in the tie zone, scores,
    probabilities and outputs within the bound)."""
    problems = []
    for row in rows:
        if not row.get("ours") or row["family"] not in ("trees", "boosting", "anomaly") + FLOAT32_FAMILIES:
            continue
        if row["status"] != "ok":
            problems.append(f"{row['model']}: {row['tool']} failed: {row['status']}")
            continue
        if row["family"] in CONTRACT_FAMILIES:
            for prefix, what in (("", "compiled header"), ("api_", "CModel")):
                verdict = row.get(f"{prefix}contract")
                if verdict != "kept":
                    problems.append(f"{row['model']}: {what}: {row['family']} contract {verdict or 'not checked'}")
        if row["family"] in FLOAT32_FAMILIES:
            continue  # labels may differ in the tie zone, which the contract checks
        equal = row.get("labels_equal_pct")
        if row["task"] in ("classifier", "outlier_detector"):
            if equal is None or equal < 100.0:
                problems.append(f"{row['model']}: {row['tool']} labels equal to scikit-learn's on {equal}% "
                                "of samples, not 100%")
            if row.get("api_labels_equal_pct", 100.0) < 100.0:
                problems.append(f"{row['model']}: CModel.predict differs from scikit-learn on "
                                f"{100 - row['api_labels_equal_pct']:.2f}% of samples")
        elif row["tool"] == "emlearn_gen_f64" and (equal is None or equal < 100.0):
            problems.append(f"{row['model']}: dtype=float64 outputs equal scikit-learn's on {equal}% of samples")
        elif row["family"] == "boosting" and (equal is None or equal < 100.0):
            problems.append(f"{row['model']}: boosted outputs equal scikit-learn's (rounded to float32) on "
                            f"{equal}% of samples, not 100%")
    return problems


def kept_rows(out: Path, measured: set) -> List[Dict[str, Any]]:
    """--merge: the rows of an earlier run in ``out`` for models this run
    does not measure, tagged with the commit and date they were measured at."""
    path = out / "results.csv"
    if not path.exists():
        return []
    previous = json.loads((out / "environment.json").read_text(encoding="utf-8"))
    rows = [r for r in report.load_csv(path) if r["model"] not in measured]
    tree = str(previous.get("source_tree", "unknown"))
    end = previous.get("source_tree_end")
    if end and end != tree:
        tree += f" ({end} at the end of that run)"
    for row in rows:
        if not row.get("measured_at"):
            row["measured_at"] = tree
        if not row.get("measured_on"):
            row["measured_on"] = previous.get("date", "unknown")
        if not row.get("measured_cpu") and previous.get("cpu"):
            row["measured_cpu"] = previous["cpu"]
    return rows


RUN_KEYS = ("mode", "date", "source_tree", "elapsed_s")


def kept_runs(previous: Dict[str, Any], kept: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The runs that measured the kept rows: the previous run and, if it was
    itself a merge, the runs it kept rows of (each as mode, date, commit and
    run time), less those none of whose rows is kept."""
    earlier = previous.get("merged") or {}
    runs = list(earlier.get("runs") or ([{k: earlier.get(k) for k in RUN_KEYS}] if earlier else []))
    runs.append({k: previous.get(k) for k in RUN_KEYS})
    trees = {str(r.get("measured_at", "")).split(" ")[0] for r in kept}
    return [run for run in runs if str(run.get("source_tree")) in trees]


def merged(kept: List[Dict[str, Any]], rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Kept and new rows, models in the order of models.MODELS."""
    order = {m.key: i for i, m in enumerate(M.MODELS)}
    everything = kept + rows
    return sorted(everything, key=lambda r: order.get(r["model"], len(order)))  # stable: tools keep their order


def measure_signal(out: Path, work: Path, quick: bool, env: Dict[str, Any], with_device: bool, log: Any) -> None:
    """The signal kernels' rows (benchmarks/sigkernels.py) into
    out/signal.csv, each with the commit and date it was measured at."""
    rows = sigkernels.measure(work, quick, log, with_device=with_device)
    for row in rows:
        row["measured_at"] = env["source_tree"]
        row["measured_on"] = env["date"]
        row["measured_cpu"] = env["cpu"]
    report.write_csv(out / report.SIGNAL_CSV, rows)


def signal_only(out: Path, quick: bool, keep: Optional[str], with_device: bool) -> int:
    """--signal-only: measures the signal rows, then rewrites results.md
    with them and the rows of results.csv in ``out`` (if any)."""
    t0 = time.perf_counter()
    env = {"mode": "quick" if quick else "full", "date": time.strftime("%Y-%m-%d"), "source_tree": source_tree()}
    work_ctx = tempfile.TemporaryDirectory(prefix="emlearn_gen_bench_") if keep is None else None
    work = Path(keep).resolve() if keep else Path(work_ctx.name)  # type: ignore[union-attr]
    try:
        measure_signal(out, work, quick, env, with_device, lambda msg: print(msg, flush=True))
    finally:
        if work_ctx is not None:
            work_ctx.cleanup()
    if (out / "results.csv").exists() and (out / "environment.json").exists():
        rows = report.load_csv(out / "results.csv")
        previous = json.loads((out / "environment.json").read_text(encoding="utf-8"))
        names = list(dict.fromkeys(str(r["dataset"]) for r in rows))
        report.write(out, rows, previous, {name: M.load_dataset(name) for name in names})
    else:
        text = "\n".join([f"# Benchmark results (signal kernels only, {env['date']})", "",
                          *report.signal_lines(report.load_signal(out))])
        (out / "results.md").write_text(text, encoding="utf-8")
    print(f"wrote {out}/{report.SIGNAL_CSV} and results.md in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small models only (CI)")
    mode.add_argument("--full", action="store_true", help="every model (default)")
    parser.add_argument("--models", default="", help="comma-separated model keys (default: per mode)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tool keys")
    parser.add_argument("--out", default=None, help="results folder (default benchmarks/results[/quick])")
    parser.add_argument("--jobs", type=int, default=2, help="parallel cross-compilations")
    parser.add_argument("--no-footprint", action="store_true", help="skip the microcontroller builds")
    parser.add_argument("--keep", default=None, help="keep generated sources and builds in this folder")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite results.md and results.png from the results.csv in --out (no measuring)")
    parser.add_argument("--signal", action="store_true",
                        help="also measure the signal kernels (default: only when no --models are given)")
    parser.add_argument("--no-signal", action="store_true", help="skip the signal kernels")
    parser.add_argument("--signal-only", action="store_true",
                        help="measure only the signal kernels; rewrite results.md from the results.csv in --out")
    parser.add_argument("--merge", action="store_true",
                        help="keep the rows of models this run does not measure from the results.csv in --out "
                             "(each row records the commit and date it was measured at)")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    prof = _profile(quick)
    out = Path(args.out) if args.out else HERE / "results" / ("quick" if quick else "")
    out.mkdir(parents=True, exist_ok=True)
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; known: {list(TOOLS)}")
    specs = M.select(quick, tuple(m for m in args.models.split(",") if m))
    if args.signal_only:
        return signal_only(out, quick, args.keep, not args.no_footprint)
    if args.report_only:
        rows = report.load_csv(out / "results.csv")
        env = json.loads((out / "environment.json").read_text(encoding="utf-8"))
        names = [d for d in dict.fromkeys(str(r["dataset"]) for r in rows)]
        report.write(out, rows, env, {name: M.load_dataset(name) for name in names})
        print(f"rewrote {out}/results.md and results.png")
        return 0

    devices: List[native.Device] = []
    skipped_devices: Dict[str, str] = {}
    if not args.no_footprint:
        for dev in native.DEVICES:
            missing = native.device_available(dev)
            if missing:
                skipped_devices[dev.key] = missing
            else:
                devices.append(dev)

    def log(msg: str) -> None:
        print(msg, flush=True)

    for key, why in skipped_devices.items():
        log(f"footprint on {key} skipped: {why}")
    env = environment(quick, devices)
    env["skipped_devices"] = skipped_devices
    kept = kept_rows(out, {s.key for s in specs}) if args.merge else []
    if kept:
        previous = json.loads((out / "environment.json").read_text(encoding="utf-8"))
        env["merged"] = {"models": list(dict.fromkeys(r["model"] for r in kept)), "runs": kept_runs(previous, kept)}
        log(f"--merge: keeping the rows of {len(env['merged']['models'])} models from {out}/results.csv")
    t_start = time.perf_counter()
    rows: List[Dict[str, Any]] = []
    crashed: List[str] = []
    work_ctx = tempfile.TemporaryDirectory(prefix="emlearn_gen_bench_") if args.keep is None else None
    # Absolute: a converter may run in another folder (tools._emlearn_scratch_in).
    work = Path(args.keep).resolve() if args.keep else Path(work_ctx.name)  # type: ignore[union-attr]
    baselines = native.make_baselines(work / "_baselines")
    datasets: Dict[str, M.Dataset] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for spec in specs:
                if spec.dataset not in datasets:
                    datasets[spec.dataset] = M.load_dataset(spec.dataset)
                try:
                    rows += measure_model(spec, datasets[spec.dataset], tools, devices, work, prof, pool,
                                          baselines, log)
                except Exception:  # noqa: BLE001 - report and go on with the other models
                    crashed.append(f"{spec.key}: benchmark crashed:\n{traceback.format_exc()}")
                    log(crashed[-1])
                env["elapsed_s"] = time.perf_counter() - t_start
                for row in rows:
                    row.setdefault("measured_at", env["source_tree"])
                    row.setdefault("measured_on", env["date"])
                    row.setdefault("measured_cpu", env["cpu"])
                report.write(out, merged(kept, rows), env, datasets)
            if (args.signal or not args.models) and not args.no_signal:
                try:
                    measure_signal(out, work, quick, env, not args.no_footprint, log)
                except Exception:  # noqa: BLE001 - a crash fails the run, as a model's does
                    crashed.append(f"signal kernels: benchmark crashed:\n{traceback.format_exc()}")
                    log(crashed[-1])
    finally:
        if work_ctx is not None:
            work_ctx.cleanup()
    env["elapsed_s"] = time.perf_counter() - t_start
    env["source_tree_end"] = source_tree()
    for name in dict.fromkeys(str(r["dataset"]) for r in kept):
        if name not in datasets:
            datasets[name] = M.load_dataset(name)
    report.write(out, merged(kept, rows), env, datasets)
    (out / "environment.json").write_text(json.dumps(env, indent=2, default=str) + "\n", encoding="utf-8")
    log(f"wrote {out}/results.csv, results.md, results.png in {env['elapsed_s']:.0f} s")
    problems = crashed + regressions(rows)
    for problem in problems:
        log(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
