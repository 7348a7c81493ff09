"""results.csv, results.md and results.png from the measured rows."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from .models import SHAPE_TWINS
from .native import DEVICES

TARGETS = {
    "bytes_per_split_continuous": 6.0,
    "bytes_per_split_integer": 4.0,
    "instr_per_split_visited": 15.0,  # x86-64, every tree model, default dtype
    "m4f_instr_per_split_full100": 18.0,  # Cortex-M4F, forests of 100 full-depth trees
    "m4f_instr_per_split_d10_10": 25.0,  # Cortex-M4F, forests of 10 trees of depth 10
    "api_single_speedup": 70.0,
    "api_batch_throughput_ratio": 2.0,
    "convert_500_trees_s": 10.0,
    # A boosted model's flash per split node, against the forest of its shape
    # in the same dtype (SHAPE_TWINS), M0 and M4F: "in line with forests".
    "boosted_bytes_per_split_vs_forest": 1.1,
}

#: Families whose models are trees (forests, boosting, isolation forests).
TREE_FAMILIES = ("trees", "boosting", "anomaly")


def _num(value: Any) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    f = _num(value)
    if f is None:
        return "–"
    if abs(f) >= 1e5:
        return f"{f:,.0f}{unit}"
    if abs(f) >= 100 or digits == 0:
        return f"{f:,.0f}{unit}"
    return f"{f:.{digits}f}{unit}"


def _kib(value: Any) -> str:
    f = _num(value)
    if f is None:
        return "–"
    if abs(f) < 1024:
        return f"{f:.0f} B"
    return f"{f / 1024:.1f} KiB"


def _table(header: Sequence[str], body: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _short_na(status: str) -> str:
    return status[len("n/a: "):] if status.startswith("n/a: ") else status


def write_csv(path: Path, rows: List[Dict[str, Any]]) -> None:
    keys: List[str] = []
    for row in rows:
        for key in row:
            if key not in keys:
                keys.append(key)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in keys})


def _models(rows: List[Dict[str, Any]]) -> List[str]:
    seen: List[str] = []
    for row in rows:
        if row["model"] not in seen:
            seen.append(row["model"])
    return seen


def _tools(rows: List[Dict[str, Any]]) -> List[str]:
    seen: List[str] = []
    for row in rows:
        if row["tool"] not in seen:
            seen.append(row["tool"])
    return seen


def _get(rows: List[Dict[str, Any]], model: str, tool: str) -> Optional[Dict[str, Any]]:
    for row in rows:
        if row["model"] == model and row["tool"] == tool:
            return row
    return None


def fidelity_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    tools = _tools(rows)
    header = ["model"] + [_label(rows, t) for t in tools]
    body = []
    for model in _models(rows):
        line = [model]
        for tool in tools:
            row = _get(rows, model, tool)
            line.append(_fidelity_cell(row, notes))
        body.append(line)
    return _table(header, body)


def _note(status: str, notes: Dict[str, int]) -> str:
    text = _short_na(status)
    if text not in notes:
        notes[text] = len(notes) + 1
    return f"n/a [{notes[text]}]"


def _fidelity_cell(row: Optional[Dict[str, Any]], notes: Dict[str, int]) -> str:
    if row is None:
        return "–"
    if row["status"] != "ok":
        return _note(row["status"], notes)
    eq = _num(row.get("labels_equal_pct"))
    err = _num(row.get("max_output_err"))
    parts = []
    if eq is not None:
        parts.append(f"{eq:.1f}%" if eq < 99.95 or eq == 100.0 else f"{eq:.2f}%")
    dec = _num(row.get("max_decision_err"))
    if err is not None:
        parts.append(f"{err:.1e}" if err else "0")
        ulp = _num(row.get("max_output_err_ulp"))
        if ulp is not None:
            parts[-1] += f" ({ulp:.3g} ulp)"
    elif dec is not None:
        parts.append(f"{dec:.1e} (decision)" if dec else "0 (decision)")
    elif row.get("task") == "classifier":
        parts.append("no proba")
    return " / ".join(parts) if parts else "–"


def _label(rows: List[Dict[str, Any]], tool: str) -> str:
    for row in rows:
        if row["tool"] == tool:
            return row["tool_label"]
    return tool


def footprint_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    header = ["model", "tool", "split nodes"]
    for dev in DEVICES:
        header += [f"{dev.label} flash", f"{dev.label} RAM"]
    header += ["B/split (M0)", "B/split (M4F)", "fits M0", "fits AVR"]
    body = []
    for model in _models(rows):
        for tool in _tools(rows):
            row = _get(rows, model, tool)
            if row is None:
                continue
            if row["status"] != "ok":
                body.append([model, row["tool_label"], _fmt(row.get("n_split_nodes"), 0)] +
                            [_note(row["status"], notes)] + ["" for _ in range(len(header) - 4)])
                continue
            if row.get("footprint_note"):
                body.append([model, row["tool_label"], _fmt(row.get("n_split_nodes"), 0)] +
                            [_note(row["footprint_note"], notes)] + ["" for _ in range(len(header) - 4)])
                continue
            line = [model, row["tool_label"], _fmt(row.get("n_split_nodes"), 0)]
            for dev in DEVICES:
                if row.get(f"{dev.key}_note"):
                    line += [_note("n/a: " + row[f"{dev.key}_note"], notes), ""]
                else:
                    line += [_kib(row.get(f"{dev.key}_flash")), _kib(row.get(f"{dev.key}_ram"))]
            line += [_fmt(row.get("m0_bytes_per_split"), 1), _fmt(row.get("m4f_bytes_per_split"), 1)]
            for dev in ("m0", "avr"):
                fits = row.get(f"{dev}_fits")
                line.append("–" if fits in (None, "") else ("yes" if fits else "**no**"))
            body.append(line)
    return _table(header, body)


#: The small model of the "Fixed code per target" table and the tools it is
#: compared with: ours (defaults, and float32 sums) and emlearn's inline code.
SMALL_TREE = "dt3_iris"
SMALL_TREE_TOOLS = ("emlearn_gen", "emlearn_gen_f32", "emlearn", "emlearn_float")


def _code_beyond_tables(row: Dict[str, Any], dev: str) -> Optional[float]:
    """Flash a tree model of ours adds beyond its packed tables on ``dev``:
    the table kernel, its helpers and the software float routines they
    link (None where not measured, or where the tree is if/else code)."""
    flash, tables = _num(row.get(f"{dev}_flash")), _num(row.get("table_bytes"))
    if flash is None or tables is None or row.get("inline_code"):
        return None
    return flash - tables


def _span(values: List[float]) -> str:
    if not values:
        return "–"
    low, high = min(values), max(values)
    return _kib(low) if low == high else f"{_kib(low)} – {_kib(high)}"


def fixed_code_table(rows: List[Dict[str, Any]]) -> str:
    """Per target: the code a tree model of ours adds beyond its tables
    (table kernel; least and most over this run's tree models, by the type
    of their sums), and the small tree's whole flash, ours beside emlearn's
    inline code."""
    header = ["", *(dev.label for dev in DEVICES)]
    trees = [r for r in rows if r.get("ours") and r["family"] == "trees" and r["status"] == "ok"
             and not r.get("inline_code")]
    body = []
    for dtype in ("float64", "float32"):
        group = [r for r in trees if r.get("sums_dtype") == dtype]
        if not group:
            continue
        models = sorted({r["model"] for r in group})
        cells = [_span([v for v in (_code_beyond_tables(r, dev.key) for r in group) if v is not None])
                 for dev in DEVICES]
        body.append([f"table kernel beyond its tables, {dtype} sums ({len(models)} models: "
                     f"{', '.join(models)})", *cells])
    for tool in SMALL_TREE_TOOLS:
        row = _get(rows, SMALL_TREE, tool)
        if row is None or row["status"] != "ok":
            continue
        form = " (if/else code)" if row.get("inline_code") else ""
        body.append([f"{SMALL_TREE}, whole model: {row['tool_label']}{form}",
                     *(_kib(row.get(f"{dev.key}_flash")) for dev in DEVICES)])
    return _table(header, body)


def small_tree_line(rows: List[Dict[str, Any]]) -> Optional[str]:
    """The target line of the small tree: ours (defaults) adds no more flash
    than emlearn's inline code (int16 or float) on any device."""
    ours = _get(rows, SMALL_TREE, "emlearn_gen")
    peers = [r for r in (_get(rows, SMALL_TREE, t) for t in ("emlearn", "emlearn_float"))
             if r is not None and r["status"] == "ok"]
    if ours is None or ours["status"] != "ok" or not peers:
        return None
    measured, ok = [], True
    for dev in DEVICES:
        mine = _num(ours.get(f"{dev.key}_flash"))
        theirs = [v for v in (_num(r.get(f"{dev.key}_flash")) for r in peers) if v is not None]
        if mine is None or not theirs:
            continue
        ok = ok and mine <= min(theirs)
        measured.append(f"{dev.label} {mine:.0f} B against {' / '.join(f'{v:.0f}' for v in theirs)} B")
    if not measured:
        return None
    return (f"- Small models cost little: the depth-3 iris tree ({SMALL_TREE}, convert()'s defaults) adds no more "
            f"flash than emlearn's inline code ({' / '.join(r['tool_label'] for r in peers)}): "
            f"{'met' if ok else '**not met**'} ({'; '.join(measured)})")


def model_file_table(rows: List[Dict[str, Any]]) -> str:
    """emlearn-gen's model files against the packed tables they carry."""
    header = ["model", "tool", "tables (B)", "model file (B)", "file / tables"]
    body = []
    for row in rows:
        tables, size = _num(row.get("file_table_bytes")), _num(row.get("file_bytes"))
        if row.get("status") != "ok" or tables is None or size is None:
            continue
        body.append([row["model"], row["tool_label"], _fmt(tables, 0), _fmt(size, 0),
                     f"{size / tables:.2f}" if tables else "–"])
    return _table(header, body)


#: Native archs of the MicroPython table, in its column order.
MPY_ARCHS = ("x64", "armv6m", "armv7m", "armv7emsp")


def micropython_table(rows: List[Dict[str, Any]]) -> str:
    """emlearn-gen's MicroPython modules: sizes, RAM after import, time per
    prediction on the unix port beside CPython scikit-learn's, one row at a time."""
    header = (["model"] + [f".mpy {arch}" for arch in MPY_ARCHS]
              + ["RAM after import", "native µs/pred", "pure-Python µs/pred", "scikit-learn µs/pred (CPython)",
                 "scikit-learn / native"])
    body = []
    for row in rows:
        if not row.get("ours") or row.get("tool") != "emlearn_gen":
            continue
        if _num(row.get("mpy_bytes_x64")) is None:
            if row.get("mpy_note"):
                body.append([row["model"]] + ["–"] * (len(header) - 2) + [_short_na(str(row["mpy_note"]))])
            continue
        native, sklearn = _num(row.get("mpy_us_per_pred")), _num(row.get("mpy_sklearn_us_per_pred"))
        body.append([row["model"]] + [_kib(row.get(f"mpy_bytes_{arch}")) for arch in MPY_ARCHS]
                    + [_kib(row.get("mpy_import_ram_bytes")), _fmt(native, 1), _fmt(row.get("mpy_pure_us_per_pred"), 1),
                       _fmt(sklearn, 1), f"{sklearn / native:.0f}x" if native and sklearn else "–"])
    return _table(header, body)


def speed_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    tools = _tools(rows)
    header = ["model", "splits visited"] + [_label(rows, t) for t in tools]
    body = []
    for model in _models(rows):
        first = next(r for r in rows if r["model"] == model)
        line = [model, _fmt(first.get("splits_visited"), 1)]
        for tool in tools:
            row = _get(rows, model, tool)
            if row is None:
                line.append("–")
            elif row["status"] != "ok":
                line.append(_note(row["status"], notes))
            else:
                ir = row.get("instr_per_pred")
                per = row.get("instr_per_split_visited")
                line.append(f"{_fmt(ir, 0)} ({_fmt(per, 1)}/split)" if _num(per) else _fmt(ir, 0))
        body.append(line)
    return _table(header, body)


def api_table(rows: List[Dict[str, Any]]) -> str:
    header = ["model", "sklearn predict, 1 row", "CModel.predict, 1 row", "speed-up",
              "batch rows", "sklearn rows/s", "CModel rows/s", "throughput ratio", "threads ratio (n_jobs=-1)"]
    body = []
    for row in rows:
        if not row.get("ours") or row["status"] != "ok" or _num(row.get("api_single_speedup")) is None:
            continue
        if row["tool"].endswith("_f64") and row["task"] != "regressor":
            continue
        suffix = {"_f64": " (float64)", "_f32": " (float32)"}.get(row["tool"][-4:], "")
        name = row["model"] + suffix
        body.append([
            name, _fmt(row["api_single_us_sklearn"], 1, " µs"), _fmt(row["api_single_us_ours"], 2, " µs"),
            _fmt(row["api_single_speedup"], 0, "x"), _fmt(row["api_batch_rows"], 0),
            _fmt(row["api_batch_rows_per_s_sklearn"], 0), _fmt(row["api_batch_rows_per_s_ours"], 0),
            _fmt(row["api_batch_throughput_ratio"], 1, "x"),
            # Where the estimator takes n_jobs: both given every CPU.
            _fmt(row.get("api_batch_threads_ratio"), 1, "x"),
        ])
    return _table(header, body)


def time_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    header = ["model", "tool", "convert", "source size", "host compile, -O2 (CPU s)", "Cortex-M0 compile, -Os (CPU s)"]
    body = []
    for model in _models(rows):
        for tool in _tools(rows):
            row = _get(rows, model, tool)
            if row is None:
                continue
            if row["status"] != "ok" and not _num(row.get("convert_s")):
                body.append([model, row["tool_label"], _note(row["status"], notes), "", "", ""])
                continue
            host = _fmt(row.get("host_compile_s"), 2, " s") if row["status"] == "ok" else _note(row["status"], notes)
            body.append([model, row["tool_label"], _fmt(row.get("convert_s"), 2, " s"),
                         _kib(row.get("source_bytes")), host, _fmt(row.get("m0_compile_s"), 2, " s")])
    return _table(header, body)


def summary_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    """One line per model and tool: the three numbers people compare first."""
    header = ["model", "tool", "labels = sklearn", "max abs diff", "M0 flash (B/split)",
              "M4F flash", "instr/prediction"]
    body = []
    for model in _models(rows):
        for tool in _tools(rows):
            row = _get(rows, model, tool)
            if row is None:
                continue
            if row["status"] != "ok":
                body.append([model, row["tool_label"], _note(row["status"], notes), "", "", "", ""])
                continue
            eq = _num(row.get("labels_equal_pct"))
            err = _num(row.get("max_output_err"))
            dec = _num(row.get("max_decision_err"))
            if err is not None:
                err_cell = f"{err:.1e}" if err else "0"
            elif dec is not None:
                err_cell = (f"{dec:.1e}" if dec else "0") + " (decision)"
            else:
                err_cell = "–"
            m0 = row.get("m0_flash")
            if _num(m0) is not None:
                per = _num(row.get("m0_bytes_per_split"))
                m0_cell = _kib(m0) + (f" ({per:.1f})" if per is not None else "")
            elif row.get("m0_note"):
                m0_cell = _note("n/a: " + str(row["m0_note"]), notes)
            else:
                m0_cell = "–"
            body.append([
                model, row["tool_label"], "–" if eq is None else f"{eq:.1f}%", err_cell, m0_cell,
                _kib(row.get("m4f_flash")), _fmt(row.get("instr_per_pred"), 0),
            ])
    return _table(header, body)


def _diff(value: Any) -> str:
    f = _num(value)
    return "–" if f is None else (f"{f:.1e}" if f else "0")


def linear_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    """Linear models, every tool: labels against scikit-learn with the rows
    that differ and how many of them lie outside the float32 tie zone, the
    largest differences of decision_function and of predict_proba or the
    regression output, flash per weight and instructions."""
    header = ["model", "tool", "labels = sklearn", "rows differing (outside tie zone)",
              "max diff decision_function", "max diff proba / output", "contract (ours)",
              "M0 flash (B/weight)", "M4F flash", "AVR flash", "instr/prediction"]
    body = []
    linear = [m for m in _models(rows) if any(r["model"] == m and r["family"] == "linear" for r in rows)]
    for model in linear:
        for tool in _tools(rows):
            row = _get(rows, model, tool)
            if row is None:
                continue
            if row["status"] != "ok":
                body.append([model, row["tool_label"], _note(row["status"], notes)] + [""] * (len(header) - 3))
                continue
            eq = _num(row.get("labels_equal_pct"))
            if row["task"] == "classifier" and _num(row.get("labels_differ")) is not None:
                outside = _num(row.get("labels_differ_outside_tie"))
                differ = f"{int(row['labels_differ'])}" + (f" ({int(outside)})" if outside is not None else "")
            else:
                differ = "–"
            per = _num(row.get("m0_bytes_per_weight"))
            m0 = _kib(row.get("m0_flash")) + (f" ({per:.1f})" if per is not None else "")
            if row.get("m0_note"):
                m0 = _note("n/a: " + str(row["m0_note"]), notes)
            avr = _kib(row.get("avr_flash"))
            if row.get("avr_note"):
                avr = _note("n/a: " + str(row["avr_note"]), notes)
            contract = str(row.get("contract") or "–") if row.get("ours") else ""
            if contract.startswith("broken"):
                contract = "**broken**: " + contract[len("broken: "):]
            out_err = _diff(row.get("max_output_err"))
            if _num(row.get("max_output_err_ulp")) is not None:
                out_err += f" ({row['max_output_err_ulp']:.3g} ulp)"
            body.append([
                model, row["tool_label"], "–" if eq is None else f"{eq:.1f}%", differ,
                _diff(row.get("max_decision_err")), out_err, contract, m0, _kib(row.get("m4f_flash")), avr,
                _fmt(row.get("instr_per_pred"), 0),
            ])
    return _table(header, body)


def tie_zone_lines(rows: List[Dict[str, Any]]) -> List[str]:
    """Per linear classifier: test rows in the tie zone of the float32 contract."""
    out = []
    for row in _ours(rows):
        if row["family"] == "linear" and _num(row.get("tie_zone_rows")) is not None:
            out.append(f"- {row['model']}: {int(row['tie_zone_rows'])} of {int(row['n_test'])} test rows in the "
                       f"tie zone; {row.get('n_weights', 0):.0f} weights and intercepts")
    return out


def _ours(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [r for r in rows if r["tool"] == "emlearn_gen"]


def target_lines(rows: List[Dict[str, Any]]) -> List[str]:
    """Each target with the measured value and whether it is met."""
    out: List[str] = []
    ours = _ours(rows)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    trees = [r for r in ours if r["family"] == "trees" and r["task"] == "classifier"]
    if trees:
        bad = [r for r in trees if r["status"] != "ok" or _num(r.get("labels_equal_pct")) != 100.0]
        out.append(f"- Fidelity, 100% of labels equal on every tree classifier: {verdict(not bad)}"
                   + (f" ({', '.join(r['model'] for r in bad)})" if bad else f" ({len(trees)} models)"))
    contract = [r for r in ours if r["family"] in ("boosting", "anomaly")]
    if contract:
        bad = [r for r in contract if r["status"] != "ok" or r.get("contract") != "kept"
               or r.get("api_contract") != "kept" or _num(r.get("labels_equal_pct")) != 100.0]
        out.append("- Fidelity, boosted models and isolation forests: labels and raw scores (regressors: outputs) "
                   "equal to scikit-learn's (rounded to float32), probabilities and score_samples within the trees "
                   f"family's bound, on the compiled header and CModel: {verdict(not bad)}"
                   + (f" ({', '.join(r['model'] for r in bad)})" if bad else f" ({len(contract)} models)"))
    linear = [r for r in ours if r["family"] == "linear"]
    if linear:
        bad = [r for r in linear if r["status"] != "ok" or r.get("contract") != "kept"
               or r.get("api_contract") != "kept"]
        differ = sum(int(_num(r.get("labels_differ")) or 0) for r in linear)
        ties = sum(int(_num(r.get("tie_zone_rows")) or 0) for r in linear)
        out.append("- Fidelity, linear models: labels differ from scikit-learn only in the tie zone of the float32 "
                   "contract, scores, probabilities and outputs within its bound (compiled header and CModel): "
                   f"{verdict(not bad)}"
                   + (f" ({', '.join(r['model'] for r in bad)})" if bad else
                      f" ({len(linear)} models; {differ} labels differ, {ties} test rows in the tie zone)"))
    others = [r for r in ours if r["family"] in ("mlp", "naive_bayes", "svm", "neighbors", "mixture", "pipeline")]
    if others:
        bad = [r for r in others if r["status"] != "ok" or r.get("contract") != "kept"
               or r.get("api_contract") != "kept"]
        out.append("- Fidelity, perceptrons, naive Bayes, SVMs, nearest neighbours, mixtures, envelopes and pipelines: labels differ from scikit-learn only in the tie "
                   "zone of their family's float32 contract, outputs within its bound (compiled header and "
                   f"CModel): {verdict(not bad)}"
                   + (f" ({', '.join(r['model'] for r in bad)})" if bad else f" ({len(others)} models)"))
    for dev in ("m0", "m4f"):
        for integer, limit in ((False, TARGETS["bytes_per_split_continuous"]), (True, TARGETS["bytes_per_split_integer"])):
            cands = [r for r in ours if r["family"] == "trees" and bool(r.get("integer_features")) == integer
                     and _num(r.get(f"{dev}_bytes_per_split")) is not None and (r.get("n_trees") or 0) > 1]
            if not cands:
                continue
            worst = max(cands, key=lambda r: r[f"{dev}_bytes_per_split"])
            vals = ", ".join(f"{r['model']} {r[f'{dev}_bytes_per_split']:.2f}" for r in cands)
            kind = "integer-valued" if integer else "continuous"
            out.append(f"- Flash per split node, forests on {kind} features, {dev.upper()}, at most {limit:g} B: "
                       f"{verdict(worst[f'{dev}_bytes_per_split'] <= limit)} ({vals})")
    limit = TARGETS["boosted_bytes_per_split_vs_forest"]
    for boosted, forest in SHAPE_TWINS:
        b = next((r for r in ours if r["model"] == boosted), None)
        # The forest's row in the boosted model's dtype: its default or the other one beside it.
        f = next((r for r in rows if r["model"] == forest and str(r.get("tool", "")).startswith("emlearn_gen")
                  and r.get("sums_dtype") == (b or {}).get("sums_dtype")), None)
        pairs = [(dev, _num((b or {}).get(f"{dev}_bytes_per_split")), _num((f or {}).get(f"{dev}_bytes_per_split")))
                 for dev in ("m0", "m4f")]
        pairs = [(dev, x, y) for dev, x, y in pairs if x is not None and y]
        if not pairs:
            continue
        ok = all(x <= limit * y for _, x, y in pairs)
        vals = ", ".join(f"{dev.upper()} {x:.2f} against {y:.2f} ({x / y:.2f}x)" for dev, x, y in pairs)
        out.append(f"- Flash per split node of {boosted} at most {limit:g}x that of {forest}, the forest of its "
                   f"shape, both in {b['sums_dtype']}: {verdict(ok)} ({vals})")
    # The speed targets are the tree kernels' (forests, boosting, isolation forests).
    speed = [r for r in ours if _num(r.get("api_single_speedup")) is not None and r["family"] in TREE_FAMILIES]
    if speed:
        worst = min(speed, key=lambda r: r["api_single_speedup"])
        out.append(f"- Trees: single-sample CModel.predict at least {TARGETS['api_single_speedup']:g}x faster than "
                   f"scikit-learn: {verdict(worst['api_single_speedup'] >= TARGETS['api_single_speedup'])} "
                   f"(lowest {worst['api_single_speedup']:.0f}x on {worst['model']})")
        worst = min(speed, key=lambda r: r["api_batch_throughput_ratio"])
        out.append(f"- Trees: batch throughput at least {TARGETS['api_batch_throughput_ratio']:g}x scikit-learn's "
                   f"single-threaded predict: "
                   f"{verdict(worst['api_batch_throughput_ratio'] >= TARGETS['api_batch_throughput_ratio'])} "
                   f"(lowest {worst['api_batch_throughput_ratio']:.1f}x on {worst['model']})")
        threads = [r for r in speed if _num(r.get("api_batch_threads_ratio")) is not None]
        if threads:
            worst = min(threads, key=lambda r: r["api_batch_threads_ratio"])
            out.append(f"- Trees: batch throughput with n_jobs=-1 at least "
                       f"{TARGETS['api_batch_throughput_ratio']:g}x scikit-learn's with n_jobs=-1: "
                       f"{verdict(worst['api_batch_threads_ratio'] >= TARGETS['api_batch_throughput_ratio'])} "
                       f"(lowest {worst['api_batch_threads_ratio']:.1f}x on {worst['model']})")
    ipn = [r for r in ours if _num(r.get("instr_per_split_visited")) is not None and r["family"] in TREE_FAMILIES]
    if ipn:
        worst = max(ipn, key=lambda r: r["instr_per_split_visited"])
        out.append(f"- At most {TARGETS['instr_per_split_visited']:g} instructions per split node visited "
                   f"(all instructions of a prediction / splits visited): "
                   f"{verdict(worst['instr_per_split_visited'] <= TARGETS['instr_per_split_visited'])} "
                   f"(highest {worst['instr_per_split_visited']:.1f} on {worst['model']}; "
                   + ", ".join(f"{r['model']} {r['instr_per_split_visited']:.1f}" for r in ipn) + ")")
    for dev, key, what in (("m4f", "m4f_instr_per_split_full100", "100 full-depth trees"),
                            ("m4f", "m4f_instr_per_split_d10_10", "10 trees of depth 10")):
        cands = [r for r in ours if m4f_target_key(r) == key and _num(r.get(f"{dev}_instr_per_split_visited"))]
        if cands:
            worst = max(cands, key=lambda r: r[f"{dev}_instr_per_split_visited"])
            out.append(f"- At most {TARGETS[key]:g} instructions per split node visited on the Cortex-M4F, forests of "
                       f"{what}: {verdict(worst[f'{dev}_instr_per_split_visited'] <= TARGETS[key])} ("
                       + ", ".join(f"{r['model']} {r[f'{dev}_instr_per_split_visited']:.1f}" for r in cands) + ")")
    small = small_tree_line(rows)
    if small:
        out.append(small)
    big = [r for r in ours if (r.get("n_trees") or 0) >= 500 and _num(r.get("convert_s")) is not None]
    for r in big:
        kind = "boosted model" if r["family"] == "boosting" else "forest"
        compile_s = _num(r.get("host_compile_s"))
        out.append(f"- A {int(r['n_trees'])}-tree {kind} converts in under {TARGETS['convert_500_trees_s']:g} s: "
                   f"{verdict(r['convert_s'] < TARGETS['convert_500_trees_s'])} ({r['convert_s']:.2f} s on {r['model']}, "
                   f"{int(r.get('n_split_nodes') or 0):,} split nodes, {_kib(r.get('source_bytes'))} of header"
                   + (f"; g++ -O2 compiles it in {compile_s:.2f} s of CPU" if compile_s is not None else "") + ")")
    return out


def m4f_target_key(row: Dict[str, Any]) -> Optional[str]:
    """The Cortex-M4F instruction target that applies to a model: forests
    (not boosting) of 100 full-depth trees or of 10 trees of depth 10."""
    if row["family"] != "trees":
        return None
    trees, depth = int(_num(row.get("n_trees")) or 0), _num(row.get("max_depth"))
    if trees == 100 and depth is None:
        return "m4f_instr_per_split_full100"
    if trees == 10 and depth == 10:
        return "m4f_instr_per_split_d10_10"
    return None


def _against(value: Any, limit: Optional[float], at_most: bool, digits: int = 1, unit: str = "") -> str:
    """A measured value, in bold when it misses its target."""
    f = _num(value)
    if f is None:
        return "–"
    text = _fmt(f, digits, unit)
    if limit is None:
        return text
    ok = f <= limit if at_most else f >= limit
    return text if ok else f"**{text}**"


def speed_targets_table(rows: List[Dict[str, Any]]) -> str:
    """One line per tree model of ours (default dtype): each tree-speed target
    beside the measured figure, misses in bold."""
    header = ["model", "splits visited", f"x86-64 instr/split (<= {TARGETS['instr_per_split_visited']:g})",
              "Cortex-M4F instr/split (target)", f"1 row vs sklearn (>= {TARGETS['api_single_speedup']:g}x)",
              f"batch vs sklearn (>= {TARGETS['api_batch_throughput_ratio']:g}x)", "table bytes (B/split)"]
    body = []
    for row in _ours(rows):
        if row["family"] not in TREE_FAMILIES or row["status"] != "ok":
            continue
        key = m4f_target_key(row)
        m4f = _against(row.get("m4f_instr_per_split_visited"), TARGETS[key] if key else None, True)
        if key and m4f != "–":
            m4f += f" (<= {TARGETS[key]:g})"
        table = _num(row.get("table_bytes"))
        splits = _num(row.get("n_split_nodes"))
        table_cell = "–" if table is None else (f"{table:,.0f}" + (f" ({table / splits:.2f})" if splits else ""))
        body.append([
            row["model"], _fmt(row.get("splits_visited"), 1),
            _against(row.get("instr_per_split_visited"), TARGETS["instr_per_split_visited"], True),
            m4f,
            _against(row.get("api_single_speedup"), TARGETS["api_single_speedup"], False, 0, "x"),
            _against(row.get("api_batch_throughput_ratio"), TARGETS["api_batch_throughput_ratio"], False, 2, "x"),
            table_cell,
        ])
    return _table(header, body)


def density_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    """Flash per split node of every tree model and tool, boosted models and
    isolation forests beside the forests."""
    header = ["model", "family", "tool", "trees", "split nodes", "table B/split", "M0 B/split", "M4F B/split",
              "AVR B/split"]
    body = []
    for model in _models(rows):
        for tool in _tools(rows):
            row = _get(rows, model, tool)
            if row is None or row["family"] not in TREE_FAMILIES:
                continue
            first = [model, row["family"], row["tool_label"], _fmt(row.get("n_trees"), 0),
                     _fmt(row.get("n_split_nodes"), 0)]
            if row["status"] != "ok":
                body.append(first + [_note(row["status"], notes), "", "", ""])
                continue
            table, splits = _num(row.get("table_bytes")), _num(row.get("n_split_nodes"))
            cells = [f"{table / splits:.2f}" if table is not None and splits else "–"]
            for dev in ("m0", "m4f", "avr"):
                per = _num(row.get(f"{dev}_bytes_per_split"))
                cells.append(f"{per:.2f}" if per is not None else "–")
            body.append(first + cells)
    return _table(header, body)


def device_speed_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    """Instructions per prediction on the emulated Cortex-M0 and M4F."""
    tools = _tools(rows)
    header = ["model", "splits visited"] + [_label(rows, t) for t in tools]
    body = []
    for model in _models(rows):
        first = _get(rows, model, "emlearn_gen") or next(r for r in rows if r["model"] == model)
        line = [model, _fmt(first.get("splits_visited_device"), 1)]
        counted = False
        for tool in tools:
            row = _get(rows, model, tool)
            if row is None:
                line.append("–")
                continue
            if row["status"] != "ok":
                line.append(_note(row["status"], notes))
                continue
            cells = []
            for dev in ("m0", "m4f"):
                ir = _num(row.get(f"{dev}_instr_per_pred"))
                per = _num(row.get(f"{dev}_instr_per_split_visited"))
                if ir is None:
                    why = row.get(f"{dev}_instr_note") or row.get(f"{dev}_note") or row.get("footprint_note")
                    cells.append(_note("n/a: " + str(why), notes) if why else "–")
                    continue
                counted = True
                cells.append(_fmt(ir, 0) + (f" ({per:.1f}/split)" if per is not None else ""))
            line.append(" / ".join(cells))
        if counted:
            body.append(line)
    return _table(header, body)


def anomaly_table(rows: List[Dict[str, Any]], notes: Dict[str, int]) -> str:
    """Outlier detectors, every tool: labels, scores, footprint, speed."""
    header = ["model", "tool", "labels (+1/-1) = sklearn", "max diff score_samples", "max diff decision_function",
              "contract (ours)", "M0 flash", "M4F flash", "AVR flash", "RAM", "instr/pred x86-64 / M0 / M4F",
              "1 row vs sklearn", "batch vs sklearn"]
    body = []
    for model in _models(rows):
        for tool in _tools(rows):
            row = _get(rows, model, tool)
            if row is None or row["task"] != "outlier_detector":
                continue
            if row["status"] != "ok":
                body.append([model, row["tool_label"], _note(row["status"], notes)] + [""] * (len(header) - 3))
                continue
            eq = _num(row.get("labels_equal_pct"))
            contract = str(row.get("contract") or "–") if row.get("ours") else ""
            if contract.startswith("broken"):
                contract = "**broken**: " + contract[len("broken: "):]
            instr = " / ".join(_fmt(row.get(k), 0) for k in ("instr_per_pred", "m0_instr_per_pred",
                                                             "m4f_instr_per_pred"))
            ram = max((_num(row.get(f"{d}_ram")) or 0.0) for d in ("m0", "m4f", "avr"))
            body.append([
                model, row["tool_label"], "–" if eq is None else f"{eq:.1f}%", _diff(row.get("max_output_err")),
                _diff(row.get("max_decision_err")), contract, _kib(row.get("m0_flash")), _kib(row.get("m4f_flash")),
                _kib(row.get("avr_flash")), _kib(ram), instr, _fmt(row.get("api_single_speedup"), 0, "x"),
                _fmt(row.get("api_batch_throughput_ratio"), 2, "x"),
            ])
    return _table(header, body)


def measured_at_lines(rows: List[Dict[str, Any]], env: Dict[str, Any]) -> List[str]:
    """The commit emlearn-gen was measured at; per group of models when the
    table merges rows of several runs (run.py --merge)."""
    groups: Dict[str, List[str]] = {}
    for row in rows:
        tree = str(row.get("measured_at") or env.get("source_tree") or "")
        if not tree:
            continue
        when = f" on {row['measured_on']}" if row.get("measured_on") else ""
        if row.get("measured_cpu") and row["measured_cpu"] != env.get("cpu"):
            when += f" ({row['measured_cpu']})"  # another machine than this run's
        models = groups.setdefault(tree + when, [])
        if row["model"] not in models:
            models.append(row["model"])
    if not groups:
        return []
    if len(groups) == 1:
        tree = f"emlearn-gen measured at commit {next(iter(groups))}"
        if env.get("source_tree_end") and env["source_tree_end"] != env.get("source_tree"):
            tree += f"; the package changed during the run (at the end: {env['source_tree_end']})"
        return [tree + ".", ""]
    lines = ["Rows measured in separate runs (run.py --merge):", ""]
    lines += [f"- commit {tree}: {', '.join(models)}" for tree, models in groups.items()]
    return lines + [""]


def markdown(rows: List[Dict[str, Any]], env: Dict[str, Any], datasets: Dict[str, Any],
             signal_rows: Sequence[Dict[str, Any]] = ()) -> str:
    notes: Dict[str, int] = {}
    parts = [f"# Benchmark results ({env['mode']} run, {env['date']})", ""]
    other = any(r.get("measured_cpu") not in (None, "", env["cpu"]) for r in rows)
    parts += [("Machine of this run (rows kept from runs on another machine name it below): " if other else "Machine: ")
              + f"{env['cpu']}, {env['nproc']} cores; Python {env['python']}, numpy {env['numpy']}, "
              f"scikit-learn {env['scikit-learn']}.", ""]
    parts += measured_at_lines(rows, env)
    parts += ["Tools: " + ", ".join(f"{k} {v}" for k, v in env["tools"].items()) + ".", ""]
    parts += ["Compilers: " + "; ".join(f"{k}: {v}" for k, v in env["compilers"].items()) + ".", ""]
    if env.get("skipped_devices"):
        parts += ["Footprint skipped on: " + ", ".join(f"{k} ({v})" for k, v in env["skipped_devices"].items()), ""]
    parts += ["Data: " + "; ".join(f"{k}: {d.description}, test set {d.X_test.shape[0]} rows"
                                   for k, d in datasets.items()) + ".", ""]
    parts += ["![results](results.png)", ""]
    parts += ["## Targets", ""] + target_lines(rows) + [""]
    if any(r["family"] in TREE_FAMILIES for r in _ours(rows)):
        parts += ["### Tree speed targets, measured", "",
                  "emlearn-gen's default dtype; a figure that misses its target is in bold. Instructions per split "
                  "visited = instructions of one prediction (callgrind on x86-64 g++ -O2; qemu's instruction trace "
                  "on the Cortex-M4F, arm-none-eabi-g++ -Os) / split nodes visited per prediction, counted on the "
                  "same rows from scikit-learn's decision paths (every tree's `tree_.decision_path`, less its leaf). "
                  "It charges all of a prediction's work, leaf sums and the final argmax or link included, to the "
                  "splits. The Cortex-M4F targets apply to forests of 100 full-depth trees (<= 18) and of 10 trees "
                  "of depth 10 (<= 25). Table bytes: the packed tables the header holds (nodes, thresholds, "
                  "leaves), per split node in brackets.", "",
                  speed_targets_table(rows), ""]
    parts += ["## Summary", "",
              "Labels equal to scikit-learn's predict on the test set; largest difference of predict_proba "
              "(regression: of the output; a classifier without predict_proba: of decision_function); flash the "
              "model adds on a Cortex-M0 and M4F (bytes per split node in brackets); host instructions per "
              "prediction. Details in the sections below.", "",
              summary_table(rows, notes), ""]
    if any(r["family"] == "linear" for r in rows):
        parts += ["## Linear models", "",
                  "emlearn-gen's default for linear models is float32 (weights, sums, links). Its numeric "
                  "contract bounds every score by gamma(n+3) * (sum |w x| + |b|) against scikit-learn's "
                  "float64 score and carries the bound through the link; a label may differ only in the "
                  "tie zone, where the two best scores (binary: the score and 0) are closer than that bound. "
                  "The reference is scikit-learn on the test rows as float64 (models fitted on float32 keep "
                  "float32 coefficients, and scikit-learn computes float32 inputs in float32). 'rows "
                  "differing' counts labels unequal to scikit-learn's, in brackets those outside the tie zone; "
                  "'contract' is the family's own check (emlearn_gen/families/linear/contract.py) on the "
                  "compiled header's results. B/weight = added flash / (weights + intercepts).", ""]
        parts += tie_zone_lines(rows) + [""]
        parts += [linear_table(rows, notes), ""]
    if any(r["task"] == "outlier_detector" for r in rows):
        parts += ["## Anomaly detection", "",
                  "IsolationForest: predict's +1/-1 labels against scikit-learn's, the largest differences of "
                  "score_samples and decision_function (ours: the float scores of the trees family's contract, "
                  "emlearn_gen/families/trees/contract.py, checked on the compiled header and on CModel), flash "
                  "and static RAM the model adds, instructions per prediction (callgrind on x86-64, qemu on the "
                  "Cortex-M0 and M4F) and host speed against scikit-learn's predict.", "",
                  anomaly_table(rows, notes), ""]
    parts += ["## Fidelity", "",
              "Share of test samples whose predicted label equals scikit-learn's `predict` / largest absolute "
              "difference of `predict_proba` (classifiers) or of the output (regressors; there the share counts "
              "outputs equal to scikit-learn's after rounding to float32). Every tool's generated code is compiled "
              "with the host compiler and run on the float32 test set; scikit-learn runs in the same process.", "",
              fidelity_table(rows, notes), ""]
    parts += ["## Footprint", "",
              "Flash (text+data) and static RAM (data+bss) that the model adds to an empty bare-metal harness "
              "that calls predict once on a `volatile` input; `-Os -ffunction-sections -fdata-sections "
              "-Wl,--gc-sections`, newlib-nano + nosys on ARM, avr-libc on AVR. Includes the tool's runtime code "
              "and any soft-float routines it pulls in; stack is not counted. B/split = added flash / split nodes. "
              "'fits' = the whole image within the chip's memories: M0 256 KiB flash / 16 KiB RAM (micro:bit v1), "
              "ATmega2560 256 KiB flash / 8 KiB RAM (AVR images are linked with --noinhibit-exec so that an "
              "overflowing one is still measured).", "",
              footprint_table(rows, notes), ""]
    if any(r["family"] in TREE_FAMILIES for r in rows):
        parts += ["### Flash per split node: forests, boosted models, isolation forests", "",
                  "Flash the model adds divided by its split nodes, so that boosted models (many shallow trees) "
                  "and forests (fewer, deeper trees) compare; 'table B/split' is emlearn-gen's packed tables "
                  "alone (no code).", "", density_table(rows, notes), ""]
    if any(r.get("ours") and r["family"] == "trees" and _num(r.get("m0_flash")) is not None for r in rows):
        parts += ["### Fixed code per target", "",
                  "The code a tree model adds beyond its tables, per target: the table kernel's code for "
                  "predict(), its helpers and the software float routines they link (flash the model adds, as in "
                  "the footprint table, minus the bytes of its packed tables), least and most over this run's "
                  "tree models of emlearn-gen by the type of their sums. A single tree of a few splits is "
                  "written out as if/else code instead, with no kernel (its tables stay in the header, unread, and "
                  f"the linker drops them): for the depth-3 iris tree ({SMALL_TREE}) the rows below give all the "
                  "flash it adds, beside emlearn's inline code for the same tree.", "",
                  fixed_code_table(rows), ""]
    if any(_num(r.get("file_bytes")) is not None for r in rows):
        parts += ["### Model files", "",
                  "Bytes of the model file (`CModel.save_model_file`, docs/model-file.md) beside the packed tables "
                  "it carries (the tables a header compiles in); the rest is the file's header, entry-point and "
                  "table records, padding to 8 bytes, the host-only metadata (class labels, names) and the CRC. "
                  "emlearn has no loadable file format: its method=loadable compiles the node arrays into the "
                  "program (their flash is in the footprint table above).", "", model_file_table(rows), ""]
    parts += ["## Speed: instructions per prediction (host)", "",
              "valgrind --tool=callgrind, counting only inside the prediction entry point, x86-64 g++/gcc -O2, "
              "mean over the first test rows. Input conversion to the tool's type happens outside. "
              "'/split' divides by the split nodes scikit-learn's own path visits, so it includes leaf "
              "accumulation and the final argmax.", "", speed_table(rows, notes), ""]
    if any(_num(r.get("m4f_instr_per_pred")) is not None or _num(r.get("m0_instr_per_pred")) is not None
           for r in rows):
        parts += ["## Speed: instructions per prediction on the Cortex-M0 / M4F (qemu)", "",
                  "The model object of the footprint build (-Os) linked with a driver that holds the first test "
                  "rows in flash and predicts each once, run on qemu-system-arm (microbit, mps2-an386) one "
                  "instruction per block with every block logged; counted are the instructions from the entry "
                  "of the prediction function until control is back in the driver (soft-float routines "
                  "included). '/split' divides by the split nodes scikit-learn's paths visit on the same rows.",
                  "", device_speed_table(rows, notes), ""]
    if any(r.get("mpy_bytes_x64") not in (None, "") or r.get("mpy_note") for r in rows):
        parts += ["## MicroPython", "",
                  "emlearn-gen's MicroPython native module of each model (`cm.save_micropython`, "
                  "docs/micropython.md): bytes of the `.mpy` per architecture (model tables, kernels, C wrapper "
                  "and, on Arm, libgcc's soft-float helpers), the GC heap `import` takes on the unix port "
                  "(gc.mem_free before and after; the unix port keeps native code outside the GC heap), and "
                  "microseconds per `predict` of one row (array('f')) on the unix port (x64), best of 5 passes "
                  "over the first test rows, beside CPython scikit-learn's `predict` on one row at a time. "
                  "The pure-Python module (`arch=\"python\"`, bytecode `.mpy`) is timed by the same script "
                  "where it runs the model (trees, linear models, perceptrons, naive Bayes); `–` elsewhere.", "",
                  micropython_table(rows), ""]
    parts += ["## Speed: Python API on the host", "",
              "`CModel.predict` against the estimator's `predict` (n_jobs=1 on both), same process and run; "
              "best of several repeats, the two taken in turns. The threads ratio: the same batch with `n_jobs=-1` on both (every "
              "CPU; wall time), where the estimator takes n_jobs (forests, isolation forests); `–` elsewhere. "
              "The batch rows never repeat: test rows with an independent "
              "perturbation of every feature (integer-valued sets: -1, 0 or +1, clipped to the training "
              "range; continuous sets: Gaussian noise of 5 % of the feature's standard deviation).",
              "", api_table(rows), ""]
    parts += ["## Conversion and compile time", "",
              "Conversion: wall time of the tool's Python call(s) that produce the source (for emlearn-gen "
              "`convert()` + `to_source()`). Compile: user+system CPU time of compiling the translation unit "
              "that includes the generated source (g++/gcc -O2 on the host; arm-none-eabi -Os for the M0).", "",
              time_table(rows, notes), ""]
    parts += signal_lines(signal_rows)
    if notes:
        parts += ["## Notes", ""] + [f"{i}. {text}" for text, i in notes.items()] + [""]
    run_time = f"Run time: {env.get('elapsed_s', 0):.0f} s"
    if env.get("merged"):
        kept = env["merged"]
        runs = kept.get("runs") or [kept]  # older files: the one run, inline
        took = [f"{_num(run.get('elapsed_s')) or 0:.0f} s ({run.get('mode')}, {run.get('source_tree')})"
                for run in runs]
        run_time += f" (this run); the kept rows' {'run' if len(runs) == 1 else 'runs'} took " + ", ".join(took)
    parts += [run_time + "."]
    return "\n".join(parts) + "\n"


def plot(path: Path, rows: List[Dict[str, Any]]) -> Optional[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        return f"no plot: {exc}"
    models = _models(rows)
    tools = _tools(rows)
    fig, axes = plt.subplots(2, 2, figsize=(16, 11))
    panels = [
        (axes[0][0], "labels_equal_pct", "labels equal to scikit-learn (%)", False),
        (axes[0][1], "m0_bytes_per_split", "Cortex-M0 flash per split node, leaves and code included (bytes, log)", True),
        (axes[1][0], "instr_per_pred", "host instructions per prediction (callgrind, log)", True),
        (axes[1][1], "convert_s", "conversion time (s, log)", True),
    ]
    width = 0.8 / max(1, len(tools))
    for ax, key, title, log in panels:
        plotted = False
        for i, tool in enumerate(tools):
            xs, ys = [], []
            for j, model in enumerate(models):
                row = _get(rows, model, tool)
                v = _num(row.get(key)) if row and row["status"] == "ok" or (row and key == "convert_s") else None
                if v is not None and (not log or v > 0):
                    xs.append(j + (i - (len(tools) - 1) / 2) * width)
                    ys.append(v)
            ax.bar(xs, ys, width=width, label=_label(rows, tool))
            plotted = plotted or bool(ys)
        ax.set_title(title)
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels(models, rotation=30, ha="right", fontsize=8)
        if log and plotted:  # a log axis without a positive value cannot be drawn (say, no valgrind)
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylim(0, 105)
    axes[0][1].axhline(TARGETS["bytes_per_split_continuous"], color="k", ls="--", lw=0.8)
    axes[0][1].axhline(TARGETS["bytes_per_split_integer"], color="k", ls=":", lw=0.8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(6, len(tools)), fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def write(out: Path, rows: List[Dict[str, Any]], env: Dict[str, Any], datasets: Dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "results.csv", rows)
    if not rows:
        return
    (out / "results.md").write_text(markdown(rows, env, datasets, load_signal(out)), encoding="utf-8")
    problem = plot(out / "results.png", rows)
    if problem:
        print(problem)


def _parse(value: str) -> Any:
    if value == "":
        return None
    if value in ("True", "False"):
        return value == "True"
    try:
        return int(value)  # written back as it was read (run.py --merge)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def load_csv(path: Path) -> List[Dict[str, Any]]:
    """Rows of a results.csv, typed back (numbers, booleans, empty = None)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]
    for row in rows:
        for key in ("model", "tool", "tool_label", "status", "family", "task", "dataset"):
            if row.get(key) is not None:
                row[key] = str(row[key])
    return rows


# ----------------------------------------------------------- signal kernels

#: The signal kernels' rows (benchmarks/sigkernels.py), beside results.csv.
SIGNAL_CSV = "signal.csv"

_SIGNAL_KERNELS = {
    "fft": "FFT, real input (rfft)",
    "spectrum": "Spectrum (defaults: Hann, power)",
    "mfcc": "MFCC (defaults: 40 mel bands, 13 coefficients)",
    "window_features": "WindowFeatures (all 8 features)",
}
_SIGNAL_TOOLS = ("emlearn_gen", "emlearn", "numpy", "scipy")


def load_signal(out: Path) -> List[Dict[str, Any]]:
    """The signal rows in ``out`` (none if that run did not measure them)."""
    path = out / SIGNAL_CSV
    return load_csv(path) if path.exists() else []


def _rate(value: Any) -> str:
    """A rate per second as 35.1k or 1.97M."""
    f = _num(value)
    if f is None:
        return "–"
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if f >= scale:
            return f"{f / scale:.3g}{suffix}"
    return f"{f:.3g}"


def _sci(value: Any) -> str:
    f = _num(value)
    return "–" if f is None else ("0" if f == 0 else f"{f:.1e}")


def signal_table(rows: Sequence[Dict[str, Any]]) -> str:
    """One line per kernel, window size and implementation."""
    header = ["kernel", "n", "implementation", "Python, 1 window per call (calls/s)", "Python, batch (windows/s)",
              "native -O2 (calls/s)", "x86-64 instr/window", "Cortex-M4F instr/window", "max abs error",
              "max rel error"]
    order = {key: i for i, key in enumerate(_SIGNAL_KERNELS)}
    ranked = sorted(rows, key=lambda r: (order.get(str(r["kernel"]), 99), int(r["n"]),
                                         _SIGNAL_TOOLS.index(str(r["tool"])) if r["tool"] in _SIGNAL_TOOLS else 9))
    body = []
    for row in ranked:
        channels = int(row.get("channels") or 1)
        size = f"{row['n']} x {channels}" if channels > 1 else str(row["n"])
        python = _rate(row.get("py_calls_per_s")) if row.get("py_calls_per_s") is not None else "n/a"
        body.append([
            _SIGNAL_KERNELS.get(str(row["kernel"]), str(row["kernel"])), size, str(row["tool_label"]), python,
            _rate(row.get("py_batch_windows_per_s")) if row.get("py_batch_windows_per_s") is not None else "n/a",
            _rate(row.get("native_calls_per_s")), _fmt(row.get("x86_instr_per_window"), 0),
            _fmt(row.get("m4f_instr_per_window"), 0), _sci(row.get("max_abs_err")), _sci(row.get("max_rel_err")),
        ])
    return _table(header, body)


def signal_lines(rows: Sequence[Dict[str, Any]]) -> List[str]:
    """The "Signal kernels" section, or nothing without rows."""
    if not rows:
        return []
    when = sorted({f"{r.get('measured_at')} on {r.get('measured_on')}" for r in rows})
    return ["## Signal kernels", "",
            "emlearn-gen's FFT and feature extractors (emlearn_gen.signal, default options) against emlearn's C FFT "
            "(eml_fft.h: radix 2, powers of two only, no Python binding) and numpy / scipy, on standard normal "
            "float32 windows, a new window for every call (benchmarks/sigkernels.py). Python: one window per call "
            "through each API, and a batch of windows in one call (CPU time of the process, all its threads, "
            "best of 3; numpy and scipy are measured through Python only). Native: the C/C++ kernel in a loop "
            "over the windows, g++/gcc -O2 (emlearn: the window copied into its real buffer, the "
            "imaginary one zeroed, eml_fft_forward in place). Instructions per window: callgrind on x86-64 (-O2), "
            "qemu's trace on the Cortex-M4F (arm-none-eabi -Os, emlearn_gen.testing.instructions), the kernel "
            "function and everything it calls. Errors against the same computation in float64 on the same "
            "windows (FFT: numpy.fft.rfft of the windows as float64; 'rel': each window's largest error over its "
            "largest reference magnitude); numpy's spectrum and MFCC multiply by scipy's float64 Hann window, so "
            "they compute in float64 and equal the reference.", "",
            f"Measured at commit {'; '.join(when)}.", "", signal_table(rows), ""]
